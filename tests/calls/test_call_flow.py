"""route_call and call_ended through the real services and database (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from callcenter.app import App, build_app
from callcenter.asterisk import variables as v
from callcenter.asterisk.channel import DigitsResult
from callcenter.services.tickets import TicketQueries
from callcenter.settings import Settings
from callcenter.storage.models import CallAttemptRow, CallRow, TicketRow
from tests.conftest import FakeClock
from tests.fakes.memory_channel import MemoryChannel

BVDK_HOTLINE = "0968115115"  # BVDK-TH in config/sample/facilities.csv


async def _route(app: App, channel: MemoryChannel) -> None:
    await app.handlers[v.ROUTE_CALL](channel)


async def _end(app: App, channel: MemoryChannel, **channel_vars: str) -> None:
    channel.hang_up_for_call_ended()
    channel.variables.update(channel_vars)
    await app.handlers[v.CALL_ENDED](channel)


async def _rows(app: App) -> tuple[list[CallRow], list[TicketRow]]:
    async with app.uow() as uow:
        session: Any = uow.calls._s  # type: ignore[attr-defined]
        calls = list((await session.execute(select(CallRow))).scalars())
        tickets = list((await session.execute(select(TicketRow))).scalars())
        session.expunge_all()  # keep the loaded values after the unit of work rolls back
    return calls, tickets


async def _attempts(app: App) -> list[tuple[int, str, str | None]]:
    async with app.uow() as uow:
        session: Any = uow.calls._s  # type: ignore[attr-defined]
        rows = (await session.execute(select(CallAttemptRow).order_by(CallAttemptRow.idx))).scalars()
        return [(r.idx, r.tier, r.result) for r in rows]


def _targets(channel: MemoryChannel) -> list[tuple[str, str, str]]:
    count = int(channel.variables[v.TARGET_COUNT])
    return [
        (channel.variables[v.tier(n)], channel.variables[v.target(n)], channel.variables[v.ring_timeout(n)])
        for n in range(1, count + 1)
    ]


async def test_dialled_facility_number_routes_the_whole_chain_and_marks_ok_last(sample_app: App) -> None:
    channel = MemoryChannel()
    channel.values["dnid"] = BVDK_HOTLINE
    await _route(sample_app, channel)

    # No keypad prompt: the dialled number named the facility.
    assert not any(c.startswith("GET DATA") for c in channel.commands)
    assert channel.commands[:4] == [
        f"SET VARIABLE {v.CALL_ID}",
        f"SET VARIABLE {v.TICKET_REF}",
        "ANSWER",
        "STREAM FILE hotline-welcome",
    ]
    tiers = [t[0] for t in _targets(channel)]
    assert tiers == ["duty_officer", "backup", "leader", "authority"]
    assert _targets(channel)[0][1].startswith("PJSIP/0") and _targets(channel)[0][1].endswith(
        "@hotline-trunk"
    )
    assert _targets(channel)[-1][1] == "PJSIP/02373852516@hotline-trunk"
    assert [t[2] for t in _targets(channel)] == ["25", "20", "20", "30"]
    assert channel.variables[v.FACILITY_CODE] == "BVDK-TH"
    assert channel.variables[v.RECORDING] == "hotline-1795380439.44"
    set_order = [c.removeprefix("SET VARIABLE ") for c in channel.commands if c.startswith("SET VARIABLE")]
    assert set_order[-1] == v.ROUTE_OK and channel.variables[v.ROUTE_OK] == "1"

    calls, tickets = await _rows(sample_app)
    assert [c.state for c in calls] == ["routed"]
    assert tickets[0].facility_code == "BVDK-TH" and tickets[0].status == "moi_tiep_nhan"
    assert tickets[0].ref and tickets[0].ref.startswith("PA-20261123-")


async def test_call_and_ticket_are_on_disk_before_the_first_variable(
    sample_app: App, settings: Settings
) -> None:
    seen: dict[str, tuple[int, str]] = {}

    class Checking(MemoryChannel):
        async def set_variable(self, name: str, value: str) -> None:
            if name in (v.CALL_ID, v.target(1)) and name not in seen:
                # A second, independent app (another connection) must already see what the variable says.
                other = build_app(settings)
                try:
                    calls, tickets = await _rows(other)
                    seen[name] = (len(tickets), calls[0].state)
                finally:
                    await other.close()
            await super().set_variable(name, value)

    await _route(sample_app, Checking())
    assert seen == {v.CALL_ID: (1, "received"), v.target(1): (1, "routed")}


async def test_switchboard_keypad_code_with_a_wrong_first_try(sample_app: App) -> None:
    channel = MemoryChannel()
    channel.digits.extend([DigitsResult("9999", False), DigitsResult("1002", False)])
    await _route(sample_app, channel)
    assert channel.commands.count("GET DATA hotline-enter-code") == 2
    assert "STREAM FILE hotline-invalid-code" in channel.commands
    assert channel.variables[v.FACILITY_CODE] == "BVNHI-TH"
    assert _targets(channel)[0][0] == "duty_officer"


@pytest.mark.parametrize(
    "digits",
    [
        [DigitsResult("0", True)],  # "don't know" key
        [DigitsResult("", True)] * 3,  # silence three times: give up, do not drop the caller
    ],
)
async def test_dont_know_and_no_input_go_to_the_health_department(
    sample_app: App, digits: list[DigitsResult]
) -> None:
    channel = MemoryChannel()
    channel.digits.extend(digits)
    await _route(sample_app, channel)
    assert channel.variables[v.FACILITY_CODE] == ""
    assert _targets(channel) == [("authority", "PJSIP/02373852516@hotline-trunk", "30")]
    assert channel.variables[v.ROUTE_OK] == "1"


async def test_caller_hangs_up_in_the_prompt_keeps_the_ticket_for_callback(sample_app: App) -> None:
    channel = MemoryChannel()
    channel.digits.append(None)  # scenario 6: GET DATA -> 200 result=-1, then HANGUP
    await _route(sample_app, channel)
    assert v.ROUTE_OK not in channel.variables
    calls, tickets = await _rows(sample_app)
    assert calls[0].state == "received" and len(tickets) == 1

    # Scenario 6's dead channel: DIALSTATUS and friends are not set, HANGUPCAUSE is 0.
    channel.variables.clear()
    await _end(sample_app, channel, HANGUPCAUSE="0")
    calls, tickets = await _rows(sample_app)
    assert calls[0].state == "abandoned"
    assert tickets[0].needs_callback is True


async def _routed(app: App, dnid: str = BVDK_HOTLINE) -> MemoryChannel:
    channel = MemoryChannel()
    channel.values["dnid"] = dnid
    await _route(app, channel)
    return channel


MIX = "/var/spool/asterisk/monitor/hotline/hotline-1795380439.44.wav"


async def test_answered_by_the_first_target(sample_app: App) -> None:
    channel = await _routed(sample_app)
    # Capture 1: the Dial the caller hung up in never sets HOTLINE_RESULT_1.
    await _end(
        sample_app,
        channel,
        HOTLINE_IDX="1",
        DIALSTATUS="ANSWER",
        ANSWEREDTIME_MS="15506",
        HANGUPCAUSE="16",
        MIXMONITOR_FILENAME=MIX,
    )
    calls, tickets = await _rows(sample_app)
    assert (calls[0].state, calls[0].answered_index, calls[0].answered_tier) == (
        "answered",
        1,
        "duty_officer",
    )
    assert calls[0].talk_ms == 15506 and calls[0].hangup_cause == 16
    assert tickets[0].needs_callback is False
    assert await _attempts(sample_app) == [
        (1, "duty_officer", "answered"),
        (2, "backup", "not_tried"),
        (3, "leader", "not_tried"),
        (4, "authority", "not_tried"),
    ]
    summary = (await TicketQueries(sample_app.uow).latest())[0]
    assert summary.recordings == ("mix", "caller", "officer")


async def test_answered_by_the_second_after_busy(sample_app: App) -> None:
    channel = await _routed(sample_app)
    await _end(
        sample_app,
        channel,
        HOTLINE_IDX="2",
        HOTLINE_RESULT_1="BUSY",
        DIALSTATUS="ANSWER",
        ANSWEREDTIME_MS="15506",
        MIXMONITOR_FILENAME=MIX,
    )
    calls, _ = await _rows(sample_app)
    assert (calls[0].answered_index, calls[0].answered_tier) == (2, "backup")
    assert [a[2] for a in await _attempts(sample_app)][:2] == ["busy", "answered"]


async def test_answered_by_the_last_target(sample_app: App) -> None:
    channel = await _routed(sample_app)
    await _end(
        sample_app,
        channel,
        HOTLINE_IDX="4",
        HOTLINE_RESULT_1="CHANUNAVAIL",
        HOTLINE_RESULT_2="NOANSWER",
        HOTLINE_RESULT_3="CONGESTION",
        DIALSTATUS="ANSWER",
        ANSWEREDTIME_MS="40000",
        MIXMONITOR_FILENAME=MIX,
    )
    calls, tickets = await _rows(sample_app)
    assert (calls[0].state, calls[0].answered_tier) == ("answered", "authority")
    assert [a[2] for a in await _attempts(sample_app)] == [
        "unavailable",
        "no_answer",
        "congestion",
        "answered",
    ]
    assert tickets[0].needs_callback is False


async def test_everyone_fails_the_caller_leaves_a_voicemail(sample_app: App) -> None:
    channel = await _routed(sample_app)
    await _end(
        sample_app,
        channel,
        HOTLINE_IDX="4",
        HOTLINE_RESULT_1="NOANSWER",
        HOTLINE_RESULT_2="BUSY",
        HOTLINE_RESULT_3="NOANSWER",
        HOTLINE_RESULT_4="NOANSWER",
        DIALSTATUS="NOANSWER",
        ANSWEREDTIME_MS="",
        MIXMONITOR_FILENAME=MIX,
        HOTLINE_VOICEMAIL_FILE="hotline-1795380439.44-voicemail",
        RECORD_STATUS="HANGUP",
    )
    calls, tickets = await _rows(sample_app)
    assert calls[0].state == "unanswered" and calls[0].answered_index is None
    assert tickets[0].needs_callback is True
    summary = (await TicketQueries(sample_app.uow).latest())[0]
    assert "voicemail" in summary.recordings


async def test_a_pickup_without_pressing_1_is_not_an_answer(sample_app: App) -> None:
    # Scenario 5a: GOSUB_RESULT=CONTINUE leaves DIALSTATUS=ANSWER with empty ANSWEREDTIME.
    channel = await _routed(sample_app)
    await _end(
        sample_app, channel, HOTLINE_IDX="1", DIALSTATUS="ANSWER", ANSWEREDTIME_MS="", MIXMONITOR_FILENAME=MIX
    )
    calls, tickets = await _rows(sample_app)
    assert calls[0].state != "answered"
    assert (await _attempts(sample_app))[0][2] == "refused"
    assert tickets[0].needs_callback is True


async def test_caller_gives_up_while_the_first_target_rings(sample_app: App) -> None:
    channel = await _routed(sample_app)
    await _end(sample_app, channel, HOTLINE_IDX="1", DIALSTATUS="CANCEL", MIXMONITOR_FILENAME=MIX)
    calls, tickets = await _rows(sample_app)
    assert calls[0].state == "abandoned" and tickets[0].needs_callback is True


async def test_call_ended_twice_changes_nothing(sample_app: App) -> None:
    channel = await _routed(sample_app)
    await _end(sample_app, channel, HOTLINE_IDX="1", DIALSTATUS="ANSWER", ANSWEREDTIME_MS="1000")
    await _end(sample_app, channel, HOTLINE_IDX="1", DIALSTATUS="NOANSWER")
    calls, _ = await _rows(sample_app)
    assert calls[0].state == "answered"


async def test_service_killed_after_route_call_then_call_ended_completes_it(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    channel = await _routed(sample_app)
    await sample_app.close()  # the process dies: nothing of it survives but the database
    restarted = build_app(settings, clock)
    try:
        clock.advance(seconds=40)
        await _end(restarted, channel, HOTLINE_IDX="1", DIALSTATUS="ANSWER", ANSWEREDTIME_MS="30000")
        calls, tickets = await _rows(restarted)
        assert calls[0].state == "answered" and len(tickets) == 1
    finally:
        await restarted.close()


async def test_startup_reconciliation_closes_calls_whose_end_never_came(
    sample_app: App, clock: FakeClock
) -> None:
    await _routed(sample_app)
    assert await sample_app.calls.reconcile(clock()) == 0  # still young: it may be in progress
    clock.advance(hours=5)
    assert await sample_app.calls.reconcile(clock()) == 1
    calls, tickets = await _rows(sample_app)
    assert calls[0].state == "unknown" and tickets[0].needs_callback is True


async def test_call_ended_for_a_call_route_call_never_saved_creates_the_ticket(sample_app: App) -> None:
    # The dialplan fell back to its fixed number (the service was down at route_call).
    channel = MemoryChannel()
    channel.values["dnid"] = BVDK_HOTLINE
    await _end(
        sample_app,
        channel,
        HOTLINE_IDX="1",
        DIALSTATUS="ANSWER",
        ANSWEREDTIME_MS="20000",
        HOTLINE_RECORDING="hotline-1795380439.44",
        MIXMONITOR_FILENAME=MIX,
    )
    calls, tickets = await _rows(sample_app)
    assert len(calls) == 1 and calls[0].state == "answered" and calls[0].answered_tier == "fallback"
    assert tickets[0].facility_code == "BVDK-TH" and tickets[0].caller_number == "0912345678"


async def test_route_saved_but_not_handed_over_counts_the_fallback_number(sample_app: App) -> None:
    # route_call saved its chain, then died before the ok marker: the dialplan dialled its fixed number.
    channel = await _routed(sample_app)
    del channel.variables[v.ROUTE_OK]
    await _end(sample_app, channel, HOTLINE_IDX="1", DIALSTATUS="ANSWER", ANSWEREDTIME_MS="9000")
    calls, _ = await _rows(sample_app)
    assert (calls[0].state, calls[0].answered_tier) == ("answered", "fallback")
    assert await _attempts(sample_app) == [(1, "fallback", "answered")]


async def test_a_reused_uniqueid_never_reopens_an_ended_call(sample_app: App) -> None:
    first = await _routed(sample_app)
    await _end(sample_app, first, HOTLINE_IDX="1", DIALSTATUS="ANSWER", ANSWEREDTIME_MS="5000")
    second = await _routed(sample_app)  # same uniqueid as the first (MemoryChannel's default header)
    assert second.variables[v.CALL_ID] != first.variables[v.CALL_ID]
    await _end(sample_app, second, HOTLINE_IDX="1", DIALSTATUS="NOANSWER")
    calls, tickets = await _rows(sample_app)
    states = {c.id: c.state for c in calls}
    assert states == {first.variables[v.CALL_ID]: "answered", second.variables[v.CALL_ID]: "unanswered"}
    assert len(tickets) == 2
