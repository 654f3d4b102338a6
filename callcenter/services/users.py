"""Users: who may sign in, with which role and over which province or facility; their passwords.

Passwords are argon2id hashes (argon2-cffi). Hashing costs tens of milliseconds of CPU and 64 MiB on
purpose, and this process also answers Asterisk, so every hash and verify runs in a worker thread and
never while a unit of work (on SQLite: the one writer connection) is held.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from callcenter.domain.access import ROLE_LABELS_VI, Principal, Role
from callcenter.domain.phone import InvalidPhoneNumber
from callcenter.domain.phone import parse as parse_phone
from callcenter.domain.text import nfc
from callcenter.services.audit import AuditAction, write_audit
from callcenter.services.errors import Conflict, InvalidInput, NotFound
from callcenter.services.ports import UnitOfWork, UnitOfWorkFactory
from callcenter.services.ports_people import (
    DuplicateUsername,
    NewUser,
    User,
    UserChanges,
    UserCredentials,
)

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD, MAX_PASSWORD = 10, 256
# Roles whose scope is a province / a facility; the others see everything and carry neither.
_SCOPE_FIELD = {Role.SUPERVISOR: "province", Role.FACILITY_OFFICER: "facility_code"}


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP


@dataclass(frozen=True)
class UserInput:
    username: str
    role: Role | str
    full_name: str = ""
    province: str | None = None
    facility_code: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class UserUpdate:
    """KEEP leaves a field as stored. A role change clears a scope field the new role does not carry,
    unless the update sets it (then it is checked like any other value)."""

    full_name: str | _Keep = KEEP
    role: Role | str | _Keep = KEEP
    province: str | _Keep | None = KEEP
    facility_code: str | _Keep | None = KEEP
    phone: str | _Keep | None = KEEP
    active: bool | _Keep = KEEP


def normalise_username(text: str) -> str:
    return nfc(text).strip().lower()


def check_username(text: str) -> str:
    name = normalise_username(text)
    if not USERNAME_RE.match(name):
        raise InvalidInput(
            "Tên đăng nhập: 3–64 ký tự, chỉ chữ thường không dấu, số, dấu chấm, gạch ngang, gạch dưới "
            "/ username: 3-64 of a-z, 0-9, '.', '-', '_'",
            field="username",
        )
    return name


def check_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự / password: at least {MIN_PASSWORD} characters",
            field="password",
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(
            f"Mật khẩu dài quá {MAX_PASSWORD} ký tự / password: at most {MAX_PASSWORD} characters",
            field="password",
        )
    if normalise_username(password) == username:
        raise InvalidInput(
            "Mật khẩu không được trùng tên đăng nhập / password must differ from the username",
            field="password",
        )


def check_role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(f"{r.value} ({ROLE_LABELS_VI[r]})" for r in Role)
        raise InvalidInput(
            f"Vai trò không hợp lệ; chọn một trong: {allowed} / role must be one of them", field="role"
        ) from None


def _text(value: str | None, field: str, max_len: int) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(nfc(value).split())
    if len(cleaned) > max_len:
        raise InvalidInput(f"{field}: tối đa {max_len} ký tự / at most {max_len} characters", field=field)
    return cleaned or None


def _phone(value: str | None) -> str | None:
    value = _text(value, "phone", 32)
    if value is None:
        return None
    try:
        return parse_phone(value).national
    except InvalidPhoneNumber as exc:
        raise InvalidInput(f"{exc} / invalid phone number", field="phone") from None


@dataclass(frozen=True)
class _Scope:
    role: Role
    province: str | None
    facility_code: str | None


async def _check_scope(uow: UnitOfWork, role: Role, province: str | None, facility: str | None) -> _Scope:
    """A supervisor has a known province and no facility; a facility officer an existing facility and
    no province (the facility's decides); admins and auditors neither. A typo here would silently show
    someone no tickets at all, so names are checked against the facility registry."""
    province = _text(province, "province", 100)
    facility = _text(facility, "facility_code", 32)
    if role is not Role.SUPERVISOR and province is not None:
        raise InvalidInput(
            f"Chỉ giám sát viên (Sở Y tế) mới có tỉnh/thành; vai trò {role.value} không có "
            f"/ only a supervisor has a province",
            field="province",
        )
    if role is not Role.FACILITY_OFFICER and facility is not None:
        raise InvalidInput(
            f"Chỉ cán bộ cơ sở mới gắn với một cơ sở; vai trò {role.value} không có "
            f"/ only a facility officer has a facility",
            field="facility_code",
        )
    if role is Role.SUPERVISOR:
        known = sorted({f.province for f in await uow.facilities.all()})
        if province is None:
            raise InvalidInput(
                "Giám sát viên phải có tỉnh/thành phụ trách / a supervisor needs a province", field="province"
            )
        match = next((p for p in known if p.casefold() == province.casefold()), None)
        if match is None:
            shown = ", ".join(known) if known else "chưa có cơ sở nào; hãy nhập danh sách cơ sở trước"
            raise InvalidInput(
                f"Không có cơ sở nào thuộc tỉnh/thành «{province}» (đã biết: {shown}) / unknown province",
                field="province",
            )
        province = match
    if role is Role.FACILITY_OFFICER:
        if facility is None:
            raise InvalidInput(
                "Cán bộ cơ sở phải gắn với một mã cơ sở / a facility officer needs a facility code",
                field="facility_code",
            )
        found = await uow.facilities.by_code(facility.upper())
        if found is None:
            raise InvalidInput(
                f"Không có cơ sở mã «{facility}» / unknown facility code", field="facility_code"
            )
        facility = found.code
    return _Scope(role, province, facility)


class UserService:
    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher | None = None) -> None:
        self._uow = uow
        # argon2-cffi's defaults follow RFC 9106's second recommendation (argon2id, t=3, 64 MiB, p=4).
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    # ---- reads
    async def all(self) -> list[User]:
        async with self._uow() as uow:
            return await uow.users.all()

    async def get(self, user_id: int) -> User:
        async with self._uow() as uow:
            user = await uow.users.by_id(user_id)
        if user is None:
            raise NotFound(f"Không có người dùng số {user_id} / no such user", field="user_id")
        return user

    async def has_active_admin(self) -> bool:
        async with self._uow() as uow:
            return await uow.users.count_active(Role.ADMIN) > 0

    # ---- writes
    async def create(
        self, data: UserInput, password: str, now: datetime, actor: Principal | None = None, remote: str = ""
    ) -> User:
        username = check_username(data.username)
        role = check_role(data.role)
        full_name = _text(data.full_name, "full_name", 200) or ""
        phone = _phone(data.phone)
        check_password(password, username)
        # Validate the scope before paying for the hash; check it again in the writing unit below.
        async with self._uow() as uow:
            await _check_scope(uow, role, data.province, data.facility_code)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        async with self._uow() as uow:
            scope = await _check_scope(uow, role, data.province, data.facility_code)
            try:
                user = await uow.users.add(
                    NewUser(
                        username=username,
                        full_name=full_name,
                        password_hash=password_hash,
                        role=role,
                        province=scope.province,
                        facility_code=scope.facility_code,
                        phone=phone,
                    ),
                    now,
                )
            except DuplicateUsername:
                raise Conflict(
                    f"Tên đăng nhập «{username}» đã có người dùng / username already taken", field="username"
                ) from None
            await self._audit(uow, AuditAction.USER_CREATE, user, now, actor, remote, ["role"])
            await uow.commit()
        return user

    async def update(
        self,
        user_id: int,
        changes: UserUpdate,
        now: datetime,
        actor: Principal | None = None,
        remote: str = "",
    ) -> User:
        async with self._uow() as uow:
            current = await uow.users.by_id(user_id)
            if current is None:
                raise NotFound(f"Không có người dùng số {user_id} / no such user", field="user_id")
            role = current.role if changes.role is KEEP else check_role(changes.role)
            province = self._scope_value(changes.province, current.province, role, Role.SUPERVISOR)
            facility = self._scope_value(
                changes.facility_code, current.facility_code, role, Role.FACILITY_OFFICER
            )
            scope = await _check_scope(uow, role, province, facility)
            active = current.active if changes.active is KEEP else changes.active
            merged = UserChanges(
                full_name=current.full_name
                if changes.full_name is KEEP
                else (_text(changes.full_name, "full_name", 200) or ""),
                role=scope.role,
                province=scope.province,
                facility_code=scope.facility_code,
                phone=current.phone if changes.phone is KEEP else _phone(changes.phone),
                active=active,
            )
            demotes_admin = (
                current.role is Role.ADMIN and current.active and (role is not Role.ADMIN or not active)
            )
            # Nobody could then manage users from the browser; the CLI could, but say it here.
            if demotes_admin and await uow.users.count_active(Role.ADMIN) <= 1:
                raise Conflict(
                    "Không thể bỏ quyền hoặc khóa quản trị viên cuối cùng / cannot remove the last admin",
                    field="role" if role is not Role.ADMIN else "active",
                )
            user = await uow.users.update(user_id, merged, now)
            changed = [
                name
                for name in ("full_name", "role", "province", "facility_code", "phone", "active")
                if getattr(current, name) != getattr(user, name)
            ]
            if not user.active:
                # Signed-in browsers of a locked account stop at their next request.
                await uow.sessions.delete_for_user(user_id)
            action = AuditAction.USER_DEACTIVATE if current.active and not active else AuditAction.USER_UPDATE
            await self._audit(uow, action, user, now, actor, remote, changed)
            await uow.commit()
        return user

    async def deactivate(
        self, user_id: int, now: datetime, actor: Principal | None = None, remote: str = ""
    ) -> User:
        return await self.update(user_id, UserUpdate(active=False), now, actor, remote)

    async def set_password(
        self, user_id: int, password: str, now: datetime, actor: Principal | None = None, remote: str = ""
    ) -> None:
        user = await self.get(user_id)
        check_password(password, user.username)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        async with self._uow() as uow:
            await uow.users.set_password_hash(user_id, password_hash, now)
            # Whoever knew the old password is signed out everywhere.
            await uow.sessions.delete_for_user(user_id)
            await self._audit(uow, AuditAction.USER_PASSWORD, user, now, actor, remote, [])
            await uow.commit()

    async def by_username(self, username: str) -> User | None:
        async with self._uow() as uow:
            creds = await uow.users.credentials(normalise_username(username))
        return creds.user if creds else None

    # ---- sign-in
    async def verify(self, creds: UserCredentials | None, password: str, now: datetime) -> User | None:
        """The user if `password` is theirs and they are active, else None, in about the same time
        either way (an unknown name is checked against a dummy hash, so timing does not tell names)."""
        if len(password) > MAX_PASSWORD:
            return None
        if creds is None or not creds.user.active:
            await asyncio.to_thread(self._matches, await self._dummy(), password)
            return None
        if not await asyncio.to_thread(self._matches, creds.password_hash, password):
            return None
        if self._hasher.check_needs_rehash(creds.password_hash):
            # Parameters were raised since this hash was made: upgrade it while we have the password.
            new_hash = await asyncio.to_thread(self._hasher.hash, password)
            async with self._uow() as uow:
                await uow.users.set_password_hash(creds.user.id, new_hash, now)
                await uow.commit()
        return creds.user

    def _matches(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(self._hasher.hash, "not-a-password-of-anyone")
        return self._dummy_hash

    @staticmethod
    def _scope_value(given: str | _Keep | None, stored: str | None, role: Role, carrier: Role) -> str | None:
        if given is not KEEP:
            return given
        return stored if role is carrier else None

    @staticmethod
    async def _audit(
        uow: UnitOfWork,
        action: AuditAction,
        user: User,
        now: datetime,
        actor: Principal | None,
        remote: str,
        fields: list[str],
    ) -> None:
        detail: dict[str, object] = {
            "target_user_id": user.id,
            "target_username": user.username,
            "role": user.role.value,
            "fields": fields,
        }
        if actor is None:
            detail["via"] = "cli"
        await write_audit(uow, at=now, action=action, principal=actor, detail=detail, remote=remote)


def failure_key(username: str, known: bool) -> str:
    """What a failed sign-in records as its username: the name if it is a user's, else a hash of what
    was typed, so a password typed into the name field never lands in the audit log in clear."""
    name = normalise_username(username)
    if known:
        return name
    return "?" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:20]
