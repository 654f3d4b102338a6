"""The audit log: who signed in, opened which ticket, listened to which recording, changed what.

The personal-data rules ask for this trail; they also forbid it from becoming a second copy of the data
it protects. So `detail` may never carry a caller's number, name or a transcript: keys that would are
refused outright (a programming error the tests catch), and every string left is passed through the same
masking as transcripts as a second line of defence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from callcenter.domain.access import Principal
from callcenter.domain.redact import mask_personal_data
from callcenter.services.errors import PermissionDenied
from callcenter.services.ports import UnitOfWork, UnitOfWorkFactory
from callcenter.services.ports_people import AuditEntry, AuditFilter, NewAuditEntry


class AuditAction(StrEnum):
    LOGIN_OK = "login.ok"
    LOGIN_FAILED = "login.failed"
    LOGOUT = "logout"
    TICKET_VIEW = "ticket.view"
    TICKET_UPDATE = "ticket.update"
    RECORDING_LISTEN = "recording.listen"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_DEACTIVATE = "user.deactivate"
    USER_PASSWORD = "user.password"
    ROSTER_IMPORT = "roster.import"
    OVERRIDE_ADD = "roster.override_add"
    OVERRIDE_DELETE = "roster.override_delete"
    CALLBACK = "ticket.callback"  # a callback placed from the ticket ("Gọi lại")


FORBIDDEN_DETAIL_KEYS = frozenset(
    {
        "caller",
        "caller_number",
        "caller_name",
        "callerid",
        "phone",
        "number",
        "transcript",
        "text",
        "text_masked",
        "turns",
        "password",
        "password_hash",
        "token",
        "csrf_token",
    }
)
_MAX_STRING = 200
MAX_QUERY_LIMIT = 500


def clean_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """What may be stored of `detail`: flat JSON scalars (or lists of them), personal numbers masked."""
    if not detail:
        return {}
    out: dict[str, Any] = {}
    for key, value in detail.items():
        if key.lower() in FORBIDDEN_DETAIL_KEYS:
            raise ValueError(f"audit detail must not carry {key!r} (personal data or a secret)")
        out[key] = _clean_value(key, value)
    return out


def _clean_value(key: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return mask_personal_data(value[:_MAX_STRING])
    if isinstance(value, list | tuple):
        return [_clean_value(key, v) for v in value]
    raise ValueError(f"audit detail {key!r}: only strings, numbers, booleans and lists of them")


async def write_audit(
    uow: UnitOfWork,
    *,
    at: datetime,
    action: str,
    principal: Principal | None = None,
    username: str | None = None,
    ticket_id: int | None = None,
    recording_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
    remote: str = "",
) -> None:
    """Add an entry inside the caller's unit of work, so it commits (or not) with what it describes."""
    await uow.audit.add(
        NewAuditEntry(
            at=at,
            user_id=principal.user_id if principal else None,
            username=username if username is not None else (principal.username if principal else ""),
            action=str(action),
            ticket_id=ticket_id,
            recording_id=recording_id,
            detail=clean_detail(detail),
            remote=remote,
        )
    )


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Callable[[], datetime]) -> None:
        self._uow = uow
        self._clock = clock

    async def record(
        self,
        principal: Principal | None,
        action: str,
        ticket_id: int | None = None,
        recording_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
        remote: str = "",
    ) -> None:
        """One entry in its own transaction (a read such as ticket.view has no other to join)."""
        async with self._uow() as uow:
            await write_audit(
                uow,
                at=self._clock(),
                action=action,
                principal=principal,
                ticket_id=ticket_id,
                recording_id=recording_id,
                detail=detail,
                remote=remote,
            )
            await uow.commit()

    async def query(self, principal: Principal, where: AuditFilter) -> list[AuditEntry]:
        if not principal.can_read_audit():
            raise PermissionDenied("Bạn không có quyền xem nhật ký / not allowed to read the audit log")
        limit = max(1, min(where.limit, MAX_QUERY_LIMIT))
        async with self._uow() as uow:
            return await uow.audit.query(
                AuditFilter(
                    username=where.username,
                    action=where.action,
                    ticket_id=where.ticket_id,
                    since=where.since,
                    until=where.until,
                    before_id=where.before_id,
                    limit=limit,
                )
            )
