"""What the services need from storage, as Protocols; `storage.unit_of_work` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, Self

from callcenter.domain.call import Attempt, CallState
from callcenter.domain.facility import Facility
from callcenter.domain.roster import Override, Rotation
from callcenter.domain.routing import Target


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
