"""Calls we place: a callback from a ticket (officer first, then the citizen, bridged, then a one-key
survey), and a test call to a facility's hotline (announcement, "press 1").

The row is written and committed before the originate that creates its first leg; every leg's channel id
derives from the row (`domain.outbound.channel_id`), so after a crash or a lost WebSocket `reconcile`
finds each leg in Asterisk's channel list and finishes or closes the row. Events reach this service as
plain method calls from the ARI adapter (`leg_answered`, `digit`, `leg_ended`, `playback_finished`);
one call's events are handled one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from callcenter.domain.access import Principal
from callcenter.domain.outbound import (
    REFUSAL_MESSAGES_VI,
    CallbackRefused,
    CallbackRules,
    Leg,
    OutboundKind,
    OutboundState,
    Outcome,
    SurveyAnswer,
    callback_recording_files,
    callback_refusal,
    channel_id,
    dialable,
    local_day_start,
    parse_channel_id,
    probe_due,
    survey_answer,
    unanswered_outcome,
)
from callcenter.domain.recordings import recording_name
from callcenter.services.errors import Conflict, NotFound, PermissionDenied
from callcenter.services.ports import UnitOfWorkFactory
from callcenter.services.ports_outbound import (
    LegEndedAtOnce,
    LiveLeg,
    OutboundExists,
    OutboundRecord,
    Telephony,
    TelephonyError,
    TelephonyGone,
)

log = structlog.get_logger(__name__)

# The Stasis app's arguments on a leg (the dialplan passes HOTLINE_ARI_ARGS through): "out,<id>,<leg>".
ARGS_TAG = "out"  # = asterisk.variables.ARI_ARGS_TAG (services do not import adapters)


@dataclass(frozen=True)
class OutboundPrompts:
    """Sound names (sounds/<lang>/, dialplan/prompts.tsv)."""

    officer_accept: str = "hotline-callback-officer"  # "Bấm phím 1 để gọi lại cho người phản ánh"
    survey: str = "hotline-callback-survey"  # "Bấm 1 nếu đã được giải quyết, bấm 2 nếu chưa"
    probe: str = "hotline-probe"  # "Đây là cuộc gọi kiểm tra... bấm phím 1"
    thanks: str = "hotline-thanks"


@dataclass(frozen=True)
class OutboundPolicy:
    tz: ZoneInfo
    caller_id: str  # the number the called party sees (the hotline's)
    rules: CallbackRules = field(default_factory=CallbackRules)
    ring_timeout_s: int = 30
    accept_timeout_s: float = 15.0  # to press 1 once answered
    survey_timeout_s: float = 10.0
    # Longest a probe may wait for a citizen's call to that facility to end before it is skipped.
    busy_window: timedelta = timedelta(hours=4)
    prompts: OutboundPrompts = field(default_factory=OutboundPrompts)
    # A callback that talked is transcribed like an incoming call: its job is queued as it is closed,
    # due once MixMonitor has closed the citizen leg's files (as CallPolicy.transcribe_after).
    transcribe: bool = True
    transcribe_after: timedelta = timedelta(seconds=10)
    transcribe_attempts: int = 3


class CallbackNotAllowed(Conflict):
    """A rule forbids the callback now; `code` names the rule for API clients (callback_night…)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.code = f"callback_{reason}"


@dataclass(frozen=True)
class ProbeStarted:
    outbound_id: int | None  # None: skipped
    skipped: str = ""  # why: "in_progress", "busy_line", "failed"


