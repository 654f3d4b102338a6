"""Signing in and out: server-side sessions, and a sign-in rate limit that survives restarts.

The browser holds a random 32-byte token; the database holds only its sha256, so a copy of the
database (a backup, a stolen disk) gives nobody a way in. Each session has its own CSRF token.

Failed sign-ins are counted from the audit log (`login.failed`), per username and per client address,
over a sliding window. Keeping them there rather than in memory means a restart (or a second process on
PostgreSQL) does not hand an attacker a fresh allowance, and the same rows are the trail auditors read.
Two racing attempts may both slip under the limit; one extra guess in a window does not matter.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from callcenter.domain.access import Principal
from callcenter.services.audit import AuditAction, write_audit
from callcenter.services.errors import BadCredentials, RateLimited
from callcenter.services.ports import UnitOfWorkFactory
from callcenter.services.ports_people import User
from callcenter.services.users import USERNAME_RE, UserService, failure_key, normalise_username

log = structlog.get_logger(__name__)
_MAX_TOKEN_LEN = 128  # ours are 43 characters; anything far longer is not worth hashing


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=60)
    absolute: timedelta = timedelta(hours=12)  # a long duty shift, then sign in again
    # last_seen_at is written at most this often: each write is a commit (an fsync on SQLite, shared with
    # the call path), and idle expiry a minute early costs nobody anything.
    touch_every: timedelta = timedelta(seconds=60)
    max_failures_per_user: int = 5
    max_failures_per_address: int = 20  # an office behind one NAT address has many people
    failure_window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class SignedIn:
    token: str  # for the cookie; never stored
    csrf_token: str
    user: User
    expires_at: datetime


@dataclass(frozen=True)
class ActiveSession:
    session_id: int
    user: User
    csrf_token: str
    expires_at: datetime

    @property
    def principal(self) -> Principal:
        return self.user.principal()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class SessionService:
    def __init__(
        self, uow: UnitOfWorkFactory, users: UserService, policy: SessionPolicy | None = None
    ) -> None:
        self._uow = uow
        self._users = users
        self.policy = policy or SessionPolicy()

    async def login(self, username: str, password: str, remote: str, now: datetime) -> SignedIn:
        """A new session, or `RateLimited` (checked before the password) or `BadCredentials`."""
        p = self.policy
        name = normalise_username(username)
        window_start = now - p.failure_window
        async with self._uow() as uow:
            creds = await uow.users.credentials(name) if USERNAME_RE.match(name) else None
            key = failure_key(name, known=creds is not None)
            # A successful sign-in forgives that name's earlier failures (someone who mistyped twice);
            # the address count is not forgiven, or one valid account would reset it for every guess.
            last_ok = await uow.audit.last_at(AuditAction.LOGIN_OK, key) if creds else None
            since = max(window_start, last_ok) if last_ok else window_start
            by_user = await uow.audit.times(AuditAction.LOGIN_FAILED, since, username=key)
            by_addr = await uow.audit.times(AuditAction.LOGIN_FAILED, window_start, remote=remote)
        try:
            self._check_limit(by_user, p.max_failures_per_user, now)
            self._check_limit(by_addr, p.max_failures_per_address, now)
        except RateLimited:
            # Logged, not audited: a refused attempt checks no password, and writing a row for each one
            # would let a flood of them grow the audit log (and the SQLite writer's queue) without bound.
            log.warning("login.rate_limited", username_key=key, remote=remote)
            raise

        user = await self._users.verify(creds, password, now)

        async with self._uow() as uow:
            if user is None:
                reason = "inactive" if creds is not None and not creds.user.active else "bad_credentials"
                await write_audit(
                    uow,
                    at=now,
                    action=AuditAction.LOGIN_FAILED,
                    username=key,
                    detail={"reason": reason},
                    remote=remote,
                )
                await uow.commit()
                raise BadCredentials("Tên đăng nhập hoặc mật khẩu không đúng / wrong username or password")
            await uow.sessions.delete_expired(now)  # housekeeping, where a write happens anyway
            token = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            expires_at = now + min(p.idle, p.absolute)
            await uow.sessions.add(token_hash(token), user.id, csrf, now, expires_at)
            await write_audit(
                uow, at=now, action=AuditAction.LOGIN_OK, principal=user.principal(), remote=remote
            )
            await uow.commit()
        return SignedIn(token=token, csrf_token=csrf, user=user, expires_at=expires_at)

    def _check_limit(self, failures: list[datetime], limit: int, now: datetime) -> None:
        if len(failures) < limit:
            return
        # The attempts allowed again once enough of the oldest failures have left the window.
        frees_at = failures[len(failures) - limit] + self.policy.failure_window
        retry_after = max(1, int((frees_at - now).total_seconds() + 0.999))
        minutes = (retry_after + 59) // 60
        raise RateLimited(
            f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút "
            f"/ too many failed sign-ins, try again in {minutes} min",
            retry_after_s=retry_after,
        )

    async def resolve(self, token: str | None, now: datetime) -> ActiveSession | None:
        """The live session of a cookie's token, sliding its idle expiry; None if unknown or expired."""
        if not token or len(token) > _MAX_TOKEN_LEN:
            return None
        async with self._uow() as uow:
            found = await uow.sessions.resolve(token_hash(token))
            if found is None:
                return None
            session, user = found
            if session.expires_at <= now or not user.active:
                return None
            expires_at = session.expires_at
            if now - session.last_seen_at >= self.policy.touch_every:
                expires_at = min(now + self.policy.idle, session.created_at + self.policy.absolute)
                await uow.sessions.touch(session.id, now, expires_at)
                await uow.commit()
        return ActiveSession(session.id, user, session.csrf_token, expires_at)

    async def logout(self, session: ActiveSession, now: datetime, remote: str) -> None:
        async with self._uow() as uow:
            await uow.sessions.delete(session.session_id)
            await write_audit(
                uow, at=now, action=AuditAction.LOGOUT, principal=session.principal, remote=remote
            )
            await uow.commit()
