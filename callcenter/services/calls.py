"""Use-cases of a hotline call: receive it, route it, end it, and close the ones that never ended.

Each method is one transaction, committed before it returns: Asterisk is told nothing about a call
that is not on disk yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from callcenter.domain import phone
from callcenter.domain.call import ENDED_STATES, CallEndReport, CallOutcome, CallState, conclude
from callcenter.domain.facility import Facility
from callcenter.domain.recordings import MIXMONITOR_KINDS, base_of, file_name, recording_name
from callcenter.domain.routing import KeypadChoice, Target, TargetTier, build_chain, interpret_keypad
from callcenter.domain.satisfaction import RatingStatus, check_rating
from callcenter.domain.schedule import on_duty
from callcenter.domain.ticket import Priority
from callcenter.services import journal_codec
from callcenter.services.holidays_vn import vietnam_holidays
from callcenter.services.ports import CallJournal, NewCall, UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

JOURNAL_CALL_ENDED = "call_ended"


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
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        policy: CallPolicy,
        holidays: Callable[[int, int], Collection[date]] = vietnam_holidays,
        journal: CallJournal | None = None,
    ) -> None:
        self._uow = uow
        self._policy = policy
        self._holidays = holidays
        self._journal = journal

    async def receive(self, incoming: IncomingCall, now: datetime) -> ReceivedCall:
        """Create the call and its ticket at the first second; find the facility by dialled number."""
        async with self._uow() as uow:
            existing = await uow.calls.by_uniqueid(incoming.uniqueid)
            if existing is not None and existing.state not in ENDED_STATES and existing.ticket_id is not None:
                # route_call ran again for the same live channel (a dialplan loop): keep the one ticket.
                code = existing.facility_code
                facility = await uow.facilities.by_code(code) if code else None
                return ReceivedCall(existing.id, existing.ticket_id, existing.ticket_ref or "", facility)
            if existing is not None:
                # Asterisk reuses uniqueids after a restart with a reset clock, or a test tool repeats
                # one: an ended call is never reopened; the new one is told apart by our call id.
                log.warning("call.uniqueid_reused", uniqueid=incoming.uniqueid, earlier=existing.id)
            received = await self._open(uow, incoming, now, "received", reused=existing is not None)
            await uow.commit()
        return received

    async def _open(
        self, uow: UnitOfWork, incoming: IncomingCall, now: datetime, event: str, *, reused: bool = False
    ) -> ReceivedCall:
        """Insert a call and its ticket (not committed): the one place a complaint comes into being."""
        dialled = phone.normalise(incoming.dialled_number)
        facility = None
        if dialled and dialled not in self._policy.switchboard_numbers:
            facility = await uow.facilities.by_hotline(dialled)
        code = facility.code if facility else None
        call_id = str(uuid.uuid4())
        await uow.calls.add(
            NewCall(
                id=call_id,
                uniqueid=f"{incoming.uniqueid}#{call_id[:8]}" if reused else incoming.uniqueid,
                channel=incoming.channel,
                caller_number=incoming.caller_number,
                caller_name=incoming.caller_name,
                dialled_number=dialled,
                started_at=now,
                facility_code=code,
            )
        )
        ticket_id, ref = await uow.tickets.open_for_call(
            call_id, incoming.caller_number, incoming.caller_name, code, now
        )
        await uow.tickets.add_event(ticket_id, event, {"dialled": dialled, "facility": code}, now)
        log.info(
            "call." + event,
            call_id=call_id,
            ticket=ref,
            caller=phone.mask(incoming.caller_number),
            facility=code,
        )
        return ReceivedCall(call_id, ticket_id, ref, facility)

    async def choose_facility(self, digits: str) -> tuple[KeypadChoice, Facility | None]:
        """The caller's keypad entry: a facility, "don't know", nothing, or a code nobody has."""
        facility: Facility | None = None
        if digits.strip() and digits.strip() != self._policy.dont_know_key:
            async with self._uow() as uow:
                facility = await uow.facilities.by_keypad(digits.strip())
        choice = interpret_keypad(
            digits, dont_know_key=self._policy.dont_know_key, is_known=lambda _: facility is not None
        )
        return choice, facility

    async def route(
        self, received: ReceivedCall, uniqueid: str, facility: Facility | None, now: datetime
    ) -> Route:
        """The chain of people to ring at `now`, persisted before Asterisk hears of it."""
        call_id = received.call_id
        async with self._uow() as uow:
            if facility is not None:
                year = now.astimezone(self._policy.tz).year
                duty = on_duty(
                    await uow.roster.rotations(facility.code),
                    await uow.roster.overrides(
                        facility.code, now - timedelta(days=1), now + timedelta(days=1)
                    ),
                    now,
                    tz=self._policy.tz,
                    holidays=self._holidays(year - 1, year + 1),
                )
                authority = facility.authority_line or self._policy.authority_line
            else:
                duty, authority = {}, self._policy.authority_line
            targets = build_chain(duty, authority, self._policy.ring_timeouts)
            recording = recording_name(uniqueid)
            await uow.calls.set_routed(call_id, facility.code if facility else None, targets, recording, now)
            await uow.tickets.set_facility(received.ticket_id, facility.code if facility else None, now)
            await uow.tickets.add_event(
                received.ticket_id,
                "routed",
                {"facility": facility.code if facility else None, "chain": [t.tier.value for t in targets]},
                now,
            )
            await uow.commit()
        if facility is not None and not any(t.tier is TargetTier.DUTY_OFFICER for t in targets):
            log.warning("call.roster_gap", call_id=call_id, facility=facility.code)
        log.info(
            "call.routed",
            call_id=call_id,
            facility=facility.code if facility else None,
            chain=[t.tier.value for t in targets],
        )
        return Route(call_id, received.ticket_ref, facility.code if facility else None, targets, recording)

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
        async with self._uow() as uow:
            if incoming.call_id:
                call = await uow.calls.by_id(incoming.call_id)
            else:
                call = await uow.calls.by_uniqueid(incoming.uniqueid)
            if call is None or (not incoming.call_id and call.state in ENDED_STATES - {CallState.UNKNOWN}):
                # route_call never persisted this call (the service or its database was down, or the
                # dialplan fell back): the complaint must still exist, so create it now.
                late = await self._open(uow, incoming, now, "received_late", reused=call is not None)
                call = await uow.calls.by_id(late.call_id)
                assert call is not None
            if call.state not in (CallState.RECEIVED, CallState.ROUTED, CallState.UNKNOWN):
                log.info("call.end_duplicate", call_id=call.id, state=call.state.value)
                return None
            # Without the ok marker the dialplan did not dial our chain (its fallback number, if anything),
            # even when route_call had saved one before it failed.
            targets = call.targets if report.routed else ()
            outcome = conclude(targets, report)
            await uow.calls.set_ended(
                call.id,
                outcome.state,
                outcome.attempts,
                outcome.answered_index,
                outcome.talk_ms,
                report.duration_s,
                report.hangup_cause,
                "" if report.routed else "route not handed over: the dialplan's fallback",
                now,
                answer_wait_ms=outcome.answer_wait_ms,
            )
            files: list[tuple[str, str]] = []
            if recordings.mix:
                files += [(kind, file_name(recordings.mix, kind)) for kind in MIXMONITOR_KINDS]
            if outcome.voicemail_file:
                files.append(("voicemail", f"{outcome.voicemail_file}.wav"))  # named by the dialplan
            await uow.calls.add_recordings(call.id, files, now)
            if files and self._policy.transcribe and call.ticket_id is not None:
                await uow.jobs.enqueue(
                    call.id,
                    call.ticket_id,
                    recordings.mix or base_of(f"{recordings.voicemail}.wav"),
                    run_after=now + self._policy.transcribe_after,
                    max_attempts=self._policy.transcribe_attempts,
                    now=now,
                )
            assert call.ticket_id is not None
            await uow.tickets.after_call(
                call.ticket_id,
                needs_callback=outcome.needs_callback,
                priority=Priority.NORMAL.value,
                now=now,
            )
            await uow.tickets.add_event(
                call.ticket_id,
                "call_ended",
                {
                    "state": outcome.state.value,
                    "answered_index": outcome.answered_index,
                    "attempts": [[a.index, a.tier.value, a.result.value] for a in outcome.attempts],
                    "talk_ms": outcome.talk_ms,
                    "answer_wait_ms": outcome.answer_wait_ms,
                    "voicemail": outcome.voicemail_file,
                },
                now,
            )
            if report.rating_status is not None:
                await self._rating_with_end(uow, call.id, call.ticket_id, outcome, report, now)
            await uow.commit()
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
        uow: UnitOfWork,
        call_id: str,
        ticket_id: int,
        outcome: CallOutcome,
        report: CallEndReport,
        now: datetime,
    ) -> None:
        """The survey's answer carried by call_ended (rate_call could not store it, or it did and this
        changes nothing: the first answer stored wins). Same rule as `record_rating`."""
        assert report.rating_status is not None
        if outcome.state in (CallState.UNANSWERED, CallState.ABANDONED):
            log.warning("call.rating_not_answered", call_id=call_id, state=outcome.state.value)
            return
        if await uow.calls.set_rating(call_id, report.rating, report.rating_status, now):
            await uow.tickets.add_event(
                ticket_id, "rated", {"status": report.rating_status.value, "rating": report.rating}, now
            )
            log.info("call.rated", call_id=call_id, status=report.rating_status.value, rating=report.rating)

    async def record_rating(
        self, call_id_or_uniqueid: str, rating: int | None, status: RatingStatus, now: datetime
    ) -> bool:
        """The caller's post-call rating, on the call. Idempotent: the first answer stored wins, and
        call_ended may have ended the call before or after this. False when nothing was stored (no such
        call, already rated, or a call nobody answered: the dialplan only asks answered calls)."""
        check_rating(rating, status)
        async with self._uow() as uow:
            call = await uow.calls.by_id(call_id_or_uniqueid)
            if call is None:
                call = await uow.calls.by_uniqueid(call_id_or_uniqueid)
            if call is None:
                log.warning("call.rating_no_call", call=call_id_or_uniqueid, status=status.value)
                return False
            if call.state in (CallState.UNANSWERED, CallState.ABANDONED):
                log.warning("call.rating_not_answered", call_id=call.id, state=call.state.value)
                return False
            stored = await uow.calls.set_rating(call.id, rating, status, now)
            if stored and call.ticket_id is not None:
                await uow.tickets.add_event(
                    call.ticket_id, "rated", {"status": status.value, "rating": rating}, now
                )
            await uow.commit()
        log.info("call.rated", call_id=call.id, status=status.value, rating=rating, stored=stored)
        return stored

    async def adopt_recording(self, recording: str, now: datetime) -> str:
        """A recording on disk that no call knows of: the service never heard of that call (it was down
        for all of it, and the dialplan's fallback recorded it). It still becomes a ticket, with a job to
        transcribe it, so that somebody listens; returns the ticket reference."""
        uniqueid = recording.removeprefix("hotline-")
        async with self._uow() as uow:
            received = await self._open(
                uow, IncomingCall(uniqueid, "", "", "", ""), now, "received_from_recording"
            )
            await uow.calls.set_ended(
                received.call_id,
                CallState.UNKNOWN,
                (),
                None,
                None,
                None,
                None,
                "found only as a recording on disk",
                now,
            )
            await uow.calls.add_recordings(
                received.call_id,
                [(kind, file_name(recording, kind)) for kind in MIXMONITOR_KINDS],
                now,
            )
            await uow.tickets.after_call(received.ticket_id, needs_callback=True, priority="normal", now=now)
            if self._policy.transcribe:
                await uow.jobs.enqueue(
                    received.call_id,
                    received.ticket_id,
                    recording,
                    run_after=now,
                    max_attempts=self._policy.transcribe_attempts,
                    now=now,
                )
            await uow.commit()
        log.warning("call.adopted_recording", ticket=received.ticket_ref, recording=recording)
        return received.ticket_ref

    async def reconcile(self, now: datetime) -> int:
        """Close calls whose call_ended never came (the service was down when they hung up)."""
        closed = 0
        async with self._uow() as uow:
            for call in await uow.calls.open_started_before(now - self._policy.stale_after):
                await uow.calls.set_ended(
                    call.id,
                    CallState.UNKNOWN,
                    (),
                    None,
                    None,
                    None,
                    None,
                    "call_ended never arrived; closed at start-up",
                    now,
                )
                if call.ticket_id is not None:
                    await uow.tickets.after_call(
                        call.ticket_id, needs_callback=True, priority=Priority.NORMAL.value, now=now
                    )
                    await uow.tickets.add_event(call.ticket_id, "reconciled", {"state": "unknown"}, now)
                closed += 1
            await uow.commit()
        if closed:
            log.warning("calls.reconciled", count=closed)
        return closed
