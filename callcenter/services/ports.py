"""What the services need from storage, as Protocols; `storage.unit_of_work` implements them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, Self

from callcenter.domain.call import Attempt, CallState
from callcenter.domain.facility import Facility
from callcenter.domain.roster import Override, Rotation
from callcenter.domain.routing import Target
from callcenter.domain.turns import Turn
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


class FacilityRepository(Protocol):
    async def by_hotline(self, number: str) -> Facility | None: ...
    async def by_keypad(self, code: str) -> Facility | None: ...
    async def by_code(self, code: str) -> Facility | None: ...
    async def all(self) -> list[Facility]: ...
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


class CallRepository(Protocol):
    async def add(self, call: NewCall) -> None: ...
    async def by_uniqueid(self, uniqueid: str) -> CallRecord | None: ...
    async def by_id(self, call_id: str) -> CallRecord | None: ...
    async def set_routed(
        self,
        call_id: str,
        facility_code: str | None,
        targets: Sequence[Target],
        recording: str,
        now: datetime,
    ) -> None: ...
    async def set_ended(
        self,
        call_id: str,
        state: CallState,
        attempts: Sequence[Attempt],
        answered_index: int | None,
        talk_ms: int | None,
        duration_s: int | None,
        hangup_cause: int | None,
        detail: str,
        now: datetime,
    ) -> None:
        """The call's end, and its whole chain as dialled (replacing the one saved at routing)."""
        ...

    async def add_recordings(self, call_id: str, files: Sequence[tuple[str, str]], now: datetime) -> None:
        """(kind, file name relative to the recordings directory) pairs, once per call."""
        ...

    async def open_started_before(self, before: datetime) -> list[CallRecord]: ...


class TicketRepository(Protocol):
    async def open_for_call(
        self, call_id: str, caller_number: str, caller_name: str, facility_code: str | None, now: datetime
    ) -> tuple[int, str]:
        """Create the call's ticket; returns (id, reference)."""
        ...

    async def set_facility(self, ticket_id: int, facility_code: str | None, now: datetime) -> None: ...
    async def after_call(
        self, ticket_id: int, *, needs_callback: bool, priority: str, now: datetime
    ) -> None: ...
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


@dataclass(frozen=True)
class Job:
    id: int
    call_id: str
    ticket_id: int
    recording: str
    attempts: int  # including the one just claimed
    max_attempts: int


class JobRepository(Protocol):
    async def enqueue(
        self,
        call_id: str,
        ticket_id: int,
        recording: str,
        *,
        run_after: datetime,
        max_attempts: int,
        now: datetime,
    ) -> None:
        """Queue the call's recordings once (a second enqueue for the same call is ignored)."""
        ...

    async def claim(self, owner: str, now: datetime, lease_s: float) -> Job | None:
        """The oldest due job, queued or whose lease expired (its worker died), leased to `owner`."""
        ...

    async def complete(self, job_id: int, now: datetime) -> None: ...
    async def retry(self, job_id: int, error: str, run_after: datetime, now: datetime) -> None: ...
    async def fail(self, job_id: int, error: str, now: datetime) -> None: ...
    async def counts(self) -> dict[str, int]: ...
    async def recording_files(self) -> frozenset[str]:
        """File names of every recording attached to a call."""
        ...

    async def requeue(self, ticket_id: int, now: datetime) -> bool:
        """Run the ticket's job again now, from its first attempt; False when it has none."""
        ...

    async def state_for_ticket(self, ticket_id: int) -> tuple[str, int, str] | None:
        """(status, attempts, last error) of the ticket's job."""
        ...


@dataclass(frozen=True)
class TranscriptRecord:
    call_id: str
    ticket_id: int
    engine: str
    language: str
    source: str
    turns: list[dict[str, Any]]
    text: str
    text_masked: str
    leg_problems: dict[str, str]


class TranscriptRepository(Protocol):
    async def save(self, record: TranscriptRecord, now: datetime) -> None: ...
    async def for_ticket(self, ticket_id: int) -> TranscriptRecord | None: ...


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
    def users(self) -> UserRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def audit(self) -> AuditRepository: ...

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
