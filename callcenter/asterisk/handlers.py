"""The FastAGI entry points: one small function each, in ONE table (`entry_point_table`).

The AGI decides, the dialplan acts: these read the channel, ask the services, set variables and return.
Every Asterisk string comes from `variables`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from callcenter.asterisk import variables as v
from callcenter.asterisk.channel import AgiChannel, ChannelHungUp
from callcenter.domain.call import AttemptResult, CallEndReport
from callcenter.domain.facility import Facility
from callcenter.domain.routing import KeypadChoiceKind
from callcenter.domain.satisfaction import RatingStatus, check_rating, conclude_rating, parse_rating
from callcenter.services.calls import CallService, IncomingCall, RecordingNames

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
Handler = Callable[[AgiChannel], Awaitable[None]]

_DIALSTATUS: dict[str, AttemptResult] = {
    v.DialStatus.ANSWER: AttemptResult.ANSWERED,
    v.DialStatus.BUSY: AttemptResult.BUSY,
    v.DialStatus.NOANSWER: AttemptResult.NO_ANSWER,
    v.DialStatus.CANCEL: AttemptResult.CANCELLED,
    v.DialStatus.CONGESTION: AttemptResult.CONGESTION,
    v.DialStatus.CHANUNAVAIL: AttemptResult.UNAVAILABLE,
    v.DialStatus.DONTCALL: AttemptResult.REFUSED,
    v.DialStatus.TORTURE: AttemptResult.REFUSED,
    v.DialStatus.INVALIDARGS: AttemptResult.UNAVAILABLE,
}


@dataclass(frozen=True)
class IvrSettings:
    welcome: str
    enter_code: str
    invalid_code: str
    voicemail: str
    dial_template: str
    code_digits: int
    code_timeout_ms: int
    code_attempts: int
    # Post-call survey (rate_call): one digit 1..5, asked up to rating_attempts times.
    rating: str = "hotline-rating"
    rating_thanks: str = "hotline-thanks"
    rating_timeout_ms: int = 5000
    rating_attempts: int = 3


def incoming_call(channel: AgiChannel) -> IncomingCall:
    header = channel.header
    caller = header.callerid if header.callerid != v.UNKNOWN else ""
    name = header.calleridname if header.calleridname != v.UNKNOWN else ""
    dnid = header.dnid if header.dnid != v.UNKNOWN else ""
    return IncomingCall(
        uniqueid=header.uniqueid,
        channel=header.channel,
        caller_number=caller,
        caller_name=name,
        # The trunk may deliver the number in the extension rather than in the DNID.
        dialled_number=dnid or header.extension,
    )


class CallEntryPoints:
    def __init__(self, calls: CallService, ivr: IvrSettings, clock: Clock) -> None:
        self._calls = calls
        self._ivr = ivr
        self._now = clock

    async def route_call(self, channel: AgiChannel) -> None:
        incoming = incoming_call(channel)
        received = await self._calls.receive(incoming, self._now())
        structlog.contextvars.bind_contextvars(ticket=received.ticket_ref)
        # Saved above, so these may go on the channel now: call_ended finds the call by its id even when
        # the caller hangs up in the prompts below.
        await channel.set_variable(v.CALL_ID, received.call_id)
        await channel.set_variable(v.TICKET_REF, received.ticket_ref)
        facility = received.facility
        try:
            await channel.answer()
            # The welcome carries the recording notice: the caller hears it before MixMonitor starts.
            await channel.stream_file(self._ivr.welcome)
            if facility is None:
                facility = await self._ask_facility(channel)
        except ChannelHungUp:
            # Caller left during the prompts. The call and ticket are already saved; call_ended will say
            # it was abandoned. We still route, so the facility is known on the ticket.
            log.info("call.hangup_in_ivr", call_id=received.call_id)
            return
        route = received.route
        if route is None:  # the facility came from the keypad
            route = await self._calls.route(received, incoming.uniqueid, facility, self._now())
        # Persisted above; only now does Asterisk hear of the route. The ok marker goes last.
        await channel.set_variable(v.FACILITY_CODE, route.facility_code or "")
        await channel.set_variable(v.RECORDING, route.recording)
        await channel.set_variable(v.VOICEMAIL_PROMPT, self._ivr.voicemail)
        for n, target in enumerate(route.targets, 1):
            await channel.set_variable(v.target(n), self._ivr.dial_template.format(number=target.number))
            await channel.set_variable(v.ring_timeout(n), str(target.ring_timeout_s))
            await channel.set_variable(v.tier(n), target.tier.value)
        await channel.set_variable(v.TARGET_COUNT, str(len(route.targets)))
        await channel.set_variable(v.ROUTE_OK, v.ROUTE_OK_VALUE)

    async def _ask_facility(self, channel: AgiChannel) -> Facility | None:
        """Keypad code, with retries; the "don't know" key (and giving up) goes to the Sở Y tế line."""
        for attempt in range(1, self._ivr.code_attempts + 1):
            result = await channel.get_data(
                self._ivr.enter_code, self._ivr.code_timeout_ms, self._ivr.code_digits
            )
            choice, facility = await self._calls.choose_facility(result.digits)
            log.info("call.keypad", attempt=attempt, choice=choice.kind.value)
            if choice.kind is KeypadChoiceKind.FACILITY:
                return facility
            if choice.kind is KeypadChoiceKind.DONT_KNOW:
                return None
            if attempt < self._ivr.code_attempts:
                await channel.stream_file(self._ivr.invalid_code)
        return None

    async def call_ended(self, channel: AgiChannel) -> None:
        """Runs on the dead channel from the hangup handler: only variable commands work here."""
        incoming = replace(incoming_call(channel), call_id=await channel.get_variable(v.CALL_ID) or None)
        idx = _int(await channel.get_variable(v.TARGET_INDEX))
        results: dict[int, AttemptResult] = {}
        ring_ms: dict[int, int] = {}
        talk_ms: int | None = None
        for n in range(1, (idx or 0) + 1):
            raw = await channel.get_variable(v.result(n))
            if raw:
                results[n] = _DIALSTATUS.get(raw, AttemptResult.UNAVAILABLE)
            # Set by the dialplan after a Dial that returned without an answer (unset otherwise).
            ring = _int(await channel.get_variable(v.ring_ms(n)))
            if ring is not None:
                ring_ms[n] = ring
        status = await channel.get_variable(v.DIALSTATUS)
        if idx is not None and status == v.DialStatus.ANSWER:
            # The attempt that was answered: from its Dial's start to the officer's key 1, both stamped
            # by Asterisk's clock (DIALEDTIME_MS - ANSWEREDTIME_MS would be the caller channel's age at
            # ITS answer, 3 ms in capture 1b, not the ring time).
            started = _int(await channel.get_variable(v.DIAL_STARTED_MS))
            accepted = _int(await channel.get_variable(v.ACCEPTED_MS))
            if started is not None and accepted is not None and accepted >= started:
                ring_ms[idx] = accepted - started
            if accepted is not None:
                ended = _int(await channel.get_variable(v.TALK_END_MS)) or _int(
                    await channel.get_variable(v.HANGUP_MS)
                )
                if ended is not None and ended >= accepted:
                    talk_ms = ended - accepted
        voicemail_file = await channel.get_variable(v.VOICEMAIL_FILE)
        voicemail_status = await channel.get_variable(v.VOICEMAIL_STATUS)
        mix = await channel.get_variable(v.MIXMONITOR_FILENAME)
        recording = await channel.get_variable(v.RECORDING)
        report = CallEndReport(
            routed=(await channel.get_variable(v.ROUTE_OK)) == v.ROUTE_OK_VALUE,
            current_index=idx,
            results=results,
            last_status=_DIALSTATUS.get(status, AttemptResult.UNAVAILABLE) if status else None,
            answered_ms=_int(await channel.get_variable(v.ANSWEREDTIME_MS)),
            hangup_cause=_int(await channel.get_variable(v.HANGUPCAUSE)),
            voicemail_file=voicemail_file or None,
            voicemail_recorded=bool(voicemail_file) and voicemail_status in v.RECORD_KEPT,
            duration_s=_int(await channel.get_full_variable(v.CDR_DURATION_EXPR)),
            ring_ms=ring_ms,
            talk_ms=talk_ms,
        )
        rating, rating_status = await _rating_from_channel(channel)
        if rating_status is not None:
            # rate_call left its answer on the channel: it goes with the end, in the same transaction or
            # the same journal entry, so a database that is down for both does not lose it.
            report = replace(report, rating=rating, rating_status=rating_status)
        names = RecordingNames(mix=recording if mix else None, voicemail=voicemail_file or None)
        await self._calls.end(incoming, report, names, self._now())

    async def rate_call(self, channel: AgiChannel) -> None:
        """Post-call survey on the caller's channel, after the officer hung up (answered calls only).

        Asks for one digit 1..5, up to `rating_attempts` times. A hang-up (or silence throughout) is
        no_answer, not a low score; only keys outside 1..5 is invalid. The answer goes on the channel
        first (so call_ended can store it should the database fail here), then on the call.
        """
        call_ref = await channel.get_variable(v.CALL_ID) or channel.header.uniqueid
        entries: list[str] = []
        hung_up = False
        try:
            for _attempt in range(self._ivr.rating_attempts):
                result = await channel.get_data(self._ivr.rating, self._ivr.rating_timeout_ms, 1)
                entries.append(result.digits)
                if parse_rating(result.digits) is not None:
                    break
        except ChannelHungUp:
            hung_up = True
        answer = conclude_rating(entries, hung_up=hung_up)
        await channel.set_variable(v.RATING, str(answer.rating) if answer.rating is not None else "")
        await channel.set_variable(v.RATING_STATUS, answer.status.value)
        try:
            await self._calls.record_rating(call_ref, answer.rating, answer.status, self._now())
        except Exception:
            # The answer is on the channel: call_ended (which always runs next, from the hang-up handler)
            # carries it with the call's end, journalled if the database is still down. Thank the caller.
            log.exception("call.rating_deferred_to_call_ended", status=answer.status.value)
        if not hung_up:
            with contextlib.suppress(ChannelHungUp):
                await channel.stream_file(self._ivr.rating_thanks)


async def _rating_from_channel(channel: AgiChannel) -> tuple[int | None, RatingStatus | None]:
    """The answer rate_call left on the channel, if any and if it makes sense (else none at all)."""
    raw_status = await channel.get_variable(v.RATING_STATUS)
    if not raw_status:
        return None, None
    try:
        status = RatingStatus(raw_status)
        rating = parse_rating(await channel.get_variable(v.RATING) or "")
        check_rating(rating, status)
    except ValueError:  # garbage on the channel must not make call_ended fail
        log.warning("call.rating_on_channel_unusable", status=raw_status[:32])
        return None, None
    return rating, status


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def entry_point_table(points: CallEntryPoints) -> dict[str, Handler]:
    """THE table of FastAGI entry points (a duplicate name would raise in `server.entry_points`)."""
    from callcenter.asterisk.server import entry_points

    return entry_points(
        [
            (v.ROUTE_CALL, points.route_call),
            (v.CALL_ENDED, points.call_ended),
            (v.RATE_CALL, points.rate_call),
        ]
    )
