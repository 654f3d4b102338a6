"""Repositories: build the queries, map rows to domain records. Transactions belong to the services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    column,
    delete,
    false,
    func,
    insert,
    not_,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.domain.call import CallState
from callcenter.domain.facility import Facility, FacilityKind
from callcenter.domain.hotline_health import CallCounts
from callcenter.domain.report import TicketFacts, history_from_events
from callcenter.domain.roster import DayKind, Officer, Override, Recurrence, Rotation, Tier
from callcenter.domain.satisfaction import SATISFIED_FROM, RatingCounts, RatingStatus
from callcenter.domain.ticket import OPEN_STATUSES, TicketScope, TicketStatus, ticket_reference
from callcenter.services.ports import (
    AttemptRecord,
    CallTimeline,
    ImportedTicket,
    Job,
    NoteRecord,
    RecordingRecord,
    TicketLink,
    TicketQuery,
    TicketRecord,
    TicketSummary,
    TranscriptRecord,
    UserBrief,
)
from callcenter.storage.models import (
    CacheVersionRow,
    CallAttemptRow,
    CallRow,
    FacilityRow,
    OutboundCallRow,
    OverrideRow,
    RecordingRow,
    RotationRow,
    TicketEventRow,
    TicketNoteRow,
    TicketRow,
    TranscriptionJobRow,
    TranscriptRow,
    UserRow,
)

JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED = "queued", "running", "done", "failed"
_OPEN = [s.value for s in OPEN_STATUSES]


def _province_of(facility_code: str | None) -> Any:
    """The facility's province, looked up in the same statement (a supervisor sees a province)."""
    if facility_code is None:
        return None
    return select(FacilityRow.province).where(FacilityRow.code == facility_code).scalar_subquery()


def _scope_clause(scope: TicketScope) -> ColumnElement[bool]:
    """`TicketScope.allows` as SQL, so that a page and its total never count a ticket one may not see."""
    if scope.everything:
        return true()
    parts: list[ColumnElement[bool]] = []
    if scope.facility_code is not None:
        parts.append(TicketRow.facility_code == scope.facility_code)
    if scope.province is not None:
        parts.append(TicketRow.province == scope.province)
    if scope.no_facility:
        parts.append(TicketRow.facility_code.is_(None))
    return or_(*parts) if parts else false()


def _ticket_record(
    t: TicketRow,
    facility_name: str | None,
    assignee: str | None,
    call_state: str | None,
    answered_tier: str | None,
) -> TicketRecord:
    return TicketRecord(
        id=t.id,
        ref=t.ref or "",
        call_id=t.call_id,
        facility_code=t.facility_code,
        facility_name=facility_name,
        province=t.province,
        status=t.status,
        priority=t.priority,
        needs_callback=t.needs_callback,
        caller_number=t.caller_number,
        caller_name=t.caller_name,
        category_suggested=t.category_suggested,
        category_confidence=t.category_confidence,
        category_confirmed=t.category_confirmed,
        incident=t.incident,
        incident_reasons=t.incident_reasons,
        assignee_id=t.assignee_id,
        assignee_name=assignee,
        deadline_at=t.deadline_at,
        resolved_at=t.resolved_at,
        forwarded_to=t.forwarded_to,
        result_told=t.result_told,
        outside_jurisdiction=t.outside_jurisdiction,
        summary=t.summary,
        created_at=t.created_at,
        updated_at=t.updated_at,
        call_state=call_state,
        hold=t.hold,
        answered_tier=answered_tier,
    )


def _display_name(full_name: str | None, username: str | None) -> str:
    return (full_name or "").strip() or (username or "")


def _facility(row: FacilityRow) -> Facility:
    return Facility(
        code=row.code,
        keypad_code=row.keypad_code,
        name=row.name,
        kind=FacilityKind(row.kind),
        province=row.province,
        hotline=row.hotline,
        authority_line=row.authority_line,
    )


class SqlFacilityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def _one(self, **where: str) -> Facility | None:
        row = (await self._s.execute(select(FacilityRow).filter_by(**where))).scalars().first()
        return _facility(row) if row else None

    async def by_code(self, code: str) -> Facility | None:
        return await self._one(code=code)

    async def all(self) -> list[Facility]:
        rows = (await self._s.execute(select(FacilityRow).order_by(FacilityRow.code))).scalars()
        return [_facility(r) for r in rows]

    async def routing_version(self) -> int:
        version = (
            await self._s.execute(select(CacheVersionRow.version).where(CacheVersionRow.name == "routing"))
        ).scalar()
        return int(version or 0)  # no row: nothing changed since it was deleted (the triggers recreate it)

    async def upsert(self, facility: Facility, now: datetime) -> bool:
        row = (await self._s.execute(select(FacilityRow).filter_by(code=facility.code))).scalars().first()
        values = {
            "keypad_code": facility.keypad_code,
            "name": facility.name,
            "kind": facility.kind.value,
            "province": facility.province,
            "hotline": facility.hotline,
            "authority_line": facility.authority_line,
            "updated_at": now,
        }
        if row is None:
            self._s.add(FacilityRow(code=facility.code, created_at=now, **values))
            await self._s.flush()
            return True
        for key, value in values.items():
            setattr(row, key, value)
        await self._s.flush()
        return False


