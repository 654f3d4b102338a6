"""The call path's storage port: what route_call and call_ended write, as one small transaction each.

Kept apart from the UnitOfWork because the two FastAGI entry points are the only code a caller waits
on: `storage.call_path` implements it with hand-written statements on the database driver (a seventh
of SQLAlchemy's cost per statement, measured in bench/agi_throughput.py), while every other use-case
keeps the repositories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, Self

from callcenter.domain.call import Attempt, CallState
from callcenter.domain.routing import Target
from callcenter.domain.satisfaction import RatingStatus
from callcenter.services.ports import CallRecord, NewCall


@dataclass(frozen=True)
class CallEnd:
    """How a call ended, as stored on its row (its attempts go with it)."""

    state: CallState
    attempts: Sequence[Attempt]
    answered_index: int | None
    talk_ms: int | None
    duration_s: int | None
    hangup_cause: int | None
    detail: str
    answer_wait_ms: int | None = None


@dataclass(frozen=True)
class NewJob:
    call_id: str
    ticket_id: int
    recording: str  # base name of the call's files
    run_after: datetime
    max_attempts: int


class CallPathUnit(Protocol):
    """One transaction; leaving without commit() writes nothing. commit() returns once durable."""

    async def routing_version(self) -> int:
        """The version of facilities and roster (bumped by the database on every change to them)."""
        ...

    async def call_by_id(self, call_id: str) -> CallRecord | None: ...
    async def call_by_uniqueid(self, uniqueid: str) -> CallRecord | None: ...

    async def open_call(self, call: NewCall, targets: Sequence[Target], now: datetime) -> tuple[int, str]:
        """The call, its ticket (the facility's province with it) and, when `call.routed_at` is set,
        its chain: returns the ticket's (id, reference)."""
        ...

    async def set_routed(
        self,
        call_id: str,
        ticket_id: int,
        facility_code: str | None,
        targets: Sequence[Target],
        recording: str,
        now: datetime,
    ) -> None:
        """The chain chosen after the keypad (it replaces any earlier one: a dialplan loop)."""
        ...

    async def set_ended(self, call_id: str, end: CallEnd, now: datetime) -> None:
        """The call's end, and its whole chain as dialled (replacing the one saved at routing)."""
        ...

    async def add_recordings(self, call_id: str, files: Sequence[tuple[str, str]], now: datetime) -> None:
        """(kind, file name relative to the recordings directory) pairs, once per call."""
        ...

    async def enqueue_job(self, job: NewJob, now: datetime) -> None:
        """Queue the call's transcription (nothing if it has one already)."""
        ...

    async def after_call(
        self, ticket_id: int, *, needs_callback: bool, priority: str, now: datetime
    ) -> None: ...

    async def add_events(
        self, ticket_id: int, events: Sequence[tuple[str, dict[str, Any]]], now: datetime
    ) -> None:
        """(kind, detail) entries on the ticket's timeline, in this order."""
        ...

    async def set_rating(self, call_id: str, rating: int | None, status: RatingStatus, now: datetime) -> bool:
        """Store the post-call rating unless the call has one already (first wins); True if stored."""
        ...

    async def open_started_before(self, before: datetime) -> list[CallRecord]:
        """Calls still received or routed that started before `before`."""
        ...

    async def commit(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...


class CallPathFactory(Protocol):
    def __call__(self) -> CallPathUnit: ...
