"""Each hotline's health over a period (seed 001: the Ministry chases hotlines that are dead or unanswered).

A facility's hotline is assessed from the calls routed to it that STARTED in the period and from its duty
roster over the period. It is *failing* when any of these holds (each a `FailReason`):

- ``no_answer``: it had calls and none was answered ("có cuộc gọi nhưng không ai nghe máy");
- ``low_answer_rate``: at least `MIN_CALLS_FOR_RATE` calls and under `MIN_ANSWER_RATE_PERCENT` % answered;
- ``slow_answer``: the mean time to answer, over at least `MIN_CALLS_FOR_RATE` answered calls, is above
  `MAX_MEAN_WAIT_S` seconds;
- ``roster_gap``: some time of the period has no duty officer on the roster (the 24/24 rule, Chỉ thị
  09/CT-BYT; the roster as it stands now, since rotations are kept without history);
- ``not_viettel``: the registered hotline is not a Viettel mobile (seed 001, point 1).

A facility with no call in the period is not failing for lack of calls: an unused line is not a dead one.

The time to answer of an answered call is how long the caller heard ringing before an officer accepted,
summed over the chain's attempts (Asterisk's DIALEDTIME_MS and ANSWEREDTIME_MS); the welcome and the menu
are not in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from callcenter.domain.probe_health import ProbeSeries

# The registry page (/co-so) shows the last 30 days; a week without an answered call flags a hotline there.
RECENT = timedelta(days=30)
SILENT_AFTER = timedelta(days=7)
MIN_CALLS_FOR_RATE = 5
MIN_ANSWER_RATE_PERCENT = 80
MAX_MEAN_WAIT_S = 30


class FailReason(StrEnum):
    NO_ANSWER = "no_answer"
    LOW_ANSWER_RATE = "low_answer_rate"
    SLOW_ANSWER = "slow_answer"
    ROSTER_GAP = "roster_gap"
    NOT_VIETTEL = "not_viettel"


FAIL_REASON_LABELS_VI: dict[FailReason, str] = {
    FailReason.NO_ANSWER: "Có cuộc gọi nhưng không ai nghe máy",
    FailReason.LOW_ANSWER_RATE: f"Tỷ lệ nghe máy dưới {MIN_ANSWER_RATE_PERCENT}%",
    FailReason.SLOW_ANSWER: f"Thời gian chờ nghe máy trung bình trên {MAX_MEAN_WAIT_S} giây",
    FailReason.ROSTER_GAP: "Lịch trực có khoảng trống (không trực 24/24)",
    FailReason.NOT_VIETTEL: "Số đường dây nóng không phải di động Viettel",
}


@dataclass(frozen=True)
class CallCounts:
    """A facility's calls over a period, as counted by the database."""

    calls: int = 0
    answered: int = 0
    answered_by_first: int = 0
    all_failed: int = 0  # every target of the chain failed (a voicemail may have been left)
    abandoned: int = 0  # the caller hung up before anyone accepted
    mean_answer_wait_ms: float | None = None
    answered_with_wait: int = 0  # answered calls whose wait is known (the mean is over these)
    last_answered_at: datetime | None = None


