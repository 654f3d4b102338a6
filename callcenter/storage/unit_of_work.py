"""The services' UnitOfWork over SQLAlchemy sessions, with group commit on SQLite.

`commit()` returns only when the unit's writes are durable: that promise is what lets route_call tell
Asterisk about a call. On PostgreSQL each unit is its own transaction (the server groups WAL flushes
itself). On SQLite, where a durable commit is an fsync (~4 ms here) and there is one writer, units run
one at a time on one connection inside a shared transaction, each in its own SAVEPOINT, and one COMMIT
makes every unit finished since the last one durable together (bench/agi_throughput.py measures it).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from typing import Self

import aiosqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from callcenter.storage.outbound import SqlOutboundRepository
from callcenter.storage.people import SqlAuditRepository, SqlSessionRepository, SqlUserRepository
from callcenter.storage.repositories import (
    SqlCallRepository,
    SqlFacilityRepository,
    SqlJobRepository,
    SqlRosterRepository,
    SqlTicketRepository,
    SqlTranscriptRepository,
)
from callcenter.storage.retention import SqlRetentionRepository


class GroupCommit:
    """One SQLite writer connection shared by the units of work of this process."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.lock = asyncio.Lock()
        self._conn: AsyncConnection | None = None
        self._waiters: list[asyncio.Future[None]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._wanting = 0  # units waiting for `lock`
        self._idle_end: asyncio.Task[None] | None = None

    async def acquire(self) -> None:
        """Take `lock` for a unit (the flusher sees how many units wait for it)."""
        self._wanting += 1
        try:
            await self.lock.acquire()
        except BaseException:
            self._wanting -= 1
            if not self._wanting:
                # The flusher may have kept a write transaction open for this unit, which gave up
                # waiting (cancelled): end it, or other processes would wait for the lock.
                self._idle_end = asyncio.create_task(self._end_when_idle())
            raise
        self._wanting -= 1

    async def _end_when_idle(self) -> None:
        async with self.lock:
            await self.end_if_idle()

    async def session(self) -> AsyncSession:
        """A session inside a SAVEPOINT of the shared transaction; the caller holds `lock`."""
        if self._conn is None:
            self._conn = await self._engine.connect()
        if not self._conn.in_transaction():
            await self._conn.begin()
        return AsyncSession(bind=self._conn, join_transaction_mode="create_savepoint", expire_on_commit=False)

    async def sqlite3_connection(self) -> sqlite3.Connection:
        """The shared transaction's own sqlite3 connection, for the call path's SAVEPOINTs run on the
        event loop's thread (`storage.call_path`; the engine opens it with check_same_thread=False);
        the caller holds `lock`."""
        if self._conn is None:
            self._conn = await self._engine.connect()
        if not self._conn.in_transaction():
            await self._conn.begin()
        driver = (await self._conn.get_raw_connection()).driver_connection
        assert isinstance(driver, aiosqlite.Connection)
        # aiosqlite keeps the sqlite3 connection private; SQLAlchemy's adapter reaches it the same way.
        db: sqlite3.Connection = driver._conn
        return db

    def durable(self) -> asyncio.Future[None]:
        """A future set when the shared transaction holding this unit's released savepoint is committed."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return waiter

    async def _flush(self) -> None:
        # Queued behind the units already waiting for the lock: they join this COMMIT.
        async with self.lock:
            waiters, self._waiters = self._waiters, []
            if not waiters:
                return
            begun = True
            try:
                assert self._conn is not None
                if self._wanting:
                    # Units queue for the lock: COMMIT and BEGIN IMMEDIATE again in one hop, so the
                    # next batch finds its write transaction open (SQLAlchemy's view, one long
                    # transaction, stays true as long as BEGIN succeeds).
                    begun = await self._commit_and_begin()
                else:
                    await self._conn.commit()
            except Exception as exc:  # every unit of the batch is told; none is reported durable
                await self._discard()
                for w in waiters:
                    if not w.done():
                        w.set_exception(exc)
            else:
                for w in waiters:
                    if not w.done():
                        w.set_result(None)
                if not begun:
                    # Committed, but another process holds the write lock: this connection is out
                    # of its transaction behind SQLAlchemy's back; the next unit opens a fresh one.
                    await self._discard()

    async def _commit_and_begin(self) -> bool:
        """COMMIT (raising if it fails), then BEGIN IMMEDIATE; False when only the BEGIN failed."""
        assert self._conn is not None
        driver = (await self._conn.get_raw_connection()).driver_connection
        assert isinstance(driver, aiosqlite.Connection)
        begun: bool = await driver._execute(_commit_and_begin, driver._conn)  # type: ignore[no-untyped-call]
        return begun

    async def end_if_idle(self) -> None:
        """End the shared transaction when no finished unit waits for its COMMIT; the caller holds `lock`.

        A unit that leaves without committing (every read) would otherwise keep the transaction, and
        with it BEGIN IMMEDIATE's write lock, open until this process next writes: another process
        (`callcenter users add`, a worker) would wait out busy_timeout and fail with "database is
        locked". With no waiter, the transaction holds only rolled-back savepoints: its COMMIT writes
        nothing (no fsync)."""
        if self._waiters or self._conn is None or not self._conn.in_transaction():
            return
        try:
            await self._conn.commit()
        except Exception:
            await self._discard()

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def analyze(self) -> None:
        """ANALYZE on THIS connection: SQLite reads planner statistics when a connection loads the
        schema, so statistics gathered on another connection would never reach the long-lived writer."""
        async with self.lock:
            if self._conn is None:
                self._conn = await self._engine.connect()
            if self._conn.in_transaction():
                await self._conn.commit()
            await self._conn.exec_driver_sql("ANALYZE")
            await self._conn.commit()

    async def close(self) -> None:
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._flusher), 5)
        async with self.lock:
            await self._discard()


def _commit_and_begin(db: sqlite3.Connection) -> bool:
    """On aiosqlite's thread (the BEGIN may wait out busy_timeout for another process's lock)."""
    db.execute("COMMIT")
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.Error:
        return False
    return True


class SqlUnitOfWork:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], tz_name: str, group: GroupCommit | None
    ) -> None:
        self._sessions = sessions
        self._tz_name = tz_name
        self._group = group
        self._session: AsyncSession | None = None
        self._holding = False

    async def __aenter__(self) -> Self:
        if self._group is not None:
            await self._group.acquire()
            self._holding = True
            try:
                self._session = await self._group.session()
            except BaseException:
                self._release()
                raise
        else:
            self._session = self._sessions()
        self.facilities = SqlFacilityRepository(self._session)
        self.roster = SqlRosterRepository(self._session)
        self.calls = SqlCallRepository(self._session)
        self.tickets = SqlTicketRepository(self._session, self._tz_name)
        self.jobs = SqlJobRepository(self._session)
        self.retention = SqlRetentionRepository(self._session)
        self.transcripts = SqlTranscriptRepository(self._session)
        self.users = SqlUserRepository(self._session)
        self.sessions = SqlSessionRepository(self._session)
        self.audit = SqlAuditRepository(self._session)
        self.outbound = SqlOutboundRepository(self._session)
        return self

    def _release(self) -> None:
        if self._holding and self._group is not None:
            self._holding = False
            self._group.lock.release()

    async def __aexit__(self, *exc: object) -> None:
        session, self._session = self._session, None
        try:
            if session is not None:
                # Shielded: a cancelled handler must still give back its savepoint or connection.
                with contextlib.suppress(Exception):
                    await asyncio.shield(session.rollback())
                await asyncio.shield(session.close())
                if self._group is not None and self._holding:
                    await asyncio.shield(self._group.end_if_idle())
        finally:
            self._release()

    async def commit(self) -> None:
        assert self._session is not None
        await self._session.commit()
        if self._group is None:
            return
        durable = self._group.durable()
        # Let the next unit (and the flusher) run while this one waits for the shared COMMIT.
        await self._session.close()
        self._session = None
        self._release()
        await durable


class SqlUnitOfWorkFactory:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tz_name: str,
        *,
        group_commit_engine: AsyncEngine | None = None,
    ) -> None:
        self._sessions = sessions
        self._tz_name = tz_name
        self._group = GroupCommit(group_commit_engine) if group_commit_engine is not None else None

    @property
    def group(self) -> GroupCommit | None:
        """The SQLite writer the call path shares (None on PostgreSQL)."""
        return self._group

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, self._tz_name, self._group)

    async def close(self) -> None:
        if self._group is not None:
            await self._group.close()

    async def refresh_statistics(self) -> None:
        """Planner statistics (SQLite plans ticket lists badly without them: it sorts 100,000 rows
        instead of reading an index in order). PostgreSQL's autovacuum keeps its own."""
        if self._group is not None:
            await self._group.analyze()
