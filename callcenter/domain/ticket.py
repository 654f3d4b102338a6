"""Complaint tickets (phản ánh): statuses, categories, references."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


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
