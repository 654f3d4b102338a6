"""rate_call (post-call survey) through the real services and database (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from callcenter.app import App
from callcenter.asterisk import variables as v
from callcenter.asterisk.channel import DigitsResult
from callcenter.domain.satisfaction import RatingStatus
from callcenter.storage.models import CallRow, TicketEventRow
from tests.conftest import FakeClock
from tests.fakes.memory_channel import MemoryChannel

BVDK_HOTLINE = "0968115115"  # BVDK-TH in config/sample/facilities.csv
ANSWERED = {"HOTLINE_IDX": "1", "DIALSTATUS": "ANSWER", "ANSWEREDTIME_MS": "61000", "HANGUPCAUSE": "16"}


def press(digits: str) -> DigitsResult:
    return DigitsResult(digits, False)


SILENCE = DigitsResult("", True)


async def _routed(app: App) -> MemoryChannel:
    channel = MemoryChannel()
    channel.values["dnid"] = BVDK_HOTLINE
    await app.handlers[v.ROUTE_CALL](channel)
    assert channel.variables[v.ROUTE_OK] == "1"
    channel.commands.clear()
    channel.values.update(network_script=v.RATE_CALL, extension="answered", priority="2")
    return channel


async def _rate(app: App, channel: MemoryChannel, *digits: DigitsResult | None) -> None:
    channel.digits.extend(digits)
    await app.handlers[v.RATE_CALL](channel)


async def _end(app: App, channel: MemoryChannel, **channel_vars: str) -> None:
    channel.hang_up_for_call_ended()
    channel.variables.update(channel_vars)
    await app.handlers[v.CALL_ENDED](channel)


async def _call(app: App) -> CallRow:
    async with app.uow() as uow:
        session: Any = uow.calls._s  # type: ignore[attr-defined]
        (row,) = (await session.execute(select(CallRow))).scalars()
        session.expunge_all()
    assert isinstance(row, CallRow)
    return row


async def _rated_events(app: App) -> list[dict[str, Any]]:
    async with app.uow() as uow:
        session: Any = uow.calls._s  # type: ignore[attr-defined]
        rows = (await session.execute(select(TicketEventRow).where(TicketEventRow.kind == "rated"))).scalars()
        return [dict(r.detail) for r in rows]


def _get_data(channel: MemoryChannel) -> list[str]:
    return [c for c in channel.commands if c.startswith("GET DATA")]


async def test_five_is_rated_five_then_call_ended(sample_app: App, clock: FakeClock) -> None:
    channel = await _routed(sample_app)
    await _rate(sample_app, channel, press("5"))
    assert _get_data(channel) == ["GET DATA hotline-rating"]
    assert channel.commands[-1] == "STREAM FILE hotline-thanks"
    assert (channel.variables[v.RATING], channel.variables[v.RATING_STATUS]) == ("5", "rated")
    row = await _call(sample_app)
    assert (row.rating, row.rating_status, row.state) == (5, "rated", "routed")
    assert row.rated_at is not None
    await _end(sample_app, channel, **ANSWERED)
    row = await _call(sample_app)
    assert (row.rating, row.rating_status, row.state) == (5, "rated", "answered")
    assert await _rated_events(sample_app) == [{"status": "rated", "rating": 5}]


async def test_hang_up_at_the_question_is_no_answer_not_a_low_score(sample_app: App) -> None:
    channel = await _routed(sample_app)
    await _rate(sample_app, channel, None)
    assert "STREAM FILE hotline-thanks" not in channel.commands  # nobody to thank
    assert (channel.variables[v.RATING], channel.variables[v.RATING_STATUS]) == ("", "no_answer")
    await _end(sample_app, channel, **ANSWERED)
    row = await _call(sample_app)
    assert (row.rating, row.rating_status, row.state) == (None, "no_answer", "answered")


async def test_silence_on_every_try_is_no_answer(sample_app: App) -> None:
    channel = await _routed(sample_app)
    await _rate(sample_app, channel, SILENCE, SILENCE, SILENCE)
    assert len(_get_data(channel)) == 3
    row = await _call(sample_app)
    assert (row.rating, row.rating_status) == (None, "no_answer")


async def test_nine_nine_nine_is_invalid(sample_app: App) -> None:
    channel = await _routed(sample_app)
    await _rate(sample_app, channel, press("9"), press("9"), press("9"))
    assert len(_get_data(channel)) == 3
    assert channel.commands[-1] == "STREAM FILE hotline-thanks"
    row = await _call(sample_app)
    assert (row.rating, row.rating_status) == (None, "invalid")


async def test_a_wrong_key_then_a_good_one_is_rated(sample_app: App) -> None:
    channel = await _routed(sample_app)
    await _rate(sample_app, channel, press("9"), SILENCE, press("2"))
    row = await _call(sample_app)
    assert (row.rating, row.rating_status) == (2, "rated")


async def test_call_ended_first_then_rate_call(sample_app: App) -> None:
    channel = await _routed(sample_app)
    # call_ended's variables are on the same channel; rate_call's GET VARIABLE still works afterwards.
    call_id = channel.variables[v.CALL_ID]
    await _end(sample_app, channel, **ANSWERED)
    assert (await _call(sample_app)).state == "answered"
    later = MemoryChannel()
    later.variables[v.CALL_ID] = call_id
    await _rate(sample_app, later, press("4"))
    row = await _call(sample_app)
    assert (row.rating, row.rating_status, row.state) == (4, "rated", "answered")


async def test_rating_is_idempotent_first_answer_wins(sample_app: App, clock: FakeClock) -> None:
    channel = await _routed(sample_app)
    await _rate(sample_app, channel, press("3"))
    call_id = channel.variables[v.CALL_ID]
    assert not await sample_app.calls.record_rating(call_id, 5, RatingStatus.RATED, clock())
    assert not await sample_app.calls.record_rating(call_id, None, RatingStatus.NO_ANSWER, clock())
    await _end(sample_app, channel, **ANSWERED)  # call_ended sees the channel's rating: already stored
    row = await _call(sample_app)
    assert (row.rating, row.rating_status) == (3, "rated")
    assert len(await _rated_events(sample_app)) == 1


async def test_call_ended_stores_the_channel_rating_rate_call_could_not(sample_app: App) -> None:
    channel = await _routed(sample_app)
    # rate_call set the variables but its database write failed (the variables go first).
    await _end(sample_app, channel, **ANSWERED, HOTLINE_RATING="4", HOTLINE_RATING_STATUS="rated")
    row = await _call(sample_app)
    assert (row.rating, row.rating_status, row.state) == (4, "rated", "answered")


async def test_garbage_rating_on_the_channel_does_not_break_call_ended(sample_app: App) -> None:
    channel = await _routed(sample_app)
    await _end(sample_app, channel, **ANSWERED, HOTLINE_RATING="7", HOTLINE_RATING_STATUS="rated")
    row = await _call(sample_app)
    assert (row.rating, row.rating_status, row.state) == (None, None, "answered")


async def test_an_unanswered_call_is_not_rated(sample_app: App, clock: FakeClock) -> None:
    channel = await _routed(sample_app)
    call_id = channel.variables[v.CALL_ID]
    await _end(sample_app, channel, HOTLINE_IDX="4", DIALSTATUS="NOANSWER", HOTLINE_RESULT_1="NOANSWER")
    assert not await sample_app.calls.record_rating(call_id, 5, RatingStatus.RATED, clock())
    assert (await _call(sample_app)).rating_status is None


async def test_rate_call_without_a_call_id_finds_the_call_by_uniqueid(sample_app: App) -> None:
    channel = await _routed(sample_app)
    del channel.variables[v.CALL_ID]
    await _rate(sample_app, channel, press("1"))
    row = await _call(sample_app)
    assert (row.rating, row.rating_status) == (1, "rated")
