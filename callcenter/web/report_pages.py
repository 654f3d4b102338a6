"""The period report a Sở Y tế supervisor reads and prints (/bao-cao), and its downloads.

One form (from, to, facility) drives four views of the same `ReportBundle`: the page (figures, inline SVG
charts, each hotline's health, the satisfaction index), its JSON (/api/reports), a workbook and a Word
document. Every view is scoped by the service to what the signed-in person may see; asking for a facility
outside one's scope is refused (403), an unknown facility or a bad period is a Vietnamese error (400).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import Field

from callcenter.domain.access import Role
from callcenter.domain.facility import Facility
from callcenter.domain.hotline_health import FAIL_REASON_LABELS_VI, HotlineHealth
from callcenter.domain.probe_health import labelled_reasons
from callcenter.domain.report import CATEGORY_LABELS_VI, FIGURE_LABELS_VI, PeriodReport
from callcenter.domain.satisfaction import FINAL_TARGET_PERCENT, FIRST_TARGET_PERCENT, FacilityIndex
from callcenter.domain.ticket import Category
from callcenter.services.errors import InvalidInput, PermissionDenied
from callcenter.services.report_docx import report_docx
from callcenter.services.reports import MAX_PERIOD_DAYS, ReportBundle, report_xlsx
from callcenter.web import charts
from callcenter.web.context import now, principal, services, state
from callcenter.web.errors import from_service
from callcenter.web.io import QueryParams, json_response, parse_query
from callcenter.web.render import render
from callcenter.web.roster import visible_facilities

TOP_FACILITIES = 15
NO_FACILITY_LABEL = "Không xác định được cơ sở (chuyển Sở Y tế)"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class ReportQuery(QueryParams):
    """The report's query string (the page's form sends the same keys)."""

    date_from: str | None = Field(
        None, alias="from", description="Từ ngày, YYYY-MM-DD (mặc định: đầu tháng này) / first day"
    )
    date_to: str | None = Field(
        None, alias="to", description="Đến ngày, YYYY-MM-DD, tính cả ngày này (mặc định: hôm nay) / last day"
    )
    facility: str | None = Field(None, description="Mã cơ sở (bỏ trống: mọi cơ sở trong phạm vi) / facility")


@dataclass(frozen=True)
class ReportRequest:
    date_from: date
    date_to: date
    facility_code: str | None


def _parse_date(raw: str, field: str, label: str) -> date:
    text = raw.strip()
    try:
        if "/" in text:  # 31/12/2023, as people write it
            day, month, year = (int(p) for p in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{label} không hợp lệ: {text!r} (nhập theo dạng năm-tháng-ngày, ví dụ 2023-12-31)"
            " / not a date (YYYY-MM-DD)",
            field=field,
        ) from None


def _today(request: web.Request) -> date:
    return now(request).astimezone(state(request).config.tz).date()


def form_values(request: web.Request, query: Mapping[str, str]) -> dict[str, str]:
    """What the form shows: what was asked, else the current month so far (local dates)."""
    today = _today(request)
    who = principal(request)
    default_facility = (who.facility_code or "") if who.role is Role.FACILITY_OFFICER else ""
    return {
        "from": (query.get("from") or "").strip() or today.replace(day=1).isoformat(),
        "to": (query.get("to") or "").strip() or today.isoformat(),
        "facility": (query.get("facility") or "").strip() or default_facility,
    }


async def read_request(request: web.Request, values: Mapping[str, str]) -> ReportRequest:
    """Check the form's values: dates, order, length, and a facility that exists and is in scope."""
    date_from = _parse_date(values["from"], "from", "Từ ngày")
    date_to = _parse_date(values["to"], "to", "Đến ngày")
    if date_to < date_from:
        raise InvalidInput(
            f"Đến ngày ({date_to:%d/%m/%Y}) trước Từ ngày ({date_from:%d/%m/%Y})"
            " / the period ends before it starts",
            field="to",
        )
    if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput(
            f"Kỳ báo cáo dài quá {MAX_PERIOD_DAYS} ngày / a period is at most {MAX_PERIOD_DAYS} days",
            field="to",
        )
    code = values["facility"] or None
    if code is not None:
        every = {f.code: f for f in await services(request).facilities.list()}
        if code not in every:
            raise InvalidInput(f"Không có cơ sở mã {code!r} / no such facility", field="facility")
        f = every[code]
        if not principal(request).can_see_ticket(f.code, f.province):
            raise PermissionDenied(
                f"Bạn không được xem báo cáo của cơ sở {f.code} / this facility is outside your scope"
            )
    return ReportRequest(date_from, date_to, code)


async def load_bundle(request: web.Request, asked: ReportRequest) -> ReportBundle:
    return await services(request).reports.bundle(
        principal(request), asked.date_from, asked.date_to, now(request), facility_code=asked.facility_code
    )