@dataclass(frozen=True)
class HotlineHealth:
    facility_code: str
    facility_name: str
    hotline: str
    calls: int
    answered: int
    answered_by_first: int
    all_failed: int
    abandoned: int
    mean_answer_wait_ms: float | None
    answered_with_wait: int
    last_answered_at: datetime | None
    roster_gaps: int  # intervals of the period with no duty officer
    roster_gap_time: timedelta
    not_viettel: bool
    reasons: tuple[FailReason, ...]  # from citizens' calls and the roster only
    # The test calls of the period: their own series, never mixed into the citizens' figures above.
    probes: ProbeSeries | None = None

    @property
    def failing(self) -> bool:
        """Failing by citizens' calls or the roster (`reasons`), or by its test calls (`probes`)."""
        return bool(self.reasons) or (self.probes is not None and self.probes.failing)

    @property
    def answer_rate(self) -> Fraction | None:
        return Fraction(self.answered, self.calls) if self.calls else None

    @property
    def answer_rate_percent(self) -> float | None:
        rate = self.answer_rate
        return None if rate is None else round(float(rate * 100), 1)

    @property
    def first_answer_rate_percent(self) -> float | None:
        return round(100 * self.answered_by_first / self.calls, 1) if self.calls else None

    @property
    def mean_answer_wait_s(self) -> float | None:
        wait = self.mean_answer_wait_ms
        return None if wait is None else round(wait / 1000, 1)

    def silent(self, now: datetime) -> bool:
        """Calls but none answered, or the last answered call is older than SILENT_AFTER at `now`: the
        live warning of the registry page (seed 001: a hotline nobody answers is itself a fault)."""
        last = self.last_answered_at
        return (self.calls > 0 and self.answered == 0) or (last is not None and now - last > SILENT_AFTER)

    def as_dict(self) -> dict[str, object]:
        return {
            "facility_code": self.facility_code,
            "facility_name": self.facility_name,
            "hotline": self.hotline,
            "calls": self.calls,
            "answered": self.answered,
            "answered_by_first": self.answered_by_first,
            "all_failed": self.all_failed,
            "abandoned": self.abandoned,
            "answer_rate_percent": self.answer_rate_percent,
            "mean_answer_wait_s": self.mean_answer_wait_s,
            "answered_with_wait": self.answered_with_wait,
            "last_answered_at": self.last_answered_at.isoformat() if self.last_answered_at else None,
            "roster_gaps": self.roster_gaps,
            "roster_gap_hours": round(self.roster_gap_time.total_seconds() / 3600, 1),
            "not_viettel": self.not_viettel,
            "failing": self.failing,
            "reasons": [r.value for r in self.reasons],
            "probes": None if self.probes is None else self.probes.as_dict(),
        }


def fail_reasons(counts: CallCounts, *, roster_gaps: int, not_viettel: bool) -> tuple[FailReason, ...]:
    reasons: list[FailReason] = []
    if counts.calls > 0 and counts.answered == 0:
        reasons.append(FailReason.NO_ANSWER)
    elif (
        counts.calls >= MIN_CALLS_FOR_RATE and counts.answered * 100 < MIN_ANSWER_RATE_PERCENT * counts.calls
    ):
        reasons.append(FailReason.LOW_ANSWER_RATE)
    wait = counts.mean_answer_wait_ms
    if counts.answered_with_wait >= MIN_CALLS_FOR_RATE and wait is not None and wait > MAX_MEAN_WAIT_S * 1000:
        reasons.append(FailReason.SLOW_ANSWER)
    if roster_gaps > 0:
        reasons.append(FailReason.ROSTER_GAP)
    if not_viettel:
        reasons.append(FailReason.NOT_VIETTEL)
    return tuple(reasons)


def assess(
    facility_code: str,
    facility_name: str,
    hotline: str,
    counts: CallCounts,
    *,
    gaps: list[tuple[datetime, datetime]],
    not_viettel: bool,
    probes: ProbeSeries | None = None,
) -> HotlineHealth:
    """One facility's health from its call counts and its duty officer's roster gaps in the period."""
    if not 0 <= counts.answered_by_first <= counts.answered <= counts.calls:
        raise ValueError(f"inconsistent counts for {facility_code}: {counts}")
    gap_time = sum((end - start for start, end in gaps), timedelta())
    return HotlineHealth(
        facility_code=facility_code,
        facility_name=facility_name,
        hotline=hotline,
        calls=counts.calls,
        answered=counts.answered,
        answered_by_first=counts.answered_by_first,
        all_failed=counts.all_failed,
        abandoned=counts.abandoned,
        mean_answer_wait_ms=counts.mean_answer_wait_ms,
        answered_with_wait=counts.answered_with_wait,
        last_answered_at=counts.last_answered_at,
        roster_gaps=len(gaps),
        roster_gap_time=gap_time,
        not_viettel=not_viettel,
        reasons=fail_reasons(counts, roster_gaps=len(gaps), not_viettel=not_viettel),
        probes=probes,
    )
