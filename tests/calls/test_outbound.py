"""The calls we place (services.outbound): a callback from a ticket and a test call to a hotline, driven
by the events the ARI adapter hands over, on SQLite and PostgreSQL. The telephone here is a double of
the Telephony port that records what the service asked for; tests/asterisk/test_ari_outbound.py runs the
same flows over real HTTP and WebSocket against the fake Asterisk."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from callcenter.app import App
from callcenter.domain.access import Principal, Role
from callcenter.domain.outbound import Leg, channel_id
from callcenter.services.calls import IncomingCall
from callcenter.services.errors import NotFound, PermissionDenied
from callcenter.services.outbound import CallbackNotAllowed, OutboundPolicy, OutboundService
from callcenter.services.ports_outbound import LegEndedAtOnce, LiveLeg, TelephonyError, TelephonyGone
from callcenter.services.users import UserInput
from tests.conftest import TZ, FakeClock

OFFICER_PHONE = "0961222333"
CITIZEN = "0912345678"
DAYTIME = datetime(2026, 11, 24, 9, 30, tzinfo=TZ).astimezone(UTC)


@dataclass
class FakeTelephony:
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    live: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)  # legs Asterisk reports Up
    fail_originate: TelephonyError | None = None

    def asked(self, method: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(a, k) for m, a, k in self.calls if m == method]

    async def originate(
        self,
        channel_id: str,
        number: str,
        *,
        stasis_args: Sequence[str],
        recording: str | None,
        caller_id: str,
        timeout_s: int,
    ) -> None:
        self.calls.append(
            ("originate", (channel_id, number), {"stasis_args": tuple(stasis_args), "recording": recording})
        )
        if self.fail_originate is not None:
            raise self.fail_originate
        self.live.add(channel_id)

    async def record_leg(self, channel_id: str) -> None:
        self.calls.append(("record_leg", (channel_id,), {}))

    async def hangup(self, channel_id: str) -> None:
        self.calls.append(("hangup", (channel_id,), {}))
        if channel_id not in self.live:
            raise TelephonyGone("Channel not found", status=404)
        self.live.discard(channel_id)

    async def play(self, channel_id: str, sound: str, playback_id: str) -> None:
        self.calls.append(("play", (channel_id, sound, playback_id), {}))

    async def bridge(self, bridge_id: str, channel_ids: list[str]) -> None:
        self.calls.append(("bridge", (bridge_id, tuple(channel_ids)), {}))

    async def destroy_bridge(self, bridge_id: str) -> None:
        self.calls.append(("destroy_bridge", (bridge_id,), {}))

    async def channels(self) -> dict[str, LiveLeg]:
        return {c: LiveLeg(up=c in self.answered, recorded=False) for c in self.live}


@dataclass
class Outbound:
    app: App
    service: OutboundService
    tel: FakeTelephony
    clock: FakeClock
    officer: Principal
    ticket_id: int

    async def events(self, ticket_id: int | None = None) -> list[tuple[str, dict[str, Any]]]:
        async with self.app.uow() as uow:
            return [(k, d) for _, k, d in await uow.tickets.events(ticket_id or self.ticket_id)]

    async def row(self, outbound_id: int) -> Any:
        async with self.app.uow() as uow:
            return await uow.outbound.get(outbound_id)

    async def done(self, outbound_id: int, wait_s: float = 10.0) -> Any:
        """The row once closed (a timer's end comes late on a loaded machine: poll, do not sleep)."""
        for _ in range(int(wait_s / 0.02)):
            row = await self.row(outbound_id)
            if row.state.value == "done":
                return row
            await asyncio.sleep(0.02)
        raise AssertionError(f"row {outbound_id} still {row.state.value} after {wait_s} s")

    async def recordings(self) -> list[tuple[str, str]]:
        async with self.app.uow() as uow:
            ticket = await uow.tickets.record(self.ticket_id)
            assert ticket is not None and ticket.call_id is not None
            return [(r.kind, r.file_name) for r in await uow.tickets.recordings(ticket.call_id)]

    async def leg(self, outbound_id: int, leg: Leg) -> str:
        """The channel id the service gave that leg."""
        row = await self.row(outbound_id)
        return channel_id(outbound_id, leg, row.created_at)


# Timers short for the tests that wait them out, long enough for a loaded machine between two steps.
POLICY = OutboundPolicy(tz=TZ, caller_id="19009095", accept_timeout_s=1.0, survey_timeout_s=2.0)


@pytest.fixture
async def world(sample_app: App, clock: FakeClock) -> Outbound:
    clock.now = DAYTIME
    officer = await sample_app.users.create(
        UserInput(
            "off_bvdk", Role.FACILITY_OFFICER, "Cán bộ trực", facility_code="BVDK-TH", phone=OFFICER_PHONE
        ),
        "mat-khau-dai-du-12",
        clock(),
    )
    received = await sample_app.calls.receive(
        IncomingCall("1795380439.1", "PJSIP/trunk-1", CITIZEN, "", "0968115115"), clock()
    )
    tel = FakeTelephony()
    return Outbound(
        sample_app,
        OutboundService(sample_app.uow, tel, POLICY, clock),
        tel,
        clock,
        officer.principal(),
        received.ticket_id,
    )


async def test_a_callback_rings_the_officer_then_the_citizen_bridges_them_and_asks_the_survey(
    world: Outbound,
) -> None:
    s, tel, clock = world.service, world.tel, world.clock
    oid = await s.request_callback(world.ticket_id, world.officer, clock())
    officer, citizen = await world.leg(oid, Leg.OFFICER), await world.leg(oid, Leg.CITIZEN)
    # The officer's phone first, never the citizen's: nobody is called on behalf of a system that drops them.
    [(args, kw)] = tel.asked("originate")
    assert args == (officer, OFFICER_PHONE) and kw["recording"] is None
    assert kw["stasis_args"] == ("out", str(oid), "officer")

    clock.now += timedelta(seconds=6)
    await s.leg_answered(officer, clock())
    assert tel.asked("play")[-1][0][:2] == (officer, POLICY.prompts.officer_accept)
    assert len(tel.asked("originate")) == 1  # answered is not accepted: a voicemail answers too
    await s.digit(officer, "1", clock())
    (args, kw) = tel.asked("originate")[-1]
    assert args == (citizen, CITIZEN)
    assert kw["recording"] == f"hotline-{citizen}"  # the citizen leg recorded as an incoming call is

    clock.now += timedelta(seconds=4)
    await s.leg_answered(citizen, clock())
    # Answered: through [hotline-ari-leg] once for MixMonitor; leaving the app for it is not an end.
    assert tel.asked("record_leg") == [((citizen,), {})] and tel.asked("bridge") == []
    await s.leg_left(citizen, clock())
    await s.leg_answered(citizen, clock(), recorded=True)
    assert tel.asked("bridge") == [((officer.removesuffix("-officer"), (officer, citizen)), {})]
    clock.now += timedelta(seconds=95)
    tel.live.discard(officer)
    await s.leg_ended(officer, 16, clock())  # the officer hangs up: the citizen is asked
    assert tel.asked("play")[-1][0][:2] == (citizen, POLICY.prompts.survey)
    await s.digit(citizen, "7", clock())  # not an answer: still asked
    await s.digit(citizen, "1", clock())

    row = await world.row(oid)
    assert (row.state.value, row.outcome.value, row.talk_s, row.survey.value) == (
        "done",
        "talked",
        95,
        "resolved",
    )
    assert row.ring_ms == 6000
    kinds = await world.events()
    ended = [d for k, d in kinds if k == "callback.ended"]
    assert ended == [{"outbound_id": oid, "outcome": "talked", "talk_s": 95, "survey": "resolved"}]
    assert ("callback.requested", {"outbound_id": oid, "by": "off_bvdk"}) in kinds
    # The citizen leg's MixMonitor files are the ticket's recordings now, beside the incoming call's.
    assert await world.recordings() == [
        ("callback_mix", f"hotline-{citizen}.wav"),
        ("callback_caller", f"hotline-{citizen}-rx.wav"),
        ("callback_officer", f"hotline-{citizen}-tx.wav"),
    ]
    await s.playback_finished(f"{citizen}:bye", clock())
    assert (citizen,) in [a for a, _ in tel.asked("hangup")]


async def test_the_citizen_busy_lets_the_officer_go_with_the_outcome(world: Outbound) -> None:
    s, tel, clock = world.service, world.tel, world.clock
    oid = await s.request_callback(world.ticket_id, world.officer, clock())
    officer, citizen = await world.leg(oid, Leg.OFFICER), await world.leg(oid, Leg.CITIZEN)
    await s.leg_answered(officer, clock())
    await s.digit(officer, "1", clock())
    await s.leg_ended(citizen, 17, clock())  # 486 Busy Here
    assert (officer,) in [a for a, _ in tel.asked("hangup")]
    row = await world.row(oid)
    assert (row.state.value, row.outcome.value) == ("done", "busy")
    assert [d["outcome"] for k, d in await world.events() if k == "callback.ended"] == ["busy"]
    assert await world.recordings() == []  # nobody talked: nothing was recorded


async def test_an_officer_who_answers_but_never_presses_1_is_not_a_callback(world: Outbound) -> None:
    s, tel, clock = world.service, world.tel, world.clock
    oid = await s.request_callback(world.ticket_id, world.officer, clock())
    await s.leg_answered(await world.leg(oid, Leg.OFFICER), clock())
    row = await world.done(oid)
    assert (row.state.value, row.outcome.value) == ("done", "no_key")
    assert len(tel.asked("originate")) == 1  # the citizen was never rung
    officer = await world.leg(oid, Leg.OFFICER)
    for _ in range(250):  # the timer closes the row, then lets the officer's leg go
        if (officer,) in [a for a, _ in tel.asked("hangup")]:
            break
        await asyncio.sleep(0.02)
    assert (officer,) in [a for a, _ in tel.asked("hangup")]


@pytest.mark.parametrize(
    ("cause", "outcome"),
    [(17, "busy"), (3, "unreachable"), (34, "unreachable"), (19, "no_answer"), (0, "no_answer")],
)
async def test_an_officer_leg_that_never_answers_gets_its_cause(
    world: Outbound, cause: int, outcome: str
) -> None:
    oid = await world.service.request_callback(world.ticket_id, world.officer, world.clock())
    await world.service.leg_ended(await world.leg(oid, Leg.OFFICER), cause, world.clock())
    assert (await world.row(oid)).outcome.value == outcome


async def test_callback_rules_night_attempts_a_day_one_at_a_time_and_who_may(world: Outbound) -> None:
    s, clock = world.service, world.clock
    night = clock.now.replace(hour=16)  # 23:30 local
    with pytest.raises(CallbackNotAllowed) as refused:
        await s.request_callback(world.ticket_id, world.officer, night)
    assert refused.value.reason == "night"
    first = await s.request_callback(world.ticket_id, world.officer, clock())
    with pytest.raises(CallbackNotAllowed) as refused:
        await s.request_callback(world.ticket_id, world.officer, clock())
    assert refused.value.reason == "in_progress"
    await s.leg_ended(await world.leg(first, Leg.OFFICER), 19, clock())
    for _ in range(POLICY.rules.max_per_day - 1):
        oid = await s.request_callback(world.ticket_id, world.officer, clock())
        await s.leg_ended(await world.leg(oid, Leg.OFFICER), 19, clock())
    with pytest.raises(CallbackNotAllowed) as refused:
        await s.request_callback(world.ticket_id, world.officer, clock())
    assert refused.value.reason == "too_many"
    # The next local day counts afresh.
    await s.request_callback(world.ticket_id, world.officer, clock() + timedelta(days=1))

    auditor = Principal(999, "kiem_tra", Role.AUDITOR)
    with pytest.raises(PermissionDenied):
        await s.request_callback(world.ticket_id, auditor, clock())
    other = Principal(world.officer.user_id, "off_nhi", Role.FACILITY_OFFICER, facility_code="BVNHI-TH")
    with pytest.raises(NotFound):
        await s.request_callback(world.ticket_id, other, clock())


async def test_an_officer_without_a_phone_is_told_so_and_nothing_is_dialled(world: Outbound) -> None:
    user = await world.app.users.create(
        UserInput("sup_th", Role.SUPERVISOR, "Giám sát", province="Thanh Hóa"),
        "mat-khau-dai-du-12",
        world.clock(),
    )
    with pytest.raises(CallbackNotAllowed) as refused:
        await world.service.request_callback(world.ticket_id, user.principal(), world.clock())
    assert refused.value.reason == "no_officer_phone"
    assert world.tel.calls == []


async def test_a_refused_originate_closes_the_row_as_failed_on_the_ticket(world: Outbound) -> None:
    world.tel.fail_originate = TelephonyError("POST /channels: 500 Internal Server Error", status=500)
    oid = await world.service.request_callback(world.ticket_id, world.officer, world.clock())
    row = await world.row(oid)
    assert (row.state.value, row.outcome.value) == ("done", "failed")
    assert "500" in row.detail
    assert [d["outcome"] for k, d in await world.events() if k == "callback.ended"] == ["failed"]


async def test_a_probe_pressed_1_is_a_human_and_one_runs_at_a_time(world: Outbound) -> None:
    s, tel, clock = world.service, world.tel, world.clock
    started = await s.probe("BVNHI-TH", clock())
    assert started.outbound_id is not None
    leg = await world.leg(started.outbound_id, Leg.HOTLINE)
    assert tel.asked("originate")[0][0] == (leg, "0912115224")
    assert (await s.probe("BVNHI-TH", clock())).skipped == "in_progress"
    clock.now += timedelta(seconds=8)
    await s.leg_answered(leg, clock())
    assert tel.asked("play")[-1][0][:2] == (leg, POLICY.prompts.probe)
    await s.digit(leg, "1", clock())
    row = await world.row(started.outbound_id)
    assert (row.outcome.value, row.ring_ms) == ("human", 8000)
    assert (await s.probe("BVNHI-TH", clock())).outbound_id is not None  # the first is done


async def test_a_probe_answered_without_the_key_is_no_key_and_never_during_a_real_call(
    world: Outbound,
) -> None:
    s, clock = world.service, world.clock
    # The citizen's call to BVDK-TH (the fixture's) has not ended: no test call to that line now.
    assert (await s.probe("BVDK-TH", clock())).skipped == "busy_line"
    started = await s.probe("BVNHI-TH", clock())
    assert started.outbound_id is not None
    await s.leg_answered(await world.leg(started.outbound_id, Leg.HOTLINE), clock())
    assert (await world.done(started.outbound_id)).outcome.value == "no_key"


async def test_a_leg_gone_before_it_could_be_followed_is_unreachable(world: Outbound) -> None:
    world.tel.fail_originate = LegEndedAtOnce("gone")
    started = await world.service.probe("BVNHI-TH", world.clock())
    assert started.outbound_id is not None
    assert (await world.row(started.outbound_id)).outcome.value == "unreachable"


async def test_after_a_restart_lost_calls_are_closed_as_unknown_and_a_live_bridge_goes_on(
    world: Outbound,
) -> None:
    s, tel, clock = world.service, world.tel, world.clock
    probe = await s.probe("BVNHI-TH", clock())
    talking = await s.request_callback(world.ticket_id, world.officer, clock())
    await s.leg_answered(await world.leg(talking, Leg.OFFICER), clock())
    await s.digit(await world.leg(talking, Leg.OFFICER), "1", clock())
    await s.leg_answered(await world.leg(talking, Leg.CITIZEN), clock(), recorded=True)
    assert probe.outbound_id is not None
    tel.live.discard(await world.leg(probe.outbound_id, Leg.HOTLINE))  # Asterisk lost it too

    restarted = OutboundService(world.app.uow, tel, POLICY, clock)  # a new process: no timers, no memory
    assert await restarted.reconcile(clock()) == 1
    assert (await world.row(probe.outbound_id)).outcome.value == "unknown"
    assert (await world.row(talking)).state.value == "talking"  # officer and citizen still talk
    clock.now += timedelta(seconds=30)
    await restarted.leg_ended(await world.leg(talking, Leg.CITIZEN), 16, clock())
    row = await world.row(talking)
    assert (row.outcome.value, row.talk_s) == ("talked", 30)
    await s.close()
    await restarted.close()


async def test_events_of_legs_that_are_not_ours_or_of_closed_calls_change_nothing(world: Outbound) -> None:
    s, tel, clock = world.service, world.tel, world.clock
    for channel in ("1795379454.13", "hotline-out-x-officer", "hotline-out-99999-kx3-officer"):
        await s.leg_answered(channel, clock())
        await s.digit(channel, "1", clock())
        await s.leg_ended(channel, 16, clock())
    assert [m for m, _, _ in tel.calls] == ["hangup"]  # the unknown row's leg is let go


@pytest.mark.parametrize(
    ("dialstatus", "outcome"), [("BUSY", "busy"), ("CHANUNAVAIL", "unreachable"), ("NOANSWER", "no_answer")]
)
async def test_the_dial_status_decides_over_a_cause_that_says_nothing(
    world: Outbound, dialstatus: str, outcome: str
) -> None:
    """A real Asterisk's Local leg that met Busy() ends with cause 0; its Dial event said BUSY."""
    started = await world.service.probe("BVNHI-TH", world.clock())
    assert started.outbound_id is not None
    leg = await world.leg(started.outbound_id, Leg.HOTLINE)
    await world.service.dial_status(leg, "", world.clock())
    await world.service.dial_status(leg, dialstatus, world.clock())
    await world.service.leg_ended(leg, 0, world.clock())
    assert (await world.row(started.outbound_id)).outcome.value == outcome


async def test_a_callbacks_recording_is_not_taken_for_an_orphan_call(world: Outbound) -> None:
    """The citizen leg's MixMonitor files carry the incoming calls' names; the sweep that makes tickets
    of recordings nobody knows must leave them to their callback."""
    s, clock = world.service, world.clock
    oid = await s.request_callback(world.ticket_id, world.officer, clock())
    await s.leg_answered(await world.leg(oid, Leg.OFFICER), clock())
    await s.digit(await world.leg(oid, Leg.OFFICER), "1", clock())
    base = (await world.row(oid)).recording
    directory = Path(world.app.settings.recordings.dir)
    an_hour_ago = time.time() - 3600
    for suffix in ("", "-rx", "-tx", "-orphan-rx"):
        name = f"{base}{suffix}.wav" if suffix != "-orphan-rx" else "hotline-1795999999.1-rx.wav"
        (directory / name).write_bytes(b"RIFF")
        os.utime(directory / name, (an_hour_ago, an_hour_ago))
    assert world.app.transcription is not None
    assert await world.app.transcription.orphan_recordings() == ["hotline-1795999999.1"]


async def test_a_reconnection_lets_a_ringing_leg_ring_and_takes_one_answered_meanwhile_as_answered(
    world: Outbound,
) -> None:
    """Events are not queued while the socket is away: what Asterisk says of each leg decides."""
    s, tel, clock = world.service, world.tel, world.clock
    ringing = await s.probe("BVNHI-TH", clock())
    answered = await s.probe("TTYT-QX", clock())
    crashed = await s.probe("TTYT-HH", clock())
    assert ringing.outbound_id and answered.outbound_id and crashed.outbound_id
    tel.answered.add(await world.leg(answered.outbound_id, Leg.HOTLINE))  # its StasisStart was lost
    tel.live.discard(await world.leg(crashed.outbound_id, Leg.HOTLINE))  # as if never originated
    assert await s.reconcile(clock()) == 1
    assert (await world.row(ringing.outbound_id)).state.value == "ringing"  # still ringing, left alone
    assert (await world.row(crashed.outbound_id)).outcome.value == "unknown"
    # Taken as answered now: asked for its key 1 (the prompt played), its timer armed again, which
    # then closes it for want of the key.
    assert (await world.row(answered.outbound_id)).answered_at is not None
    assert tel.asked("play")[-1][0][0] == await world.leg(answered.outbound_id, Leg.HOTLINE)
    assert (await world.done(answered.outbound_id)).outcome.value == "no_key"
    await s.close()


async def test_a_ticket_called_back_twice_keeps_both_callbacks_recordings(world: Outbound) -> None:
    """Recordings were unique per (call, kind): a second callback that talked could not even be closed."""
    s, clock = world.service, world.clock
    bases = []
    for _ in range(2):
        oid = await s.request_callback(world.ticket_id, world.officer, clock())
        officer, citizen = await world.leg(oid, Leg.OFFICER), await world.leg(oid, Leg.CITIZEN)
        await s.leg_answered(officer, clock())
        await s.digit(officer, "1", clock())
        await s.leg_answered(citizen, clock(), recorded=True)
        clock.now += timedelta(seconds=20)
        await s.leg_ended(citizen, 16, clock())
        row = await world.row(oid)
        assert (row.state.value, row.outcome.value) == ("done", "talked")
        bases.append(f"hotline-{citizen}")
    names = [name for _, name in await world.recordings()]
    assert names == [f"{b}{suffix}.wav" for b in bases for suffix in ("", "-rx", "-tx")]
