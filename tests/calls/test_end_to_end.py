"""Whole calls over real FastAGI: Asterisk's side (built from the captures) -> our server -> database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from callcenter.app import App
from callcenter.asterisk import variables as v
from callcenter.asterisk.emulator import DigitInput, HangUp, Press, Timeout
from callcenter.asterisk.server import FastAgiServer
from callcenter.asterisk.simulate import SimulatedCall, SimulatedResult, simulate_call
from callcenter.services.tickets import TicketQueries
from callcenter.storage.models import CallRow


@pytest.fixture
async def server(sample_app: App) -> AsyncIterator[FastAgiServer]:
    srv = FastAgiServer(sample_app.handlers, host="127.0.0.1", port=0, handler_timeout=10, header_timeout=2)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.close()


async def test_keypad_call_busy_then_answered(sample_app: App, server: FastAgiServer) -> None:
    result = await simulate_call(
        "127.0.0.1", server.port, SimulatedCall(digits="1001", outcomes=("busy", "answer"))
    )
    assert result.routed
    # The captures' command shapes: ANSWER, STREAM FILE, GET DATA <prompt> <ms> <digits>.
    assert result.route.commands[0].startswith(f"SET VARIABLE {v.CALL_ID} ")
    assert result.route.commands[2:5] == [
        "ANSWER",
        'STREAM FILE hotline-welcome ""',
        "GET DATA hotline-enter-code 5000 4",
    ]
    assert result.route.commands[-1] == f'SET VARIABLE {v.ROUTE_OK} "1"'
    assert result.route.server_closed and result.ended.server_closed
    # call_ended ran on the dead channel: no channel command was sent.
    assert all(c.startswith(("GET VARIABLE", "GET FULL VARIABLE")) for c in result.ended.commands)

    tickets = await TicketQueries(sample_app.uow).latest()
    assert len(tickets) == 1
    t = tickets[0]
    assert (t.facility_code, t.call_state, t.answered_tier, t.needs_callback) == (
        "BVDK-TH",
        "answered",
        "backup",
        False,
    )
    assert t.ref == result.route.variables[v.TICKET_REF]


async def test_nobody_answers_voicemail_ticket(sample_app: App, server: FastAgiServer) -> None:
    call = SimulatedCall(
        dialled="0968115115", outcomes=("noanswer", "unavailable", "congestion", "noanswer"), voicemail=True
    )
    result = await simulate_call("127.0.0.1", server.port, call)
    assert not any(c.startswith("GET DATA") for c in result.route.commands)
    t = (await TicketQueries(sample_app.uow).latest())[0]
    assert (t.call_state, t.needs_callback) == ("unanswered", True)
    assert "voicemail" in t.recordings


async def test_caller_hangs_up_at_the_code_prompt(sample_app: App, server: FastAgiServer) -> None:
    result = await simulate_call("127.0.0.1", server.port, SimulatedCall(hangup_in_ivr=True))
    assert not result.routed and result.route.hung_up
    t = (await TicketQueries(sample_app.uow).latest())[0]
    assert (t.call_state, t.needs_callback) == ("abandoned", True)


async def test_hostile_caller_name_is_stored_as_text_and_breaks_nothing(
    sample_app: App, server: FastAgiServer
) -> None:
    name = 'A"; EXEC System rm\\ -rf "x \udcff Ñ'
    result = await simulate_call(
        "127.0.0.1", server.port, SimulatedCall(caller_name=name.replace("\udcff", "\ufffd"), digits="1002")
    )
    assert result.routed
    t = (await TicketQueries(sample_app.uow).latest())[0]
    assert t.caller_name.startswith('A"; EXEC System') and t.facility_code == "BVNHI-TH"


# --- the post-call survey (rate_call) over real FastAGI ------------------------------------------------


async def _rated_call(sample_app: App, server: FastAgiServer, *answers: DigitInput) -> SimulatedResult:
    call = SimulatedCall(dialled="0968115115", outcomes=("answer",), rating=answers)
    result = await simulate_call("127.0.0.1", server.port, call)
    assert result.rated is not None and result.rated.server_closed
    return result


async def _rating_row(sample_app: App) -> tuple[int | None, str | None, str]:
    async with sample_app.uow() as uow:
        session: Any = uow.calls._s  # type: ignore[attr-defined]
        (row,) = (await session.execute(select(CallRow))).scalars()
        return row.rating, row.rating_status, row.state


async def test_officer_hangs_up_caller_rates_five(sample_app: App, server: FastAgiServer) -> None:
    result = await _rated_call(sample_app, server, Press("5"))
    assert result.rated is not None
    commands = result.rated.commands
    assert commands[0] == f"GET VARIABLE {v.CALL_ID}"
    assert commands[1] == "GET DATA hotline-rating 5000 1"
    assert commands[-1] == 'STREAM FILE hotline-thanks ""'
    assert (result.rated.variables[v.RATING], result.rated.variables[v.RATING_STATUS]) == ("5", "rated")
    assert not result.rated.hung_up
    assert await _rating_row(sample_app) == (5, "rated", "answered")
    t = (await TicketQueries(sample_app.uow).latest())[0]
    assert (t.call_state, t.needs_callback) == ("answered", False)


async def test_caller_hangs_up_at_the_survey_is_no_answer(sample_app: App, server: FastAgiServer) -> None:
    result = await _rated_call(sample_app, server, HangUp())
    assert result.rated is not None and result.rated.hung_up
    # 200 result=-1, then HANGUP: no thanks to a dead channel, the variables still go on it.
    assert not any(c.startswith("STREAM FILE") for c in result.rated.commands)
    assert result.rated.variables[v.RATING_STATUS] == "no_answer"
    assert await _rating_row(sample_app) == (None, "no_answer", "answered")


async def test_wrong_keys_then_silence_over_fastagi(sample_app: App, server: FastAgiServer) -> None:
    result = await _rated_call(sample_app, server, Press("9"), Timeout(), Press("0"))
    assert result.rated is not None
    assert sum(c.startswith("GET DATA hotline-rating") for c in result.rated.commands) == 3
    assert await _rating_row(sample_app) == (None, "invalid", "answered")


async def test_silence_then_a_rating_over_fastagi(sample_app: App, server: FastAgiServer) -> None:
    await _rated_call(sample_app, server, Timeout(), Press("4"))
    assert await _rating_row(sample_app) == (4, "rated", "answered")


async def test_no_survey_when_the_caller_hangs_up_first(sample_app: App, server: FastAgiServer) -> None:
    call = SimulatedCall(dialled="0968115115", outcomes=("answer",))
    result = await simulate_call("127.0.0.1", server.port, call)
    assert result.rated is None
    assert await _rating_row(sample_app) == (None, None, "answered")
