"""hotline_stats: the mean time to answer per facility, counted by the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from callcenter.app import App
from callcenter.domain.call import CallState
from callcenter.domain.hotline_health import CallCounts
from callcenter.services.ports import NewCall
from callcenter.services.ports_calls import CallEnd
from tests.conftest import FakeClock


async def _call(
    app: App,
    started: datetime,
    facility: str | None,
    state: CallState,
    answered_index: int | None = None,
    wait_ms: int | None = None,
) -> None:
    call_id = str(uuid.uuid4())
    async with app.call_path() as unit:
        await unit.open_call(
            NewCall(call_id, call_id, "PJSIP/x", "0912345678", "", "19009095", started, facility),
            (),
            started,
        )
        end = CallEnd(
            state,
            (),
            answered_index,
            60_000 if state is CallState.ANSWERED else None,
            90,
            16,
            "",
            answer_wait_ms=wait_ms,
        )
        await unit.set_ended(call_id, end, started + timedelta(minutes=2))
        await unit.commit()


async def test_mean_answer_wait_over_the_answered_calls_that_have_one(app: App, clock: FakeClock) -> None:
    now = clock()
    since, until = now - timedelta(days=1), now
    t = now - timedelta(hours=2)
    await _call(app, t, "BVDK-TH", CallState.ANSWERED, 1, 2953)
    await _call(app, t, "BVDK-TH", CallState.ANSWERED, 3, 30_004)
    await _call(app, t, "BVDK-TH", CallState.ANSWERED, 2, 10_000)
    await _call(app, t, "BVDK-TH", CallState.ANSWERED, 1, None)  # a ring time was missing: not averaged
    await _call(app, t, "BVDK-TH", CallState.UNANSWERED, None, None)
    await _call(app, t, "BVDK-TH", CallState.ABANDONED, None, 99_999)  # never counted, whatever it holds
    await _call(app, t, "TTYT-QX", CallState.ANSWERED, 1, 5000)
    await _call(app, t, "TTYT-QX", CallState.ANSWERED, 1, 6001)
    await _call(app, t, "BVNHI-TH", CallState.UNANSWERED, None, None)
    await _call(app, now - timedelta(days=3), "BVDK-TH", CallState.ANSWERED, 1, 1)  # outside the period
    await _call(app, t, None, CallState.ANSWERED, 1, 1)  # no facility: not a hotline's

    async with app.uow() as uow:
        stats = await uow.calls.hotline_stats(since, until)
    bvdk = stats["BVDK-TH"]
    assert (bvdk.calls, bvdk.answered, bvdk.answered_by_first, bvdk.all_failed, bvdk.abandoned) == (
        6,
        4,
        2,
        1,
        1,
    )
    assert bvdk.answered_with_wait == 3
    assert bvdk.mean_answer_wait_ms is not None
    assert abs(bvdk.mean_answer_wait_ms - (2953 + 30_004 + 10_000) / 3) < 1e-6
    assert isinstance(bvdk.mean_answer_wait_ms, float)
    assert (stats["TTYT-QX"].mean_answer_wait_ms, stats["TTYT-QX"].answered_with_wait) == (5500.5, 2)
    # Calls, none answered with a wait: no mean, never 0.
    assert (stats["BVNHI-TH"].mean_answer_wait_ms, stats["BVNHI-TH"].answered_with_wait) == (None, 0)
    assert set(stats) == {"BVDK-TH", "TTYT-QX", "BVNHI-TH"}

    async with app.uow() as uow:
        only = await uow.calls.hotline_stats(since, until, "TTYT-QX")
        none = await uow.calls.hotline_stats(since, until, facility_code="NOPE")
    assert set(only) == {"TTYT-QX"} and only["TTYT-QX"] == stats["TTYT-QX"]
    assert none == {}


def test_counts_without_a_wait_have_no_mean() -> None:
    stats = CallCounts(calls=3, answered=2, answered_by_first=1, all_failed=1)
    assert (stats.mean_answer_wait_ms, stats.answered_with_wait) == (None, 0)
