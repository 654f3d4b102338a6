"""The live board's read: a few indexed statements on a connection of its own (never the SQLite
group-commit writer: a read every second must not queue behind, or in front of, the call path)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from callcenter.domain.board import BoardFacts, ChainStep, DayCount, LiveCallFacts, OutboundFacts
from callcenter.domain.call import CallState
from callcenter.domain.outbound import OutboundKind, OutboundState
from callcenter.storage.models import (
    CallAttemptRow,
    CallRow,
    FacilityRow,
    OutboundCallRow,
    RecordingRow,
    TicketRow,
)

_ACTIVE_OUTBOUND = [s.value for s in OutboundState if s.active]


class SqlBoardSource:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def read(self, now: datetime, live_since: datetime, day_start: datetime) -> BoardFacts:
        async with self._engine.connect() as conn:
            calls = await _live_calls(conn, live_since)
            outbound = await _outbound(conn, live_since)
            today = await _today(conn, day_start)
            await conn.rollback()
        return BoardFacts(now, calls, outbound, today)


async def _live_calls(conn: AsyncConnection, since: datetime) -> tuple[LiveCallFacts, ...]:
    # calls.started_at is indexed: the range scan reads the last few hours' calls, not the table.
    query = (
        select(
            CallRow.id,
            CallRow.state,
            CallRow.facility_code,
            FacilityRow.name,
            CallRow.started_at,
            CallRow.routed_at,
            CallRow.rating_status,
            TicketRow.id,
            TicketRow.ref,
            TicketRow.facility_code,
            TicketRow.province,
        )
        .outerjoin(TicketRow, TicketRow.call_id == CallRow.id)
        .outerjoin(FacilityRow, FacilityRow.code == CallRow.facility_code)
        .where(CallRow.started_at >= since, CallRow.ended_at.is_(None))
        .order_by(CallRow.started_at, CallRow.id)
    )
    rows = (await conn.execute(query)).all()
    chains: dict[str, list[ChainStep]] = {}
    ids = [r[0] for r in rows]
    if ids:
        steps = await conn.execute(
            select(
                CallAttemptRow.call_id,
                CallAttemptRow.idx,
                CallAttemptRow.tier,
                CallAttemptRow.officer_name,
                CallAttemptRow.ring_timeout_s,
            )
            .where(CallAttemptRow.call_id.in_(ids))
            .order_by(CallAttemptRow.call_id, CallAttemptRow.idx)
        )
        for call_id, idx, tier, officer, timeout in steps.all():
            chains.setdefault(call_id, []).append(ChainStep(idx, tier, officer or "", timeout))
    return tuple(
        LiveCallFacts(
            call_id=call_id,
            state=CallState(state),
            facility_code=code,
            facility_name=name,
            started_at=_aware(started),
            routed_at=_aware(routed) if routed is not None else None,
            rated=rated is not None,
            ticket_id=ticket_id,
            ticket_ref=ref,
            scope_facility=t_code,
            scope_province=province,
            chain=tuple(chains.get(call_id, ())),
        )
        for call_id, state, code, name, started, routed, rated, ticket_id, ref, t_code, province in rows
    )


async def _outbound(conn: AsyncConnection, since: datetime) -> tuple[OutboundFacts, ...]:
    facility = func.coalesce(TicketRow.facility_code, OutboundCallRow.facility_code)
    query = (
        select(
            OutboundCallRow.id,
            OutboundCallRow.kind,
            OutboundCallRow.state,
            facility,
            FacilityRow.name,
            FacilityRow.province,
            OutboundCallRow.ticket_id,
            TicketRow.ref,
            TicketRow.province,
            OutboundCallRow.created_at,
            OutboundCallRow.answered_at,
            OutboundCallRow.accepted_at,
            OutboundCallRow.talk_started_at,
        )
        .outerjoin(TicketRow, TicketRow.id == OutboundCallRow.ticket_id)
        .outerjoin(FacilityRow, FacilityRow.code == facility)
        .where(OutboundCallRow.state.in_(_ACTIVE_OUTBOUND), OutboundCallRow.created_at >= since)
        .order_by(OutboundCallRow.created_at, OutboundCallRow.id)
    )
    out = []
    for row in (await conn.execute(query)).all():
        oid, kind, state, code, name, f_province, ticket_id, ref, t_province = row[:9]
        times = [_aware(t) for t in row[9:] if t is not None]
        callback = kind == OutboundKind.CALLBACK.value
        out.append(
            OutboundFacts(
                id=oid,
                kind=OutboundKind(kind),
                state=OutboundState(state),
                facility_code=code,
                facility_name=name,
                ticket_id=ticket_id,
                ticket_ref=ref,
                started_at=times[0],
                state_since=max(times),
                # A callback is its ticket's (scoped like it); a probe, its facility's.
                scope_facility=code,
                scope_province=t_province if callback else f_province,
            )
        )
    return tuple(out)


async def _today(conn: AsyncConnection, day_start: datetime) -> tuple[DayCount, ...]:
    voicemail = exists().where(RecordingRow.call_id == CallRow.id, RecordingRow.kind == "voicemail")
    query = (
        select(
            TicketRow.facility_code,
            FacilityRow.name,
            TicketRow.province,
            CallRow.state,
            func.count(),
            func.coalesce(func.sum(case((and_(voicemail), 1), else_=0)), 0),
        )
        .select_from(CallRow)
        .outerjoin(TicketRow, TicketRow.call_id == CallRow.id)
        .outerjoin(FacilityRow, FacilityRow.code == TicketRow.facility_code)
        .where(CallRow.started_at >= day_start)
        .group_by(TicketRow.facility_code, FacilityRow.name, TicketRow.province, CallRow.state)
    )
    return tuple(
        DayCount(code, name, province, CallState(state), int(n), int(vm))
        for code, name, province, state, n, vm in (await conn.execute(query)).all()
    )


def _aware(value: Any) -> datetime:
    """The columns are UTCDateTime: aware UTC already (a Core select keeps the type)."""
    assert isinstance(value, datetime) and value.tzinfo is not None
    return value
