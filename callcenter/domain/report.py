"""The period report (báo cáo định kỳ, seed 002): pure arithmetic over plain ticket facts.

A period is a range of LOCAL dates [date_from, date_to], both inclusive, in the hotline's time zone
(Asia/Ho_Chi_Minh): it runs from date_from 00:00 local (inclusive) to the day after date_to 00:00 local
(exclusive). A ticket received at 23:30 local on 30/11 (16:30 UTC) is in a period ending 30/11; one
received at 00:10 local on 01/12 (17:10 UTC on 30/11) is not.

Each ticket is given as `TicketFacts`: when it was received, its status history as (instant, status)
changes, whether it is outside the health sector's jurisdiction, and its final category. Its status at
an instant t is the `to` of its last change at or before t, or "mới tiếp nhận" when there is none (a
ticket exists from the instant it is received; before that it is in no figure).

The figures, for a period [start, end):

- carried over (tồn đầu kỳ): received before start, and open (mới tiếp nhận or đang xử lý) at start.
- received (tiếp nhận trong kỳ): received in [start, end).
- change (so với kỳ trước): received minus the previous period's received. The previous period is the
  one of the same number of days ending the day before date_from, unless one is given explicitly.
- outside jurisdiction (không đúng thẩm quyền): received in the period and outside jurisdiction (the
  ticket's current flag: it was forwarded, or the previous system said so).
- by category (phân loại): the tickets received in the period that are WITHIN jurisdiction, by their
  final category (confirmed by a person, else the machine's suggestion, else "khác"; a code that is not
  one of the seven, e.g. the suggestion "khong_dung_tham_quyen" on a ticket not forwarded, counts as
  "khác"). So received = outside jurisdiction + the sum of the seven categories.
- resolved (giải quyết dứt điểm): tickets whose status at the period's end is "đã giải quyết" and whose
  last change to "đã giải quyết" at or before the end lies in the period. A ticket resolved, reopened
  and resolved again counts once per period, in the period of its last resolution; a ticket resolved
  in the period then reopened in it (still open at the end) is not resolved in that period. Reports of
  past periods do not change when a ticket is reopened later: they read the history up to their end.
- still open (đang giải quyết): received before end and open at end.

Forwarded tickets are neither open nor resolved. With no reopening and no forwarding,
carried over + received - resolved = still open.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from callcenter.domain.ticket import OPEN_STATUSES, Category, TicketStatus

CATEGORY_LABELS_VI: dict[Category, str] = {
    Category.THIEU_THUOC: "Thiếu thuốc (thuốc, vắc xin, vật tư y tế)",
    Category.QUY_TRINH_KHAM_BENH: "Quy trình khám bệnh",
    Category.QUY_TAC_UNG_XU: "Quy tắc ứng xử",
    Category.CHUYEN_MON: "Chuyên môn",
    Category.BHYT: "BHYT (bảo hiểm y tế)",
    Category.QUY_CHE_KE_DON: "Quy chế kê đơn",
    Category.KHAC: "Khác",
}

FIGURE_LABELS_VI: dict[str, str] = {
    "carried_over": "Số phản ánh tồn đầu kỳ",
    "received": "Tiếp nhận trong kỳ",
    "previous_received": "Tiếp nhận kỳ trước",
    "change": "Tăng (+) / giảm (−) so với kỳ trước",
    "outside_jurisdiction": "Số thông tin chuyển đến không đúng thẩm quyền",
    "resolved": "Xử lý, giải quyết dứt điểm",
    "still_open": "Số phản ánh đang giải quyết",
}


@dataclass(frozen=True)
class Period:
    """Local dates, both inclusive."""

    date_from: date
    date_to: date

    def __post_init__(self) -> None:
        if self.date_to < self.date_from:
            raise ValueError(f"period ends ({self.date_to}) before it starts ({self.date_from})")

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> Period:
        """The period of the same number of days ending the day before this one starts."""
        end = self.date_from - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as aware instants: local midnight of date_from, local midnight after date_to."""
        return (
            datetime.combine(self.date_from, time(0, 0), tzinfo=tz),
            datetime.combine(self.date_to + timedelta(days=1), time(0, 0), tzinfo=tz),
        )


@dataclass(frozen=True)
class TicketFacts:
    received_at: datetime  # aware
    history: tuple[tuple[datetime, TicketStatus], ...] = ()  # status changes, any order
    outside_jurisdiction: bool = False
    category: str | None = None  # confirmed, else suggested (None: khác)
    facility_code: str | None = None  # None: the ticket names no facility (e.g. "0 = don't know")

    def _sorted(self) -> list[tuple[datetime, TicketStatus]]:
        return sorted(self.history, key=lambda change: change[0])

    def status_at(self, instant: datetime) -> TicketStatus | None:
        """None before the ticket was received."""
        if self.received_at > instant:
            return None
        status = TicketStatus.NEW
        for at, to in self._sorted():
            if at > instant:
                break
            status = to
        return status

    def last_resolution_before(self, instant: datetime) -> datetime | None:
        """The last change to "đã giải quyết" strictly before `instant`."""
        found = None
        for at, to in self._sorted():
            if at >= instant:
                break
            if to is TicketStatus.RESOLVED:
                found = at
        return found

    @property
    def report_category(self) -> Category:
        try:
            return Category(self.category) if self.category else Category.KHAC
        except ValueError:
            return Category.KHAC


