"""The caller's wait for a person (answer_wait_ms): the ring times of the attempts up to the answer."""

from __future__ import annotations

from callcenter.domain.call import AttemptResult, CallEndReport, CallState, answer_wait_ms, conclude
from callcenter.domain.routing import Target, TargetTier

CHAIN = (
    Target(TargetTier.DUTY_OFFICER, "0961000001", 25, "Trực"),
    Target(TargetTier.BACKUP, "0961000002", 25, "Dự phòng"),
    Target(TargetTier.LEADER, "0961000003", 30, "Lãnh đạo"),
)


def _report(
    idx: int | None,
    results: dict[int, AttemptResult],
    last: AttemptResult | None,
    ring_ms: dict[int, int],
    answered_ms: int | None = 15506,
) -> CallEndReport:
    return CallEndReport(
        routed=True,
        current_index=idx,
        results=results,
        last_status=last,
        answered_ms=answered_ms,
        hangup_cause=16,
        voicemail_file=None,
        voicemail_recorded=False,
        duration_s=20,
        ring_ms=ring_ms,
    )


def test_answered_by_the_first_target_waited_its_ring_time() -> None:
    # The caller hung up while bridged: HOTLINE_RESULT_1 unset, DIALSTATUS=ANSWER (capture 1).
    outcome = conclude(CHAIN, _report(1, {}, AttemptResult.ANSWERED, {1: 2953}))
    assert (outcome.state, outcome.answered_index, outcome.answer_wait_ms) == (CallState.ANSWERED, 1, 2953)


def test_answered_by_the_third_after_busy_and_no_answer_adds_all_three() -> None:
    results = {1: AttemptResult.BUSY, 2: AttemptResult.NO_ANSWER}
    outcome = conclude(CHAIN, _report(3, results, AttemptResult.ANSWERED, {1: 4, 2: 25_000, 3: 2953}))
    assert outcome.answered_index == 3
    assert outcome.answer_wait_ms == 4 + 25_000 + 2953


def test_a_missing_ring_time_makes_the_wait_unknown_not_guessed() -> None:
    results = {1: AttemptResult.BUSY, 2: AttemptResult.NO_ANSWER}
    outcome = conclude(CHAIN, _report(3, results, AttemptResult.ANSWERED, {1: 4, 3: 2953}))
    assert outcome.state is CallState.ANSWERED and outcome.answer_wait_ms is None
    # ... and so does a missing stamp of the answering attempt itself.
    outcome = conclude(CHAIN, _report(3, results, AttemptResult.ANSWERED, {1: 4, 2: 25_000}))
    assert outcome.answer_wait_ms is None


def test_an_unanswered_call_has_no_wait() -> None:
    results = {1: AttemptResult.BUSY, 2: AttemptResult.NO_ANSWER, 3: AttemptResult.NO_ANSWER}
    report = _report(3, results, AttemptResult.NO_ANSWER, {1: 4, 2: 25_000, 3: 30_000}, answered_ms=None)
    outcome = conclude(CHAIN, report)
    assert outcome.state is CallState.UNANSWERED and outcome.answer_wait_ms is None


def test_an_answer_without_a_bridge_is_a_refusal_and_has_no_wait() -> None:
    # GOSUB_RESULT=CONTINUE (capture 5a): DIALSTATUS=ANSWER but ANSWEREDTIME empty.
    outcome = conclude(CHAIN, _report(1, {}, AttemptResult.ANSWERED, {1: 9490}, answered_ms=None))
    assert outcome.state is not CallState.ANSWERED and outcome.answer_wait_ms is None


def test_ring_times_after_the_answer_do_not_count() -> None:
    assert answer_wait_ms(2, {1: 4, 2: 2953, 3: 99_999}) == 2957
    assert answer_wait_ms(None, {1: 4}) is None
    assert answer_wait_ms(1, {1: -5}) is None  # clocks that went backwards are not a wait


def test_a_skipped_target_waited_nothing() -> None:
    results = {1: AttemptResult.UNAVAILABLE}  # INVALIDARGS: the dialplan stores ring 0
    outcome = conclude(CHAIN, _report(2, results, AttemptResult.ANSWERED, {1: 0, 2: 3000}))
    assert outcome.answer_wait_ms == 3000


def test_other_constructors_of_a_report_keep_working() -> None:
    report = CallEndReport(True, 1, {}, AttemptResult.ANSWERED, 1000, 16, None, False, 5)
    assert report.ring_ms == {} and report.rating is None and report.rating_status is None
    assert conclude(CHAIN, report).answer_wait_ms is None
