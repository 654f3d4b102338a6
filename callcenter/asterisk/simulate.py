"""Play Asterisk's side of one whole hotline call over real FastAGI: route_call, the dialplan, call_ended.

For a newcomer (`callcenter simulate`), the end-to-end tests and the benchmark. The AGI bytes come from
`emulator.AsteriskPeer` (built from the captures); the dialplan's part is modelled on
`dialplan/extensions_hotline.conf` and the variables the captures show on the dead channel.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from callcenter.asterisk import variables as v
from callcenter.asterisk.emulator import (
    CALL_ENDED_HEADER,
    ROUTE_CALL_HEADER,
    AsteriskPeer,
    DigitInput,
    HangUp,
    Press,
    Timeout,
    Transcript,
)

# What Dial leaves in DIALSTATUS for each outcome a target can have (scenarios 1-5b).
OUTCOME_STATUS = {
    "answer": v.DialStatus.ANSWER,
    "busy": v.DialStatus.BUSY,  # 486 Busy Here (scenario 2)
    "refused": v.DialStatus.BUSY,  # picked up, did not press 1: GOSUB_RESULT=BUSY (scenario 5b)
    "noanswer": v.DialStatus.NOANSWER,  # scenario 3
    "unavailable": v.DialStatus.CHANUNAVAIL,  # scenario 4
    "congestion": v.DialStatus.CONGESTION,  # 503 (scenario 4)
    "cancel": v.DialStatus.CANCEL,  # the caller hangs up while it rings
}
# How long the caller waits on a target with each outcome, in ms, as the captures show it (what the
# dialplan stores in HOTLINE_RING_MS_n, or stamps as HOTLINE_ACCEPTED_MS for the accepted one).
OUTCOME_RING_MS = {
    "answer": 2953,  # scenario 1: Dial at 24.842, 200 OK after 1.01 s, key 1 and Return at 27.795
    "busy": 4,  # scenario 2: 486 four ms after Dial started
    "congestion": 4,  # scenario 4, T3: 503 four ms after Dial started
    "unavailable": 0,  # scenario 4, T1: no contact, CHANUNAVAIL at once
    "refused": 9490,  # scenario 5b: answered after 1.0 s, Read gave up 8.49 s later
}
# route_call of scenario 1 lasted 5.446 s: the first Dial starts about then after the call came in.
FIRST_DIAL_AFTER_MS = 5446
MONITOR_DIR = "/var/spool/asterisk/monitor/hotline"
# rate_call runs in [hotline-in] `answered`, after the officer hung up (Dial option g).
RATE_CALL_HEADER: dict[str, str] = {
    **ROUTE_CALL_HEADER,
    "network_script": v.RATE_CALL,
    "request": f"agi://127.0.0.1:4573/{v.RATE_CALL}",
    "extension": "answered",
    "priority": "2",
}


@dataclass(frozen=True)
class SimulatedCall:
    caller: str = "0912345678"
    caller_name: str = "Nguyen Van A"
    dialled: str = "19009095"
    digits: str = ""  # typed at the code prompt; "" = nothing
    outcomes: Sequence[str] = ("answer",)
    voicemail: bool = False
    hangup_in_ivr: bool = False
    uniqueid: str = "1795380439.44"
    talk_ms: int = 15506
    # None: the caller hangs up while bridged (no survey). Otherwise the officer hangs up first and the
    # caller answers the survey with these inputs (Press("5"), Timeout(), HangUp()...).
    rating: Sequence[DigitInput] | None = None


@dataclass
class SimulatedResult:
    route: Transcript
    ended: Transcript
    dialplan: dict[str, str] = field(default_factory=dict)
    rated: Transcript | None = None  # the rate_call session, when the survey ran
    route_seconds: float = 0.0  # the route_call session, connect to close (what the caller waits)

    @property
    def routed(self) -> bool:
        return self.route.variables.get(v.ROUTE_OK) == v.ROUTE_OK_VALUE


def _header(base: dict[str, str], call: SimulatedCall) -> dict[str, str]:
    return {
        **base,
        "uniqueid": call.uniqueid,
        "callerid": call.caller or "unknown",
        "calleridname": call.caller_name or "unknown",
        "dnid": call.dialled,
        "extension": call.dialled if base is ROUTE_CALL_HEADER else base["extension"],
        "context": base["context"],
    }


def dialplan_after_route(route_vars: dict[str, str], call: SimulatedCall) -> dict[str, str]:
    """The variables `[hotline-in]` leaves on the caller's channel after its Dial loop."""
    out: dict[str, str] = {}
    if route_vars.get(v.ROUTE_OK) != v.ROUTE_OK_VALUE:
        return out  # hung up in the prompts: the dialplan after AGI() never ran (scenario 6)
    recording = route_vars[v.RECORDING]
    out[v.MIXMONITOR_FILENAME] = f"{MONITOR_DIR}/{recording}.wav"
    count = int(route_vars.get(v.TARGET_COUNT, "0"))
    clock_ms = _call_epoch_ms(call) + FIRST_DIAL_AFTER_MS  # Asterisk's clock (STRFTIME %s%3q)
    for n in range(1, count + 1):
        outcome = call.outcomes[n - 1] if n <= len(call.outcomes) else "noanswer"
        status = OUTCOME_STATUS[outcome]
        out[v.TARGET_INDEX] = str(n)
        out[v.DIAL_STARTED_MS] = str(clock_ms)
        out[v.DIALSTATUS] = status
        ring_ms = _ring_ms(outcome, route_vars.get(v.ring_timeout(n)))
        if status is v.DialStatus.ANSWER:
            # [hotline-confirm] stamps the officer's key 1 on the caller's channel (MASTER_CHANNEL).
            out[v.ACCEPTED_MS] = str(clock_ms + ring_ms)
            # The caller hangs up while bridged: Dial never returns, HOTLINE_RESULT_n stays unset.
            # The officer hangs up first (a survey): Dial returns (option g) and the result is set.
            out[v.ANSWEREDTIME_MS] = str(call.talk_ms)
            out[v.HANGUPCAUSE] = "16"
            if call.rating is not None:
                out[v.result(n)] = status
            return out
        if status is v.DialStatus.CANCEL:
            out[v.HANGUPCAUSE] = "127"
            return out
        out[v.result(n)] = status
        out[v.ring_ms(n)] = str(ring_ms)
        clock_ms += ring_ms
    out[v.ANSWEREDTIME_MS] = ""
    out[v.HANGUPCAUSE] = "16"
    if call.voicemail:
        out[v.VOICEMAIL_FILE] = f"{recording}-voicemail"
        out[v.VOICEMAIL_STATUS] = "HANGUP"
    return out


