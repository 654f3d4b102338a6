"""The period report (seed 002): read the facts in one transaction, count them in `domain.report`.

The counting rules are in `callcenter.domain.report` and docs/report.md.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from callcenter.domain.access import Principal
from callcenter.domain.hotline_health import HotlineHealth
from callcenter.domain.outbound import CallbackFigures, Outcome, callback_figures
from callcenter.domain.report import (
    CATEGORY_LABELS_VI,
    FIGURE_LABELS_VI,
    Period,
    PeriodReport,
    TicketFacts,
    by_facility,
    period_report,
    received_by_month,
)
from callcenter.domain.satisfaction import FacilityIndex, RatingCounts, facility_index
from callcenter.domain.ticket import Category, TicketScope, ticket_scope
from callcenter.services.errors import InvalidInput
from callcenter.services.hotline_health import HotlineHealthService
from callcenter.services.ports import UnitOfWorkFactory

# A yearly report is the longest there is; a bound keeps a typo ("0223") from reading every ticket.
MAX_PERIOD_DAYS = 3 * 366


@dataclass(frozen=True)
class FacilityFigures:
    """One facility's line in "facilities compared" (code None: tickets the caller could not place)."""

    facility_code: str | None
    facility_name: str
    figures: PeriodReport


@dataclass(frozen=True)
class ReportBundle:
    """Everything the report shows for one period and scope: the seed-002 figures, tickets by month and by
    facility, each hotline's health (seed 001) and the satisfaction index (seed 003)."""

    figures: PeriodReport
    scope_label: str  # "Tất cả" / "Tỉnh Khánh Hòa" / the facility's name
    by_month: list[tuple[date, int]]
    facilities: list[FacilityFigures]  # busiest first
    health: list[HotlineHealth]  # by facility code
    satisfaction: list[FacilityIndex]  # by facility code; calls of no facility last
    satisfaction_total: FacilityIndex  # every rated call in scope (facility_code None)
    generated_at: datetime  # aware, local
    # Callbacks placed in the period over ARI, and what the citizens answered at their survey.
    callbacks: CallbackFigures = field(default_factory=CallbackFigures)

    @property
    def failing(self) -> list[HotlineHealth]:
        return [h for h in self.health if h.failing]

    def as_dict(self) -> dict[str, object]:
        def index(i: FacilityIndex) -> dict[str, object]:
            return {
                "facility_code": i.facility_code,
                "rated": i.rated,
                "satisfied": i.satisfied,
                "no_answer": i.no_answer,
                "invalid": i.invalid,
                "index_percent": i.index_percent,
                "meets_first_target": i.meets_first_target,
                "meets_final_target": i.meets_final_target,
            }

        return {
            **self.figures.as_dict(),
            "scope": self.scope_label,
            "generated_at": self.generated_at.isoformat(),
            "by_month": [{"month": m.strftime("%Y-%m"), "received": n} for m, n in self.by_month],
            "facilities": [
                {
                    "facility_code": f.facility_code,
                    "facility_name": f.facility_name,
                    "received": f.figures.received,
                    "resolved": f.figures.resolved,
                    "still_open": f.figures.still_open,
                }
                for f in self.facilities
            ],
            "hotline_health": [h.as_dict() for h in self.health],
            "failing_hotlines": [h.facility_code for h in self.failing],
            "satisfaction": [index(i) for i in self.satisfaction],
            "satisfaction_total": index(self.satisfaction_total),
            "callbacks": self.callbacks.as_dict(),
        }


