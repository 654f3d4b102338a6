"""What is past its retention time, and removing it (services/retention.py decides when)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.domain.ticket import OPEN_STATUSES
from callcenter.services.ports import ExpiredCaller, ExpiredRecording
from callcenter.storage.models import CallRow, RecordingRow, TicketRow, TranscriptRow

_OPEN = [s.value for s in OPEN_STATUSES]


def _may_go() -> ColumnElement[bool]:
    """A ticket whose data may be removed: closed (not new, not in progress) and not held."""
    return and_(TicketRow.status.not_in(_OPEN), TicketRow.hold.is_(False))


class SqlRetentionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def expired_recordings(self, before: datetime) -> list[ExpiredRecording]:
        rows = await self._s.execute(
            select(RecordingRow.id, TicketRow.id, RecordingRow.file_name)
            .join(TicketRow, TicketRow.call_id == RecordingRow.call_id)
            .where(RecordingRow.deleted_at.is_(None), RecordingRow.created_at < before, _may_go())
            .order_by(RecordingRow.id)
        )
        return [ExpiredRecording(rid, tid, name) for rid, tid, name in rows]

    async def mark_recordings_deleted(self, ids: Sequence[int], now: datetime) -> None:
        if ids:
            await self._s.execute(update(RecordingRow).where(RecordingRow.id.in_(ids)).values(deleted_at=now))

    async def expired_transcripts(self, before: datetime) -> list[tuple[int, int]]:
        rows = await self._s.execute(
            select(TranscriptRow.id, TranscriptRow.ticket_id)
            .join(TicketRow, TicketRow.id == TranscriptRow.ticket_id)
            .where(TranscriptRow.removed_at.is_(None), TranscriptRow.created_at < before, _may_go())
            .order_by(TranscriptRow.id)
        )
        return [(tid, ticket) for tid, ticket in rows]

    async def remove_transcripts(self, ids: Sequence[int], now: datetime) -> None:
        if ids:
            await self._s.execute(
                update(TranscriptRow)
                .where(TranscriptRow.id.in_(ids))
                .values(text="", text_masked="", turns=[], removed_at=now)
            )

    async def expired_callers(self, before: datetime) -> list[ExpiredCaller]:
        closed = func.coalesce(TicketRow.resolved_at, TicketRow.updated_at)
        rows = await self._s.execute(
            select(TicketRow.id, TicketRow.call_id, TicketRow.caller_number)
            .where(TicketRow.personal_data_removed_at.is_(None), closed < before, _may_go())
            .order_by(TicketRow.id)
        )
        return [ExpiredCaller(tid, call_id, number) for tid, call_id, number in rows]

    async def remove_caller(self, caller: ExpiredCaller, masked_number: str, now: datetime) -> None:
        await self._s.execute(
            update(TicketRow)
            .where(TicketRow.id == caller.ticket_id)
            .values(caller_number=masked_number, caller_name="", personal_data_removed_at=now)
        )
        if caller.call_id is not None:
            await self._s.execute(
                update(CallRow)
                .where(CallRow.id == caller.call_id)
                .values(caller_number=masked_number, caller_name="")
            )

    async def set_hold(self, ticket_id: int, hold: bool, now: datetime) -> None:
        await self._s.execute(
            update(TicketRow).where(TicketRow.id == ticket_id).values(hold=hold, updated_at=now)
        )
