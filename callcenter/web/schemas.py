"""Request and response bodies of the core endpoints; the OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from callcenter.domain.access import ROLE_LABELS_VI, Role
from callcenter.services.ports_people import AuditEntry, User
from callcenter.web.io import QueryParams, StrictBody


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


class HealthOut(BaseModel):
    status: str
    database: str | None = None


class ReadyOut(BaseModel):
    status: str  # "ok" when every check passes
    checks: dict[str, str]  # check -> "ok" or why not


class LoginIn(StrictBody):
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: Role
    role_label: str
    province: str | None
    facility_code: str | None
    phone: str | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            full_name=user.full_name,
            role=user.role,
            role_label=ROLE_LABELS_VI[user.role],
            province=user.province,
            facility_code=user.facility_code,
            phone=user.phone,
            active=user.active,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class UsersOut(BaseModel):
    users: list[UserOut]


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str = Field(description="send as X-CSRF-Token on every POST/PUT/PATCH/DELETE")
    expires_at: datetime


class UserCreateIn(StrictBody):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    role: Role
    full_name: str = Field(default="", max_length=200)
    province: str | None = Field(default=None, max_length=100, description="supervisors only")
    facility_code: str | None = Field(default=None, max_length=32, description="facility officers only")
    phone: str | None = Field(default=None, max_length=32)


class UserPatchIn(StrictBody):
    """Only the fields sent are changed; null clears province, facility_code or phone."""

    full_name: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    province: str | None = Field(default=None, max_length=100)
    facility_code: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    active: bool | None = None


class PasswordIn(StrictBody):
    password: str = Field(max_length=256)


class UsersQuery(QueryParams):
    active: bool | None = Field(default=None, description="only active (true) or inactive (false) users")


class AuditQuery(QueryParams):
    username: str | None = Field(default=None, max_length=64)
    action: str | None = Field(default=None, max_length=48)
    ticket_id: int | None = Field(default=None, ge=1)
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    before_id: int | None = Field(default=None, ge=1, description="paging: entries older than this id")
    limit: int = Field(default=100, ge=1, le=500)


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    user_id: int | None
    username: str
    action: str
    ticket_id: int | None
    recording_id: int | None
    detail: dict[str, Any]
    remote: str

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(
            id=e.id,
            at=e.at,
            user_id=e.user_id,
            username=e.username,
            action=e.action,
            ticket_id=e.ticket_id,
            recording_id=e.recording_id,
            detail=e.detail,
            remote=e.remote,
        )


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]
    next_before_id: int | None = Field(description="pass as before_id for the next page; null at the end")
