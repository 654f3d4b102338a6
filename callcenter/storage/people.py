"""Repositories for users, web sessions and the audit log (see services/ports_people.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.domain.access import Role
from callcenter.services.ports_people import (
    AuditEntry,
    AuditFilter,
    DuplicateUsername,
    NewAuditEntry,
    NewUser,
    SessionRecord,
    User,
    UserChanges,
    UserCredentials,
)
from callcenter.storage.models import AuditRow, UserRow, WebSessionRow


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        full_name=row.full_name,
        role=Role(row.role),
        province=row.province,
        facility_code=row.facility_code,
        phone=row.phone,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, user: NewUser, now: datetime) -> User:
        row = UserRow(
            username=user.username,
            full_name=user.full_name,
            password_hash=user.password_hash,
            role=user.role.value,
            province=user.province,
            facility_code=user.facility_code,
            phone=user.phone,
            active=True,
            created_at=now,
            updated_at=now,
        )
        # A savepoint, so a taken name leaves the unit of work usable (and, on SQLite, the shared
        # group-commit transaction untouched).
        try:
            async with self._s.begin_nested():
                self._s.add(row)
                await self._s.flush()
        except IntegrityError as exc:
            raise DuplicateUsername(user.username) from exc
        return _user(row)

    async def _row(self, user_id: int) -> UserRow | None:
        return await self._s.get(UserRow, user_id)

    async def by_id(self, user_id: int) -> User | None:
        row = await self._row(user_id)
        return _user(row) if row else None

    async def credentials(self, username: str) -> UserCredentials | None:
        row = (await self._s.execute(select(UserRow).where(UserRow.username == username))).scalars().first()
        return UserCredentials(_user(row), row.password_hash) if row else None

    async def update(self, user_id: int, changes: UserChanges, now: datetime) -> User:
        row = await self._row(user_id)
        if row is None:
            raise LookupError(user_id)
        row.full_name = changes.full_name
        row.role = changes.role.value
        row.province = changes.province
        row.facility_code = changes.facility_code
        row.phone = changes.phone
        row.active = changes.active
        row.updated_at = now
        await self._s.flush()
        return _user(row)

    async def set_password_hash(self, user_id: int, password_hash: str, now: datetime) -> None:
        await self._s.execute(
            update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash, updated_at=now)
        )

    async def all(self) -> list[User]:
        rows = (await self._s.execute(select(UserRow).order_by(UserRow.username))).scalars()
        return [_user(r) for r in rows]

    async def count_active(self, role: Role) -> int:
        stmt = select(func.count()).select_from(UserRow).where(UserRow.role == role.value, UserRow.active)
        return int((await self._s.execute(stmt)).scalar_one())


def _session(row: WebSessionRow) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        user_id=row.user_id,
        csrf_token=row.csrf_token,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
    )


class SqlSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self, token_hash: str, user_id: int, csrf_token: str, now: datetime, expires_at: datetime
    ) -> SessionRecord:
        row = WebSessionRow(
            token_hash=token_hash,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
        self._s.add(row)
        await self._s.flush()
        return _session(row)

    async def resolve(self, token_hash: str) -> tuple[SessionRecord, User] | None:
        stmt = (
            select(WebSessionRow, UserRow)
            .join(UserRow, UserRow.id == WebSessionRow.user_id)
            .where(WebSessionRow.token_hash == token_hash)
        )
        found = (await self._s.execute(stmt)).first()
        if found is None:
            return None
        return _session(found[0]), _user(found[1])

    async def touch(self, session_id: int, now: datetime, expires_at: datetime) -> None:
        await self._s.execute(
            update(WebSessionRow)
            .where(WebSessionRow.id == session_id)
            .values(last_seen_at=now, expires_at=expires_at)
        )

    async def delete(self, session_id: int) -> None:
        await self._s.execute(delete(WebSessionRow).where(WebSessionRow.id == session_id))

    async def delete_for_user(self, user_id: int) -> int:
        result = await self._s.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id))
        return int(getattr(result, "rowcount", 0) or 0)

    async def delete_expired(self, now: datetime) -> int:
        result = await self._s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
        return int(getattr(result, "rowcount", 0) or 0)


def _audit(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        user_id=row.user_id,
        username=row.username,
        action=row.action,
        ticket_id=row.ticket_id,
        recording_id=row.recording_id,
        detail=dict(row.detail or {}),
        remote=row.remote,
    )


class SqlAuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, entry: NewAuditEntry) -> None:
        self._s.add(
            AuditRow(
                at=entry.at,
                user_id=entry.user_id,
                username=entry.username[:64],
                action=entry.action,
                ticket_id=entry.ticket_id,
                recording_id=entry.recording_id,
                detail=dict(entry.detail),
                remote=entry.remote[:64],
            )
        )
        await self._s.flush()

    async def query(self, where: AuditFilter) -> list[AuditEntry]:
        stmt = select(AuditRow)
        if where.username is not None:
            stmt = stmt.where(AuditRow.username == where.username)
        if where.action is not None:
            stmt = stmt.where(AuditRow.action == where.action)
        if where.ticket_id is not None:
            stmt = stmt.where(AuditRow.ticket_id == where.ticket_id)
        if where.since is not None:
            stmt = stmt.where(AuditRow.at >= where.since)
        if where.until is not None:
            stmt = stmt.where(AuditRow.at < where.until)
        if where.before_id is not None:
            stmt = stmt.where(AuditRow.id < where.before_id)
        # id, not `at`: entries written in the same instant keep their order, and paging is exact.
        stmt = stmt.order_by(AuditRow.id.desc()).limit(where.limit)
        return [_audit(r) for r in (await self._s.execute(stmt)).scalars()]

    async def times(
        self, action: str, since: datetime, *, username: str | None = None, remote: str | None = None
    ) -> list[datetime]:
        stmt = select(AuditRow.at).where(AuditRow.action == action, AuditRow.at > since)
        if username is not None:
            stmt = stmt.where(AuditRow.username == username)
        if remote is not None:
            stmt = stmt.where(AuditRow.remote == remote)
        return list((await self._s.execute(stmt.order_by(AuditRow.at))).scalars())

    async def last_at(self, action: str, username: str) -> datetime | None:
        stmt = (
            select(AuditRow.at)
            .where(AuditRow.action == action, AuditRow.username == username)
            .order_by(AuditRow.at.desc())
            .limit(1)
        )
        return (await self._s.execute(stmt)).scalars().first()