def _rotation(row: RotationRow) -> Rotation:
    return Rotation(
        name=row.name,
        facility_code=row.facility_code,
        tier=Tier(row.tier),
        recurrence=Recurrence(row.recurrence),
        handoff=time.fromisoformat(row.handoff),
        start=date.fromisoformat(row.start_date),
        officers=tuple(Officer(o["name"], o["phone"]) for o in row.officers),
        day_kinds=frozenset(DayKind(k) for k in row.day_kinds.split(";") if k),
        end=date.fromisoformat(row.end_date) if row.end_date else None,
    )


def _override(row: OverrideRow) -> Override:
    return Override(
        facility_code=row.facility_code,
        tier=Tier(row.tier),
        start=row.starts_at,
        end=row.ends_at,
        officer=Officer(row.officer_name, row.officer_phone),
        seq=row.id,
        reason=row.reason,
    )


class SqlRosterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def rotations(self, facility_code: str | None = None) -> list[Rotation]:
        query = select(RotationRow).order_by(RotationRow.facility_code, RotationRow.name)
        if facility_code is not None:
            query = query.where(RotationRow.facility_code == facility_code)
        return [_rotation(r) for r in (await self._s.execute(query)).scalars()]

    async def overrides(
        self, facility_code: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> list[Override]:
        query = select(OverrideRow).order_by(OverrideRow.id)
        if facility_code is not None:
            query = query.where(OverrideRow.facility_code == facility_code)
        if end is not None:
            query = query.where(OverrideRow.starts_at < end)
        if start is not None:
            query = query.where(OverrideRow.ends_at > start)
        return [_override(r) for r in (await self._s.execute(query)).scalars()]

    async def replace(
        self,
        facility_codes: Sequence[str],
        rotations: Sequence[Rotation],
        overrides: Sequence[Override],
        now: datetime,
    ) -> None:
        codes = list(facility_codes)
        await self._s.execute(delete(RotationRow).where(RotationRow.facility_code.in_(codes)))
        await self._s.execute(delete(OverrideRow).where(OverrideRow.facility_code.in_(codes)))
        for r in rotations:
            self._s.add(
                RotationRow(
                    facility_code=r.facility_code,
                    name=r.name,
                    tier=r.tier.value,
                    recurrence=r.recurrence.value,
                    handoff=r.handoff.strftime("%H:%M"),
                    start_date=r.start.isoformat(),
                    end_date=r.end.isoformat() if r.end else None,
                    day_kinds=";".join(sorted(k.value for k in r.day_kinds)),
                    officers=[{"name": o.name, "phone": o.phone} for o in r.officers],
                )
            )
        for o in sorted(overrides, key=lambda o: o.seq):
            self._s.add(
                OverrideRow(
                    facility_code=o.facility_code,
                    tier=o.tier.value,
                    starts_at=o.start,
                    ends_at=o.end,
                    officer_name=o.officer.name,
                    officer_phone=o.officer.phone,
                    reason=o.reason,
                    created_at=now,
                )
            )
        await self._s.flush()

    async def add_override(self, override: Override, now: datetime) -> int:
        row = OverrideRow(
            facility_code=override.facility_code,
            tier=override.tier.value,
            starts_at=override.start,
            ends_at=override.end,
            officer_name=override.officer.name,
            officer_phone=override.officer.phone,
            reason=override.reason,
            created_at=now,
        )
        self._s.add(row)
        await self._s.flush()
        return row.id

    async def override_facility(self, override_id: int) -> str | None:
        found: str | None = await self._s.scalar(
            select(OverrideRow.facility_code).where(OverrideRow.id == override_id)
        )
        return found

    async def delete_override(self, override_id: int) -> bool:
        result = await self._s.execute(delete(OverrideRow).where(OverrideRow.id == override_id))
        return bool(getattr(result, "rowcount", 0))


def _count_if(cond: ColumnElement[bool]) -> Any:
    """SUM(CASE WHEN cond THEN 1 ELSE 0 END), 0 over no row: a conditional count in one GROUP BY."""
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


class SqlCallRepository:
    """What the pages and reports read of calls; the call path itself writes through `call_path.py`."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def hotline_stats(
        self, since: datetime, until: datetime, facility_code: str | None = None
    ) -> dict[str, CallCounts]:
        answered = CallRow.state == CallState.ANSWERED.value
        waited = and_(answered, CallRow.answer_wait_ms.is_not(None))

        query = (
            select(
                CallRow.facility_code,
                func.count(),
                _count_if(answered),
                _count_if(and_(answered, CallRow.answered_index == 1)),
                _count_if(CallRow.state == CallState.UNANSWERED.value),
                _count_if(CallRow.state == CallState.ABANDONED.value),
                func.max(case((answered, CallRow.started_at), else_=None)),
                # AVG skips NULLs: only answered calls with a measured wait count (NULL when none has).
                func.avg(case((waited, CallRow.answer_wait_ms), else_=None)),
                _count_if(waited),
            )
            .where(
                CallRow.facility_code.is_not(None), CallRow.started_at >= since, CallRow.started_at < until
            )
            .group_by(CallRow.facility_code)
        )
        if facility_code is not None:
            query = query.where(CallRow.facility_code == facility_code)
        out: dict[str, CallCounts] = {}
        rows = (await self._s.execute(query)).all()
        for code, calls, ans, first, unanswered, abandoned, last, mean_wait, with_wait in rows:
            out[code] = CallCounts(
                calls=int(calls),
                answered=int(ans),
                answered_by_first=int(first),
                all_failed=int(unanswered),
                abandoned=int(abandoned),
                mean_answer_wait_ms=float(mean_wait) if mean_wait is not None else None,
                answered_with_wait=int(with_wait),
                last_answered_at=_utc_or_none(last),
            )
        return out

    async def rating_counts(
        self, since: datetime, until: datetime, facility_code: str | None = None
    ) -> dict[str | None, RatingCounts]:
        rated = CallRow.rating_status == RatingStatus.RATED.value

        query = (
            select(
                CallRow.facility_code,
                _count_if(rated),
                _count_if(and_(rated, CallRow.rating >= SATISFIED_FROM)),
                _count_if(CallRow.rating_status == RatingStatus.NO_ANSWER.value),
                _count_if(CallRow.rating_status == RatingStatus.INVALID.value),
            )
            .where(
                CallRow.rating_status.is_not(None), CallRow.started_at >= since, CallRow.started_at < until
            )
            .group_by(CallRow.facility_code)
        )
        if facility_code is not None:
            query = query.where(CallRow.facility_code == facility_code)
        return {
            code: RatingCounts(int(r), int(s), int(na), int(inv))
            for code, r, s, na, inv in (await self._s.execute(query)).all()
        }


def _utc_or_none(value: Any) -> datetime | None:
    """max() over a CASE loses the column type on some drivers (SQLite gives text): make it aware UTC."""
    if value is None:
        return None
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(instant, datetime)
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


class SqlTicketRepository:
    def __init__(self, session: AsyncSession, tz_name: str) -> None:
        self._s = session
        self._tz = ZoneInfo(tz_name)

    async def add_event(self, ticket_id: int, kind: str, detail: dict[str, Any], now: datetime) -> None:
        await self._s.execute(
            insert(TicketEventRow).values(ticket_id=ticket_id, at=now, kind=kind, detail=detail)
        )

    async def events(self, ticket_id: int) -> list[tuple[datetime, str, dict[str, Any]]]:
        rows = (
            await self._s.execute(
                select(TicketEventRow)
                .where(TicketEventRow.ticket_id == ticket_id)
                .order_by(TicketEventRow.id)
            )
        ).scalars()
        return [(r.at, r.kind, r.detail) for r in rows]

    async def latest(
        self, *, status: str | None = None, facility_code: str | None = None, limit: int = 100
    ) -> list[TicketSummary]:
        query = self._summary_query().order_by(TicketRow.id.desc()).limit(limit)
        if status is not None:
            query = query.where(TicketRow.status == status)
        if facility_code is not None:
            query = query.where(TicketRow.facility_code == facility_code)
        return await self._summaries(query)

    async def search(self, folded_query: str, *, limit: int = 50) -> list[TicketSummary]:
        words = folded_query.split()
        if not words:
            return []
        if self._s.get_bind().dialect.name == "sqlite":
            # Each word a quoted FTS5 string (no operator injection); implicit AND; best match first.
            match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
            hits = text("SELECT rowid FROM ticket_search WHERE ticket_search MATCH :q ORDER BY rank LIMIT :n")
        else:
            match = " ".join(words)
            hits = text(
                "SELECT ticket_id FROM ticket_search WHERE tsv @@ plainto_tsquery('simple', :q)"
                " ORDER BY ts_rank(tsv, plainto_tsquery('simple', :q)) DESC LIMIT :n"
            )
        ids = [int(r[0]) for r in (await self._s.execute(hits, {"q": match, "n": limit})).all()]
        if not ids:
            return []
        found = {t.id: t for t in await self._summaries(self._summary_query().where(TicketRow.id.in_(ids)))}
        return [found[i] for i in ids if i in found]

    async def index_text(self, ticket_id: int, body: str) -> None:
        if self._s.get_bind().dialect.name == "sqlite":
            await self._s.execute(text("DELETE FROM ticket_search WHERE rowid = :id"), {"id": ticket_id})
            await self._s.execute(
                text("INSERT INTO ticket_search (rowid, body) VALUES (:id, :body)"),
                {"id": ticket_id, "body": body},
            )
        else:
            await self._s.execute(
                text(
                    "INSERT INTO ticket_search (ticket_id, body) VALUES (:id, :body)"
                    " ON CONFLICT (ticket_id) DO UPDATE SET body = EXCLUDED.body"
                ),
                {"id": ticket_id, "body": body},
            )

    async def set_suggestion(
        self,
        ticket_id: int,
        *,
        category: str,
        confidence: float,
        incident: bool,
        incident_reasons: str,
        now: datetime,
    ) -> None:
        values: dict[str, Any] = {
            "category_suggested": category,
            "category_confidence": confidence,
            "incident": incident,
            "incident_reasons": incident_reasons,
            "updated_at": now,
        }
        if incident:
            values["priority"] = "high"
        await self._s.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(**values))

    @staticmethod
    def _summary_query() -> Select[TicketRow, str, str | None]:
        return select(TicketRow, CallRow.state, CallRow.answered_tier).outerjoin(
            CallRow, CallRow.id == TicketRow.call_id
        )

    async def _summaries(self, query: Select[TicketRow, str, str | None]) -> list[TicketSummary]:
        rows = (await self._s.execute(query)).all()
        call_ids = [t.call_id for t, _, _ in rows if t.call_id]
        recs: dict[str, list[str]] = {}
        if call_ids:
            for call_id, kind in (
                await self._s.execute(
                    select(RecordingRow.call_id, RecordingRow.kind)
                    .where(RecordingRow.call_id.in_(call_ids))
                    .order_by(RecordingRow.id)
                )
            ).all():
                recs.setdefault(call_id, []).append(kind)
        return [
            TicketSummary(
                id=t.id,
                ref=t.ref or "",
                call_id=t.call_id,
                facility_code=t.facility_code,
                status=t.status,
                priority=t.priority,
                needs_callback=t.needs_callback,
                caller_number=t.caller_number,
                caller_name=t.caller_name,
                created_at=t.created_at,
                call_state=state,
                answered_tier=tier,
                recordings=tuple(recs.get(t.call_id or "", ())),
                category_suggested=t.category_suggested,
                category_confidence=t.category_confidence,
                incident=t.incident,
            )
            for t, state, tier in rows
        ]

    async def count(self) -> int:
        return int((await self._s.execute(select(func.count()).select_from(TicketRow))).scalar_one())

    async def id_by_ref(self, ref: str) -> int | None:
        return (await self._s.execute(select(TicketRow.id).where(TicketRow.ref == ref))).scalar_one_or_none()

    # --- the workflow -------------------------------------------------------------------------------

    @staticmethod
    def _record_query() -> Select[TicketRow, str | None, str | None, str | None, str | None, str | None]:
        return (
            select(
                TicketRow,
                FacilityRow.name,
                UserRow.full_name,
                UserRow.username,
                CallRow.state,
                CallRow.answered_tier,
            )
            .outerjoin(FacilityRow, FacilityRow.code == TicketRow.facility_code)
            .outerjoin(UserRow, UserRow.id == TicketRow.assignee_id)
            .outerjoin(CallRow, CallRow.id == TicketRow.call_id)
        )

    def _text_match(self, folded: str) -> ColumnElement[bool]:
        """Ticket ids whose search body has every word, as a sub-select (no row count limit here)."""
        words = folded.split()
        if self._s.get_bind().dialect.name == "sqlite":
            # Each word a quoted FTS5 string: no query syntax of the user's reaches the engine.
            match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
            hits = (
                text("SELECT rowid FROM ticket_search WHERE ticket_search MATCH :text_q")
                .bindparams(text_q=match)
                .columns(column("rowid", Integer))
            )
        else:
            hits = (
                text("SELECT ticket_id FROM ticket_search WHERE tsv @@ plainto_tsquery('simple', :text_q)")
                .bindparams(text_q=" ".join(words))
                .columns(column("ticket_id", Integer))
            )
        return TicketRow.id.in_(hits)

    def _where(self, scope: TicketScope, q: TicketQuery) -> ColumnElement[bool]:
        w: list[ColumnElement[bool]] = [_scope_clause(scope)]
        if q.status is not None:
            w.append(TicketRow.status == q.status)
        if q.category is not None:
            effective = func.coalesce(TicketRow.category_confirmed, TicketRow.category_suggested)
            same = effective == q.category
            w.append(or_(same, TicketRow.outside_jurisdiction.is_(True)) if q.outside_jurisdiction else same)
        if q.facility_code is not None:
            w.append(TicketRow.facility_code == q.facility_code)
        if q.created_from is not None:
            w.append(TicketRow.created_at >= q.created_from)
        if q.created_before is not None:
            w.append(TicketRow.created_at < q.created_before)
        if q.overdue is not None:
            if q.now is None or q.default_overdue_before is None:
                raise ValueError("the overdue filter needs now and default_overdue_before")
            # Mirrors domain.ticket.is_overdue over the effective deadline (set, or else the default one,
            # which has passed exactly for tickets created before default_overdue_before).
            late = and_(
                TicketRow.status.in_(_OPEN),
                or_(
                    and_(TicketRow.deadline_at.is_not(None), TicketRow.deadline_at < q.now),
                    and_(TicketRow.deadline_at.is_(None), TicketRow.created_at < q.default_overdue_before),
                ),
            )
            w.append(late if q.overdue else not_(late))
        if q.incident is not None:
            w.append(TicketRow.incident == q.incident)
        if q.needs_callback is not None:
            w.append(TicketRow.needs_callback == q.needs_callback)
        if q.assignee_id is not None:
            w.append(TicketRow.assignee_id == q.assignee_id)
        text_parts: list[ColumnElement[bool]] = []
        if q.folded_text:
            text_parts.append(self._text_match(q.folded_text))
        if q.ref:
            text_parts.append(TicketRow.ref == q.ref)
        if text_parts:
            w.append(or_(*text_parts))
        return and_(*w)

    async def page(
        self, scope: TicketScope, query: TicketQuery, *, offset: int, limit: int, count_cap: int | None = None
    ) -> tuple[list[TicketRecord], int]:
        where = self._where(scope, query)
        matching = select(TicketRow.id).where(where)
        if count_cap is not None:
            # Counting 60,000 matches costs more than the page itself; past the cap, "more than" will do.
            matching = matching.limit(count_cap + 1)
        total = int(
            (await self._s.execute(select(func.count()).select_from(matching.subquery()))).scalar_one()
        )
        if total <= offset:
            return [], total
        rows = (
            await self._s.execute(
                self._record_query()
                .where(where)
                .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
                .offset(offset)
                .limit(limit)
            )
        ).all()
        return [
            _ticket_record(t, fname, _display_name(full, user) if user else None, state, tier)
            for t, fname, full, user, state, tier in rows
        ], total

    async def record(self, ticket_id: int, *, for_update: bool = False) -> TicketRecord | None:
        query = self._record_query().where(TicketRow.id == ticket_id)
        if for_update:
            # Two people changing one ticket queue here on PostgreSQL (SQLite has one writer anyway).
            query = query.with_for_update(of=TicketRow)
        row = (await self._s.execute(query)).first()
        if row is None:
            return None
        t, fname, full, user, state, tier = row
        return _ticket_record(t, fname, _display_name(full, user) if user else None, state, tier)

    async def call_timeline(self, call_id: str) -> CallTimeline | None:
        call = (await self._s.execute(select(CallRow).where(CallRow.id == call_id))).scalars().first()
        if call is None:
            return None
        attempts = (
            await self._s.execute(
                select(CallAttemptRow).where(CallAttemptRow.call_id == call_id).order_by(CallAttemptRow.idx)
            )
        ).scalars()
        return CallTimeline(
            call_id=call.id,
            state=call.state,
            dialled_number=call.dialled_number,
            facility_code=call.facility_code,
            started_at=call.started_at,
            routed_at=call.routed_at,
            ended_at=call.ended_at,
            answered_index=call.answered_index,
            answered_tier=call.answered_tier,
            talk_ms=call.talk_ms,
            duration_s=call.duration_s,
            hangup_cause=call.hangup_cause,
            end_detail=call.end_detail,
            attempts=tuple(
                AttemptRecord(a.idx, a.tier, a.officer_name, a.number, a.ring_timeout_s, a.result)
                for a in attempts
            ),
        )

    @staticmethod
    def _recording(r: RecordingRow) -> RecordingRecord:
        return RecordingRecord(r.id, r.call_id, r.kind, r.file_name, r.created_at)

    async def recordings(self, call_id: str) -> list[RecordingRecord]:
        rows = (
            await self._s.execute(
                select(RecordingRow)
                # A file deleted at the end of its retention time is no longer offered.
                .where(RecordingRow.call_id == call_id, RecordingRow.deleted_at.is_(None))
                .order_by(RecordingRow.id)
            )
        ).scalars()
        return [self._recording(r) for r in rows]

    async def recording(self, recording_id: int) -> RecordingRecord | None:
        row = await self._s.get(RecordingRow, recording_id)
        return self._recording(row) if row is not None and row.deleted_at is None else None

    async def notes(self, ticket_id: int) -> list[NoteRecord]:
        rows = (
            await self._s.execute(
                select(TicketNoteRow, UserRow.full_name, UserRow.username)
                .outerjoin(UserRow, UserRow.id == TicketNoteRow.user_id)
                .where(TicketNoteRow.ticket_id == ticket_id)
                .order_by(TicketNoteRow.id)
            )
        ).all()
        return [
            NoteRecord(n.id, n.at, n.user_id, _display_name(full, user), n.text) for n, full, user in rows
        ]

    async def earlier_of_caller(
        self,
        numbers: Sequence[str],
        *,
        since: datetime,
        before: datetime,
        exclude_id: int,
        scope: TicketScope,
        limit: int = 20,
    ) -> list[TicketLink]:
        if not numbers:
            return []
        # created_at bounds the scan (it is indexed); caller_number is not, and need not be for 30 days.
        rows = (
            await self._s.execute(
                select(
                    TicketRow.id,
                    TicketRow.ref,
                    TicketRow.created_at,
                    TicketRow.status,
                    TicketRow.facility_code,
                )
                .where(
                    TicketRow.caller_number.in_(list(numbers)),
                    TicketRow.created_at >= since,
                    TicketRow.created_at < before,
                    TicketRow.id != exclude_id,
                    _scope_clause(scope),
                )
                .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
                .limit(limit)
            )
        ).all()
        return [TicketLink(i, ref or "", at, status, code) for i, ref, at, status, code in rows]

    async def user_brief(self, user_id: int) -> UserBrief | None:
        row = await self._s.get(UserRow, user_id)
        if row is None:
            return None
        return UserBrief(
            row.id, row.username, row.full_name, row.role, row.province, row.facility_code, row.active
        )

    async def _update(self, ticket_id: int, now: datetime, **values: Any) -> None:
        await self._s.execute(
            update(TicketRow).where(TicketRow.id == ticket_id).values(updated_at=now, **values)
        )

    async def set_status(
        self,
        ticket_id: int,
        status: str,
        *,
        resolved_at: datetime | None,
        forwarded_to: str,
        outside_jurisdiction: bool,
        now: datetime,
    ) -> None:
        await self._update(
            ticket_id,
            now,
            status=status,
            resolved_at=resolved_at,
            forwarded_to=forwarded_to,
            outside_jurisdiction=outside_jurisdiction,
        )

    async def set_assignee(self, ticket_id: int, user_id: int | None, now: datetime) -> None:
        await self._update(ticket_id, now, assignee_id=user_id)

    async def set_deadline(self, ticket_id: int, deadline: datetime | None, now: datetime) -> None:
        await self._update(ticket_id, now, deadline_at=deadline)

    async def set_result_told(self, ticket_id: int, text: str, now: datetime) -> None:
        await self._update(ticket_id, now, result_told=text)

    async def confirm_category(self, ticket_id: int, category: str, now: datetime) -> None:
        await self._update(ticket_id, now, category_confirmed=category)

    async def add_note(self, ticket_id: int, user_id: int, text: str, now: datetime) -> int:
        note_id = (
            await self._s.execute(
                insert(TicketNoteRow)
                .values(ticket_id=ticket_id, user_id=user_id, at=now, text=text)
                .returning(TicketNoteRow.id)
            )
        ).scalar_one()
        await self._update(ticket_id, now)
        return int(note_id)

    # The period report ---------------------------------------------------------------------------------

    async def report_facts(
        self,
        scope: TicketScope,
        *,
        received_from: datetime,
        until: datetime,
        active_since: datetime,
        facility_code: str | None = None,
    ) -> list[TicketFacts]:
        where: list[ColumnElement[bool]] = [
            _scope_clause(scope),
            TicketRow.created_at < until,
            # A ticket untouched since before the period was settled before it: it counts nowhere.
            or_(TicketRow.created_at >= received_from, TicketRow.updated_at >= active_since),
        ]
        if facility_code is not None:
            where.append(TicketRow.facility_code == facility_code)
        rows = (
            await self._s.execute(
                select(
                    TicketRow.id,
                    TicketRow.created_at,
                    TicketRow.status,
                    TicketRow.resolved_at,
                    TicketRow.outside_jurisdiction,
                    TicketRow.category_confirmed,
                    TicketRow.category_suggested,
                    TicketRow.facility_code,
                ).where(and_(*where))
            )
        ).all()
        events: dict[int, list[tuple[datetime, str]]] = {}
        changes = await self._s.execute(
            select(TicketEventRow.ticket_id, TicketEventRow.at, TicketEventRow.detail)
            .where(
                TicketEventRow.kind == "status_changed",
                TicketEventRow.at < until,
                TicketEventRow.ticket_id.in_(select(TicketRow.id).where(and_(*where))),
            )
            .order_by(TicketEventRow.id)
        )
        for ticket_id, at, detail in changes:
            to = detail.get("to") if isinstance(detail, dict) else None
            if isinstance(to, str):
                events.setdefault(ticket_id, []).append((at, to))
        return [
            TicketFacts(
                received_at=created,
                history=history_from_events(
                    events.get(tid, []), current_status=status, resolved_at=resolved, received_at=created
                ),
                outside_jurisdiction=outside,
                category=confirmed or suggested,
                facility_code=facility,
            )
            for tid, created, status, resolved, outside, confirmed, suggested, facility in rows
        ]

    # The import from the previous system -----------------------------------------------------------------

    async def imported(self, external_refs: Sequence[str]) -> dict[str, ImportedTicket]:
        found: dict[str, ImportedTicket] = {}
        refs = list(dict.fromkeys(external_refs))
        for i in range(0, len(refs), 500):
            rows = (
                await self._s.execute(select(TicketRow).where(TicketRow.external_ref.in_(refs[i : i + 500])))
            ).scalars()
            for r in rows:
                assert r.external_ref is not None
                found[r.external_ref] = ImportedTicket(
                    external_ref=r.external_ref,
                    received_at=r.created_at,
                    facility_code=r.facility_code,
                    category=r.category_confirmed,
                    status=r.status,
                    resolved_at=r.resolved_at,
                    outside_jurisdiction=r.outside_jurisdiction,
                    summary=r.summary,
                    result_told=r.result_told,
                    ticket_id=r.id,
                )
        return found

    async def save_imported(self, ticket: ImportedTicket, ticket_id: int | None, now: datetime) -> int:
        values: dict[str, Any] = {
            "facility_code": ticket.facility_code,
            "province": _province_of(ticket.facility_code),
            "status": ticket.status,
            "category_confirmed": ticket.category,
            "resolved_at": ticket.resolved_at if ticket.status == TicketStatus.RESOLVED.value else None,
            "forwarded_to": "",
            "result_told": ticket.result_told,
            "outside_jurisdiction": ticket.outside_jurisdiction,
            "summary": ticket.summary,
            "created_at": ticket.received_at,
            "updated_at": now,
        }
        if ticket_id is None:
            ticket_id = (
                await self._s.execute(
                    insert(TicketRow)
                    .values(
                        external_ref=ticket.external_ref,
                        priority="normal",
                        needs_callback=False,
                        caller_number="",
                        caller_name="",
                        **values,
                    )
                    .returning(TicketRow.id)
                )
            ).scalar_one()
            ref = ticket_reference(ticket.received_at.astimezone(self._tz), ticket_id)
            await self._s.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(ref=ref))
            await self.add_event(
                ticket_id, "imported", {"by": "import", "external_ref": ticket.external_ref}, now
            )
        else:
            await self._s.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(**values))
            await self._s.execute(
                delete(TicketEventRow).where(
                    TicketEventRow.ticket_id == ticket_id,
                    TicketEventRow.kind == "status_changed",
                    TicketEventRow.detail["by"].as_string() == "import",
                )
            )
        # The history the report reads: received (mới tiếp nhận), then the final status at its instant.
        if ticket.status != TicketStatus.NEW.value:
            at = ticket.resolved_at or ticket.received_at
            await self._s.execute(
                insert(TicketEventRow).values(
                    ticket_id=ticket_id,
                    at=at,
                    kind="status_changed",
                    detail={"by": "import", "from": TicketStatus.NEW.value, "to": ticket.status},
                )
            )
        return int(ticket_id)


class SqlJobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def claim(self, owner: str, now: datetime, lease_s: float) -> Job | None:
        due = or_(
            and_(TranscriptionJobRow.status == JOB_QUEUED, TranscriptionJobRow.run_after <= now),
            # A worker that died mid-job leaves it running with a lease that runs out: take it again.
            and_(TranscriptionJobRow.status == JOB_RUNNING, TranscriptionJobRow.lease_until < now),
        )
        # SKIP LOCKED lets workers on several machines claim side by side on PostgreSQL; SQLite ignores
        # FOR UPDATE and has one writer anyway.
        row = (
            (
                await self._s.execute(
                    select(TranscriptionJobRow)
                    .where(due)
                    .order_by(TranscriptionJobRow.run_after, TranscriptionJobRow.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .first()
        )
        if row is None:
            return None
        row.status = JOB_RUNNING
        row.attempts += 1
        row.lease_owner = owner
        row.lease_until = now + timedelta(seconds=lease_s)
        row.updated_at = now
        await self._s.flush()
        return Job(
            row.id, row.call_id, row.ticket_id, row.recording, row.attempts, row.max_attempts, row.outbound_id
        )

    async def enqueue_callback(
        self,
        outbound_id: int,
        ticket_id: int,
        recording: str,
        *,
        run_after: datetime,
        max_attempts: int,
        now: datetime,
    ) -> None:
        queued = await self._s.execute(
            select(TranscriptionJobRow.id).where(TranscriptionJobRow.outbound_id == outbound_id)
        )
        if queued.first() is not None:  # one job per callback, however often it is closed
            return
        await self._s.execute(
            insert(TranscriptionJobRow).values(
                outbound_id=outbound_id,
                ticket_id=ticket_id,
                recording=recording,
                status=JOB_QUEUED,
                attempts=0,
                max_attempts=max_attempts,
                run_after=run_after,
                last_error="",
                created_at=now,
                updated_at=now,
            )
        )

    async def _set(self, job_id: int, **values: Any) -> None:
        await self._s.execute(
            update(TranscriptionJobRow).where(TranscriptionJobRow.id == job_id).values(**values)
        )

    async def complete(self, job_id: int, now: datetime) -> None:
        await self._set(
            job_id, status=JOB_DONE, lease_owner=None, lease_until=None, last_error="", updated_at=now
        )

    async def retry(self, job_id: int, error: str, run_after: datetime, now: datetime) -> None:
        await self._set(
            job_id,
            status=JOB_QUEUED,
            lease_owner=None,
            lease_until=None,
            last_error=error[:2000],
            run_after=run_after,
            updated_at=now,
        )

    async def fail(self, job_id: int, error: str, now: datetime) -> None:
        await self._set(
            job_id,
            status=JOB_FAILED,
            lease_owner=None,
            lease_until=None,
            last_error=error[:2000],
            updated_at=now,
        )

    async def counts(self) -> dict[str, int]:
        rows = await self._s.execute(
            select(TranscriptionJobRow.status, func.count()).group_by(TranscriptionJobRow.status)
        )
        return {status: int(n) for status, n in rows.all()}

    async def recording_files(self) -> frozenset[str]:
        attached = (await self._s.execute(select(RecordingRow.file_name))).scalars()
        # A routed call names its recording before it has ended: its files are not orphans either.
        named = (
            await self._s.execute(select(CallRow.recording).where(CallRow.recording.is_not(None)))
        ).scalars()
        # A callback's citizen leg (MixMonitor, the same names) belongs to its ticket, not to a new one.
        placed = (
            await self._s.execute(
                select(OutboundCallRow.recording).where(OutboundCallRow.recording.is_not(None))
            )
        ).scalars()
        return frozenset([*attached, *(f"{n}.wav" for n in [*named, *placed] if n)])

    async def requeue(self, ticket_id: int, now: datetime) -> bool:
        result = await self._s.execute(
            update(TranscriptionJobRow)
            .where(TranscriptionJobRow.ticket_id == ticket_id)
            .values(
                status=JOB_QUEUED,
                attempts=0,
                run_after=now,
                lease_owner=None,
                lease_until=None,
                updated_at=now,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def state_for_ticket(self, ticket_id: int) -> tuple[str, int, str] | None:
        row = (
            await self._s.execute(
                select(
                    TranscriptionJobRow.status, TranscriptionJobRow.attempts, TranscriptionJobRow.last_error
                ).where(TranscriptionJobRow.ticket_id == ticket_id, TranscriptionJobRow.call_id.is_not(None))
            )
        ).first()
        return (row[0], int(row[1]), row[2]) if row else None


class SqlTranscriptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def save(self, record: TranscriptRecord, now: datetime) -> None:
        same = (
            TranscriptRow.call_id == record.call_id
            if record.call_id is not None
            else TranscriptRow.outbound_id == record.outbound_id
        )
        await self._s.execute(delete(TranscriptRow).where(same))
        await self._s.execute(
            insert(TranscriptRow).values(
                call_id=record.call_id,
                outbound_id=record.outbound_id,
                ticket_id=record.ticket_id,
                engine=record.engine,
                language=record.language,
                source=record.source,
                turns=record.turns,
                text=record.text,
                text_masked=record.text_masked,
                leg_problems=record.leg_problems,
                created_at=now,
            )
        )

    async def for_ticket(self, ticket_id: int) -> TranscriptRecord | None:
        row = (
            (
                await self._s.execute(
                    select(TranscriptRow).where(
                        TranscriptRow.ticket_id == ticket_id, TranscriptRow.call_id.is_not(None)
                    )
                )
            )
            .scalars()
            .first()
        )
        if row is None or row.removed_at is not None:  # removed at the end of its retention time
            return None
        return _transcript(row)

    async def for_callbacks(self, ticket_id: int) -> list[TranscriptRecord]:
        rows = (
            await self._s.execute(
                select(TranscriptRow)
                .where(
                    TranscriptRow.ticket_id == ticket_id,
                    TranscriptRow.outbound_id.is_not(None),
                    TranscriptRow.removed_at.is_(None),
                )
                .order_by(TranscriptRow.outbound_id)
            )
        ).scalars()
        return [_transcript(r) for r in rows]

    async def ticket_words(self, ticket_id: int) -> list[str]:
        rows = (
            await self._s.execute(
                select(TranscriptRow.turns)
                .where(TranscriptRow.ticket_id == ticket_id, TranscriptRow.removed_at.is_(None))
                # The call's first: NULLs sort first on SQLite, last on PostgreSQL, hence the CASE.
                .order_by(case((TranscriptRow.outbound_id.is_(None), 0), else_=1), TranscriptRow.outbound_id)
            )
        ).scalars()
        return [str(turn.get("text", "")) for turns in rows for turn in turns]


def _transcript(row: TranscriptRow) -> TranscriptRecord:
    return TranscriptRecord(
        row.call_id,
        row.ticket_id,
        row.engine,
        row.language,
        row.source,
        row.turns,
        row.text,
        row.text_masked,
        dict(row.leg_problems),
        row.outbound_id,
    )
