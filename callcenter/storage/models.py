"""SQLAlchemy 2 typed models. Schema changes go through alembic migrations (storage/migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC out; stored as naive UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class FacilityRow(Base):
    __tablename__ = "facilities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    keypad_code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    province: Mapped[str] = mapped_column(String(100))
    hotline: Mapped[str] = mapped_column(String(16), index=True)
    authority_line: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CacheVersionRow(Base):
    """Bumped by triggers on the tables routing reads (migration 0007): nodes compare it per call."""

    __tablename__ = "cache_versions"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int]


class RotationRow(Base):
    __tablename__ = "rotations"
    __table_args__ = (UniqueConstraint("facility_code", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facility_code: Mapped[str] = mapped_column(ForeignKey("facilities.code", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    tier: Mapped[str] = mapped_column(String(16))
    recurrence: Mapped[str] = mapped_column(String(16))
    handoff: Mapped[str] = mapped_column(String(5))  # HH:MM local
    start_date: Mapped[str] = mapped_column(String(10))  # ISO date
    end_date: Mapped[str | None] = mapped_column(String(10))
    day_kinds: Mapped[str] = mapped_column(String(64))  # "workday;weekend;holiday"
    officers: Mapped[list[dict[str, str]]] = mapped_column(JSON)


class OverrideRow(Base):
    __tablename__ = "overrides"
    __table_args__ = (Index("ix_overrides_facility_span", "facility_code", "starts_at", "ends_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facility_code: Mapped[str] = mapped_column(ForeignKey("facilities.code", ondelete="CASCADE"))
    tier: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    officer_name: Mapped[str] = mapped_column(String(200))
    officer_phone: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class CallRow(Base):
    __tablename__ = "calls"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(200), default="")
    caller_number: Mapped[str] = mapped_column(String(32), default="")
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    dialled_number: Mapped[str] = mapped_column(String(32), default="")
    facility_code: Mapped[str | None] = mapped_column(String(32), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    routed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    recording: Mapped[str | None] = mapped_column(String(200))
    answered_index: Mapped[int | None]
    answered_tier: Mapped[str | None] = mapped_column(String(16))
    talk_ms: Mapped[int | None]
    # Answered calls: how long the caller waited for a person, from the first Dial to the officer's
    # key 1 (domain.call.answer_wait_ms); None when unanswered or a ring time was missing.
    answer_wait_ms: Mapped[int | None]
    duration_s: Mapped[int | None]
    hangup_cause: Mapped[int | None]
    end_detail: Mapped[str] = mapped_column(Text, default="")
    # Post-call satisfaction (seed 003): 1-5 on the keypad; rating_status says why there is none.
    rating: Mapped[int | None]
    rating_status: Mapped[str | None] = mapped_column(String(16))  # rated | no_answer | invalid
    rated_at: Mapped[datetime | None]


class CallAttemptRow(Base):
    __tablename__ = "call_attempts"
    __table_args__ = (UniqueConstraint("call_id", "idx"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int]
    tier: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(32))
    officer_name: Mapped[str] = mapped_column(String(200), default="")
    ring_timeout_s: Mapped[int]
    result: Mapped[str | None] = mapped_column(String(16))


class RecordingRow(Base):
    __tablename__ = "recordings"
    __table_args__ = (
        # One file per kind for a call's own recordings, and per kind for each callback of its ticket.
        Index(
            "uq_recordings_call_kind",
            "call_id",
            "kind",
            unique=True,
            sqlite_where=text("outbound_id IS NULL"),
            postgresql_where=text("outbound_id IS NULL"),
        ),
        Index(
            "uq_recordings_outbound_kind",
            "outbound_id",
            "kind",
            unique=True,
            sqlite_where=text("outbound_id IS NOT NULL"),
            postgresql_where=text("outbound_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    # Set for a callback's recordings (callback_mix / _caller / _officer), attached to the ticket's call.
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_calls.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # mix | caller | officer | voicemail
    file_name: Mapped[str] = mapped_column(String(255))  # relative to the recordings directory
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]  # the file was deleted at the end of its retention period


class TicketRow(Base):
    __tablename__ = "tickets"
    # The lists are newest first within a scope or a status: these let a page read 50 rows in order.
    __table_args__ = (
        Index("ix_tickets_province_created", "province", "created_at"),
        Index("ix_tickets_facility_created", "facility_code", "created_at"),
        Index("ix_tickets_status_created", "status", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(32), unique=True)
    call_id: Mapped[str | None] = mapped_column(ForeignKey("calls.id"), unique=True)
    facility_code: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    needs_callback: Mapped[bool] = mapped_column(Boolean, default=False)
    caller_number: Mapped[str] = mapped_column(String(32), default="")
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    category_suggested: Mapped[str | None] = mapped_column(String(32))
    category_confidence: Mapped[float | None] = mapped_column(Float)
    category_confirmed: Mapped[str | None] = mapped_column(String(32))
    incident: Mapped[bool] = mapped_column(Boolean, default=False)  # possible serious medical incident
    incident_reasons: Mapped[str] = mapped_column(Text, default="")
    # Workflow (issue: tickets in the browser). resolved_at/forwarded_at: when it last reached that state.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    forwarded_to: Mapped[str] = mapped_column(Text, default="")  # where an out-of-jurisdiction one went
    result_told: Mapped[str] = mapped_column(Text, default="")  # the result told to the caller
    province: Mapped[str | None] = mapped_column(String(100), index=True)  # the facility's, at creation
    # The previous system's reference, for tickets imported from it: re-importing updates, never doubles.
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    outside_jurisdiction: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    # "Giữ lại": a supervisor keeps the ticket's recordings, transcript and personal data past their time.
    hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    personal_data_removed_at: Mapped[datetime | None]  # caller's number masked, name removed


class TicketEventRow(Base):
    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# A transcription job or transcript is of an incoming call or of a callback, never both nor neither.
ONE_SOURCE = "(call_id IS NULL) <> (outbound_id IS NULL)"


class TranscriptionJobRow(Base):
    """A call's recordings waiting to be transcribed. Leased, so a worker killed mid-job loses nothing."""

    __tablename__ = "transcription_jobs"
    __table_args__ = (
        Index("ix_transcription_jobs_due", "status", "run_after"),
        CheckConstraint(ONE_SOURCE, name="one_source"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The incoming call's recordings, or a callback's (the citizen's leg): exactly one of the two.
    call_id: Mapped[str | None] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    outbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_calls.id", ondelete="CASCADE"), unique=True
    )
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    recording: Mapped[str] = mapped_column(String(200))  # base name of the call's files
    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    run_after: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TranscriptRow(Base):
    __tablename__ = "transcripts"
    __table_args__ = (CheckConstraint(ONE_SOURCE, name="one_source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The ticket's call (its first transcript), or one of its callbacks: exactly one of the two.
    call_id: Mapped[str | None] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), unique=True)
    outbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_calls.id", ondelete="CASCADE"), unique=True
    )
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    engine: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))  # legs | mix | voicemail
    turns: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # speaker, start, end, text, words
    text: Mapped[str] = mapped_column(Text)
    text_masked: Mapped[str] = mapped_column(Text)  # for roles that must not see personal data
    leg_problems: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]  # text and turns removed at the end of the retention period