# --- formatting ------------------------------------------------------------------------------------------


def _dmy(d: date) -> str:
    return f"{d:%d/%m/%Y}"


def percent_vi(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".replace(".", ",") + "\u00a0%"  # never "85,0" / "%"


def change_text(r: PeriodReport) -> str:
    prev = f"so với kỳ trước ({_dmy(r.previous_period.date_from)} – {_dmy(r.previous_period.date_to)})"
    if r.change > 0:
        return f"tăng {charts.number_vi(r.change)} {prev}"
    if r.change < 0:
        return f"giảm {charts.number_vi(-r.change)} {prev}"
    return f"không đổi {prev}"


@dataclass(frozen=True)
class FigureRow:
    label: str
    value: str
    sub: bool = False  # a line under the one before (the categories, the previous period)
    note: str | None = None  # a second line under the label


def figure_rows(r: PeriodReport) -> list[FigureRow]:
    """The seed-002 figures in the order of the Báo cáo, with their Vietnamese labels."""
    n = charts.number_vi
    rows = [
        FigureRow(FIGURE_LABELS_VI["carried_over"], n(r.carried_over)),
        FigureRow(FIGURE_LABELS_VI["received"], n(r.received), note=change_text(r)),
        FigureRow(FIGURE_LABELS_VI["previous_received"], n(r.previous_received), sub=True),
        FigureRow(FIGURE_LABELS_VI["outside_jurisdiction"], n(r.outside_jurisdiction)),
        FigureRow("Phân loại (trong thẩm quyền)", n(r.received - r.outside_jurisdiction)),
    ]
    rows += [FigureRow(CATEGORY_LABELS_VI[c], n(r.by_category.get(c, 0)), sub=True) for c in Category]
    rows += [
        FigureRow(FIGURE_LABELS_VI["resolved"], n(r.resolved)),
        FigureRow(FIGURE_LABELS_VI["still_open"], n(r.still_open)),
    ]
    return rows


def _target_text(meets: bool | None) -> str:
    """The column header names the target."""
    return "—" if meets is None else "Đạt" if meets else "Chưa đạt"


@dataclass(frozen=True)
class SatisfactionRow:
    name: str
    index: FacilityIndex
    index_text: str
    first: str
    final: str
    status: str  # "dat" (both targets), "dat-1" (the first), "chua-dat", "chua-co"


def satisfaction_row(name: str, i: FacilityIndex) -> SatisfactionRow:
    if i.index_percent is None:
        text, status = "Chưa có đánh giá", "chua-co"
    else:
        text = percent_vi(i.index_percent)
        status = "dat" if i.meets_final_target else "dat-1" if i.meets_first_target else "chua-dat"
    return SatisfactionRow(
        name,
        i,
        text,
        _target_text(i.meets_first_target),
        _target_text(i.meets_final_target),
        status,
    )


def _charts(bundle: ReportBundle) -> list[str]:
    r = bundle.figures
    cats = list(Category)
    top = bundle.facilities[:TOP_FACILITIES]
    more = len(bundle.facilities) - len(top)
    names = [f.facility_name if f.facility_code else NO_FACILITY_LABEL for f in top]
    years = {m.year for m, _ in bundle.by_month}
    one_year = len(years) == 1
    by_month = charts.columns(
        "bieu-do-theo-thang",
        "Phản ánh tiếp nhận theo tháng",
        [f"T{m.month}" if one_year else f"{m:%m/%Y}" for m, _ in bundle.by_month],
        [v for _, v in bundle.by_month],
        x_label=f"Tháng (năm {years.pop()})" if one_year else "Tháng",
        y_label="Số phản ánh",
    )
    by_category = charts.horizontal_bars(
        "bieu-do-phan-loai",
        "Phản ánh trong thẩm quyền theo phân loại",
        [CATEGORY_LABELS_VI[c] for c in cats],
        [charts.Series("Số phản ánh", [r.by_category.get(c, 0) for c in cats])],
        value_label="Số phản ánh tiếp nhận trong kỳ",
    )
    title = "So sánh các cơ sở: tiếp nhận và giải quyết dứt điểm"
    if more > 0:
        title += f" ({TOP_FACILITIES} cơ sở nhiều phản ánh nhất; còn {more} cơ sở khác)"
    facilities = charts.horizontal_bars(
        "bieu-do-co-so",
        title,
        names,
        [
            charts.Series("Tiếp nhận", [f.figures.received for f in top], charts.PRIMARY),
            charts.Series("Giải quyết dứt điểm", [f.figures.resolved for f in top], charts.SECONDARY),
        ],
        value_label="Số phản ánh trong kỳ",
    )
    return [by_category, by_month, facilities]


def _health_row(h: HotlineHealth) -> dict[str, Any]:
    return {
        "h": h,
        "answered": f"{charts.number_vi(h.answered)} ({percent_vi(h.answer_rate_percent)})",
        "first": f"{charts.number_vi(h.answered_by_first)} ({percent_vi(h.first_answer_rate_percent)})",
        "wait": "—" if h.mean_answer_wait_s is None else f"{h.mean_answer_wait_s:.1f}".replace(".", ","),
        "gaps": (
            f"{h.roster_gaps} ({h.roster_gap_time.total_seconds() / 3600:.1f} giờ)".replace(".", ",")
            if h.roster_gaps
            else "0"
        ),
        "reasons": [FAIL_REASON_LABELS_VI[r] for r in h.reasons] + labelled_reasons(h.probes),
        "probes": h.probes,
        "probe_rate": percent_vi(None if h.probes is None else h.probes.human_rate_percent),
        "probe_ring": (
            "—"
            if h.probes is None or h.probes.mean_ring_to_human_s is None
            else f"{h.probes.mean_ring_to_human_s:.1f}".replace(".", ",")
        ),
    }


def page_context(bundle: ReportBundle, query: str) -> dict[str, Any]:
    names = {h.facility_code: h.facility_name for h in bundle.health}
    names.update({f.facility_code: f.facility_name for f in bundle.facilities if f.facility_code})
    r = bundle.figures
    return {
        "b": bundle,
        "r": r,
        "period_text": f"{_dmy(r.period.date_from)} – {_dmy(r.period.date_to)}",
        "generated_text": f"{bundle.generated_at:%d/%m/%Y %H:%M}",
        "figure_rows": figure_rows(r),
        "charts": _charts(bundle),
        "health_rows": [_health_row(h) for h in bundle.health],
        "failing_rows": [_health_row(h) for h in bundle.failing],
        "satisfaction_total": satisfaction_row("Tất cả cuộc gọi trong phạm vi", bundle.satisfaction_total),
        "satisfaction_rows": [
            satisfaction_row(
                names.get(i.facility_code, i.facility_code) if i.facility_code else NO_FACILITY_LABEL, i
            )
            for i in bundle.satisfaction
        ],
        "callbacks": bundle.callbacks,
        "callbacks_resolved": percent_vi(bundle.callbacks.resolved_percent),
        "first_target": FIRST_TARGET_PERCENT,
        "final_target": FINAL_TARGET_PERCENT,
        "downloads": [
            ("Tải JSON", f"/api/reports?{query}"),
            ("Tải Excel (XLSX)", f"/bao-cao.xlsx?{query}"),
            ("Tải Word (DOCX)", f"/bao-cao.docx?{query}"),
        ],
    }


# --- handlers --------------------------------------------------------------------------------------------


async def report_page(request: web.Request) -> web.StreamResponse:
    values = form_values(request, request.query)
    facilities: list[Facility] = await visible_facilities(request)
    who = principal(request)
    error: str | None = None
    error_field: str | None = None
    status = 200
    context: dict[str, Any] = {}
    try:
        asked = await read_request(request, values)
        bundle = await load_bundle(request, asked)
        query = urlencode({k: v for k, v in values.items() if v})
        context = page_context(bundle, query)
    except (InvalidInput, PermissionDenied) as exc:
        problem = from_service(exc)
        error, error_field, status = problem.message, problem.field, problem.status
    return render(
        request,
        "report.html",
        {
            "form": values,
            "facilities": facilities,
            "all_option": who.role is not Role.FACILITY_OFFICER,
            "error": error,
            "error_field": error_field,
            "report": context or None,
            "max_days": MAX_PERIOD_DAYS,
        },
        title="Báo cáo đường dây nóng",
        status=status,
    )


def _filename(asked: ReportRequest, extension: str) -> str:
    suffix = f"_{asked.facility_code}" if asked.facility_code else ""
    return f"bao-cao-{asked.date_from.isoformat()}_{asked.date_to.isoformat()}{suffix}.{extension}"


async def _download_bundle(request: web.Request) -> tuple[ReportRequest, ReportBundle]:
    asked = await read_request(request, form_values(request, request.query))
    return asked, await load_bundle(request, asked)


def _attachment(body: bytes, content_type: str, filename: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def report_api(request: web.Request) -> web.StreamResponse:
    parse_query(request, ReportQuery)  # unknown keys are a 400 naming them
    _, bundle = await _download_bundle(request)
    return json_response(bundle.as_dict())


async def report_xlsx_download(request: web.Request) -> web.StreamResponse:
    asked, bundle = await _download_bundle(request)
    return _attachment(report_xlsx(bundle), XLSX, _filename(asked, "xlsx"))


async def report_docx_download(request: web.Request) -> web.StreamResponse:
    asked, bundle = await _download_bundle(request)
    document = report_docx(bundle, state(request).config.report_header)
    return _attachment(document, DOCX, _filename(asked, "docx"))
