"""call_ended works out the caller's wait from the captured dead-channel variables (SQLite and PostgreSQL).

Asterisk's own variables come from the call_ended sessions of the captures (`../shared/asterisk`). The
wait's own variables (HOTLINE_RING_MS_n, HOTLINE_DIAL_START_MS, HOTLINE_ACCEPTED_MS) are ours, set by
the dialplan, and no capture has them: the tests put them on the MemoryChannel, with the times the
captures' Asterisk logs show (capture 1: Dial at 20:47:24.842, the officer's key 1 at 27.795).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from callcenter.app import App
from callcenter.asterisk import variables as v
from callcenter.storage.models import CallRow
from tests.fakes.captures import session
from tests.fakes.memory_channel import MemoryChannel

BVDK_HOTLINE = "0968115115"  # BVDK-TH in config/sample/facilities.csv
DIAL_STARTED = 1795380444842  # capture 1: Dial("PJSIP/sipp-0000001c", ...) at 20:47:24.842
ACCEPTED = DIAL_STARTED + 2953  # Return() of [hotline-confirm] after key 1, 20:47:27.795


def captured_call_ended(scenario: str) -> dict[str, str]:
    """What GET VARIABLE returned in the scenario's call_ended session (unset variables left out)."""
    ended = session(scenario, 2)
    replies = ended.after_header.decode().splitlines()
    out: dict[str, str] = {}
    for command, reply in zip(ended.commands, replies, strict=False):
        text = command.decode().rstrip("\n")
        if not text.startswith("GET VARIABLE "):
            break
        if reply.startswith("200 result=1 ("):
            out[text.removeprefix("GET VARIABLE ")] = reply.removeprefix("200 result=1 (").removesuffix(")")
    return out


async def _routed(app: App) -> MemoryChannel:
    channel = MemoryChannel()
    channel.values["dnid"] = BVDK_HOTLINE
    await app.handlers[v.ROUTE_CALL](channel)
    assert channel.variables[v.ROUTE_OK] == "1"
    return channel


async def _ended(app: App, channel: MemoryChannel, variables: dict[str, str]) -> CallRow:
    channel.hang_up_for_call_ended()
    channel.variables.update(variables)
    await app.handlers[v.CALL_ENDED](channel)
    async with app.uow() as uow:
        s: Any = uow.calls._s  # type: ignore[attr-defined]
        (row,) = (await s.execute(select(CallRow))).scalars()
        s.expunge_all()
    assert isinstance(row, CallRow)
    return row


async def test_answered_by_the_first_target(sample_app: App) -> None:
    captured = captured_call_ended("1-answered")
    assert (captured["DIALSTATUS"], captured["ANSWEREDTIME_MS"], captured["DIALEDTIME_MS"]) == (
        "ANSWER",
        "15506",
        "15509",
    )
    channel = await _routed(sample_app)
    ours = {v.TARGET_INDEX: "1", v.DIAL_STARTED_MS: str(DIAL_STARTED), v.ACCEPTED_MS: str(ACCEPTED)}
    row = await _ended(sample_app, channel, {**captured, **ours})
    assert (row.state, row.answered_index, row.talk_ms) == ("answered", 1, 15506)
    # Not DIALEDTIME_MS - ANSWEREDTIME_MS (3 ms: the caller channel's age when route_call answered it).
    assert row.answer_wait_ms == 2953


async def test_answered_by_the_second_after_busy(sample_app: App) -> None:
    captured = captured_call_ended("2-busy")
    assert (captured["DIALSTATUS"], captured[v.result(1)]) == ("ANSWER", "BUSY")
    channel = await _routed(sample_app)
    ours = {
        v.TARGET_INDEX: "2",
        v.ring_ms(1): "4",  # capture 2: 486 four ms after the Dial started
        v.DIAL_STARTED_MS: str(DIAL_STARTED),
        v.ACCEPTED_MS: str(DIAL_STARTED + 2952),  # 20:48:06.211 -> bridged 09.163
    }
    row = await _ended(sample_app, channel, {**captured, **ours})
    assert (row.state, row.answered_index) == ("answered", 2)
    assert row.answer_wait_ms == 4 + 2952


@pytest.mark.parametrize("missing", [v.ring_ms(1), v.ACCEPTED_MS, v.DIAL_STARTED_MS])
async def test_a_missing_measure_leaves_the_wait_unknown(sample_app: App, missing: str) -> None:
    captured = captured_call_ended("2-busy")
    channel = await _routed(sample_app)
    ours = {
        v.TARGET_INDEX: "2",
        v.ring_ms(1): "4",
        v.DIAL_STARTED_MS: str(DIAL_STARTED),
        v.ACCEPTED_MS: str(DIAL_STARTED + 2952),
    }
    del ours[missing]
    row = await _ended(sample_app, channel, {**captured, **ours})
    assert row.state == "answered" and row.answer_wait_ms is None


async def test_an_unanswered_call_has_no_wait(sample_app: App) -> None:
    captured = captured_call_ended("3-noanswer")
    assert captured["DIALSTATUS"] == "NOANSWER" and captured["DIALEDTIME_MS"] == ""  # no bridge, no time
    channel = await _routed(sample_app)
    ours = {v.TARGET_INDEX: "1", v.result(1): "NOANSWER", v.ring_ms(1): "5000"}
    row = await _ended(sample_app, channel, {**captured, **ours})
    assert row.state == "unanswered" and row.answer_wait_ms is None


async def test_call_ended_asks_for_each_attempts_ring_time(sample_app: App) -> None:
    channel = await _routed(sample_app)
    await _ended(
        sample_app,
        channel,
        {v.TARGET_INDEX: "3", v.result(1): "BUSY", v.result(2): "NOANSWER", v.DIALSTATUS: "ANSWER"},
    )
    asked = [c for c in channel.commands if c.startswith("GET VARIABLE HOTLINE_RING_MS_")]
    assert asked == [f"GET VARIABLE {v.ring_ms(n)}" for n in (1, 2, 3)]


@pytest.mark.parametrize(
    ("stamps", "talk_ms"),
    [
        # The officer hung up first: [answered] stamped the end of the talk before the survey.
        ({v.TALK_END_MS: str(ACCEPTED + 9000), v.HANGUP_MS: str(ACCEPTED + 21000)}, 9000),
        # The caller hung up while talking: the hang-up handler's stamp ends the talk.
        ({v.HANGUP_MS: str(ACCEPTED + 12550)}, 12550),
        # A dialplan without the stamps: ANSWEREDTIME_MS, as before (it holds the welcome and ringing too).
        ({}, 15506),
    ],
)
async def test_talk_time_runs_from_the_officers_key_1(
    sample_app: App, stamps: dict[str, str], talk_ms: int
) -> None:
    captured = captured_call_ended("1-answered")
    channel = await _routed(sample_app)
    ours = {v.TARGET_INDEX: "1", v.DIAL_STARTED_MS: str(DIAL_STARTED), v.ACCEPTED_MS: str(ACCEPTED), **stamps}
    row = await _ended(sample_app, channel, {**captured, **ours})
    assert (row.state, row.talk_ms, row.answer_wait_ms) == ("answered", talk_ms, 2953)
