"""Complaint tickets (phản ánh): statuses, categories, references."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from callcenter.domain.access import Principal, Role


class TicketStatus(StrEnum):
    NEW = "moi_tiep_nhan"  # mới tiếp nhận
    IN_PROGRESS = "dang_xu_ly"  # đang xử lý
    RESOLVED = "da_giai_quyet"  # đã giải quyết
    FORWARDED = "chuyen"  # không đúng thẩm quyền → chuyển


STATUS_LABELS_VI: dict[TicketStatus, str] = {
    TicketStatus.NEW: "Mới tiếp nhận",
    TicketStatus.IN_PROGRESS: "Đang xử lý",
    TicketStatus.RESOLVED: "Đã giải quyết",
    TicketStatus.FORWARDED: "Không đúng thẩm quyền - đã chuyển",
}


class Category(StrEnum):
    """The seven categories of the period report (seed 002)."""

    THIEU_THUOC = "thieu_thuoc"
    QUY_TRINH_KHAM_BENH = "quy_trinh_kham_benh"
    QUY_TAC_UNG_XU = "quy_tac_ung_xu"
    CHUYEN_MON = "chuyen_mon"
    BHYT = "bhyt"
    QUY_CHE_KE_DON = "quy_che_ke_don"
    KHAC = "khac"


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"  # a possible serious medical incident, or nobody answered the caller


def ticket_reference(created_at: datetime, seq: int) -> str:
    """Human reference read out on the phone: PA-<local date>-<sequence>, e.g. PA-20261122-000007."""
    return f"PA-{created_at:%Y%m%d}-{seq:06d}"


# The workflow: mới tiếp nhận -> đang xử lý -> đã giải quyết; not the health sector's -> chuyển.
# A resolved ticket can be reopened (the caller calls back unhappy); a forwarded one can be taken back.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.FORWARDED}),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.RESOLVED, TicketStatus.FORWARDED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.IN_PROGRESS}),
    TicketStatus.FORWARDED: frozenset({TicketStatus.IN_PROGRESS}),
}
OPEN_STATUSES = frozenset({TicketStatus.NEW, TicketStatus.IN_PROGRESS})


class InvalidTicketTransition(ValueError):
    pass


def check_transition(current: TicketStatus, new: TicketStatus) -> None:
    if new not in TRANSITIONS[current]:
        raise InvalidTicketTransition(
            f"không thể chuyển từ «{STATUS_LABELS_VI[current]}» sang «{STATUS_LABELS_VI[new]}» "
            f"/ cannot go from {current.value} to {new.value}"
        )


def is_overdue(status: TicketStatus, deadline: datetime | None, now: datetime) -> bool:
    return status in OPEN_STATUSES and deadline is not None and deadline < now


# --- Working tickets in the browser: who sees which, deadlines, limits of free text ---------------------

NOTE_MAX_CHARS = 5000
RESULT_MAX_CHARS = 5000
FORWARDED_TO_MAX_CHARS = 500


@dataclass(frozen=True)
class TicketScope:
    """The tickets a principal may see, in a form a repository can turn into one WHERE clause.

    It mirrors `Principal.can_see_ticket`, and is stricter in one corner: a supervisor with no province
    sees nothing (can_see_ticket would let them see tickets whose province is also unknown).
    """

    everything: bool = False
    province: str | None = None  # tickets of this province
    facility_code: str | None = None  # tickets of this facility
    no_facility: bool = False  # tickets the caller could not place (they go to the Sở Y tế)

    def allows(self, facility_code: str | None, province: str | None) -> bool:
        if self.everything:
            return True
        if self.facility_code is not None and facility_code == self.facility_code:
            return True
        if self.province is not None and province == self.province:
            return True
        return self.no_facility and facility_code is None

    @property
    def empty(self) -> bool:
        return not (self.everything or self.province or self.facility_code or self.no_facility)


def ticket_scope(principal: Principal) -> TicketScope:
    match principal.role:
        case Role.ADMIN | Role.AUDITOR:
            return TicketScope(everything=True)
        case Role.SUPERVISOR if principal.province:
            # A call whose facility is unknown reaches the health department, so every supervisor sees it.
            return TicketScope(province=principal.province, no_facility=True)
        case Role.FACILITY_OFFICER if principal.facility_code:
            return TicketScope(facility_code=principal.facility_code)
    return TicketScope()


def next_statuses(current: TicketStatus) -> tuple[TicketStatus, ...]:
    """The statuses a ticket may move to, in workflow order (for the buttons of a page)."""
    return tuple(s for s in TicketStatus if s in TRANSITIONS[current])


@dataclass(frozen=True)
class DeadlineRule:
    """The default deadline of a ticket nobody gave one: the end (23:59:59 local) of the N-th working day
    after the day it came in. Working days are Monday to Friday minus public holidays (passed in, since
    the lunar ones move). The day of receipt never counts: a call at 23:40 must not lose a day.
    """

    tz: ZoneInfo
    working_days: int = 5

    def deadline(self, created_at: datetime, holidays: Collection[date]) -> datetime:
        return self._end_of(self._due_day(created_at.astimezone(self.tz).date(), holidays))

    def overdue_before(self, now: datetime, holidays: Collection[date]) -> datetime:
        """The instant such that a ticket without a deadline is overdue at `now` exactly when it was
        created before it: the default deadline only grows with the day of receipt, so this is the
        start of the first local day whose due day has not ended yet. Lets SQL filter on created_at."""
        day = now.astimezone(self.tz).date()
        while self._end_of(self._due_day(day - timedelta(days=1), holidays)) >= now:
            day -= timedelta(days=1)
        return datetime.combine(day, time(0, 0), tzinfo=self.tz)

    def _due_day(self, received: date, holidays: Collection[date]) -> date:
        if self.working_days < 1:
            raise ValueError(f"working_days must be at least 1, not {self.working_days}")
        day, left = received, self.working_days
        while left:
            day += timedelta(days=1)
            if day.weekday() < 5 and day not in holidays:
                left -= 1
        return day

    def _end_of(self, day: date) -> datetime:
        return datetime.combine(day, time(23, 59, 59), tzinfo=self.tz)


def personal_data_visible(principal: Principal, needs_callback: bool) -> bool:
    """Whether the principal sees a ticket's personal data unmasked: the caller's number and name, and the
    numbers read out in the transcript, notes and result (ID, insurance card, other phones).

    One rule for all of it, the caller-number rule: whoever may have to call back needs the number the
    caller left in a voicemail as much as their caller ID. So supervisors and admins see everything; a
    facility officer only on a ticket flagged for callback (otherwise they handle the complaint from the
    masked text); an auditor never (checking the handling does not need the person).
    """
    return principal.can_see_caller_number(needs_callback)


def repeat_caller_numbers(caller_number: str) -> tuple[str, ...]:
    """The forms one caller's number may be stored in (caller ID arrives as 0…, 84…, +84… or 0084…),
    for finding their earlier tickets. Nothing for a withheld or unknown number: every anonymous call
    would otherwise be "the same caller"."""
    raw = caller_number.strip()
    digits = raw.removeprefix("+")
    if not digits.isdigit():
        return ()
    if digits.startswith("0084"):
        national = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) >= 11:
        national = "0" + digits[2:]
    else:
        national = digits
    if not national.startswith("0") or len(national) < 9:
        return (raw,) if len(digits) >= 6 else ()
    rest = national[1:]
    return tuple(dict.fromkeys((raw, national, "84" + rest, "+84" + rest, "0084" + rest)))
