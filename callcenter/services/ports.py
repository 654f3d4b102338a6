"""What the services need from storage, as Protocols; `storage.unit_of_work` implements them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, Self

from callcenter.domain.call import CallState
from callcenter.domain.facility import Facility
from callcenter.domain.hotline_health import CallCounts
from callcenter.domain.report import TicketFacts
from callcenter.domain.roster import Override, Rotation
from callcenter.domain.routing import Target
from callcenter.domain.satisfaction import RatingCounts
from callcenter.domain.ticket import TicketScope
from callcenter.domain.turns import Turn
from callcenter.services.ports_outbound import OutboundRepository
from callcenter.services.ports_people import AuditRepository, SessionRepository, UserRepository


@dataclass(frozen=True)
class NewCall:
    id: str
    uniqueid: str
    channel: str
    caller_number: str
    caller_name: str
    dialled_number: str
    started_at: datetime
    facility_code: str | None = None
    # Set when the call is routed as it is received (its facility known from the dialled number).
    routed_at: datetime | None = None
    recording: str | None = None


@dataclass(frozen=True)
class CallRecord:
    id: str
    uniqueid: str
    caller_number: str
    caller_name: str
    dialled_number: str
    facility_code: str | None
    state: CallState
    started_at: datetime
    ended_at: datetime | None
    recording: str | None
    targets: tuple[Target, ...]
    ticket_id: int | None
    ticket_ref: str | None


@dataclass(frozen=True)
class TicketSummary:
    id: int
    ref: str
    call_id: str | None
    facility_code: str | None
    status: str
    priority: str
    needs_callback: bool
    caller_number: str
    caller_name: str
    created_at: datetime
    call_state: str | None
    answered_tier: str | None
    recordings: tuple[str, ...]
    category_suggested: str | None = None
    category_confidence: float | None = None
    incident: bool = False


@dataclass(frozen=True)
class TicketRecord:
    """One ticket as the workflow needs it: its row, its facility's name, its assignee, its call's state."""

    id: int
    ref: str
    call_id: str | None
    facility_code: str | None
    facility_name: str | None
    province: str | None
    status: str
    priority: str
    needs_callback: bool
    caller_number: str
    caller_name: str
    category_suggested: str | None
    category_confidence: float | None
    category_confirmed: str | None
    incident: bool
    incident_reasons: str
    assignee_id: int | None
    assignee_name: str | None
    deadline_at: datetime | None
    resolved_at: datetime | None
    forwarded_to: str
    result_told: str
    outside_jurisdiction: bool
    summary: str
    created_at: datetime
    updated_at: datetime
    call_state: str | None
    answered_tier: str | None
    hold: bool = False  # "giữ lại": kept past the retention periods


@dataclass(frozen=True)
class TicketQuery:
    """The list filters in storage terms: UTC instants, folded words. Built by the service."""

    status: str | None = None
    category: str | None = None  # the confirmed category, or else the suggested one
    outside_jurisdiction: bool = False  # with category "khong_dung_tham_quyen": also forwarded tickets
    facility_code: str | None = None
    created_from: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    overdue: bool | None = None
    now: datetime | None = None  # for `overdue`: deadlines before it have passed
    default_overdue_before: datetime | None = None  # for `overdue`: tickets with no deadline
    incident: bool | None = None
    needs_callback: bool | None = None
    assignee_id: int | None = None
    folded_text: str | None = None  # every word must be in the ticket's search body...
    ref: str | None = None  # ... or the ticket has this reference


@dataclass(frozen=True)
class ImportedTicket:
    """A ticket of the previous system, as imported (no call)."""

    external_ref: str
    received_at: datetime
    facility_code: str | None
    category: str | None
    status: str
    resolved_at: datetime | None  # when it reached "đã giải quyết", or was forwarded
    outside_jurisdiction: bool
    summary: str
    result_told: str
    ticket_id: int | None = None  # when read back from storage


@dataclass(frozen=True)
class AttemptRecord:
    index: int
    tier: str
    officer_name: str
    number: str  # the officer's phone: duty data, not the caller's personal data
    ring_timeout_s: int
    result: str | None  # None while the call is still being dialled


@dataclass(frozen=True)
class CallTimeline:
    call_id: str
    state: str
    dialled_number: str
    facility_code: str | None
    started_at: datetime
    routed_at: datetime | None
    ended_at: datetime | None
    answered_index: int | None
    answered_tier: str | None
    talk_ms: int | None
    duration_s: int | None
    hangup_cause: int | None
    end_detail: str
    attempts: tuple[AttemptRecord, ...]

    @property
    def answered_by(self) -> str | None:
        """The name of the officer who accepted the call."""
        for a in self.attempts:
            if a.index == self.answered_index:
                return a.officer_name or None
        return None


@dataclass(frozen=True)
class RecordingRecord:
    id: int
    call_id: str
    kind: str
    file_name: str  # relative to the recordings directory; never leaves the services
    created_at: datetime


@dataclass(frozen=True)
class NoteRecord:
    id: int
    at: datetime
    user_id: int | None
    author: str  # full name, else username; "" once the user is deleted
    text: str


@dataclass(frozen=True)
class TicketLink:
    """Another ticket, as a link: reference and id, never its content."""

    id: int
    ref: str
    created_at: datetime
    status: str
    facility_code: str | None


@dataclass(frozen=True)
class UserBrief:
    id: int
    username: str
    full_name: str
    role: str
    province: str | None
    facility_code: str | None
    active: bool


class FacilityRepository(Protocol):
    async def by_code(self, code: str) -> Facility | None: ...
    async def all(self) -> list[Facility]: ...
    async def routing_version(self) -> int:
        """Bumped by the database on every change to facilities, rotations or overrides."""
        ...

    async def upsert(self, facility: Facility, now: datetime) -> bool:
        """Insert or update by code; True when it was new."""
        ...


class RosterRepository(Protocol):
    async def rotations(self, facility_code: str | None = None) -> list[Rotation]: ...
    async def overrides(
        self, facility_code: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> list[Override]: ...
    async def replace(
        self,
        facility_codes: Sequence[str],
        rotations: Sequence[Rotation],
        overrides: Sequence[Override],
        now: datetime,
    ) -> None:
        """Replace the whole roster of these facilities (an import)."""
        ...

    async def add_override(self, override: Override, now: datetime) -> int:
        """Store a one-off; returns its id (which is also its `seq`: a later one wins)."""
        ...

    async def override_facility(self, override_id: int) -> str | None:
        """The facility of an override, or None when there is no such override."""
        ...

    async def delete_override(self, override_id: int) -> bool: ...


class CallRepository(Protocol):
    async def hotline_stats(
        self, since: datetime, until: datetime, facility_code: str | None = None
    ) -> dict[str, CallCounts]:
        """Per facility code (only `facility_code`'s when given), the calls that started in [since, until)."""
        ...

    async def rating_counts(
        self, since: datetime, until: datetime, facility_code: str | None = None
    ) -> dict[str | None, RatingCounts]:
        """Ratings of the calls started in [since, until), per facility (None: no facility)."""
        ...


@dataclass(frozen=True)
class ExpiredRecording:
    id: int
    ticket_id: int
    file_name: str  # relative to the recordings directory


@dataclass(frozen=True)
class ExpiredCaller:
    ticket_id: int
    call_id: str | None
    caller_number: str


class RetentionRepository(Protocol):
    """What is past its retention time. Only tickets that are closed and not held ever qualify."""

    async def expired_recordings(self, before: datetime) -> list[ExpiredRecording]:
        """Recordings made before `before` whose file is not deleted yet."""
        ...

    async def mark_recordings_deleted(self, ids: Sequence[int], now: datetime) -> None: ...
    async def expired_transcripts(self, before: datetime) -> list[tuple[int, int]]:
        """(transcript id, ticket id) of transcripts made before `before`, not removed yet."""
        ...

    async def remove_transcripts(self, ids: Sequence[int], now: datetime) -> None:
        """Their text, masked text and turns emptied; the row stays, saying when."""
        ...

    async def expired_callers(self, before: datetime) -> list[ExpiredCaller]:
        """Tickets closed before `before` whose caller's number and name are still there."""
        ...

    async def remove_caller(self, caller: ExpiredCaller, masked_number: str, now: datetime) -> None:
        """On the ticket and its call: the number replaced by `masked_number`, the name removed."""
        ...

    async def set_hold(self, ticket_id: int, hold: bool, now: datetime) -> None: ...


class TicketRepository(Protocol):
    async def add_event(self, ticket_id: int, kind: str, detail: dict[str, Any], now: datetime) -> None: ...
    async def events(self, ticket_id: int) -> list[tuple[datetime, str, dict[str, Any]]]: ...
    async def latest(
        self, *, status: str | None = None, facility_code: str | None = None, limit: int = 100
    ) -> list[TicketSummary]: ...
    async def count(self) -> int: ...
    async def id_by_ref(self, ref: str) -> int | None: ...
    async def set_suggestion(
        self,
        ticket_id: int,
        *,
        category: str,
        confidence: float,
        incident: bool,
        incident_reasons: str,
        now: datetime,
    ) -> None:
        """The machine's suggestion; an incident also raises the priority. The confirmed category is apart."""
        ...

    async def index_text(self, ticket_id: int, body: str) -> None:
        """Replace the ticket's search body (already folded: no diacritics, lower case)."""
        ...

    async def search(self, folded_query: str, *, limit: int = 50) -> list[TicketSummary]: ...

    # The workflow (tickets in the browser). Reads take the principal's scope; the service checks it too.
    async def page(
        self, scope: TicketScope, query: TicketQuery, *, offset: int, limit: int, count_cap: int | None = None
    ) -> tuple[list[TicketRecord], int]:
        """One page, newest first, and the number of tickets matching in all (at most count_cap + 1)."""
        ...

    async def record(self, ticket_id: int, *, for_update: bool = False) -> TicketRecord | None: ...
    async def call_timeline(self, call_id: str) -> CallTimeline | None: ...
    async def recordings(self, call_id: str) -> list[RecordingRecord]: ...
    async def recording(self, recording_id: int) -> RecordingRecord | None: ...
    async def notes(self, ticket_id: int) -> list[NoteRecord]: ...
    async def earlier_of_caller(
        self,
        numbers: Sequence[str],
        *,
        since: datetime,
        before: datetime,
        exclude_id: int,
        scope: TicketScope,
        limit: int = 20,
    ) -> list[TicketLink]:
        """Tickets of any of these caller numbers created in [since, before), within the scope."""
        ...

    async def user_brief(self, user_id: int) -> UserBrief | None: ...
    async def set_status(
        self,
        ticket_id: int,
        status: str,
        *,
        resolved_at: datetime | None,
        forwarded_to: str,
        outside_jurisdiction: bool,
        now: datetime,
    ) -> None: ...
    async def set_assignee(self, ticket_id: int, user_id: int | None, now: datetime) -> None: ...
    async def set_deadline(self, ticket_id: int, deadline: datetime | None, now: datetime) -> None: ...
    async def set_result_told(self, ticket_id: int, text: str, now: datetime) -> None: ...
    async def confirm_category(self, ticket_id: int, category: str, now: datetime) -> None: ...
    async def add_note(self, ticket_id: int, user_id: int, text: str, now: datetime) -> int: ...

    # The period report and the import from the previous system.
    async def report_facts(
        self,
        scope: TicketScope,
        *,
        received_from: datetime,
        until: datetime,
        active_since: datetime,
        facility_code: str | None = None,
    ) -> list[TicketFacts]:
        """Tickets in the scope received before `until` that may count in a report: received at or after
        `received_from`, or changed at or after `active_since`; with their status histories. Two queries."""
        ...

    async def imported(self, external_refs: Sequence[str]) -> dict[str, ImportedTicket]:
        """The tickets already imported under these references of the previous system."""
        ...

    async def save_imported(self, ticket: ImportedTicket, ticket_id: int | None, now: datetime) -> int:
        """Insert (ticket_id None) or overwrite an imported ticket and its import-written status history."""
        ...


@dataclass(frozen=True)
class Job:
    id: int
    call_id: str | None  # the incoming call's recordings, or else...
    ticket_id: int
    recording: str
    attempts: int  # including the one just claimed
    max_attempts: int
    outbound_id: int | None = None  # ... a callback's (its citizen leg, recorded like a call)


class JobRepository(Protocol):
    async def claim(self, owner: str, now: datetime, lease_s: float) -> Job | None:
        """The oldest due job, queued or whose lease expired (its worker died), leased to `owner`."""
        ...

    async def complete(self, job_id: int, now: datetime) -> None: ...
    async def retry(self, job_id: int, error: str, run_after: datetime, now: datetime) -> None: ...
    async def fail(self, job_id: int, error: str, now: datetime) -> None: ...
    async def counts(self) -> dict[str, int]: ...
    async def recording_files(self) -> frozenset[str]:
        """File names of every recording attached to a call, or named by a routed call."""
        ...

    async def enqueue_callback(
        self,
        outbound_id: int,
        ticket_id: int,
        recording: str,
        *,
        run_after: datetime,
        max_attempts: int,
        now: datetime,
    ) -> None:
        """A job for a callback's recordings (base name `recording`), due at `run_after`."""
        ...

    async def requeue(self, ticket_id: int, now: datetime) -> bool:
        """Run the ticket's jobs (its call's, its callbacks') again now, from their first attempt; False
        when it has none."""
        ...

    async def state_for_ticket(self, ticket_id: int) -> tuple[str, int, str] | None:
        """(status, attempts, last error) of the job of the ticket's call."""
        ...


@dataclass(frozen=True)
class TranscriptRecord:
    call_id: str | None  # the ticket's call, or else...
    ticket_id: int
    engine: str
    language: str
    source: str
    turns: list[dict[str, Any]]
    text: str
    text_masked: str
    leg_problems: dict[str, str]
    outbound_id: int | None = None  # ... one of its callbacks


class TranscriptRepository(Protocol):
    async def save(self, record: TranscriptRecord, now: datetime) -> None:
        """Store it, replacing the earlier transcript of the same call or callback."""
        ...

    async def for_ticket(self, ticket_id: int) -> TranscriptRecord | None:
        """The transcript of the ticket's call (not of its callbacks)."""
        ...

    async def for_callbacks(self, ticket_id: int) -> list[TranscriptRecord]:
        """The transcripts of the ticket's callbacks, oldest first (none removed by retention)."""
        ...

    async def ticket_words(self, ticket_id: int) -> list[str]:
        """Every turn's text of the ticket's transcripts, its call's first, then its callbacks'."""
        ...


@dataclass(frozen=True)
class TranscriptionResult:
    """What a speech engine made of a call's recordings (see `Transcriber`)."""

    turns: tuple[Turn, ...]  # caller/officer turns from the legs, or "unknown" from the mix
    voicemail_turns: tuple[Turn, ...]
    source: str  # "legs" | "mix" | "none"
    engine: str
    language: str
    problems: dict[str, str]  # recording kind -> why it could not be used (missing, empty, not a WAV…)


class Transcriber(Protocol):
    """CPU-bound and synchronous: the services run it off the event loop."""

    def transcribe(self, recordings: Mapping[str, Path]) -> TranscriptionResult:
        """`recordings`: kind ("mix", "caller", "officer", "voicemail") -> file."""
        ...


class UnitOfWork(Protocol):
    """One transaction: repositories over one session; leaving without commit() rolls back."""

    # Read-only properties, so an implementation may hold more specific repository types.
    @property
    def facilities(self) -> FacilityRepository: ...
    @property
    def roster(self) -> RosterRepository: ...
    @property
    def calls(self) -> CallRepository: ...
    @property
    def tickets(self) -> TicketRepository: ...
    @property
    def jobs(self) -> JobRepository: ...
    @property
    def transcripts(self) -> TranscriptRepository: ...
    @property
    def retention(self) -> RetentionRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def outbound(self) -> OutboundRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class CallJournal(Protocol):
    """Durable spool for call ends the database could not take; replayed when it can."""

    async def append(self, kind: str, payload: dict[str, Any]) -> str: ...
    async def pending(self) -> list[tuple[str, str, dict[str, Any]]]: ...
    async def remove(self, key: str) -> None: ...
