"""Ports for the people who work the tickets: users, web sessions, the audit log.

(Kept apart from ports.py so the people side and the ticket side can grow without stepping on each other.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from callcenter.domain.access import Principal, Role


@dataclass(frozen=True)
class User:
    """A user as everything outside the users service sees them: never with the password hash."""

    id: int
    username: str
    full_name: str
    role: Role
    province: str | None
    facility_code: str | None
    phone: str | None
    active: bool
    created_at: datetime
    updated_at: datetime

    def principal(self) -> Principal:
        return Principal(
            user_id=self.id,
            username=self.username,
            role=self.role,
            province=self.province,
            facility_code=self.facility_code,
        )


@dataclass(frozen=True)
class UserCredentials:
    """A user with their stored hash: only the users service asks for this."""

    user: User
    password_hash: str


@dataclass(frozen=True)
class NewUser:
    username: str
    full_name: str
    password_hash: str
    role: Role
    province: str | None
    facility_code: str | None
    phone: str | None


@dataclass(frozen=True)
class UserChanges:
    """Fields an update sets; every one is given (the service merges them with the stored user)."""

    full_name: str
    role: Role
    province: str | None
    facility_code: str | None
    phone: str | None
    active: bool


class UserRepository(Protocol):
    async def add(self, user: NewUser, now: datetime) -> User:
        """Insert; raises `DuplicateUsername` if the name is taken (the unique index decides)."""
        ...

    async def by_id(self, user_id: int) -> User | None: ...
    async def credentials(self, username: str) -> UserCredentials | None: ...
    async def update(self, user_id: int, changes: UserChanges, now: datetime) -> User: ...
    async def set_password_hash(self, user_id: int, password_hash: str, now: datetime) -> None: ...
    async def all(self) -> list[User]: ...
    async def count_active(self, role: Role) -> int: ...


class DuplicateUsername(Exception):
    """The repository's answer to an insert whose username already exists."""


@dataclass(frozen=True)
class SessionRecord:
    id: int
    user_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


class SessionRepository(Protocol):
    async def add(
        self, token_hash: str, user_id: int, csrf_token: str, now: datetime, expires_at: datetime
    ) -> SessionRecord: ...

    async def resolve(self, token_hash: str) -> tuple[SessionRecord, User] | None:
        """The session of that token with its user, in one query (every signed-in request asks)."""
        ...

    async def touch(self, session_id: int, now: datetime, expires_at: datetime) -> None: ...
    async def delete(self, session_id: int) -> None: ...
    async def delete_for_user(self, user_id: int) -> int: ...
    async def delete_expired(self, now: datetime) -> int: ...


@dataclass(frozen=True)
class NewAuditEntry:
    at: datetime
    user_id: int | None
    username: str
    action: str
    ticket_id: int | None = None
    recording_id: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    remote: str = ""


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    user_id: int | None
    username: str
    action: str
    ticket_id: int | None
    recording_id: int | None
    detail: dict[str, Any]
    remote: str


@dataclass(frozen=True)
class AuditFilter:
    username: str | None = None
    action: str | None = None
    ticket_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None  # paging: entries older than this one
    limit: int = 100


class AuditRepository(Protocol):
    """Append-only audit log: who opened which ticket, listened to which recording."""

    async def add(self, entry: NewAuditEntry) -> None: ...
    async def query(self, where: AuditFilter) -> list[AuditEntry]:
        """Newest first."""
        ...

    async def times(
        self, action: str, since: datetime, *, username: str | None = None, remote: str | None = None
    ) -> list[datetime]:
        """When `action` happened after `since` (strictly: a window is (since, now]) for that username
        and/or that address, oldest first."""
        ...

    async def last_at(self, action: str, username: str) -> datetime | None: ...