class OutboundService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        telephony: Telephony,
        policy: OutboundPolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self._uow = uow
        self._tel = telephony
        self._policy = policy
        self._clock = clock
        self._locks: dict[int, asyncio.Lock] = {}
        self._timers: dict[int, asyncio.Task[None]] = {}
        self._originating: set[int] = set()  # rows whose originate is in flight in this process
        self._continuing: set[str] = set()  # legs sent through [hotline-ari-leg] for their recording
        self._dialstatus: dict[str, str] = {}  # the last DIALSTATUS of each leg still ringing

    # --- starting a call ---------------------------------------------------------------------------

    async def request_callback(self, ticket_id: int, who: Principal, now: datetime) -> int:
        """Ring the asking officer's phone; the citizen is rung once the officer presses 1."""
        if not who.can_edit_tickets():
            raise PermissionDenied("Bạn không có quyền gọi lại / you may not place callbacks")
        async with self._uow() as uow:
            ticket = await uow.tickets.record(ticket_id)
            if ticket is None or not who.can_see_ticket(ticket.facility_code, ticket.province):
                raise NotFound("không tìm thấy phản ánh / ticket not found")
            officer = await uow.users.by_id(who.user_id)
            attempts = await uow.outbound.count_for_ticket_since(
                ticket_id, local_day_start(now.astimezone(self._policy.tz))
            )
            in_progress = any(o.state.active for o in await uow.outbound.for_ticket(ticket_id))
            refused = callback_refusal(
                self._policy.rules,
                now.astimezone(self._policy.tz),
                attempts,
                has_number=dialable(ticket.caller_number),
                has_officer_phone=officer is not None and bool(officer.phone),
                in_progress=in_progress,
            )
            if refused is not None:
                raise CallbackNotAllowed(REFUSAL_MESSAGES_VI[refused], refused.value)
            try:
                outbound_id = await uow.outbound.add(
                    OutboundKind.CALLBACK,
                    now,
                    ticket_id=ticket_id,
                    facility_code=ticket.facility_code,
                    requested_by=who.user_id,
                )
            except OutboundExists:  # another node placed one a moment ago
                raise CallbackNotAllowed(
                    REFUSAL_MESSAGES_VI[CallbackRefused.IN_PROGRESS], CallbackRefused.IN_PROGRESS.value
                ) from None
            await uow.tickets.add_event(
                ticket_id, "callback.requested", {"outbound_id": outbound_id, "by": who.username}, now
            )
            row = await uow.outbound.get(outbound_id)
            await uow.commit()
        assert officer is not None and officer.phone and row is not None
        log.info("outbound.callback_requested", outbound_id=outbound_id, ticket_id=ticket_id)
        await self._originate(row, Leg.OFFICER, officer.phone, recording=None)
        return outbound_id

    async def attempts(self, who: Principal, ticket_id: int) -> list[OutboundRecord]:
        """The callbacks of a ticket the principal may see, oldest first."""
        async with self._uow() as uow:
            ticket = await uow.tickets.record(ticket_id)
            if ticket is None or not who.can_see_ticket(ticket.facility_code, ticket.province):
                raise NotFound("không tìm thấy phản ánh / ticket not found")
            return await uow.outbound.for_ticket(ticket_id)

    async def attempts_of(
        self, who: Principal, tickets: Sequence[tuple[int, str | None, str | None]]
    ) -> dict[int, list[OutboundRecord]]:
        """The callbacks of many tickets at once, by ticket id ((id, facility code, province) each; the
        ones the principal may not see are left out): one query for a whole queue page."""
        visible = [tid for tid, code, province in tickets if who.can_see_ticket(code, province)]
        async with self._uow() as uow:
            found = await uow.outbound.for_tickets(visible)
        by_ticket: dict[int, list[OutboundRecord]] = {tid: [] for tid in visible}
        for r in found:
            if r.ticket_id is not None:
                by_ticket[r.ticket_id].append(r)
        return by_ticket

    async def probe(self, facility_code: str, now: datetime) -> ProbeStarted:
        """A test call to the facility's hotline, unless one is in progress or a citizen's call to it is."""
        async with self._uow() as uow:
            facility = await uow.facilities.by_code(facility_code)
            if facility is None:
                raise NotFound("không tìm thấy cơ sở / facility not found")
            if await uow.outbound.calls_in_progress(facility_code, now - self._policy.busy_window):
                return ProbeStarted(None, "busy_line")
            try:
                outbound_id = await uow.outbound.add(
                    OutboundKind.PROBE, now, facility_code=facility_code, number=facility.hotline
                )
            except OutboundExists:
                return ProbeStarted(None, "in_progress")
            row = await uow.outbound.get(outbound_id)
            await uow.commit()
        assert row is not None
        log.info("outbound.probe_started", outbound_id=outbound_id, facility=facility_code)
        ok = await self._originate(row, Leg.HOTLINE, facility.hotline, recording=None)
        return ProbeStarted(outbound_id, "" if ok else "failed")

    async def probe_due(self, now: datetime, every: timedelta) -> list[ProbeStarted]:
        """A test call to each facility whose last one is `every` old (give or take, `probe_due`)."""
        async with self._uow() as uow:
            facilities = await uow.facilities.all()
            last = await uow.outbound.last_probe_at()
        started = []
        for f in facilities:
            if probe_due(f.code, last.get(f.code), now, every):
                started.append(await self.probe(f.code, now))
        return started

    async def _originate(self, row: OutboundRecord, leg: Leg, number: str, *, recording: str | None) -> bool:
        self._originating.add(row.id)
        try:
            return await self._originate_leg(row, leg, number, recording=recording)
        finally:
            self._originating.discard(row.id)

    async def _originate_leg(
        self, row: OutboundRecord, leg: Leg, number: str, *, recording: str | None
    ) -> bool:
        outbound_id = row.id
        try:
            await self._tel.originate(
                _cid(row, leg),
                number,
                stasis_args=(ARGS_TAG, str(outbound_id), leg.value),
                recording=recording,
                caller_id=self._policy.caller_id,
                timeout_s=self._policy.ring_timeout_s,
            )
        except LegEndedAtOnce as exc:
            log.info("outbound.leg_ended_at_once", outbound_id=outbound_id, leg=leg, error=str(exc))
            if leg is Leg.CITIZEN:
                await self._hangup_quietly(_cid(row, Leg.OFFICER))
            await self._finish(outbound_id, Outcome.UNREACHABLE, self._clock(), leg=leg)
            return False
        except TelephonyError as exc:
            log.warning("outbound.originate_failed", outbound_id=outbound_id, leg=leg, error=str(exc))
            if leg is Leg.CITIZEN:
                await self._hangup_quietly(_cid(row, Leg.OFFICER))
            await self._finish(outbound_id, Outcome.FAILED, self._clock(), detail=f"originate: {exc}")
            return False
        await self._set(outbound_id, state=OutboundState.RINGING)
        return True

    # --- events (from the ARI adapter) -------------------------------------------------------------

    async def leg_answered(self, channel: str, now: datetime, *, recorded: bool = False) -> None:
        """A leg entered our Stasis app: it was answered (an originate to the app enters it on answer).
        `recorded`: it entered again from [hotline-ari-leg], its MixMonitor running."""
        async with self._leg(channel) as found:
            if found is None:
                if parse_channel_id(channel) is not None:
                    await self._hangup_quietly(channel)  # a leg of a call already closed, or stale
                return
            row, leg = found
            outbound_id = row.id
            p = self._policy.prompts
            if leg in (Leg.OFFICER, Leg.HOTLINE):
                ring_ms = _ms(now - row.created_at)
                await self._set(outbound_id, state=OutboundState.ACCEPTING, answered_at=now, ring_ms=ring_ms)
                await self._play(channel, p.officer_accept if leg is Leg.OFFICER else p.probe, "accept")
                self._arm(outbound_id, self._policy.accept_timeout_s, self._accept_timed_out)
            elif row.recording is not None and not recorded:
                # The citizen answered: through the dialplan once, for MixMonitor (the same files as an
                # incoming call's); the leg comes back with `recorded`. Its StasisEnd is not an end.
                self._continuing.add(channel)
                try:
                    await self._tel.record_leg(channel)
                except TelephonyError as exc:
                    self._continuing.discard(channel)
                    log.warning("outbound.record_failed", outbound_id=outbound_id, error=str(exc))
                    await self._bridge(row, channel, now)
            else:
                await self._bridge(row, channel, now)

    async def _bridge(self, row: OutboundRecord, channel: str, now: datetime) -> None:
        """The citizen answered the callback: bridge them with the waiting officer."""
        outbound_id = row.id
        self._disarm(outbound_id)
        try:
            await self._tel.bridge(_bridge_id(row), [_cid(row, Leg.OFFICER), channel])
        except TelephonyError as exc:
            log.warning("outbound.bridge_failed", outbound_id=outbound_id, error=str(exc))
            await self._hangup_quietly(channel)
            await self._hangup_quietly(_cid(row, Leg.OFFICER))
            await self._finish(outbound_id, Outcome.FAILED, now, detail=f"bridge: {exc}")
            return
        await self._set(outbound_id, state=OutboundState.TALKING, talk_started_at=now)
        log.info("outbound.callback_talking", outbound_id=outbound_id)

    async def digit(self, channel: str, digit: str, now: datetime) -> None:
        async with self._leg(channel) as found:
            if found is None:
                return
            row, leg = found
            outbound_id = row.id
            if row.state is OutboundState.ACCEPTING and digit == "1":
                self._disarm(outbound_id)
                if leg is Leg.HOTLINE:
                    await self._set(outbound_id, accepted_at=now)
                    await self._finish(outbound_id, Outcome.HUMAN, now)
                    await self._goodbye(outbound_id, channel)
                elif leg is Leg.OFFICER:
                    await self._ring_citizen(row, now)
            elif row.state is OutboundState.SURVEY and leg is Leg.CITIZEN:
                answer = survey_answer(digit)
                if answer is None:
                    return
                self._disarm(outbound_id)
                await self._finish(outbound_id, Outcome.TALKED, now, survey=answer)
                await self._goodbye(outbound_id, channel)

    async def _goodbye(self, outbound_id: int, channel: str) -> None:
        """Thank the caller, then hang up when the playback ends (or after a few seconds regardless)."""
        await self._play(channel, self._policy.prompts.thanks, "bye")
        self._arm(outbound_id, 5.0, self._hang_up_all)

    async def playback_finished(self, playback_id: str, now: datetime) -> None:
        """The goodbye was played: hang up (the timer does it anyway if this event never comes)."""
        channel, _, purpose = playback_id.rpartition(":")
        found = parse_channel_id(channel)
        if found is None or purpose != "bye":
            return
        self._disarm(found[0])
        await self._hangup_quietly(channel)

    async def dial_status(self, channel: str, status: str, now: datetime) -> None:
        """Asterisk's DIALSTATUS of a leg as it rings (the Dial event): kept for the leg's outcome."""
        if status and parse_channel_id(channel) is not None:
            self._dialstatus[channel] = status

    async def leg_left(self, channel: str, now: datetime) -> None:
        """A leg left our Stasis app (StasisEnd): its end, unless we sent it through the dialplan."""
        if channel in self._continuing:
            self._continuing.discard(channel)
            return
        await self.leg_ended(channel, None, now)

    async def leg_ended(self, channel: str, cause: int | None, now: datetime) -> None:
        """A leg is gone (ChannelDestroyed, or StasisEnd): never answered, hung up, or hung up by us.
        Both events come for an answered leg: the second finds the row moved on and changes nothing."""
        dialstatus = self._dialstatus.pop(channel, "")
        async with self._leg(channel) as found:
            if found is None:
                return
            row, leg = found
            outbound_id = row.id
            match row.state, leg:
                case OutboundState.PENDING | OutboundState.RINGING, Leg.OFFICER | Leg.HOTLINE:
                    await self._set(outbound_id, ring_ms=_ms(now - row.created_at))
                    await self._finish(
                        outbound_id, unanswered_outcome(cause, dialstatus), now, leg=leg, cause=cause
                    )
                case OutboundState.RINGING, Leg.CITIZEN:
                    # The officer is waiting on the line: let them go, with the citizen's outcome.
                    await self._hangup_quietly(_cid(row, Leg.OFFICER))
                    await self._finish(
                        outbound_id, unanswered_outcome(cause, dialstatus), now, leg=leg, cause=cause
                    )
                case OutboundState.RINGING, _:
                    pass
                case OutboundState.ACCEPTING, Leg.OFFICER | Leg.HOTLINE:
                    self._disarm(outbound_id)
                    await self._finish(outbound_id, Outcome.NO_KEY, now, leg=leg, cause=cause)
                case OutboundState.TALKING, Leg.OFFICER:
                    # The officer hung up first: ask the citizen whether the complaint was resolved.
                    await self._set(outbound_id, state=OutboundState.SURVEY, talk_s=_talk_s(row, now))
                    await self._destroy_bridge_quietly(row)
                    await self._play(_cid(row, Leg.CITIZEN), self._policy.prompts.survey, "survey")
                    self._arm(outbound_id, self._policy.survey_timeout_s, self._survey_timed_out)
                case OutboundState.TALKING, Leg.CITIZEN:
                    await self._hangup_quietly(_cid(row, Leg.OFFICER))
                    await self._destroy_bridge_quietly(row)
                    await self._finish(outbound_id, Outcome.TALKED, now, talk_s=_talk_s(row, now))
                case OutboundState.SURVEY, Leg.CITIZEN:
                    self._disarm(outbound_id)
                    await self._finish(outbound_id, Outcome.TALKED, now)
                case _:
                    pass

    @contextlib.asynccontextmanager
    async def _leg(self, channel: str) -> AsyncIterator[tuple[OutboundRecord, Leg] | None]:
        """Under the call's lock: its open row and which leg `channel` is; None for a channel that is not
        one of our legs, a call already closed, or a stale leg (same row id, another row's time)."""
        found = parse_channel_id(channel)
        if found is None:
            yield None
            return
        outbound_id, leg = found
        async with self._lock(outbound_id):
            row = await self._get(outbound_id)
            ours = row is not None and row.state.active and channel == _cid(row, leg)
            yield (row, leg) if ours and row is not None else None

    async def _ring_citizen(self, row: OutboundRecord, now: datetime) -> None:
        assert row.ticket_id is not None
        async with self._uow() as uow:
            ticket = await uow.tickets.record(row.ticket_id)
        number = "" if ticket is None else ticket.caller_number
        citizen = _cid(row, Leg.CITIZEN)
        recording = recording_name(citizen)
        await self._set(row.id, state=OutboundState.RINGING, accepted_at=now, recording=recording)
        await self._originate(row, Leg.CITIZEN, number, recording=recording)

    # --- timers --------------------------------------------------------------------------------------

    async def _accept_timed_out(self, outbound_id: int) -> None:
        async with self._lock(outbound_id):
            row = await self._get(outbound_id)
            if row is None or row.state is not OutboundState.ACCEPTING:
                return
            await self._finish(outbound_id, Outcome.NO_KEY, self._clock(), detail="no key 1")
        await self._hang_up_all(outbound_id)

    async def _survey_timed_out(self, outbound_id: int) -> None:
        async with self._lock(outbound_id):
            row = await self._get(outbound_id)
            if row is None or row.state is not OutboundState.SURVEY:
                return
            await self._finish(outbound_id, Outcome.TALKED, self._clock())
        await self._hang_up_all(outbound_id)

    async def _hang_up_all(self, outbound_id: int) -> None:
        row = await self._get(outbound_id)
        if row is None:
            return
        for leg in Leg:
            await self._hangup_quietly(_cid(row, leg))

    def _arm(self, outbound_id: int, after_s: float, action: Callable[[int], object]) -> None:
        self._disarm(outbound_id)

        async def fire() -> None:
            await asyncio.sleep(after_s)
            self._timers.pop(outbound_id, None)
            result = action(outbound_id)
            if asyncio.iscoroutine(result):
                await result

        self._timers[outbound_id] = asyncio.create_task(fire(), name=f"outbound-{outbound_id}")

    def _disarm(self, outbound_id: int) -> None:
        task = self._timers.pop(outbound_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def close(self) -> None:
        for task in list(self._timers.values()):
            task.cancel()
        for task in list(self._timers.values()):
            with contextlib.suppress(BaseException):
                await task
        self._timers.clear()

    # --- after a restart or a reconnect --------------------------------------------------------------

    async def reconcile(self, now: datetime) -> int:
        """Rows still active against the channels Asterisk has now (events are not queued while our
        socket is away, and a restart loses the timers): a row whose legs are all gone is closed (a
        lost probe as UNKNOWN, never as the hotline's failure; a callback that talked as TALKED); a
        leg answered while we were away is taken as answered now; the timers of the legs waiting for a
        key are armed again; a callback that lost one side is ended as if we had seen it go.
        Returns how many rows were closed."""
        try:
            live = await self._tel.channels()
        except TelephonyError as exc:
            log.warning("outbound.reconcile_postponed", error=str(exc))
            return 0
        async with self._uow() as uow:
            rows = await uow.outbound.active()
        closed = 0
        for row in rows:
            if row.id in self._originating or row.id in self._timers:
                continue  # this process is placing or driving it
            legs = {leg: live[_cid(row, leg)] for leg in Leg if _cid(row, leg) in live}
            if not legs:
                async with self._lock(row.id):
                    if row.talk_started_at is not None:
                        await self._finish(
                            row.id, Outcome.TALKED, now, talk_s=_talk_s(row, now), detail="lost"
                        )
                    else:
                        await self._finish(row.id, Outcome.UNKNOWN, now, detail="lost by the service")
                closed += 1
                continue
            await self._resume(row, legs, now)
        if closed:
            log.info("outbound.reconciled", closed=closed)
        return closed

    async def _resume(self, row: OutboundRecord, legs: dict[Leg, LiveLeg], now: datetime) -> None:
        """Pick up a row whose legs Asterisk still has, from what they are now."""
        first = Leg.HOTLINE if row.kind is OutboundKind.PROBE else Leg.OFFICER
        match row.state:
            case OutboundState.PENDING | OutboundState.RINGING:
                ringing = Leg.CITIZEN if row.accepted_at is not None else first
                if ringing is Leg.CITIZEN and Leg.OFFICER not in legs:  # the officer left meanwhile
                    await self._hangup_quietly(_cid(row, Leg.CITIZEN))
                    await self._finish(row.id, Outcome.UNKNOWN, now, detail="the officer left unseen")
                elif ringing in legs and legs[ringing].up:  # answered while we were away
                    await self.leg_answered(_cid(row, ringing), now, recorded=legs[ringing].recorded)
            case OutboundState.ACCEPTING:
                self._arm(row.id, self._policy.accept_timeout_s, self._accept_timed_out)
            case OutboundState.SURVEY:
                self._arm(row.id, self._policy.survey_timeout_s, self._survey_timed_out)
            case OutboundState.TALKING:
                for leg in (Leg.OFFICER, Leg.CITIZEN):
                    if leg not in legs:
                        await self.leg_ended(_cid(row, leg), None, now)
                        break
            case _:
                pass

    # --- helpers -------------------------------------------------------------------------------------

    def _lock(self, outbound_id: int) -> asyncio.Lock:
        return self._locks.setdefault(outbound_id, asyncio.Lock())

    async def _get(self, outbound_id: int) -> OutboundRecord | None:
        async with self._uow() as uow:
            return await uow.outbound.get(outbound_id)

    async def _set(self, outbound_id: int, **values: object) -> None:
        async with self._uow() as uow:
            await uow.outbound.update(outbound_id, self._clock(), **values)
            await uow.commit()

    async def _finish(
        self,
        outbound_id: int,
        outcome: Outcome,
        now: datetime,
        *,
        detail: str = "",
        leg: Leg | None = None,
        cause: int | None = None,
        talk_s: int | None = None,
        survey: SurveyAnswer | None = None,
    ) -> None:
        """Close the row once (a second close is ignored) and put the outcome on the ticket's timeline."""
        async with self._uow() as uow:
            row = await uow.outbound.get(outbound_id, for_update=True)
            if row is None or not row.state.active:
                return
            values: dict[str, object] = {"state": OutboundState.DONE, "outcome": outcome, "ended_at": now}
            if detail:
                values["detail"] = detail
            if talk_s is not None:
                values["talk_s"] = talk_s
            if survey is not None:
                values["survey"] = survey
            await uow.outbound.update(outbound_id, now, **values)
            if row.ticket_id is not None:
                event: dict[str, object] = {"outbound_id": outbound_id, "outcome": outcome.value}
                if leg is not None:
                    event["leg"] = leg.value
                if cause is not None:
                    event["cause"] = cause
                spoke = talk_s if talk_s is not None else row.talk_s
                if spoke is not None:
                    event["talk_s"] = spoke
                answer = survey or row.survey
                if answer is not None:
                    event["survey"] = answer.value
                await uow.tickets.add_event(row.ticket_id, "callback.ended", event, now)
                if row.recording is not None and row.talk_started_at is not None:
                    # MixMonitor on the citizen's leg ran: its files belong to the ticket, like the call's.
                    attached = await uow.outbound.attach_recordings(
                        row.ticket_id, outbound_id, callback_recording_files(row.recording), now
                    )
                    if attached and self._policy.transcribe:
                        await uow.jobs.enqueue_callback(
                            outbound_id,
                            row.ticket_id,
                            row.recording,
                            run_after=now + self._policy.transcribe_after,
                            max_attempts=self._policy.transcribe_attempts,
                            now=now,
                        )
            await uow.commit()
        # The row is closed: later events of its legs are no-ops, so its lock can go.
        self._locks.pop(outbound_id, None)
        log.info("outbound.finished", outbound_id=outbound_id, kind=row.kind, outcome=outcome)

    async def _play(self, channel: str, sound: str, purpose: str) -> None:
        try:
            await self._tel.play(channel, sound, f"{channel}:{purpose}")
        except TelephonyError as exc:
            log.warning("outbound.play_failed", channel=channel, sound=sound, error=str(exc))

    async def _hangup_quietly(self, channel: str) -> None:
        try:
            await self._tel.hangup(channel)
        except TelephonyGone:
            pass
        except TelephonyError as exc:
            log.warning("outbound.hangup_failed", channel=channel, error=str(exc))

    async def _destroy_bridge_quietly(self, row: OutboundRecord) -> None:
        try:
            await self._tel.destroy_bridge(_bridge_id(row))
        except TelephonyGone:
            pass
        except TelephonyError as exc:
            log.warning("outbound.bridge_destroy_failed", outbound_id=row.id, error=str(exc))


def _cid(row: OutboundRecord, leg: Leg) -> str:
    return channel_id(row.id, leg, row.created_at)


def _bridge_id(row: OutboundRecord) -> str:
    return _cid(row, Leg.OFFICER).removesuffix("-" + Leg.OFFICER.value)


def _ms(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() * 1000))


def _talk_s(row: OutboundRecord, now: datetime) -> int | None:
    if row.talk_s is not None:
        return row.talk_s
    if row.talk_started_at is None:
        return None
    return max(0, int((now - row.talk_started_at).total_seconds()))