class ReportService:
    def __init__(self, uow: UnitOfWorkFactory, tz: ZoneInfo) -> None:
        self._uow = uow
        self._tz = tz
        self._health = HotlineHealthService(uow, tz)

    async def period(
        self,
        who: Principal | TicketScope,
        date_from: date,
        date_to: date,
        facility_code: str | None = None,
        previous: tuple[date, date] | None = None,
    ) -> PeriodReport:
        """The figures of [date_from, date_to] (local dates, inclusive) over the tickets `who` may see,
        against the previous period of the same length, or `previous` (dates, inclusive)."""
        scope = who if isinstance(who, TicketScope) else ticket_scope(who)
        period, prev = _periods(date_from, date_to, previous)
        facts = await self._facts(scope, period, prev, facility_code)
        return period_report(facts, period, self._tz, previous=prev, facility_code=facility_code)

    async def bundle(
        self,
        who: Principal | TicketScope,
        date_from: date,
        date_to: date,
        now: datetime,
        facility_code: str | None = None,
        previous: tuple[date, date] | None = None,
    ) -> ReportBundle:
        """The whole report of a period: what `period` gives, plus months, facilities, health, satisfaction,
        each over what `who` may see."""
        scope = who if isinstance(who, TicketScope) else ticket_scope(who)
        period, prev = _periods(date_from, date_to, previous)
        start, end = period.bounds(self._tz)
        async with self._uow() as uow:
            facilities = {f.code: f for f in await uow.facilities.all()}
            ratings = await uow.calls.rating_counts(start, end, facility_code)
            placed = await uow.outbound.callbacks(start, end)
        if facility_code is not None and facility_code not in facilities:
            raise InvalidInput(f"Không có cơ sở mã {facility_code!r} / no such facility", field="facility")
        facts = await self._facts(scope, period, prev, facility_code)
        figures = period_report(facts, period, self._tz, previous=prev, facility_code=facility_code)
        per_facility = [
            FacilityFigures(code, facilities[code].name if code in facilities else "Không rõ cơ sở", report)
            for code, report in by_facility(facts, period, self._tz, previous=prev).items()
        ]
        per_facility.sort(key=lambda f: (-f.figures.received, f.facility_code or "~"))
        health = await self._health.between(start, end, scope=scope, facility_code=facility_code)
        visible = {
            code: counts
            for code, counts in ratings.items()
            if scope.allows(code, facilities[code].province if code in facilities else None)
        }
        satisfaction = [
            facility_index(code, c)
            for code, c in sorted(visible.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        ]
        total = facility_index(
            None,
            RatingCounts(
                rated=sum(c.rated for c in visible.values()),
                satisfied=sum(c.satisfied for c in visible.values()),
                no_answer=sum(c.no_answer for c in visible.values()),
                invalid=sum(c.invalid for c in visible.values()),
            ),
        )
        return ReportBundle(
            figures=figures,
            scope_label=_scope_label(scope, facilities[facility_code].name if facility_code else None),
            by_month=received_by_month(facts, period, self._tz),
            facilities=per_facility,
            health=health,
            satisfaction=satisfaction,
            satisfaction_total=total,
            generated_at=now.astimezone(self._tz),
            callbacks=callback_figures(
                (r.ticket_id, r.outcome, r.survey)
                for r, province in placed
                if scope.allows(r.facility_code, province)
                and (facility_code is None or r.facility_code == facility_code)
            ),
        )

    async def hotline_health(
        self, who: Principal | TicketScope, start: datetime, end: datetime
    ) -> list[HotlineHealth]:
        """Each hotline `who` may see over [start, end) (aware instants), by facility code."""
        scope = who if isinstance(who, TicketScope) else ticket_scope(who)
        return await self._health.between(start, end, scope=scope)

    async def _facts(
        self, scope: TicketScope, period: Period, prev: Period, facility_code: str | None
    ) -> list[TicketFacts]:
        start, end = period.bounds(self._tz)
        prev_start, prev_end = prev.bounds(self._tz)
        async with self._uow() as uow:
            return await uow.tickets.report_facts(
                scope,
                received_from=min(start, prev_start),
                until=max(end, prev_end),
                active_since=start,
                facility_code=facility_code,
            )


def _scope_label(scope: TicketScope, facility_name: str | None) -> str:
    if facility_name is not None:
        return facility_name
    if scope.everything:
        return "Tất cả cơ sở"
    if scope.province:
        return f"Tỉnh/thành phố {scope.province}"
    return "Cơ sở được giao"


def _periods(date_from: date, date_to: date, previous: tuple[date, date] | None) -> tuple[Period, Period]:
    period = _period("date_to", date_from, date_to)
    return period, (_period("previous", *previous) if previous is not None else period.previous())


def _period(field: str, date_from: date, date_to: date) -> Period:
    if date_to < date_from:
        raise InvalidInput(
            f"Ngày kết thúc ({date_to:%d/%m/%Y}) trước ngày bắt đầu ({date_from:%d/%m/%Y})"
            " / the period ends before it starts",
            field=field,
        )
    if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput(
            f"Kỳ báo cáo dài quá {MAX_PERIOD_DAYS} ngày / a period is at most {MAX_PERIOD_DAYS} days",
            field=field,
        )
    return Period(date_from, date_to)


def report_rows(report: PeriodReport) -> list[tuple[str, int | str]]:
    """The figures as (Vietnamese label, value) lines, in the order of the Báo cáo."""
    r = report
    change = f"{'tăng' if r.change > 0 else 'giảm' if r.change < 0 else 'không đổi'} {abs(r.change)}"
    rows: list[tuple[str, int | str]] = [
        ("Kỳ báo cáo", f"{r.period.date_from:%d/%m/%Y} – {r.period.date_to:%d/%m/%Y}"),
        ("Kỳ trước", f"{r.previous_period.date_from:%d/%m/%Y} – {r.previous_period.date_to:%d/%m/%Y}"),
        ("Cơ sở", r.facility_code or "Tất cả"),
        (FIGURE_LABELS_VI["carried_over"], r.carried_over),
        (FIGURE_LABELS_VI["received"], r.received),
        (FIGURE_LABELS_VI["previous_received"], r.previous_received),
        (FIGURE_LABELS_VI["change"], r.change),
        ("So với kỳ trước", change),
        (FIGURE_LABELS_VI["outside_jurisdiction"], r.outside_jurisdiction),
    ]
    rows += [(f"Phân loại: {CATEGORY_LABELS_VI[c]}", r.by_category.get(c, 0)) for c in Category]
    rows += [(FIGURE_LABELS_VI["resolved"], r.resolved), (FIGURE_LABELS_VI["still_open"], r.still_open)]
    return rows


def report_xlsx(bundle: ReportBundle) -> bytes:
    """A workbook: "Báo cáo" (the seed-002 figures with their Vietnamese labels), then one sheet each for
    the months, the facilities compared, each hotline's health and the satisfaction index."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from callcenter.domain.hotline_health import FAIL_REASON_LABELS_VI

    book = Workbook()

    def sheet(title: str, header: list[str], rows: list[list[object]], widths: list[int]) -> None:
        ws = book.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        for i, width in enumerate(widths):
            ws.column_dimensions[chr(ord("A") + i)].width = width

    default = book.active
    assert default is not None
    book.remove(default)
    sheet("Báo cáo", ["Chỉ tiêu", "Số liệu"], [[k, v] for k, v in report_rows(bundle.figures)], [55, 28])
    sheet("Theo tháng", ["Tháng", "Tiếp nhận"], [[f"{m:%m/%Y}", n] for m, n in bundle.by_month], [12, 12])
    sheet(
        "Theo cơ sở",
        ["Mã", "Cơ sở", "Tiếp nhận", "Giải quyết dứt điểm", "Đang giải quyết"],
        [
            [
                f.facility_code or "",
                f.facility_name,
                f.figures.received,
                f.figures.resolved,
                f.figures.still_open,
            ]
            for f in bundle.facilities
        ],
        [12, 45, 12, 20, 16],
    )
    sheet(
        "Đường dây nóng",
        [
            "Mã",
            "Cơ sở",
            "Số đường dây nóng",
            "Cuộc gọi",
            "Có người nghe",
            "Tỷ lệ nghe máy (%)",
            "Người trực đầu tiên nghe",
            "Chờ nghe máy TB (giây)",
            "Không ai nghe",
            "Người gọi bỏ máy",
            "Khoảng trống lịch trực (giờ)",
            "Không đạt",
        ],
        [
            [
                h.facility_code,
                h.facility_name,
                h.hotline,
                h.calls,
                h.answered,
                h.answer_rate_percent,
                h.answered_by_first,
                h.mean_answer_wait_s,
                h.all_failed,
                h.abandoned,
                round(h.roster_gap_time.total_seconds() / 3600, 1),
                "; ".join(FAIL_REASON_LABELS_VI[r] for r in h.reasons),
            ]
            for h in bundle.health
        ],
        [12, 40, 14, 10, 12, 14, 14, 14, 12, 12, 16, 60],
    )
    probe_sheet(sheet, bundle.health)
    sheet(
        "Hài lòng",
        [
            "Mã",
            "Đã đánh giá",
            "Hài lòng (4-5)",
            "Không trả lời",
            "Phím sai",
            "Chỉ số (%)",
            "Đạt 77%",
            "Đạt 90%",
        ],
        [
            [
                label,
                i.rated,
                i.satisfied,
                i.no_answer,
                i.invalid,
                i.index_percent,
                _yes_no(i.meets_first_target),
                _yes_no(i.meets_final_target),
            ]
            for label, i in [
                *((i.facility_code or "Không rõ cơ sở", i) for i in bundle.satisfaction),
                ("Tổng", bundle.satisfaction_total),
            ]
        ],
        [16, 12, 14, 14, 10, 10, 10, 10],
    )
    c = bundle.callbacks
    sheet(
        "Gọi lại",
        [
            "Số lần gọi lại",
            "Số phản ánh",
            "Nói chuyện được",
            "Đã giải quyết",
            "Chưa giải quyết",
            "Không bấm",
            "Tỷ lệ (%)",
        ],
        [[c.placed, c.tickets, c.talked, c.resolved, c.not_resolved, c.no_survey, c.resolved_percent]],
        [14, 12, 14, 14, 14, 10, 10],
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def probe_sheet(
    sheet: Callable[[str, list[str], list[list[object]], list[int]], None], health: list[HotlineHealth]
) -> None:
    """The workbook's "Cuộc gọi kiểm tra" sheet: each hotline's test calls, apart from citizens' calls."""
    from callcenter.domain.probe_health import PROBE_FAIL_LABELS_VI, PROBE_FLAG_VI

    rows: list[list[object]] = []
    for h in health:
        p = h.probes
        if p is None or not p.placed:
            continue
        rows.append(
            [
                h.facility_code,
                h.facility_name,
                p.placed,
                p.counted,
                p.human,
                p.human_rate_percent,
                p.count(Outcome.NO_KEY),
                p.count(Outcome.BUSY),
                p.count(Outcome.NO_ANSWER),
                p.count(Outcome.UNREACHABLE),
                p.count(Outcome.FAILED),
                p.count(Outcome.UNKNOWN),
                p.mean_ring_to_human_s,
                f"{p.day.human}/{p.day.counted}",
                f"{p.night.human}/{p.night.counted}",
                f"{p.workday.human}/{p.workday.counted}",
                f"{p.off_day.human}/{p.off_day.counted}",
                "; ".join([PROBE_FLAG_VI] + [PROBE_FAIL_LABELS_VI[r] for r in p.reasons])
                if p.failing
                else "",
            ]
        )
    sheet(
        "Cuộc gọi kiểm tra",
        [
            "Mã",
            "Cơ sở",
            "Đã gọi",
            "Được tính",
            "Có người nghe (bấm 1)",
            "Tỷ lệ có người nghe (%)",
            "Nghe không bấm 1",
            "Máy bận",
            "Không nghe máy",
            "Không liên lạc được",
            "Lỗi tổng đài (không tính)",
            "Không rõ (không tính)",
            "Đổ chuông TB đến khi có người nghe (giây)",
            "Ban ngày 07-19h",
            "Ban đêm",
            "Ngày làm việc",
            "Cuối tuần, ngày lễ",
            "Không đạt",
        ],
        rows,
        [12, 40, 8, 10, 12, 12, 10, 8, 10, 10, 12, 12, 16, 12, 10, 12, 14, 60],
    )


def _yes_no(value: bool | None) -> str:
    return "chưa có đánh giá" if value is None else "đạt" if value else "chưa đạt"