@dataclass(frozen=True)
class PeriodReport:
    period: Period
    previous_period: Period
    carried_over: int
    received: int
    previous_received: int
    outside_jurisdiction: int
    by_category: dict[Category, int] = field(default_factory=dict)
    resolved: int = 0
    still_open: int = 0
    facility_code: str | None = None

    @property
    def change(self) -> int:
        return self.received - self.previous_received

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.period.date_from.isoformat(),
            "to": self.period.date_to.isoformat(),
            "facility_code": self.facility_code,
            "previous_from": self.previous_period.date_from.isoformat(),
            "previous_to": self.previous_period.date_to.isoformat(),
            "carried_over": self.carried_over,
            "received": self.received,
            "previous_received": self.previous_received,
            "change": self.change,
            "outside_jurisdiction": self.outside_jurisdiction,
            "by_category": {c.value: self.by_category.get(c, 0) for c in Category},
            "resolved": self.resolved,
            "still_open": self.still_open,
        }


def _received_in(t: TicketFacts, start: datetime, end: datetime) -> bool:
    return start <= t.received_at < end


def _just_before(instant: datetime) -> datetime:
    # Instants are stored to the microsecond: the last one of the period.
    return instant - timedelta(microseconds=1)


def period_report(
    tickets: Iterable[TicketFacts],
    period: Period,
    tz: ZoneInfo,
    *,
    previous: Period | None = None,
    facility_code: str | None = None,
) -> PeriodReport:
    """The figures of `period` (and the previous period's received) over these tickets."""
    prev = previous or period.previous()
    start, end = period.bounds(tz)
    prev_start, prev_end = prev.bounds(tz)
    last = _just_before(end)
    carried = received = prev_received = outside = resolved = still_open = 0
    by_category = dict.fromkeys(Category, 0)
    for t in tickets:
        if _received_in(t, prev_start, prev_end):
            prev_received += 1
        if t.received_at < start and t.status_at(_just_before(start)) in OPEN_STATUSES:
            carried += 1
        if _received_in(t, start, end):
            received += 1
            if t.outside_jurisdiction:
                outside += 1
            else:
                by_category[t.report_category] += 1
        status_at_end = t.status_at(last)
        if status_at_end in OPEN_STATUSES:
            still_open += 1
        elif status_at_end is TicketStatus.RESOLVED:
            resolution = t.last_resolution_before(end)
            if resolution is not None and resolution >= start:
                resolved += 1
    return PeriodReport(
        period=period,
        previous_period=prev,
        carried_over=carried,
        received=received,
        previous_received=prev_received,
        outside_jurisdiction=outside,
        by_category=by_category,
        resolved=resolved,
        still_open=still_open,
        facility_code=facility_code,
    )


def history_from_events(
    events: Sequence[tuple[datetime, str]],
    *,
    current_status: str,
    resolved_at: datetime | None,
    received_at: datetime,
) -> tuple[tuple[datetime, TicketStatus], ...]:
    """A ticket's status history from its "status_changed" events (at, to). A ticket with no such event
    but a status other than "mới tiếp nhận" (written before events were) gets one synthetic change: to
    "đã giải quyết" at resolved_at, or to its status when it was received."""
    changes: list[tuple[datetime, TicketStatus]] = []
    for at, to in events:
        try:
            changes.append((at, TicketStatus(to)))
        except ValueError:
            continue
    if changes:
        return tuple(sorted(changes, key=lambda c: c[0]))
    try:
        status = TicketStatus(current_status)
    except ValueError:
        return ()
    if status is TicketStatus.NEW:
        return ()
    if status is TicketStatus.RESOLVED and resolved_at is not None:
        return ((resolved_at, status),)
    return ((received_at, status),)


def received_by_month(tickets: Iterable[TicketFacts], period: Period, tz: ZoneInfo) -> list[tuple[date, int]]:
    """Tickets received in the period, per local calendar month it touches (first day of the month, count),
    in order, months with none included."""
    start, end = period.bounds(tz)
    months: dict[date, int] = {}
    month = period.date_from.replace(day=1)
    while month <= period.date_to:
        months[month] = 0
        month = (month + timedelta(days=32)).replace(day=1)
    for t in tickets:
        if _received_in(t, start, end):
            months[t.received_at.astimezone(tz).date().replace(day=1)] += 1
    return list(months.items())


def by_facility(
    tickets: Iterable[TicketFacts], period: Period, tz: ZoneInfo, *, previous: Period | None = None
) -> dict[str | None, PeriodReport]:
    """The period's figures for each facility that has a ticket among these (None: tickets of no facility)."""
    groups: dict[str | None, list[TicketFacts]] = {}
    for t in tickets:
        groups.setdefault(t.facility_code, []).append(t)
    return {
        code: period_report(facts, period, tz, previous=previous, facility_code=code)
        for code, facts in groups.items()
    }
