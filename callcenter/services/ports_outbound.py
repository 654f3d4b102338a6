"""What the outbound-call services need: the rows of the calls we place, and the telephone (ARI)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from callcenter.domain.outbound import OutboundKind, OutboundState, Outcome, SurveyAnswer


@dataclass(frozen=True)
class OutboundRecord:
    id: int
    kind: OutboundKind
    state: OutboundState
    outcome: Outcome | None
    ticket_id: int | None
    facility_code: str | None
    requested_by: int | None
    number: str  # a probe's hotline number; "" for a callback (its numbers are read when dialled)
    recording: str | None
    created_at: datetime
    answered_at: datetime | None
    accepted_at: datetime | None
    talk_started_at: datetime | None
    ended_at: datetime | None
    ring_ms: int | None
    talk_s: int | None
    survey: SurveyAnswer | None
    detail: str


class OutboundExists(Exception):
    """A callback for this ticket, or a probe of this facility, is already in progress (another node's
    included): the partial unique index said so."""


class OutboundRepository(Protocol):
    async def add(
        self,
        kind: OutboundKind,
        now: datetime,
        *,
        ticket_id: int | None = None,
        facility_code: str | None = None,
        requested_by: int | None = None,
        number: str = "",
    ) -> int:
        """A new row in state PENDING; raises OutboundExists when one of its kind is active already."""
        ...

    async def get(self, outbound_id: int, *, for_update: bool = False) -> OutboundRecord | None: ...
    async def update(self, outbound_id: int, now: datetime, **values: Any) -> None: ...
    async def active(self) -> list[OutboundRecord]: ...
    async def for_ticket(self, ticket_id: int) -> list[OutboundRecord]: ...
    async def for_tickets(self, ticket_ids: Sequence[int]) -> list[OutboundRecord]:
        """The callbacks of these tickets, oldest first."""
        ...

    async def count_for_ticket_since(self, ticket_id: int, since: datetime) -> int: ...
    async def probes(
        self, since: datetime, until: datetime, facility_code: str | None = None
    ) -> list[OutboundRecord]: ...
    async def attach_recordings(
        self, ticket_id: int, outbound_id: int, files: Sequence[tuple[str, str]], now: datetime
    ) -> bool:
        """(kind, file name) as recordings of the ticket's call, marked as that callback's; False when
        the ticket has no call."""
        ...

    async def callbacks(self, since: datetime, until: datetime) -> list[tuple[OutboundRecord, str | None]]:
        """The callbacks placed in [since, until), each with its ticket's province."""
        ...

    async def calls_in_progress(self, facility_code: str, since: datetime) -> int:
        """Citizens' calls to the facility started since `since` and not ended."""
        ...

    async def last_probe_at(self) -> dict[str, datetime]:
        """Per facility, when its last probe was placed."""
        ...


class Telephony(Protocol):
    """Placing and steering calls (the ARI client). Every method raises TelephonyError on a refusal,
    an unreachable Asterisk or a timeout; none retries by itself."""

    async def originate(
        self,
        channel_id: str,
        number: str,
        *,
        stasis_args: Sequence[str],
        recording: str | None,
        caller_id: str,
        timeout_s: int,
    ) -> None:
        """Ring `number` on a leg named `channel_id`, in our Stasis app from its creation (so its events,
        busy or unanswered included, come to us); answered, it enters the app with `stasis_args`. With
        `recording`, `record_leg` later sends it through [hotline-ari-leg] for MixMonitor into those
        files. Raises LegEndedAtOnce when Asterisk cannot even create the leg."""
        ...

    async def record_leg(self, channel_id: str) -> None:
        """Send an answered leg through the dialplan's ARI leg context (MixMonitor with the recording
        given at originate); it comes back into the app with its arguments and "recorded"."""
        ...

    async def hangup(self, channel_id: str) -> None: ...
    async def play(self, channel_id: str, sound: str, playback_id: str) -> None: ...
    async def bridge(self, bridge_id: str, channel_ids: list[str]) -> None: ...
    async def destroy_bridge(self, bridge_id: str) -> None: ...
    async def channels(self) -> dict[str, LiveLeg]:
        """Every channel Asterisk has now, by id (to reconcile after a reconnect or a restart)."""
        ...


@dataclass(frozen=True)
class LiveLeg:
    """What a reconciliation needs of a channel Asterisk still has."""

    up: bool  # answered
    recorded: bool  # in [hotline-ari-leg]'s Stasis(), its MixMonitor running


class TelephonyError(Exception):
    """Asterisk refused, could not be reached, or did not answer in time."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TelephonyGone(TelephonyError):
    """The channel or bridge no longer exists (404): the leg already ended."""


class LegEndedAtOnce(TelephonyError):
    """The leg was gone before its events could be followed (no route to the number, most often)."""
