"""The rules deciding that a hotline is failing (seed 001), at their thresholds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from callcenter.domain.hotline_health import (
    MAX_MEAN_WAIT_S,
    MIN_ANSWER_RATE_PERCENT,
    MIN_CALLS_FOR_RATE,
    CallCounts,
    FailReason,
    assess,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def health(counts: CallCounts, gaps: int = 0, not_viettel: bool = False) -> tuple[FailReason, ...]:
    spans = [(T0 + timedelta(hours=2 * i), T0 + timedelta(hours=2 * i + 1)) for i in range(gaps)]
    return assess("F", "Cơ sở F", "0968115115", counts, gaps=spans, not_viettel=not_viettel).reasons


def test_a_quiet_line_is_not_a_dead_line() -> None:
    h = assess("F", "F", "0968115115", CallCounts(), gaps=[], not_viettel=False)
    assert h.reasons == () and not h.failing
    assert (h.answer_rate, h.answer_rate_percent, h.mean_answer_wait_s) == (None, None, None)


def test_calls_and_no_answer_fail_even_below_the_rate_minimum() -> None:
    assert health(CallCounts(calls=1, all_failed=1)) == (FailReason.NO_ANSWER,)
    assert health(CallCounts(calls=1, answered=1, answered_by_first=1)) == ()


def test_answer_rate_threshold_is_inclusive_and_needs_enough_calls() -> None:
    n = MIN_CALLS_FOR_RATE * 4  # 20 calls: 80 % is 16
    at_threshold = n * MIN_ANSWER_RATE_PERCENT // 100
    assert health(CallCounts(calls=n, answered=at_threshold)) == ()
    assert health(CallCounts(calls=n, answered=at_threshold - 1)) == (FailReason.LOW_ANSWER_RATE,)
    few = MIN_CALLS_FOR_RATE - 1
    assert health(CallCounts(calls=few, answered=1)) == ()


def test_slow_answer_over_enough_answered_calls() -> None:
    limit_ms = MAX_MEAN_WAIT_S * 1000
    base = CallCounts(calls=10, answered=10, answered_by_first=10, answered_with_wait=MIN_CALLS_FOR_RATE)
    assert health(CallCounts(**{**base.__dict__, "mean_answer_wait_ms": float(limit_ms)})) == ()
    slow = {**base.__dict__, "mean_answer_wait_ms": limit_ms + 1.0}
    assert health(CallCounts(**slow)) == (FailReason.SLOW_ANSWER,)
    assert health(CallCounts(**{**slow, "answered_with_wait": MIN_CALLS_FOR_RATE - 1})) == ()


def test_roster_gaps_and_a_non_viettel_line_fail_without_any_call() -> None:
    assert health(CallCounts(), gaps=2) == (FailReason.ROSTER_GAP,)
    assert health(CallCounts(), not_viettel=True) == (FailReason.NOT_VIETTEL,)
    h = assess(
        "F", "F", "02373863115", CallCounts(calls=2), gaps=[(T0, T0 + timedelta(hours=3))], not_viettel=True
    )
    assert h.reasons == (FailReason.NO_ANSWER, FailReason.ROSTER_GAP, FailReason.NOT_VIETTEL)
    assert (h.roster_gaps, h.roster_gap_time) == (1, timedelta(hours=3))
    assert h.as_dict()["roster_gap_hours"] == 3.0 and h.as_dict()["failing"] is True


def test_rates_are_exact() -> None:
    h = assess(
        "F",
        "F",
        "0968115115",
        CallCounts(
            calls=3, answered=2, answered_by_first=1, mean_answer_wait_ms=12345.0, answered_with_wait=2
        ),
        gaps=[],
        not_viettel=False,
    )
    assert h.answer_rate == Fraction(2, 3) and h.answer_rate_percent == 66.7
    assert h.first_answer_rate_percent == 33.3 and h.mean_answer_wait_s == 12.3


def test_inconsistent_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        assess("F", "F", "x", CallCounts(calls=1, answered=2), gaps=[], not_viettel=False)
