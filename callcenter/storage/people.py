"""Repositories for users, web sessions and the audit log (see services/ports_people.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session


class SqlSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session


class SqlAuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session
