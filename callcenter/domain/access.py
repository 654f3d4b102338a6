"""Who may see and do what: the four roles and the personal-data rules (least access)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # facilities, roster, users; every ticket
    SUPERVISOR = "supervisor"  # a province (Sở Y tế): every facility in it
    FACILITY_OFFICER = "facility_officer"  # one facility's own tickets
    AUDITOR = "auditor"  # read-only, everywhere


ROLE_LABELS_VI: dict[Role, str] = {
    Role.ADMIN: "Quản trị",
    Role.SUPERVISOR: "Giám sát (Sở Y tế)",
    Role.FACILITY_OFFICER: "Cán bộ cơ sở",
    Role.AUDITOR: "Kiểm tra (chỉ xem)",
}


@dataclass(frozen=True)
class Principal:
    """The signed-in person, as the rules need them."""

    user_id: int
    username: str
    role: Role
    province: str | None = None  # supervisors
    facility_code: str | None = None  # facility officers

    def can_see_ticket(self, facility_code: str | None, province: str | None) -> bool:
        match self.role:
            case Role.ADMIN | Role.AUDITOR:
                return True
            case Role.SUPERVISOR:
                # A call whose facility is unknown ("don't know" key) goes to the Sở Y tế: the province's.
                return province == self.province or (facility_code is None and self.province is not None)
            case Role.FACILITY_OFFICER:
                return facility_code is not None and facility_code == self.facility_code
        return False

    def can_edit_tickets(self) -> bool:
        return self.role in (Role.ADMIN, Role.SUPERVISOR, Role.FACILITY_OFFICER)

    def can_see_caller_number(self, needs_callback: bool) -> bool:
        """The caller's number is shown to those who may have to call back, and only then to a facility
        officer: the supervisors who answer for the callback, and the officer of a ticket flagged for it."""
        if self.role in (Role.ADMIN, Role.SUPERVISOR):
            return True
        return self.role is Role.FACILITY_OFFICER and needs_callback

    def can_manage(self) -> bool:
        """Facilities, roster, users."""
        return self.role is Role.ADMIN

    def can_read_audit(self) -> bool:
        """The audit log: admins (who run the system) and auditors (whose whole job it is)."""
        return self.role in (Role.ADMIN, Role.AUDITOR)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS_VI[self.role]
