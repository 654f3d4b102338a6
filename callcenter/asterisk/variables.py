"""Every Asterisk string the service speaks: channel variables, entry points, DIALSTATUS values.

The dialplan in `dialplan/` and `dialplan/README.md` use exactly these names; a test checks that the
dialplan and this module agree. Nothing else in the code base spells an Asterisk variable by hand.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

# --- FastAGI entry points (the path of `AGI(agi://host:port/<name>)`) --------------------------------
ROUTE_CALL: Final = "route_call"
CALL_ENDED: Final = "call_ended"
RATE_CALL: Final = "rate_call"  # post-call survey, run by the dialplan after the officer hung up

# --- Set by route_call on the caller's channel ------------------------------------------------------
CALL_ID: Final = "HOTLINE_CALL_ID"  # our call id (also the ticket's call)
TICKET_REF: Final = "HOTLINE_TICKET"  # human ticket reference, e.g. PA-20261122-0007
FACILITY_CODE: Final = "HOTLINE_FACILITY_CODE"
TARGET_COUNT: Final = "HOTLINE_TARGET_COUNT"
RECORDING: Final = "HOTLINE_RECORDING"  # base name of the recordings, without directory or extension
VOICEMAIL_PROMPT: Final = "HOTLINE_VOICEMAIL_PROMPT"
ROUTE_OK: Final = "HOTLINE_ROUTE_OK"  # set LAST, to "1": without it the dialplan falls back
ROUTE_OK_VALUE: Final = "1"
# Set by the FastAGI server when a handler failed, timed out or the script name was unknown, so the
# dialplan (and Asterisk's log) shows why the route is missing: "timeout", "error", "unknown_script", "busy".
AGI_FAILURE: Final = "HOTLINE_AGI_FAILURE"


def target(n: int) -> str:
    """Dial string of the n-th target (1-based), e.g. ``PJSIP/0961234567@trunk``."""
    return f"HOTLINE_TARGET_{n}"


def ring_timeout(n: int) -> str:
    """Seconds the n-th target rings before Dial gives up on it."""
    return f"HOTLINE_RING_TIMEOUT_{n}"


def tier(n: int) -> str:
    """Which tier of the chain the n-th target is (duty_officer, backup, leader, authority)."""
    return f"HOTLINE_TIER_{n}"


# --- Set by the dialplan, read by call_ended ---------------------------------------------------------
TARGET_INDEX: Final = "HOTLINE_IDX"  # index of the target being / last dialled


def result(n: int) -> str:
    """DIALSTATUS of the n-th attempt, set by the dialplan after Dial returns to it."""
    return f"HOTLINE_RESULT_{n}"


def ring_ms(n: int) -> str:
    """How long the caller waited on the n-th attempt, in ms by Asterisk's clock, for a Dial that returned
    to the dialplan without an answer (0 for a target skipped as INVALIDARGS)."""
    return f"HOTLINE_RING_MS_{n}"


# Epoch milliseconds by Asterisk's clock (`${STRFTIME(,,%s%3q)}`): when the current Dial started (set by
# the dialplan right before each Dial), and when an officer pressed 1 (set from the called channel by
# [hotline-confirm] through MASTER_CHANNEL()). DIALEDTIME_MS cannot give these: app_dial sets it only
# after a bridge, as the CALLER channel's age (captures 1 and 3), not the time the target rang.
DIAL_STARTED_MS: Final = "HOTLINE_DIAL_START_MS"
ACCEPTED_MS: Final = "HOTLINE_ACCEPTED_MS"
TALK_END_MS: Final = "HOTLINE_TALK_END_MS"  # set in [answered] when the officer hung up first
HANGUP_MS: Final = "HOTLINE_HANGUP_MS"  # set by the hang-up handler before call_ended

VOICEMAIL_FILE: Final = "HOTLINE_VOICEMAIL_FILE"  # base name of the voicemail recording, if any
VOICEMAIL_STATUS: Final = "RECORD_STATUS"  # set by Record() (app_record.c)
# RECORD_STATUS values after which the message is on disk (Record's `k` option keeps it on hang-up):
# the caller hung up or pressed a key to end it, or it ended on silence or the maximum length.
# SKIP (channel not up) and ERROR leave nothing.
RECORD_KEPT: Final = frozenset({"HANGUP", "DTMF", "SILENCE", "TIMEOUT"})

# --- Set by rate_call (post-call survey, answered calls only), read by the dialplan's log and call_ended
RATING: Final = "HOTLINE_RATING"  # the digit 1..5, "" when there is none
RATING_STATUS: Final = "HOTLINE_RATING_STATUS"  # rated | no_answer | invalid (domain.satisfaction)

# --- Asterisk's own variables -----------------------------------------------------------------------
DIALSTATUS: Final = "DIALSTATUS"
ANSWEREDTIME_MS: Final = "ANSWEREDTIME_MS"
DIALEDTIME_MS: Final = "DIALEDTIME_MS"
RINGTIME_MS: Final = "RINGTIME_MS"
DIALEDPEERNUMBER: Final = "DIALEDPEERNUMBER"
HANGUPCAUSE: Final = "HANGUPCAUSE"
MIXMONITOR_FILENAME: Final = "MIXMONITOR_FILENAME"
AGISTATUS: Final = "AGISTATUS"
CDR_DURATION_EXPR: Final = "${CDR(duration)}"
CDR_BILLSEC_EXPR: Final = "${CDR(billsec)}"

# Values Asterisk uses for "no caller id" in the AGI header.
UNKNOWN: Final = "unknown"


class DialStatus(StrEnum):
    """Values of DIALSTATUS (app_dial)."""

    ANSWER = "ANSWER"
    BUSY = "BUSY"
    NOANSWER = "NOANSWER"
    CANCEL = "CANCEL"
    CONGESTION = "CONGESTION"
    CHANUNAVAIL = "CHANUNAVAIL"
    DONTCALL = "DONTCALL"
    TORTURE = "TORTURE"
    INVALIDARGS = "INVALIDARGS"


# --- ARI: the legs of the calls we place (callbacks, test calls) --------------------------------------
# We originate each leg into this dialplan context; answered, it starts MixMonitor when HOTLINE_RECORDING
# is set (the same files as an incoming call's) and enters Stasis(${HOTLINE_ARI_APP},${HOTLINE_ARI_ARGS}).
ARI_LEG_CONTEXT: Final = "hotline-ari-leg"
ARI_ARGS: Final = "HOTLINE_ARI_ARGS"  # "out,<outbound id>,<leg>": the Stasis app's arguments
ARI_APP: Final = "HOTLINE_ARI_APP"  # our Stasis application (a global; we also set it on the leg)
ARI_ARGS_TAG: Final = "out"  # first Stasis argument of our legs; other channels in the app are not ours
ARI_RECORDED_TAG: Final = "recorded"  # last argument when a leg comes back from [hotline-ari-leg]