def _call_epoch_ms(call: SimulatedCall) -> int:
    """When the call came in, from its uniqueid (Asterisk's `epoch.sequence`)."""
    seconds = call.uniqueid.partition(".")[0]
    return int(seconds) * 1000 if seconds.isdigit() else 0


def _ring_ms(outcome: str, ring_timeout_s: str | None) -> int:
    if outcome in OUTCOME_RING_MS:
        return OUTCOME_RING_MS[outcome]
    # noanswer (scenario 3: "Nobody picked up in 5000 ms"); cancel: not stored, any value will do.
    return int(ring_timeout_s) * 1000 if ring_timeout_s and ring_timeout_s.isdigit() else 0


def expected_answer_wait_ms(call: SimulatedCall, ring_timeouts_s: Sequence[int]) -> int | None:
    """What call_ended should conclude as the caller's wait for `call` (None when nobody answers)."""
    total = 0
    for n, timeout in enumerate(ring_timeouts_s, 1):
        outcome = call.outcomes[n - 1] if n <= len(call.outcomes) else "noanswer"
        if outcome == "cancel":
            return None
        total += _ring_ms(outcome, str(timeout))
        if outcome == "answer":
            return total
    return None


def _digits(call: SimulatedCall) -> list[DigitInput]:
    if call.hangup_in_ivr:
        return [HangUp()]
    if call.digits:
        return [Press(call.digits)]
    return [Timeout()] * 5


async def simulate_call(
    host: str, port: int, call: SimulatedCall, *, idle_timeout: float = 10.0
) -> SimulatedResult:
    """`idle_timeout`: how long Asterisk's side waits for the server's next command (real Asterisk
    waits for ever; a load test raises it so that queueing is measured, not given up on)."""
    started = time.perf_counter()
    route = await AsteriskPeer(
        _header(ROUTE_CALL_HEADER, call), digits=_digits(call), idle_timeout=idle_timeout
    ).run(host, port)
    route_seconds = time.perf_counter() - started
    dialplan = dialplan_after_route(route.variables, call)
    channel = {**route.variables, **dialplan}
    rated = None
    if call.rating is not None and channel.get(v.result(int(channel.get(v.TARGET_INDEX, "0")))) == "ANSWER":
        rated = await AsteriskPeer(
            _header(RATE_CALL_HEADER, call),
            variables=channel,
            digits=call.rating,
            idle_timeout=idle_timeout,
        ).run(host, port)
        channel = dict(rated.variables)
    ended = await AsteriskPeer(
        _header(CALL_ENDED_HEADER, call),
        variables=channel,
        expressions={v.CDR_DURATION_EXPR: str(call.talk_ms // 1000 + 10)},
        idle_timeout=idle_timeout,
    ).run(host, port)
    return SimulatedResult(route, ended, dialplan, rated, route_seconds)


async def run_simulated_call(host: str, port: int, call: SimulatedCall) -> list[str]:
    """Human-readable account of the simulated call, for `callcenter simulate`."""
    result = await simulate_call(host, port, call)
    rv = result.route.variables
    lines = [f"route_call: {len(result.route.commands)} lệnh / commands"]
    lines += [f"  >> {c}" for c in result.route.commands]
    if not result.routed:
        reason = rv.get(v.AGI_FAILURE, "caller hung up" if call.hangup_in_ivr else "no route")
        lines.append(f"không có tuyến / no route ({reason}): the dialplan falls back to its fixed number")
    else:
        lines.append(
            f"phiếu / ticket {rv.get(v.TICKET_REF)}  cơ sở / facility {rv.get(v.FACILITY_CODE) or '-'}"
        )
        for n in range(1, int(rv.get(v.TARGET_COUNT, "0")) + 1):
            got = result.dialplan.get(v.result(n)) or (
                result.dialplan.get(v.DIALSTATUS) if result.dialplan.get(v.TARGET_INDEX) == str(n) else "-"
            )
            lines.append(
                f"  {n}. {rv.get(v.tier(n)):<13} {rv.get(v.target(n))}  ring {rv.get(v.ring_timeout(n))}s"
                f"  -> {got}"
            )
    if result.rated is not None:
        rv = result.rated.variables
        lines.append(f"rate_call: {rv.get(v.RATING_STATUS, '-')} {rv.get(v.RATING, '')}".rstrip())
    lines.append(
        f"call_ended: {len(result.ended.commands)} lệnh / commands, server closed: "
        f"{result.ended.server_closed}"
    )
    return lines
