"""The services' UnitOfWork over one SQLAlchemy session."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.storage.repositories import (
    SqlCallRepository,
    SqlFacilityRepository,
    SqlRosterRepository,
    SqlTicketRepository,
)


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], tz_name: str) -> None:
        self._sessions = sessions
        self._tz_name = tz_name
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self.facilities = SqlFacilityRepository(self._session)
        self.roster = SqlRosterRepository(self._session)
        self.calls = SqlCallRepository(self._session)
        self.tickets = SqlTicketRepository(self._session, self._tz_name)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._session is not None
        try:
            await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    async def commit(self) -> None:
        assert self._session is not None
        await self._session.commit()


class SqlUnitOfWorkFactory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], tz_name: str) -> None:
        self._sessions = sessions
        self._tz_name = tz_name

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, self._tz_name)
