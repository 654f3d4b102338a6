"""A hotline call's life, as an explicit state machine, and what its end means for the ticket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from callcenter.domain.routing import Target, TargetTier
from callcenter.domain.satisfaction import RatingStatus


class CallState(StrEnum):
    RECEIVED = "received"  # route_call started: the call and its ticket exist
    ROUTED = "routed"  # the chain was handed to Asterisk
    ANSWERED = "answered"  # someone accepted (pressed 1)
    UNANSWERED = "unanswered"  # every target failed; a voicemail may have been left
    ABANDONED = "abandoned"  # the caller hung up before anyone accepted
    UNKNOWN = "unknown"  # call_ended never came; closed by reconciliation


ENDED_STATES = frozenset({CallState.ANSWERED, CallState.UNANSWERED, CallState.ABANDONED, CallState.UNKNOWN})

_TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    CallState.RECEIVED: frozenset({CallState.ROUTED, *ENDED_STATES}),
    CallState.ROUTED: ENDED_STATES,
    # An UNKNOWN call whose call_ended arrives late (the service was down for hours) is completed.
    CallState.UNKNOWN: frozenset({CallState.ANSWERED, CallState.UNANSWERED, CallState.ABANDONED}),
    CallState.ANSWERED: frozenset(),
    CallState.UNANSWERED: frozenset(),
    CallState.ABANDONED: frozenset(),
}


class InvalidTransition(ValueError):
    pass


def transition(current: CallState, new: CallState) -> CallState:
    if new not in _TRANSITIONS[current]:
        raise InvalidTransition(f"call cannot go from {current} to {new}")
    return new


class AttemptResult(StrEnum):
    """What happened when one target was dialled (the domain's view of DIALSTATUS)."""

    ANSWERED = "answered"
    BUSY = "busy"  # 486, or the person picked up and refused / did not press 1
    NO_ANSWER = "no_answer"
    UNAVAILABLE = "unavailable"  # no route, unreachable, switched off
    CONGESTION = "congestion"
    CANCELLED = "cancelled"  # the caller hung up while this target rang
    REFUSED = "refused"  # "answered" without acceptance (a voicemail or an announcement picked up)
    NOT_TRIED = "not_tried"


@dataclass(frozen=True)
class Attempt:
    index: int  # 1-based position in the chain
    target: Target
    result: AttemptResult

    @property
    def tier(self) -> TargetTier:
        return self.target.tier


@dataclass(frozen=True)
class CallEndReport:
    """What the channel says at hang-up, already translated from Asterisk's strings."""

    routed: bool  # route_call handed a chain over
    current_index: int | None  # HOTLINE_IDX: the target being dialled when the call ended
    results: dict[int, AttemptResult]  # per index, for Dials that returned to the dialplan
    last_status: AttemptResult | None  # DIALSTATUS of the last Dial, None when no Dial ran
    answered_ms: int | None  # ANSWEREDTIME_MS, only set when a bridge happened
    hangup_cause: int | None
    voicemail_file: str | None
    voicemail_recorded: bool
    duration_s: int | None
    # Per attempt index, how long the caller waited on that target (ringing and the officer's confirm
    # prompt), in ms as measured by Asterisk's clock; missing when the channel did not say.
    ring_ms: dict[int, int] = field(default_factory=dict)
    # The post-call survey's answer as rate_call left it on the channel (None: no survey ran). Carried
    # with the end so that it is stored, or journalled, with it.
    rating: int | None = None
    rating_status: RatingStatus | None = None
    # The conversation's length by Asterisk's clock (end of talk - the officer's key 1), when the
    # dialplan stamped both; else talk time falls back to answered_ms, which also holds the welcome,
    # the menu and the ringing (ANSWEREDTIME counts from the caller channel's answer).
    talk_ms: int | None = None


@dataclass(frozen=True)
class CallOutcome:
    state: CallState
    attempts: tuple[Attempt, ...]
    answered_index: int | None
    talk_ms: int | None
    needs_callback: bool
    voicemail_file: str | None
    answer_wait_ms: int | None = None


def answer_wait_ms(answered_index: int | None, ring_ms: dict[int, int]) -> int | None:
    """How long the caller waited for a person: the ring times of every attempt up to and including the
    one that answered, added up. It starts at the first Dial, so the welcome, the keypad code and the
    "connecting" prompt are NOT in it. None for a call nobody answered, and None (never a guess) when
    the ring time of any of those attempts is missing."""
    if answered_index is None:
        return None
    waits = [ring_ms.get(i) for i in range(1, answered_index + 1)]
    if any(w is None or w < 0 for w in waits):
        return None
    return sum(w for w in waits if w is not None)


def conclude(targets: Sequence[Target], report: CallEndReport) -> CallOutcome:
    """Decide what a call was, from the chain we handed over and what the channel reports.

    The Dial during which the caller hung up never returns to the dialplan, so its result is only in
    DIALSTATUS (ANSWER if they were talking, CANCEL if it was still ringing). An ANSWER with no bridge
    time is a pickup that never accepted (GOSUB_RESULT=CONTINUE in an old dialplan): not answered.
    """
    if not targets and report.current_index is not None:
        # We handed over no chain: the dialplan dialled numbers of its own (its fixed fallback), and
        # only its index tells how many.
        targets = [Target(TargetTier.FALLBACK, "", 0, "")] * max(1, report.current_index)
    results = dict(report.results)
    idx = report.current_index
    if idx is not None and idx not in results and report.last_status is not None:
        results[idx] = report.last_status
    for i, res in list(results.items()):
        if res is AttemptResult.ANSWERED and report.answered_ms is None:
            results[i] = AttemptResult.REFUSED
    attempts = tuple(Attempt(i, t, results.get(i, AttemptResult.NOT_TRIED)) for i, t in enumerate(targets, 1))
    answered = [a.index for a in attempts if a.result is AttemptResult.ANSWERED]
    if answered:
        state = CallState.ANSWERED
    elif any(a.result is AttemptResult.CANCELLED for a in attempts) or not any(
        a.result is not AttemptResult.NOT_TRIED for a in attempts
    ):
        # Nobody was dialled to the end: the caller left first (in the prompts, or while it rang).
        state = CallState.ABANDONED if not report.voicemail_recorded else CallState.UNANSWERED
    else:
        state = CallState.UNANSWERED
    return CallOutcome(
        state=state,
        attempts=attempts,
        answered_index=answered[0] if answered else None,
        talk_ms=(report.talk_ms if report.talk_ms is not None else report.answered_ms) if answered else None,
        # Whoever called and did not reach a person is called back: that is the complaint's guarantee.
        needs_callback=not answered,
        voicemail_file=report.voicemail_file if report.voicemail_recorded else None,
        answer_wait_ms=answer_wait_ms(answered[0] if answered else None, report.ring_ms),
    )