class UserRow(Base):
    """People who work the tickets. Passwords are argon2 hashes; roles in callcenter.domain.access."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(24))  # admin | supervisor | facility_officer | auditor
    province: Mapped[str | None] = mapped_column(String(100))  # a supervisor's province
    facility_code: Mapped[str | None] = mapped_column(String(32))  # a facility officer's facility
    phone: Mapped[str | None] = mapped_column(String(16))  # for callbacks and duty, not a login
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebSessionRow(Base):
    """Server-side sessions: the cookie holds only a random token's id; its hash is stored."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AuditRow(Base):
    """Who opened which ticket, listened to which recording, changed what (personal-data rules)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_ticket_at", "ticket_id", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    username: Mapped[str] = mapped_column(String(64), default="")  # kept if the user is deleted
    action: Mapped[str] = mapped_column(String(48))  # e.g. ticket.view, recording.listen, login.failed
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    recording_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    remote: Mapped[str] = mapped_column(String(64), default="")


class TicketNoteRow(Base):
    __tablename__ = "ticket_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)


class OutboundCallRow(Base):
    """A call we place over ARI (a callback from a ticket, a test call to a hotline). Written BEFORE the
    originate that creates its first leg, so a crash between the two never places an unrecorded call.
    The legs' channel ids and the bridge id derive from the row's id (`domain.outbound.channel_id`)."""

    __tablename__ = "outbound_calls"
    __table_args__ = (
        # One callback at a time per ticket and one probe at a time per facility, across every node.
        Index(
            "uq_outbound_calls_active_callback",
            "ticket_id",
            unique=True,
            sqlite_where=text("kind = 'callback' AND state != 'done'"),
            postgresql_where=text("kind = 'callback' AND state != 'done'"),
        ),
        Index(
            "uq_outbound_calls_active_probe",
            "facility_code",
            unique=True,
            sqlite_where=text("kind = 'probe' AND state != 'done'"),
            postgresql_where=text("kind = 'probe' AND state != 'done'"),
        ),
        Index("ix_outbound_calls_kind_created", "kind", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # callback | probe
    state: Mapped[str] = mapped_column(String(16), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    facility_code: Mapped[str | None] = mapped_column(String(32))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(32), default="")  # a probe's hotline; "" for a callback
    recording: Mapped[str | None] = mapped_column(String(200))  # base name of the citizen leg's files
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]  # the (first) leg answered
    accepted_at: Mapped[datetime | None]  # its key 1 pressed
    talk_started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ring_ms: Mapped[int | None]  # how long the (first) leg rang before it answered or gave up
    talk_s: Mapped[int | None]
    survey: Mapped[str | None] = mapped_column(String(16))  # resolved | not_resolved
    detail: Mapped[str] = mapped_column(Text, default="")
