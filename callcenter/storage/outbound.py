"""The calls we place: rows of `outbound_calls` (storage of services.ports_outbound)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.domain.outbound import OutboundKind, OutboundState, Outcome, SurveyAnswer
from callcenter.services.ports_outbound import OutboundExists, OutboundRecord
from callcenter.storage.models import CallRow, OutboundCallRow, RecordingRow, TicketRow
from callcenter.storage.repositories import _utc_or_none

_DONE = OutboundState.DONE.value


def _record(r: OutboundCallRow) -> OutboundRecord:
    return OutboundRecord(
        id=r.id,
        kind=OutboundKind(r.kind),
        state=OutboundState(r.state),
        outcome=None if r.outcome is None else Outcome(r.outcome),
        ticket_id=r.ticket_id,
        facility_code=r.facility_code,
        requested_by=r.requested_by,
        number=r.number,
        recording=r.recording,
        created_at=r.created_at,
        answered_at=r.answered_at,
        accepted_at=r.accepted_at,
        talk_started_at=r.talk_started_at,
        ended_at=r.ended_at,
        ring_ms=r.ring_ms,
        talk_s=r.talk_s,
        survey=None if r.survey is None else SurveyAnswer(r.survey),
        detail=r.detail,
    )


class SqlOutboundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self,
        kind: OutboundKind,
        now: datetime,
        *,
        ticket_id: int | None = None,
        facility_code: str | None = None,
        requested_by: int | None = None,
        number: str = "",
    ) -> int:
        values = {
            "kind": kind.value,
            "state": OutboundState.PENDING.value,
            "ticket_id": ticket_id,
            "facility_code": facility_code,
            "requested_by": requested_by,
            "number": number,
            "detail": "",
            "created_at": now,
            "updated_at": now,
        }
        try:
            # A savepoint: the unique violation must not end the caller's transaction on PostgreSQL.
            async with self._s.begin_nested():
                found = await self._s.execute(
                    insert(OutboundCallRow).values(**values).returning(OutboundCallRow.id)
                )
                new_id = int(found.scalar_one())
        except IntegrityError as exc:
            raise OutboundExists(str(kind)) from exc
        return new_id

    async def get(self, outbound_id: int, *, for_update: bool = False) -> OutboundRecord | None:
        query = select(OutboundCallRow).where(OutboundCallRow.id == outbound_id)
        if for_update:
            # Two nodes handling events of one call queue here (PostgreSQL; SQLite has one writer).
            query = query.with_for_update()
        row = (await self._s.execute(query)).scalars().first()
        return None if row is None else _record(row)

    async def update(self, outbound_id: int, now: datetime, **values: Any) -> None:
        plain = {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}
        await self._s.execute(
            update(OutboundCallRow).where(OutboundCallRow.id == outbound_id).values(updated_at=now, **plain)
        )

    async def active(self) -> list[OutboundRecord]:
        rows = (
            await self._s.execute(
                select(OutboundCallRow).where(OutboundCallRow.state != _DONE).order_by(OutboundCallRow.id)
            )
        ).scalars()
        return [_record(r) for r in rows]

    async def for_ticket(self, ticket_id: int) -> list[OutboundRecord]:
        rows = (
            await self._s.execute(
                select(OutboundCallRow)
                .where(OutboundCallRow.ticket_id == ticket_id)
                .order_by(OutboundCallRow.id)
            )
        ).scalars()
        return [_record(r) for r in rows]

    async def for_tickets(self, ticket_ids: Sequence[int]) -> list[OutboundRecord]:
        if not ticket_ids:
            return []
        rows = (
            await self._s.execute(
                select(OutboundCallRow)
                .where(OutboundCallRow.ticket_id.in_(list(ticket_ids)))
                .order_by(OutboundCallRow.id)
            )
        ).scalars()
        return [_record(r) for r in rows]

    async def count_for_ticket_since(self, ticket_id: int, since: datetime) -> int:
        found = await self._s.execute(
            select(func.count())
            .select_from(OutboundCallRow)
            .where(OutboundCallRow.ticket_id == ticket_id, OutboundCallRow.created_at >= since)
        )
        return int(found.scalar_one())

    async def probes(
        self, since: datetime, until: datetime, facility_code: str | None = None
    ) -> list[OutboundRecord]:
        query = select(OutboundCallRow).where(
            OutboundCallRow.kind == OutboundKind.PROBE.value,
            OutboundCallRow.created_at >= since,
            OutboundCallRow.created_at < until,
        )
        if facility_code is not None:
            query = query.where(OutboundCallRow.facility_code == facility_code)
        rows = (await self._s.execute(query.order_by(OutboundCallRow.id))).scalars()
        return [_record(r) for r in rows]

    async def attach_recordings(
        self, ticket_id: int, outbound_id: int, files: Sequence[tuple[str, str]], now: datetime
    ) -> bool:
        """The files, as recordings of the ticket's call (listened to, audited and kept or deleted with
        it); False when the ticket has no call (an imported one)."""
        call_id = (await self._s.execute(select(TicketRow.call_id).where(TicketRow.id == ticket_id))).scalar()
        if call_id is None:
            return False
        await self._s.execute(
            insert(RecordingRow),
            [
                {
                    "call_id": call_id,
                    "outbound_id": outbound_id,
                    "kind": kind,
                    "file_name": name,
                    "created_at": now,
                }
                for kind, name in files
            ],
        )
        return True

    async def callbacks(self, since: datetime, until: datetime) -> list[tuple[OutboundRecord, str | None]]:
        """The callbacks placed in [since, until), each with its ticket's province (for the scope)."""
        rows = await self._s.execute(
            select(OutboundCallRow, TicketRow.province)
            .outerjoin(TicketRow, TicketRow.id == OutboundCallRow.ticket_id)
            .where(
                OutboundCallRow.kind == OutboundKind.CALLBACK.value,
                OutboundCallRow.created_at >= since,
                OutboundCallRow.created_at < until,
            )
            .order_by(OutboundCallRow.id)
        )
        return [(_record(r), province) for r, province in rows.all()]

    async def calls_in_progress(self, facility_code: str, since: datetime) -> int:
        found = await self._s.execute(
            select(func.count())
            .select_from(CallRow)
            .where(
                CallRow.facility_code == facility_code,
                CallRow.ended_at.is_(None),
                CallRow.started_at >= since,
            )
        )
        return int(found.scalar_one())

    async def last_probe_at(self) -> dict[str, datetime]:
        rows = await self._s.execute(
            select(OutboundCallRow.facility_code, func.max(OutboundCallRow.created_at))
            .where(
                OutboundCallRow.kind == OutboundKind.PROBE.value, OutboundCallRow.facility_code.is_not(None)
            )
            .group_by(OutboundCallRow.facility_code)
        )
        out: dict[str, datetime] = {}
        for code, at in rows.all():
            aware = _utc_or_none(at)
            if code is not None and aware is not None:
                out[code] = aware
        return out
