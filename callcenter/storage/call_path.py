"""The call path's store: route_call's and call_ended's writes in hand-written SQL on the driver.

Why not SQLAlchemy here: a statement through the async ORM or Core costs 250-400 µs of CPU on this
path, the same statement on the driver 25-80 µs (bench/agi_throughput.py's profile), and a call makes
about fifteen. The statements below write exactly the rows the models in `storage.models` describe,
encoded as SQLAlchemy encodes them (naive UTC datetimes, JSON as text), so every other reader (the
ticket pages, the reports, the workers) reads them through SQLAlchemy unchanged; a test compares them.

Durability is the UnitOfWork's: on SQLite each unit is a SAVEPOINT in the group-commit transaction
(`GroupCommit`) and commit() returns after the shared COMMIT; on PostgreSQL each unit is its own
transaction on a pooled connection, committed with synchronous_commit as the server has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Self
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from callcenter.domain.call import CallState
from callcenter.domain.routing import Target, TargetTier
from callcenter.domain.satisfaction import RatingStatus
from callcenter.domain.ticket import TicketStatus, ticket_reference
from callcenter.services.ports import CallRecord, NewCall
from callcenter.services.ports_calls import CallEnd, CallPathUnit, NewJob
from callcenter.storage.db import create_engine
from callcenter.storage.repositories import JOB_QUEUED
from callcenter.storage.unit_of_work import GroupCommit

_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime on SQLite

ROUTING_VERSION = "SELECT COALESCE((SELECT version FROM cache_versions WHERE name = 'routing'), 0)"
_CALL = (
    "SELECT c.id, c.uniqueid, c.caller_number, c.caller_name, c.dialled_number, c.facility_code, c.state,"
    " c.started_at, c.ended_at, c.recording, t.id, t.ref, a.tier, a.number, a.ring_timeout_s, a.officer_name"
    " FROM calls c LEFT JOIN tickets t ON t.call_id = c.id LEFT JOIN call_attempts a ON a.call_id = c.id"
)
CALL_BY_ID = _CALL + " WHERE c.id = ? ORDER BY a.idx"
CALL_BY_UNIQUEID = _CALL + " WHERE c.uniqueid = ? ORDER BY a.idx"
OPEN_BEFORE = _CALL + " WHERE c.state IN (?, ?) AND c.started_at < ? ORDER BY c.started_at, c.id, a.idx"
# PostgreSQL: the call row is locked by the unit that reads it, so that the same call's call_ended on
# two nodes (or twice) is applied once: the second waits, then reads the call as ended. SQLite has one
# writer: its units never overlap.
_LOCKED = " FOR UPDATE OF c"
INSERT_CALL = (
    "INSERT INTO calls (id, uniqueid, channel, caller_number, caller_name, dialled_number, facility_code,"
    " state, started_at, routed_at, recording, end_detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')"
)
_PROVINCE = "(SELECT province FROM facilities WHERE code = ?)"
INSERT_TICKET = (
    "INSERT INTO tickets (call_id, facility_code, province, status, priority, needs_callback, caller_number,"
    " caller_name, incident, incident_reasons, forwarded_to, result_told, outside_jurisdiction, summary,"
    f" created_at, updated_at) VALUES (?, ?, {_PROVINCE}, ?, 'normal', ?, ?, ?, ?, '', '', '', ?, '', ?, ?)"
    " RETURNING id"
)
SET_REF = "UPDATE tickets SET ref = ? WHERE id = ?"
SET_CALL_ROUTED = "UPDATE calls SET state = ?, routed_at = ?, recording = ?, facility_code = ? WHERE id = ?"
SET_TICKET_FACILITY = (
    f"UPDATE tickets SET facility_code = ?, province = {_PROVINCE}, updated_at = ? WHERE id = ?"
)
DELETE_ATTEMPTS = "DELETE FROM call_attempts WHERE call_id = ?"
_ATTEMPTS = (
    "INSERT INTO call_attempts (call_id, idx, tier, number, officer_name, ring_timeout_s, result) VALUES "
)
SET_CALL_ENDED = (
    "UPDATE calls SET state = ?, ended_at = ?, answered_index = ?, answered_tier = ?, talk_ms = ?,"
    " answer_wait_ms = ?, duration_s = ?, hangup_cause = ?, end_detail = ? WHERE id = ?"
)
_RECORDINGS = "INSERT INTO recordings (call_id, kind, file_name, created_at) VALUES "
INSERT_JOB = (
    "INSERT INTO transcription_jobs (call_id, ticket_id, recording, status, attempts, max_attempts,"
    " run_after, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, '', ?, ?)"
    " ON CONFLICT (call_id) DO NOTHING"
)
AFTER_CALL = "UPDATE tickets SET needs_callback = ?, priority = ?, updated_at = ? WHERE id = ?"
_EVENTS = "INSERT INTO ticket_events (ticket_id, at, kind, detail) VALUES "
SET_RATING = (
    "UPDATE calls SET rating = ?, rating_status = ?, rated_at = ? WHERE id = ? AND rating_status IS NULL"
    " RETURNING id"
)


def _values(head: str, rows: int, width: int) -> str:
    """A multi-row INSERT: one round trip for the whole chain, or every event of an entry point."""
    one = "(" + ", ".join("?" * width) + ")"
    return head + ", ".join([one] * rows)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime given to the database; pass an aware one")
    return at.astimezone(UTC)


class _Statements:
    """The use-case statements; a subclass says how to run one and how datetimes travel."""

    _lock = ""  # appended to the reads of a call: what makes the unit own it until it commits

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz

    async def _rows(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        """Run a statement whose rows the use-case needs."""
        raise NotImplementedError

    async def _write(self, sql: str, params: Sequence[Any]) -> None:
        """Run a write whose result nobody reads."""
        raise NotImplementedError

    def _enc(self, at: datetime | None) -> Any:
        raise NotImplementedError

    def _dec(self, raw: Any) -> datetime | None:
        raise NotImplementedError

    async def routing_version(self) -> int:
        rows = await self._rows(ROUTING_VERSION, ())
        return int(rows[0][0])

    async def call_by_id(self, call_id: str) -> CallRecord | None:
        found = self._records(await self._rows(CALL_BY_ID + self._lock, (call_id,)))
        return found[0] if found else None

    async def call_by_uniqueid(self, uniqueid: str) -> CallRecord | None:
        found = self._records(await self._rows(CALL_BY_UNIQUEID + self._lock, (uniqueid,)))
        return found[0] if found else None

    async def open_started_before(self, before: datetime) -> list[CallRecord]:
        live = (CallState.RECEIVED.value, CallState.ROUTED.value)
        return self._records(await self._rows(OPEN_BEFORE + self._lock, (*live, self._enc(before))))

    def _records(self, rows: Iterable[Sequence[Any]]) -> list[CallRecord]:
        """Rows of the call/ticket/attempts join, one per attempt (or one with NULLs), in call order."""
        calls: dict[str, tuple[Sequence[Any], list[Target]]] = {}
        for row in rows:
            _, targets = calls.setdefault(row[0], (row, []))
            if row[12] is not None:
                targets.append(Target(TargetTier(row[12]), row[13], int(row[14]), row[15]))
        out = []
        for row, targets in calls.values():
            started = self._dec(row[7])
            assert started is not None
            out.append(
                CallRecord(
                    id=row[0],
                    uniqueid=row[1],
                    caller_number=row[2],
                    caller_name=row[3],
                    dialled_number=row[4],
                    facility_code=row[5],
                    state=CallState(row[6]),
                    started_at=started,
                    ended_at=self._dec(row[8]),
                    recording=row[9],
                    targets=tuple(targets),
                    ticket_id=row[10],
                    ticket_ref=row[11],
                )
            )
        return out

    async def open_call(self, call: NewCall, targets: Sequence[Target], now: datetime) -> tuple[int, str]:
        state = CallState.ROUTED if call.routed_at is not None else CallState.RECEIVED
        await self._write(
            INSERT_CALL,
            (
                call.id,
                call.uniqueid,
                call.channel,
                call.caller_number,
                call.caller_name,
                call.dialled_number,
                call.facility_code,
                state.value,
                self._enc(call.started_at),
                self._enc(call.routed_at),
                call.recording,
            ),
        )
        created = self._enc(now)
        rows = await self._rows(
            INSERT_TICKET,
            (
                call.id,
                call.facility_code,
                call.facility_code,
                TicketStatus.NEW.value,
                False,
                call.caller_number,
                call.caller_name,
                False,
                False,
                created,
                created,
            ),
        )
        ticket_id = int(rows[0][0])
        # The reference is read out on the phone; its sequence is the row id, so it is unique.
        ref = ticket_reference(now.astimezone(self._tz), ticket_id)
        await self._write(SET_REF, (ref, ticket_id))
        if call.routed_at is not None:
            await self._write_chain(call.id, [(i, t, None) for i, t in enumerate(targets, 1)], fresh=True)
        return ticket_id, ref

    async def set_routed(
        self,
        call_id: str,
        ticket_id: int,
        facility_code: str | None,
        targets: Sequence[Target],
        recording: str,
        now: datetime,
    ) -> None:
        # route_call may run twice for one channel (a dialplan loop): the last chain is the one dialled.
        await self._write_chain(call_id, [(i, t, None) for i, t in enumerate(targets, 1)])
        at = self._enc(now)
        await self._write(SET_CALL_ROUTED, (CallState.ROUTED.value, at, recording, facility_code, call_id))
        await self._write(SET_TICKET_FACILITY, (facility_code, facility_code, at, ticket_id))

    async def set_ended(self, call_id: str, end: CallEnd, now: datetime) -> None:
        # The outcome carries the whole chain, with what each attempt gave.
        await self._write_chain(call_id, [(a.index, a.target, a.result.value) for a in end.attempts])
        answered_tier = next((a.tier.value for a in end.attempts if a.index == end.answered_index), None)
        await self._write(
            SET_CALL_ENDED,
            (
                end.state.value,
                self._enc(now),
                end.answered_index,
                answered_tier,
                end.talk_ms,
                end.answer_wait_ms,
                end.duration_s,
                end.hangup_cause,
                end.detail,
                call_id,
            ),
        )

    async def _write_chain(
        self, call_id: str, chain: Sequence[tuple[int, Target, str | None]], *, fresh: bool = False
    ) -> None:
        """Replace the call's attempts (index, target, result or None): one DELETE, one INSERT."""
        if not fresh:
            await self._write(DELETE_ATTEMPTS, (call_id,))
        if chain:
            params: list[Any] = []
            for i, t, result in chain:
                params += (call_id, i, t.tier.value, t.number, t.name, t.ring_timeout_s, result)
            await self._write(_values(_ATTEMPTS, len(chain), 7), params)

    async def add_recordings(self, call_id: str, files: Sequence[tuple[str, str]], now: datetime) -> None:
        # A call ends once (the service checks its state first); the unique (call_id, kind) backs that up.
        if files:
            at = self._enc(now)
            params: list[Any] = []
            for kind, name in files:
                params += (call_id, kind, name, at)
            await self._write(_values(_RECORDINGS, len(files), 4), params)

    async def enqueue_job(self, job: NewJob, now: datetime) -> None:
        at = self._enc(now)
        await self._write(
            INSERT_JOB,
            (
                job.call_id,
                job.ticket_id,
                job.recording,
                JOB_QUEUED,
                job.max_attempts,
                self._enc(job.run_after),
                at,
                at,
            ),
        )

    async def after_call(self, ticket_id: int, *, needs_callback: bool, priority: str, now: datetime) -> None:
        await self._write(AFTER_CALL, (needs_callback, priority, self._enc(now), ticket_id))

    async def add_events(
        self, ticket_id: int, events: Sequence[tuple[str, dict[str, Any]]], now: datetime
    ) -> None:
        if events:
            at = self._enc(now)
            params: list[Any] = []
            for kind, detail in events:
                params += (ticket_id, at, kind, json.dumps(detail))  # as SQLAlchemy's JSON type stores it
            await self._write(_values(_EVENTS, len(events), 4), params)

    async def set_rating(self, call_id: str, rating: int | None, status: RatingStatus, now: datetime) -> bool:
        # Guarded: a second rate_call (or call_ended replaying the channel's rating) changes nothing.
        return bool(await self._rows(SET_RATING, (rating, status.value, self._enc(now), call_id)))


