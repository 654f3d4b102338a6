"""The period report (seed 002): read the facts in one transaction, count them in `domain.report`.

The counting rules are in `callcenter.domain.report` and docs/report.md.
"""

from __future__ import annotations

import io
from datetime import date
from zoneinfo import ZoneInfo

from callcenter.domain.access import Principal
from callcenter.domain.report import (
    CATEGORY_LABELS_VI,
    FIGURE_LABELS_VI,
    Period,
    PeriodReport,
    period_report,
)
from callcenter.domain.ticket import Category, TicketScope, ticket_scope
from callcenter.services.errors import InvalidInput
from callcenter.services.ports import UnitOfWorkFactory

# A yearly report is the longest there is; a bound keeps a typo ("0223") from reading every ticket.
MAX_PERIOD_DAYS = 3 * 366


class ReportService:
    def __init__(self, uow: UnitOfWorkFactory, tz: ZoneInfo) -> None:
        self._uow = uow
        self._tz = tz

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
        period = _period("date_to", date_from, date_to)
        prev = _period("previous", *previous) if previous is not None else period.previous()
        start, end = period.bounds(self._tz)
        prev_start, _ = prev.bounds(self._tz)
        async with self._uow() as uow:
            facts = await uow.tickets.report_facts(
                scope,
                received_from=min(start, prev_start),
                until=max(end, prev.bounds(self._tz)[1]),
                active_since=start,
                facility_code=facility_code,
            )
        return period_report(facts, period, self._tz, previous=prev, facility_code=facility_code)


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


def report_xlsx(report: PeriodReport) -> bytes:
    """A workbook with one sheet "Báo cáo": the figures with their Vietnamese labels."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Báo cáo"
    sheet.append(["Chỉ tiêu", "Số liệu"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for label, value in report_rows(report):
        sheet.append([label, value])
    sheet.column_dimensions["A"].width = 55
    sheet.column_dimensions["B"].width = 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
