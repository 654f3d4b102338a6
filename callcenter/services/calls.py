"""Use-cases of a hotline call: receive it, route it, end it, and close the ones that never ended.

Each method is one transaction, committed before it returns: Asterisk is told nothing about a call
that is not on disk yet. A call dialled to a facility's own number costs two durable commits in all
(route_call's, call_ended's); one that goes through the keypad, three (its ticket exists from the
first second, before the caller has typed anything).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from callcenter.domain import phone
from callcenter.domain.call import ENDED_STATES, CallEndReport, CallOutcome, CallState, conclude
from callcenter.domain.facility import Facility
from callcenter.domain.recordings import MIXMONITOR_KINDS, base_of, file_name, recording_name
from callcenter.domain.routing import KeypadChoice, Target, TargetTier, build_chain, interpret_keypad
from callcenter.domain.satisfaction import RatingStatus, check_rating
from callcenter.domain.ticket import Priority
from callcenter.services import journal_codec
from callcenter.services.directory import RoutingDirectory
from callcenter.services.metrics import NO_METRICS, Metrics
from callcenter.services.ports import CallJournal, NewCall
from callcenter.services.ports_calls import CallEnd, CallPathFactory, CallPathUnit, NewJob

log = structlog.get_logger(__name__)

JOURNAL_CALL_ENDED = "call_ended"
# A unit that found the directory stale reloads it and runs again; a roster rewritten continuously
# (thousands of edits a second) would still not hold a call for long.
_STALE_RETRIES = 5


class StaleDirectory(RuntimeError):
    """The facilities or the roster changed under every attempt to use them (the handler fails, and
    the dialplan's fallback takes the call: the complaint is still created by call_ended)."""


@dataclass(frozen=True)
class IncomingCall:
    uniqueid: str
    channel: str
    caller_number: str
    caller_name: str
    dialled_number: str
    call_id: str | None = None  # ours, once route_call has set it on the channel


@dataclass(frozen=True)
class ReceivedCall:
    call_id: str
    ticket_id: int
    ticket_ref: str
    facility: Facility | None  # known from the dialled number; None: ask the caller for a code
    route: Route | None = None  # routed with its reception (the facility was known)
    again: bool = False  # route_call ran again for a live call: the call and ticket it already had


@dataclass(frozen=True)
class Route:
    call_id: str
    ticket_ref: str
    facility_code: str | None
    targets: tuple[Target, ...]
    recording: str


@dataclass(frozen=True)
class RecordingNames:
    mix: str | None  # base name of the MixMonitor files, when recording ran
    voicemail: str | None


@dataclass(frozen=True)
class CallPolicy:
    tz: ZoneInfo
    ring_timeouts: Mapping[TargetTier, int]
    switchboard_numbers: frozenset[str]
    authority_line: str
    dont_know_key: str
    stale_after: timedelta
    # Transcription jobs are queued with the call's end, in the same transaction.
    transcribe: bool = True
    transcribe_after: timedelta = timedelta(seconds=10)  # MixMonitor closes its files after call_ended
    transcribe_attempts: int = 3


class CallService:
    """The call path: each entry point is one unit of `call_path`, committed (durable) before it returns.

    Facilities and the roster come from the in-memory `directory`, checked against the database's
    routing version inside the unit that uses them: a stale directory is reloaded and the unit run again
    (nothing was written), so a roster change anywhere reaches the next call.
    """

    def __init__(
        self,
        call_path: CallPathFactory,
        directory: RoutingDirectory,
        policy: CallPolicy,
        journal: CallJournal | None = None,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._call_path = call_path
        self._directory = directory
        self._policy = policy
        self._journal = journal
        self._metrics = metrics

    async def receive(self, incoming: IncomingCall, now: datetime) -> ReceivedCall:
        """Create the call and its ticket at the first second. When the dialled number names the facility,
        the call is routed in the same transaction (`ReceivedCall.route`): one durable commit in all."""
        started = time.perf_counter()
        dialled = phone.normalise(incoming.dialled_number)
        await self._directory.ensure_loaded()
        for _ in range(_STALE_RETRIES):
            facility = self._facility_of(dialled)
            targets = await self._chain(facility, now) if facility is not None else ()
            if targets is not None:
                async with self._call_path() as unit:
                    if await unit.routing_version() == self._directory.version:
                        received = await self._receive(unit, incoming, dialled, facility, targets, now)
                        await unit.commit()
                        self._metrics.route_decided("receive", time.perf_counter() - started)
                        if not received.again:
                            code = received.facility.code if received.facility else None
                            self._metrics.call_received(code)
                        self._log_received(received, incoming, "received")
                        return received
            await self._directory.reload()
        raise StaleDirectory("the routing directory kept changing while a call was received")

    def _facility_of(self, dialled: str) -> Facility | None:
        if dialled and dialled not in self._policy.switchboard_numbers:
            return self._directory.by_hotline(dialled)
        return None

    async def _receive(
        self,
        unit: CallPathUnit,
        incoming: IncomingCall,
        dialled: str,
        facility: Facility | None,
        targets: tuple[Target, ...],
        now: datetime,
    ) -> ReceivedCall:
        existing = await unit.call_by_uniqueid(incoming.uniqueid)
        if existing is not None and existing.state not in ENDED_STATES and existing.ticket_id is not None:
            # route_call ran again for the same live channel (a dialplan loop): keep the one ticket.
            code = existing.facility_code
            known = self._directory.by_code(code) if code else None
            return ReceivedCall(existing.id, existing.ticket_id, existing.ticket_ref or "", known, again=True)
        if existing is not None:
            # Asterisk reuses uniqueids after a restart with a reset clock, or a test tool repeats
            # one: an ended call is never reopened; the new one is told apart by our call id.
            log.warning("call.uniqueid_reused", uniqueid=incoming.uniqueid, earlier=existing.id)
        route = facility is not None
        return await self._open(
            unit,
            incoming,
            dialled,
            facility,
            targets if route else None,
            now,
            "received",
            existing is not None,
        )

    async def _open(
        self,
        unit: CallPathUnit,
        incoming: IncomingCall,
        dialled: str,
        facility: Facility | None,
        targets: tuple[Target, ...] | None,
        now: datetime,
        event: str,
        reused: bool,
    ) -> ReceivedCall:
        """Insert a call and its ticket, routed to `targets` unless None (not committed): the one place a
        complaint comes into being."""
        code = facility.code if facility else None
        call_id = str(uuid.uuid4())
        uniqueid = f"{incoming.uniqueid}#{call_id[:8]}" if reused else incoming.uniqueid
        recording = recording_name(incoming.uniqueid)
        ticket_id, ref = await unit.open_call(
            NewCall(
                id=call_id,
                uniqueid=uniqueid,
                channel=incoming.channel,
                caller_number=incoming.caller_number,
                caller_name=incoming.caller_name,
                dialled_number=dialled,
                started_at=now,
                facility_code=code,
                routed_at=now if targets is not None else None,
                recording=recording if targets is not None else None,
            ),
            targets or (),
            now,
        )
        events: list[tuple[str, dict[str, Any]]] = [(event, {"dialled": dialled, "facility": code})]
        route = None
        if targets is not None:
            events.append(_routed_event(code, targets))
            route = Route(call_id, ref, code, targets, recording)
        await unit.add_events(ticket_id, events, now)
        return ReceivedCall(call_id, ticket_id, ref, facility, route)

    def _log_received(self, received: ReceivedCall, incoming: IncomingCall, event: str) -> None:
        log.info(
            "call." + event,
            call_id=received.call_id,
            ticket=received.ticket_ref,
            caller=phone.mask(incoming.caller_number),
            facility=received.facility.code if received.facility else None,
        )
        if received.route is not None:
            self._log_routed(received.route)

    def _log_routed(self, route: Route) -> None:
        if route.facility_code is not None and not any(
            t.tier is TargetTier.DUTY_OFFICER for t in route.targets
        ):
            log.warning("call.roster_gap", call_id=route.call_id, facility=route.facility_code)
        log.info(
            "call.routed",
            call_id=route.call_id,
            facility=route.facility_code,
            chain=[t.tier.value for t in route.targets],
        )

    async def _chain(self, facility: Facility | None, now: datetime) -> tuple[Target, ...] | None:
        """Who to ring at `now`, from the directory; None when its schedule moved on (reload it)."""
        if facility is None:
            return build_chain({}, self._policy.authority_line, self._policy.ring_timeouts)
        duty = self._directory.holders(facility.code, now)
        if duty is None:
            await self._directory.load_schedule(facility.code, now)
            duty = self._directory.holders(facility.code, now)
            if duty is None:
                return None
        authority = facility.authority_line or self._policy.authority_line
        return build_chain(duty, authority, self._policy.ring_timeouts)

    async def choose_facility(self, digits: str) -> tuple[KeypadChoice, Facility | None]:
        """The caller's keypad entry: a facility, "don't know", nothing, or a code nobody has."""
        facility: Facility | None = None
        if digits.strip() and digits.strip() != self._policy.dont_know_key:
            await self._directory.ensure_loaded()
            facility = self._directory.by_keypad(digits.strip())
        choice = interpret_keypad(
            digits, dont_know_key=self._policy.dont_know_key, is_known=lambda _: facility is not None
        )
        return choice, facility

    async def route(
        self, received: ReceivedCall, uniqueid: str, facility: Facility | None, now: datetime
    ) -> Route:
        """The chain of people to ring at `now`, persisted before Asterisk hears of it."""
        started = time.perf_counter()
        for attempt in range(_STALE_RETRIES):
            if facility is not None and attempt:  # reloaded: the facility as it now is
                facility = self._directory.by_code(facility.code) or facility
            targets = await self._chain(facility, now)
            if targets is not None:
                async with self._call_path() as unit:
                    if facility is None or await unit.routing_version() == self._directory.version:
                        code = facility.code if facility else None
                        recording = recording_name(uniqueid)
                        await unit.set_routed(
                            received.call_id, received.ticket_id, code, targets, recording, now
                        )
                        await unit.add_events(received.ticket_id, [_routed_event(code, targets)], now)
                        await unit.commit()
                        self._metrics.route_decided("route", time.perf_counter() - started)
                        route = Route(received.call_id, received.ticket_ref, code, targets, recording)
                        self._log_routed(route)
                        return route
            await self._directory.reload()
        raise StaleDirectory("the routing directory kept changing while a call was routed")

    async def end(
        self, incoming: IncomingCall, report: CallEndReport, recordings: RecordingNames, now: datetime
    ) -> CallOutcome | None:
        """Record how the call ended on the call and its ticket; None if it had already ended.

        If the database cannot take it (down, locked past its timeout, disk full), the end goes to the
        journal and is replayed later: a call that started always leaves a ticket.
        """
        try:
            return await self._end(incoming, report, recordings, now)
        except Exception as exc:
            if self._journal is None:
                raise
            await self._journal.append(
                JOURNAL_CALL_ENDED, journal_codec.dump_end(incoming, report, recordings, now)
            )
            log.error(
                "call.end_journaled",
                uniqueid=incoming.uniqueid,
                call_id=incoming.call_id,
                error=type(exc).__name__,
            )
            return None

    async def replay_journal(self) -> tuple[int, int]:
        """Apply the journalled call ends, oldest first; (applied, left). Stops at the first failure."""
        if self._journal is None:
            return 0, 0
        entries = await self._journal.pending()
        applied = 0
        for key, kind, payload in entries:
            if kind != JOURNAL_CALL_ENDED:
                log.error("journal.unknown_kind", entry=key, kind=kind)
                continue
            try:
                incoming, report, recordings, at = journal_codec.load_end(payload)
            except (KeyError, TypeError, ValueError) as exc:
                log.error("journal.entry_unreadable", entry=key, error=str(exc)[:200])
                continue
            try:
                await self._end(incoming, report, recordings, at)
            except Exception as exc:
                log.warning("journal.replay_stopped", entry=key, error=type(exc).__name__)
                break
            await self._journal.remove(key)
            applied += 1
        if applied:
            log.info("journal.replayed", applied=applied, left=len(entries) - applied)
        return applied, len(entries) - applied

    async def _end(
        self, incoming: IncomingCall, report: CallEndReport, recordings: RecordingNames, now: datetime
    ) -> CallOutcome | None:
        # Loaded before the unit, never inside it: on SQLite the unit holds the one writer's lock that
        # the directory's own read would wait for.
        await self._directory.ensure_loaded()
        late: ReceivedCall | None = None
        async with self._call_path() as unit:
            if incoming.call_id:
                call = await unit.call_by_id(incoming.call_id)
            else:
                call = await unit.call_by_uniqueid(incoming.uniqueid)
            if call is None or (not incoming.call_id and call.state in ENDED_STATES - {CallState.UNKNOWN}):
                # route_call never persisted this call (the service or its database was down, or the
                # dialplan fell back): the complaint must still exist, so create it now.
                dialled = phone.normalise(incoming.dialled_number)
                facility = self._facility_of(dialled)
                late = await self._open(
                    unit, incoming, dialled, facility, None, now, "received_late", call is not None
                )
                self._log_received(late, incoming, "received_late")
                call = await unit.call_by_id(late.call_id)
                assert call is not None
            if call.state not in (CallState.RECEIVED, CallState.ROUTED, CallState.UNKNOWN):
                log.info("call.end_duplicate", call_id=call.id, state=call.state.value)
                return None
            assert call.ticket_id is not None
            # Without the ok marker the dialplan did not dial our chain (its fallback number, if anything),
            # even when route_call had saved one before it failed.
            targets = call.targets if report.routed else ()
            outcome = conclude(targets, report)
            await unit.set_ended(
                call.id,
                CallEnd(
                    outcome.state,
                    outcome.attempts,
                    outcome.answered_index,
                    outcome.talk_ms,
                    report.duration_s,
                    report.hangup_cause,
                    "" if report.routed else "route not handed over: the dialplan's fallback",
                    answer_wait_ms=outcome.answer_wait_ms,
                ),
                now,
            )
            files: list[tuple[str, str]] = []
            if recordings.mix:
                files += [(kind, file_name(recordings.mix, kind)) for kind in MIXMONITOR_KINDS]
            if outcome.voicemail_file:
                files.append(("voicemail", f"{outcome.voicemail_file}.wav"))  # named by the dialplan
            await unit.add_recordings(call.id, files, now)
            if files and self._policy.transcribe:
                await unit.enqueue_job(
                    NewJob(
                        call.id,
                        call.ticket_id,
                        recordings.mix or base_of(f"{recordings.voicemail}.wav"),
                        run_after=now + self._policy.transcribe_after,
                        max_attempts=self._policy.transcribe_attempts,
                    ),
                    now,
                )
            await unit.after_call(
                call.ticket_id, needs_callback=outcome.needs_callback, priority=Priority.NORMAL.value, now=now
            )
            events: list[tuple[str, dict[str, Any]]] = [
                (
                    "call_ended",
                    {
                        "state": outcome.state.value,
                        "answered_index": outcome.answered_index,
                        "attempts": [[a.index, a.tier.value, a.result.value] for a in outcome.attempts],
                        "talk_ms": outcome.talk_ms,
                        "answer_wait_ms": outcome.answer_wait_ms,
                        "voicemail": outcome.voicemail_file,
                    },
                )
            ]
            if report.rating_status is not None:
                events += await self._rating_with_end(unit, call.id, outcome, report, now)
            await unit.add_events(call.ticket_id, events, now)
            await unit.commit()
        if late is not None:
            self._metrics.call_received(late.facility.code if late.facility else None)
        self._metrics.call_ended(call.facility_code, outcome.state.value)
        log.info(
            "call.ended",
            call_id=call.id,
            state=outcome.state.value,
            answered_index=outcome.answered_index,
            needs_callback=outcome.needs_callback,
        )
        return outcome

    @staticmethod
    async def _rating_with_end(
        unit: CallPathUnit, call_id: str, outcome: CallOutcome, report: CallEndReport, now: datetime
    ) -> list[tuple[str, dict[str, Any]]]:
        """The survey's answer carried by call_ended (rate_call could not store it, or it did and this
        changes nothing: the first answer stored wins). Same rule as `record_rating`; returns the
        ticket event to add, if any."""
        assert report.rating_status is not None
        if outcome.state in (CallState.UNANSWERED, CallState.ABANDONED):
            log.warning("call.rating_not_answered", call_id=call_id, state=outcome.state.value)
            return []
        if not await unit.set_rating(call_id, report.rating, report.rating_status, now):
            return []
        log.info("call.rated", call_id=call_id, status=report.rating_status.value, rating=report.rating)
        return [("rated", {"status": report.rating_status.value, "rating": report.rating})]

    async def record_rating(
        self, call_id_or_uniqueid: str, rating: int | None, status: RatingStatus, now: datetime
    ) -> bool:
        """The caller's post-call rating, on the call. Idempotent: the first answer stored wins, and
        call_ended may have ended the call before or after this. False when nothing was stored (no such
        call, already rated, or a call nobody answered: the dialplan only asks answered calls)."""
        check_rating(rating, status)
        async with self._call_path() as unit:
            call = await unit.call_by_id(call_id_or_uniqueid)
            if call is None:
                call = await unit.call_by_uniqueid(call_id_or_uniqueid)
            if call is None:
                log.warning("call.rating_no_call", call=call_id_or_uniqueid, status=status.value)
                return False
            if call.state in (CallState.UNANSWERED, CallState.ABANDONED):
                log.warning("call.rating_not_answered", call_id=call.id, state=call.state.value)
                return False
            stored = await unit.set_rating(call.id, rating, status, now)
            if stored and call.ticket_id is not None:
                await unit.add_events(
                    call.ticket_id, [("rated", {"status": status.value, "rating": rating})], now
                )
            await unit.commit()
        log.info("call.rated", call_id=call.id, status=status.value, rating=rating, stored=stored)
        return stored

    async def adopt_recording(self, recording: str, now: datetime) -> str:
        """A recording on disk that no call knows of: the service never heard of that call (it was down
        for all of it, and the dialplan's fallback recorded it). It still becomes a ticket, with a job to
        transcribe it, so that somebody listens; returns the ticket reference."""
        uniqueid = recording.removeprefix("hotline-")
        incoming = IncomingCall(uniqueid, "", "", "", "")
        async with self._call_path() as unit:
            received = await self._open(unit, incoming, "", None, None, now, "received_from_recording", False)
            await unit.set_ended(
                received.call_id, CallEnd(CallState.UNKNOWN, (), None, None, None, None, _ADOPTED), now
            )
            await unit.add_recordings(
                received.call_id, [(kind, file_name(recording, kind)) for kind in MIXMONITOR_KINDS], now
            )
            await unit.after_call(
                received.ticket_id, needs_callback=True, priority=Priority.NORMAL.value, now=now
            )
            if self._policy.transcribe:
                job = NewJob(
                    received.call_id, received.ticket_id, recording, now, self._policy.transcribe_attempts
                )
                await unit.enqueue_job(job, now)
            await unit.commit()
        self._metrics.call_received(None)
        self._metrics.call_ended(None, CallState.UNKNOWN.value)
        log.warning("call.adopted_recording", ticket=received.ticket_ref, recording=recording)
        return received.ticket_ref

    async def reconcile(self, now: datetime) -> int:
        """Close calls whose call_ended never came (the service was down when they hung up)."""
        closed_codes: list[str | None] = []
        async with self._call_path() as unit:
            for call in await unit.open_started_before(now - self._policy.stale_after):
                await unit.set_ended(
                    call.id, CallEnd(CallState.UNKNOWN, (), None, None, None, None, _STALE), now
                )
                if call.ticket_id is not None:
                    await unit.after_call(
                        call.ticket_id, needs_callback=True, priority=Priority.NORMAL.value, now=now
                    )
                    await unit.add_events(call.ticket_id, [("reconciled", {"state": "unknown"})], now)
                closed_codes.append(call.facility_code)
            await unit.commit()
        for code in closed_codes:
            self._metrics.call_ended(code, CallState.UNKNOWN.value)
        closed = len(closed_codes)
        if closed:
            log.warning("calls.reconciled", count=closed)
        return closed


_ADOPTED = "found only as a recording on disk"
_STALE = "call_ended never arrived; closed at start-up"


def _routed_event(code: str | None, targets: tuple[Target, ...]) -> tuple[str, dict[str, Any]]:
    return "routed", {"facility": code, "chain": [t.tier.value for t in targets]}