class SqliteCallPath(_Statements):
    """A SAVEPOINT in the group-commit transaction, on the group's own connection.

    Its statements run right here on the event loop's thread, not on aiosqlite's: each of them takes
    tens of microseconds inside our own write transaction (BEGIN IMMEDIATE already holds the lock, so
    none waits for another writer), while a hop to aiosqlite's thread and back costs more than the
    statement and, the group's lock being held meanwhile, stalls every other call's unit
    (bench/agi_throughput.py: 430 -> 600 sessions/s at 100 callers). What can wait — BEGIN IMMEDIATE
    on another process's lock, the COMMIT's fsync — stays on aiosqlite's thread (`GroupCommit`).
    """

    def __init__(self, group: GroupCommit, tz: ZoneInfo) -> None:
        super().__init__(tz)
        self._group = group
        self._db: sqlite3.Connection | None = None
        self._holding = False
        self._open = False

    def _enc(self, at: datetime | None) -> Any:
        return None if at is None else _utc(at).strftime(_SQLITE_DATETIME)

    def _dec(self, raw: Any) -> datetime | None:
        return None if raw is None else datetime.fromisoformat(raw).replace(tzinfo=UTC)

    def _run(self, sql: str, params: Sequence[Any]) -> list[Any]:
        assert self._db is not None
        return self._db.execute(sql, params).fetchall()

    async def _rows(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        return self._run(sql, params)

    async def _write(self, sql: str, params: Sequence[Any]) -> None:
        self._run(sql, params)

    async def __aenter__(self) -> Self:
        await self._group.acquire()
        self._holding = True
        try:
            self._db = await self._group.sqlite3_connection()
            self._run("SAVEPOINT call_path", ())
            self._open = True
        except BaseException:
            self._release()
            raise
        return self

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            self._group.lock.release()

    async def commit(self) -> None:
        self._run("RELEASE call_path", ())
        self._open = False
        durable = self._group.durable()
        # Let the next unit (and the flusher) run while this one waits for the shared COMMIT.
        self._release()
        await durable

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self._open and self._holding:
                self._open = False
                with contextlib.suppress(sqlite3.Error):
                    self._run("ROLLBACK TO call_path", ())
                    self._run("RELEASE call_path", ())
                # Shielded: a cancelled handler must still end an idle transaction.
                await asyncio.shield(self._group.end_if_idle())
        finally:
            self._release()


class PostgresCallPath(_Statements):
    """Its own transaction on a pooled connection, run on asyncpg directly.

    Every statement is a round trip to the server (~155 µs for SELECT 1 on these machines), so the
    writes whose result nobody reads wait in `_pending` and go as ONE statement of data-modifying
    CTEs (`WITH w1 AS (INSERT …), w2 AS (UPDATE …) INSERT …`) before the next read or the commit:
    call_ended's six writes cost one round trip. Sub-statements of one statement share a snapshot and
    may not touch a row twice, so a write to a table that a pending UPDATE or DELETE touches (or an
    UPDATE/DELETE of a table a pending write touches) sends the pending ones first.
    """

    _lock = _LOCKED

    def __init__(self, engine: AsyncEngine, tz: ZoneInfo, numbered: dict[str, str]) -> None:
        super().__init__(tz)
        self._engine = engine
        self._numbered = numbered
        self._sa: AsyncConnection | None = None
        self._raw: Any = None  # asyncpg.Connection (asyncpg ships no type hints)
        self._tx: Any = None
        self._pending: list[tuple[str, Sequence[Any]]] = []

    def _enc(self, at: datetime | None) -> Any:
        return None if at is None else _utc(at).replace(tzinfo=None)

    def _dec(self, raw: Any) -> datetime | None:
        return None if raw is None else raw.replace(tzinfo=UTC)

    async def _fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        numbered = self._numbered.get(sql)
        if numbered is None:
            numbered = self._numbered[sql] = _dollar_params(sql)
        rows: Sequence[Sequence[Any]] = await self._raw.fetch(numbered, *params)
        return rows

    async def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            await self._fetch(*_one_statement(pending))

    async def _rows(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        await self._flush()
        return await self._fetch(sql, params)

    async def _write(self, sql: str, params: Sequence[Any]) -> None:
        if any(_clash(sql, earlier) for earlier, _ in self._pending):
            await self._flush()
        self._pending.append((sql, params))

    async def __aenter__(self) -> Self:
        for attempt in (1, 2):
            self._sa = await self._engine.connect()
            try:
                # SQLAlchemy's adapter never began a transaction on it, so giving it back to the pool
                # (its reset is a rollback of the adapter's own transaction) touches nothing of ours.
                self._raw = (await self._sa.get_raw_connection()).driver_connection
                if self._raw.is_closed() and attempt == 1:
                    # The pool does not ping (a round trip per unit): a connection the server closed
                    # (a restart) is known closed here already; drop it and take another.
                    await self._sa.invalidate()
                    await self._sa.close()
                    continue
                self._tx = self._raw.transaction()
                await self._tx.start()
            except BaseException:
                self._tx = None
                await asyncio.shield(self._sa.close())
                raise
            break
        return self

    async def commit(self) -> None:
        await self._flush()
        tx, self._tx = self._tx, None
        await tx.commit()

    async def __aexit__(self, *exc: object) -> None:
        self._pending = []
        try:
            if self._tx is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._tx.rollback())
                self._tx = None
        finally:
            if self._sa is not None:
                await asyncio.shield(self._sa.close())
                self._sa = None


def _target(sql: str) -> tuple[str, str]:
    """(verb, table) of one of the statements above: INSERT INTO t / UPDATE t / DELETE FROM t."""
    words = sql.split(maxsplit=3)
    verb = words[0].upper()
    return verb, words[1] if verb == "UPDATE" else words[2]


def _clash(sql: str, earlier: str) -> bool:
    verb, table = _target(sql)
    earlier_verb, earlier_table = _target(earlier)
    return table == earlier_table and not verb == earlier_verb == "INSERT"


def _one_statement(writes: Sequence[tuple[str, Sequence[Any]]]) -> tuple[str, list[Any]]:
    """Writes as one statement: all but the last as data-modifying CTEs (each runs exactly once, to
    completion, whether or not anything reads it), the last as the statement itself."""
    *first, (last_sql, last_params) = writes
    params: list[Any] = []
    ctes = []
    for n, (sql, p) in enumerate(first, 1):
        ctes.append(f"w{n} AS ({sql})")
        params += p
    params += last_params
    return (f"WITH {', '.join(ctes)} {last_sql}" if ctes else last_sql), params


def _dollar_params(sql: str) -> str:
    """`?` placeholders as PostgreSQL's $1, $2… (the statements above hold no `?` inside literals)."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))


class SqlCallPathFactory:
    """On PostgreSQL the call path has its own pool, without the ping per checkout that the main
    engine's pool_pre_ping costs (BEGIN, a query, ROLLBACK: three round trips per unit)."""

    def __init__(
        self, engine: AsyncEngine, tz_name: str, group: GroupCommit | None, *, pool_size: int = 10
    ) -> None:
        self._tz = ZoneInfo(tz_name)
        self._group = group
        self._numbered: dict[str, str] = {}
        self._own: AsyncEngine | None = None
        if group is None:
            self._own = create_engine(
                engine.url.render_as_string(hide_password=False), pool_size=pool_size, pre_ping=False
            )
        self._engine = self._own or engine

    async def close(self) -> None:
        if self._own is not None:
            await self._own.dispose()

    def __call__(self) -> CallPathUnit:
        if self._group is not None:
            return SqliteCallPath(self._group, self._tz)
        return PostgresCallPath(self._engine, self._tz, self._numbered)
