"""The services' UnitOfWork over one SQLAlchemy session."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.storage.repositories import (
    SqlCallRepository,
    SqlFacilityRepository,
    SqlRosterRepository,
    SqlTicketRepository,
)


class SqlUnitOfWork:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], tz_name: str, lock: asyncio.Lock | None
    ) -> None:
        self._sessions = sessions
        self._tz_name = tz_name
        self._lock = lock
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        if self._lock is not None:
            await self._lock.acquire()
        self._session = self._sessions()
        self.facilities = SqlFacilityRepository(self._session)
        self.roster = SqlRosterRepository(self._session)
        self.calls = SqlCallRepository(self._session)
        self.tickets = SqlTicketRepository(self._session, self._tz_name)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._session is not None
        try:
            # Shielded: a cancelled handler must still give its connection (and SQLite's lock) back.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._session.rollback())
            await asyncio.shield(self._session.close())
        finally:
            self._session = None
            if self._lock is not None:
                self._lock.release()

    async def commit(self) -> None:
        assert self._session is not None
        await self._session.commit()


class SqlUnitOfWorkFactory:
    """`serialize=True` (SQLite): one transaction at a time in this process.

    SQLite has one writer. Left to itself, every waiting connection sleeps in SQLite's busy handler in
    steps of up to 100 ms; queuing on an asyncio lock instead hands the database over the moment it is
    free (measured in bench/agi_throughput.py). Other processes (the CLI) still wait on busy_timeout.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], tz_name: str, *, serialize: bool = False
    ) -> None:
        self._sessions = sessions
        self._tz_name = tz_name
        self._lock = asyncio.Lock() if serialize else None

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, self._tz_name, self._lock)
