"""The live board ("Bảng trực"): what each call in progress is doing now, as far as we know it.

FastAGI hears of a call twice: at route_call (received, then routed: the chain handed to Asterisk) and
at call_ended. While Asterisk dials the chain nobody tells us which target rings, so that part is an
ESTIMATE from the time the chain was handed over and the targets' ring timeouts, in order: it is
labelled "dự kiến" everywhere, never shown as fact. (A target who accepted makes the call a talk that
the estimate cannot see: it goes on "ringing" the next one.) Calls we place over ARI report their
states, so theirs are facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from callcenter.domain.call import CallState
from callcenter.domain.outbound import OutboundKind, OutboundState
from callcenter.domain.ticket import TicketScope


class LivePhase(StrEnum):
    IVR = "ivr"  # received: the welcome, the keypad code
    RINGING = "ringing"  # routed: being put through the duty chain (which target: an estimate)
    VOICEMAIL = "voicemail"  # every ring timeout has run out: most likely the voicemail (an estimate)
    SURVEY = "survey"  # the rating was given: they talked, the caller is at the survey's end


PHASE_LABELS_VI: dict[LivePhase, str] = {
    LivePhase.IVR: "Trong tổng đài tự động (IVR)",
    LivePhase.RINGING: "Đang nối máy tới người trực",
    LivePhase.VOICEMAIL: "Hộp thư thoại (dự kiến)",
    LivePhase.SURVEY: "Đã nói chuyện, đang đánh giá hài lòng",
}

TIER_LABELS_VI: dict[str, str] = {
    "duty_officer": "Cán bộ trực",
    "backup": "Trực dự phòng",
    "leader": "Trực lãnh đạo",
    "authority": "Sở Y tế",
    "fallback": "Số trực dự phòng của tổng đài",
}

OUTBOUND_KIND_LABELS_VI: dict[OutboundKind, str] = {
    OutboundKind.CALLBACK: "Gọi lại người phản ánh",
    OutboundKind.PROBE: "Gọi kiểm tra đường dây nóng",
}

OUTBOUND_STATE_LABELS_VI: dict[OutboundState, str] = {
    OutboundState.PENDING: "Đang bắt đầu gọi",
    OutboundState.RINGING: "Đang đổ chuông",
    OutboundState.ACCEPTING: "Đã nhấc máy, chờ bấm phím 1",
    OutboundState.TALKING: "Đang nói chuyện",
    OutboundState.SURVEY: "Đang hỏi kết quả giải quyết",
    OutboundState.DONE: "Đã kết thúc",
}


@dataclass(frozen=True)
class ChainStep:
    index: int  # 1-based, as call_attempts.idx
    tier: str
    officer_name: str
    ring_timeout_s: int


@dataclass(frozen=True)
class LiveCallFacts:
    """A call not ended, as the database has it."""

    call_id: str
    state: CallState
    facility_code: str | None  # the call's facility (None: still at the switchboard)
    facility_name: str | None
    started_at: datetime
    routed_at: datetime | None
    rated: bool  # the post-call survey was answered: somebody talked to the caller
    ticket_id: int | None
    ticket_ref: str | None
    # The ticket's facility and province: what the ticket list scopes by, so the board scopes by it too.
    scope_facility: str | None
    scope_province: str | None
    chain: tuple[ChainStep, ...]


@dataclass(frozen=True)
class RingEstimate:
    step: ChainStep
    of: int  # the chain's length
    until: datetime  # when its ring timeout runs out


def ring_estimate(routed_at: datetime, chain: Sequence[ChainStep], now: datetime) -> RingEstimate | None:
    """Which target is most likely ringing at `now`: the chain rung in order, each for its whole ring
    timeout, from the moment it was handed over. None once every timeout has run out (the voicemail)."""
    until = routed_at
    for step in sorted(chain, key=lambda s: s.index):
        until += timedelta(seconds=max(0, step.ring_timeout_s))
        if now < until:
            return RingEstimate(step, len(chain), until)
    return None


@dataclass(frozen=True)
class LivePosition:
    phase: LivePhase
    estimate: RingEstimate | None  # RINGING with a chain: the target most likely ringing


def position(call: LiveCallFacts, now: datetime) -> LivePosition:
    if call.rated:
        return LivePosition(LivePhase.SURVEY, None)
    if call.state is CallState.RECEIVED or call.routed_at is None:
        return LivePosition(LivePhase.IVR, None)
    if not call.chain:  # routed with no chain of ours: the dialplan's own fallback number
        return LivePosition(LivePhase.RINGING, None)
    estimate = ring_estimate(call.routed_at, call.chain, now)
    if estimate is None:
        return LivePosition(LivePhase.VOICEMAIL, None)
    return LivePosition(LivePhase.RINGING, estimate)


@dataclass(frozen=True)
class OutboundFacts:
    id: int
    kind: OutboundKind
    state: OutboundState
    facility_code: str | None
    facility_name: str | None
    ticket_id: int | None
    ticket_ref: str | None
    started_at: datetime
    state_since: datetime  # the latest of created / answered / accepted / talk started
    scope_facility: str | None
    scope_province: str | None


@dataclass(frozen=True)
class DayCount:
    """Today's calls of one (facility, province, state), as grouped by the database."""

    facility_code: str | None
    facility_name: str | None
    province: str | None
    state: CallState
    calls: int
    with_voicemail: int


@dataclass(frozen=True)
class FacilityDay:
    facility_code: str | None
    facility_name: str | None
    received: int = 0
    answered: int = 0
    abandoned: int = 0
    unanswered: int = 0  # every target failed (a voicemail may have been left)
    voicemail: int = 0  # of those, with a voicemail recorded
    in_progress: int = 0


@dataclass(frozen=True)
class BoardFacts:
    """One read of the database: every live call and outbound call, and today's counts, unscoped."""

    at: datetime
    calls: tuple[LiveCallFacts, ...]
    outbound: tuple[OutboundFacts, ...]
    today: tuple[DayCount, ...]


def day_totals(counts: Iterable[DayCount], scope: TicketScope) -> list[FacilityDay]:
    """Today's figures per facility within `scope`, busiest first; calls at the switchboard (no facility
    yet) on a line of their own."""
    out: dict[str | None, dict[str, int]] = {}
    names: dict[str | None, str | None] = {}
    for c in counts:
        if not scope.allows(c.facility_code, c.province):
            continue
        row = out.setdefault(c.facility_code, dict.fromkeys(_DAY_FIELDS, 0))
        names[c.facility_code] = c.facility_name
        row["received"] += c.calls
        match c.state:
            case CallState.ANSWERED:
                row["answered"] += c.calls
            case CallState.ABANDONED:
                row["abandoned"] += c.calls
            case CallState.UNANSWERED:
                row["unanswered"] += c.calls
                row["voicemail"] += c.with_voicemail
            case CallState.RECEIVED | CallState.ROUTED:
                row["in_progress"] += c.calls
            case CallState.UNKNOWN:
                pass  # closed by reconciliation: received, and nothing more is known
    days = [FacilityDay(code, names[code], **values) for code, values in out.items()]
    return sorted(days, key=lambda d: (-d.received, d.facility_name or "", d.facility_code or ""))


_DAY_FIELDS = ("received", "answered", "abandoned", "unanswered", "voicemail", "in_progress")
