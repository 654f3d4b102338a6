"""The simulated Asterisk gives the wait's variables consistently with the outcomes it plays."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from callcenter.app import App
from callcenter.asterisk import variables as v
from callcenter.asterisk.emulator import Press
from callcenter.asterisk.server import FastAgiServer
from callcenter.asterisk.simulate import (
    OUTCOME_RING_MS,
    SimulatedCall,
    dialplan_after_route,
    expected_answer_wait_ms,
    simulate_call,
)
from callcenter.storage.models import CallRow


@pytest.fixture
async def server(sample_app: App) -> AsyncIterator[FastAgiServer]:
    srv = FastAgiServer(sample_app.handlers, host="127.0.0.1", port=0, handler_timeout=10, header_timeout=2)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.close()


async def _row(app: App) -> CallRow:
    async with app.uow() as uow:
        s: Any = uow.calls._s  # type: ignore[attr-defined]
        (row,) = (await s.execute(select(CallRow))).scalars()
        s.expunge_all()
    assert isinstance(row, CallRow)
    return row


@pytest.mark.parametrize(
    ("outcomes", "rating"),
    [(("answer",), None), (("busy", "noanswer", "answer"), None), (("refused", "answer"), (Press("5"),))],
)
async def test_the_stored_wait_is_the_simulated_one(
    sample_app: App, server: FastAgiServer, outcomes: tuple[str, ...], rating: Any
) -> None:
    call = SimulatedCall(digits="1001", outcomes=outcomes, rating=rating)
    result = await simulate_call("127.0.0.1", server.port, call)
    rv = result.route.variables
    timeouts = [int(rv[v.ring_timeout(n)]) for n in range(1, int(rv[v.TARGET_COUNT]) + 1)]
    expected = expected_answer_wait_ms(call, timeouts)
    assert expected is not None and expected >= OUTCOME_RING_MS["answer"]
    row = await _row(sample_app)
    assert (row.state, row.answered_index) == ("answered", len(outcomes))
    assert row.answer_wait_ms == expected


async def test_nobody_answers_no_wait(sample_app: App, server: FastAgiServer) -> None:
    call = SimulatedCall(digits="1001", outcomes=("busy", "noanswer", "noanswer", "noanswer"), voicemail=True)
    await simulate_call("127.0.0.1", server.port, call)
    row = await _row(sample_app)
    assert row.state == "unanswered" and row.answer_wait_ms is None


def test_the_simulated_dialplan_stamps_like_the_real_one() -> None:
    route = {
        v.ROUTE_OK: v.ROUTE_OK_VALUE,
        v.RECORDING: "hotline-1795380439.44",
        v.TARGET_COUNT: "3",
        **{v.ring_timeout(n): "25" for n in (1, 2, 3)},
    }
    out = dialplan_after_route(route, SimulatedCall(outcomes=("busy", "noanswer", "answer")))
    assert (out[v.ring_ms(1)], out[v.ring_ms(2)]) == ("4", "25000")
    assert v.ring_ms(3) not in out  # an answered Dial: the acceptance stamp instead
    assert int(out[v.ACCEPTED_MS]) - int(out[v.DIAL_STARTED_MS]) == OUTCOME_RING_MS["answer"]
    cancelled = dialplan_after_route(route, SimulatedCall(outcomes=("busy", "cancel")))
    assert v.ring_ms(2) not in cancelled and v.ACCEPTED_MS not in cancelled
