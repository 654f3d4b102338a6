"""The calls we place, end to end over real HTTP and a real WebSocket: AriClient + OutboundService
against the fake Asterisk 22 ARI (tests/fakes/ari_server.py, which checks every request against
ari-api-docs), on SQLite and PostgreSQL: a callback, test calls of every outcome, Asterisk's socket
dropping and Asterisk restarting mid-call, malformed frames, REST errors and timeouts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from callcenter.app import App
from callcenter.asterisk.ari import AriClient, AriConfig
from callcenter.domain.access import Principal, Role
from callcenter.domain.outbound import Leg, channel_id
from callcenter.services.calls import IncomingCall
from callcenter.services.outbound import OutboundPolicy, OutboundService
from callcenter.services.ports_outbound import TelephonyError
from callcenter.services.users import UserInput
from tests.conftest import TZ, FakeClock
from tests.fakes.ari_server import Answer, Busy, Congestion, FakeAri, NoAnswer, Unreachable

OFFICER_PHONE = "0961222333"
CITIZEN = "0912345678"
NHI = "0912115224"  # BVNHI-TH's hotline (config/sample)
DAYTIME = datetime(2026, 11, 24, 9, 30, tzinfo=TZ).astimezone(UTC)
# Timers long enough for a loaded machine to see each state before its timer ends it.
POLICY = OutboundPolicy(tz=TZ, caller_id="19009095", accept_timeout_s=2.0, survey_timeout_s=5.0)


@dataclass
class Line:
    app: App
    fake: FakeAri
    client: AriClient
    service: OutboundService
    clock: FakeClock
    connected: list[int]

    async def row(self, outbound_id: int) -> Any:
        async with self.app.uow() as uow:
            return await uow.outbound.get(outbound_id)

    async def leg(self, outbound_id: int, leg: Leg) -> str:
        row = await self.row(outbound_id)
        return channel_id(outbound_id, leg, row.created_at)

    async def until_done(self, outbound_id: int, wait_s: float = 5.0) -> Any:
        return await until(
            lambda: self.row(outbound_id), lambda r: r is not None and r.state.value == "done", wait_s
        )


async def until(read: Callable[[], Awaitable[Any]], ok: Callable[[Any], bool], wait_s: float = 5.0) -> Any:
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        value = await read()
        if ok(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {value!r} after {wait_s} s")
        await asyncio.sleep(0.02)


@pytest.fixture
async def line(sample_app: App, clock: FakeClock) -> AsyncIterator[Line]:
    clock.now = DAYTIME
    fake = FakeAri()
    await fake.start()
    client = AriClient(
        AriConfig(
            url=fake.url, username="hotline", password="secret", request_timeout_s=1.0, reconnect_min_s=0.05
        )
    )
    service = OutboundService(sample_app.uow, client, POLICY, clock)
    connected: list[int] = []

    async def on_connected() -> None:
        connected.append(await service.reconcile(clock()))

    stop = asyncio.Event()
    events = asyncio.create_task(client.run_events(service, clock, stop, on_connected=on_connected))
    await until(lambda: asyncio.sleep(0, len(connected)), bool)
    try:
        yield Line(sample_app, fake, client, service, clock, connected)
    finally:
        stop.set()
        await asyncio.wait_for(events, 5)
        await service.close()
        await client.close()
        await fake.stop()
    fake.assert_no_violations()  # every request we made is one of ARI's own operations


async def officer_and_ticket(line: Line) -> tuple[Principal, int]:
    user = await line.app.users.create(
        UserInput("off_bvdk", Role.FACILITY_OFFICER, "Cán bộ", facility_code="BVDK-TH", phone=OFFICER_PHONE),
        "mat-khau-dai-du-12",
        line.clock(),
    )
    received = await line.app.calls.receive(
        IncomingCall("1795380439.7", "PJSIP/trunk-7", CITIZEN, "", "0968115115"), line.clock()
    )
    return user.principal(), received.ticket_id


async def test_a_callback_end_to_end_officer_accepts_citizen_talks_and_answers_the_survey(line: Line) -> None:
    officer, ticket_id = await officer_and_ticket(line)
    line.fake.script(OFFICER_PHONE, Answer(dtmf="1", dtmf_after_s=0.1))
    line.fake.script(CITIZEN, Answer(ring_s=0.1))
    oid = await line.service.request_callback(ticket_id, officer, line.clock())
    citizen = await line.leg(oid, Leg.CITIZEN)
    await until(lambda: line.row(oid), lambda r: r.state.value == "talking")
    bridge = line.fake.bridges[(await line.leg(oid, Leg.OFFICER)).removesuffix("-officer")]
    assert set(bridge.channels) == {await line.leg(oid, Leg.OFFICER), citizen}
    assert line.fake.channels[citizen].recording == f"hotline-{citizen}"  # MixMonitor's files, as incoming
    await line.fake.remote_hangup(await line.leg(oid, Leg.OFFICER))
    await until(lambda: line.row(oid), lambda r: r.state.value == "survey")
    await line.fake.wait_for(lambda e: e["type"] == "PlaybackFinished" and citizen in e["playback"]["id"])
    await line.fake.press(citizen, "2")
    row = await line.until_done(oid)
    assert (row.outcome.value, row.survey.value) == ("talked", "not_resolved")
    # the goodbye played, then the citizen's leg is hung up by us
    await until(
        lambda: asyncio.sleep(0, citizen in line.fake.channels and not line.fake.channels[citizen].hung_up),
        lambda live: not live,
    )
    originated = [p for m, path, p, _ in line.fake.requests if m == "POST" and path == "/channels"]
    assert [p["endpoint"] for p in originated] == [
        f"PJSIP/{OFFICER_PHONE}@hotline-trunk",
        f"PJSIP/{CITIZEN}@hotline-trunk",
    ]
    # Into our app from creation (a busy leg's events come too); the citizen's leg recorded through
    # [hotline-ari-leg] once answered.
    assert all(p["app"] == "hotline" and p["channelId"].startswith("hotline-out-") for p in originated)
    continued = [(path, p) for m, path, p, _ in line.fake.requests if path.endswith("/continue")]
    assert continued == [
        (f"/channels/{citizen}/continue", {"context": "hotline-ari-leg", "extension": "s", "priority": "1"})
    ]


@pytest.mark.parametrize(
    ("script", "outcome"),
    [
        (Answer(dtmf="1"), "human"),
        (Answer(), "no_key"),  # answered (a voicemail would) but 1 never pressed
        (Busy(), "busy"),
        (Congestion(), "unreachable"),
        (NoAnswer(ring_s=0.2), "no_answer"),
        (Unreachable(), "unreachable"),
    ],
    ids=["human", "no_key", "busy", "congestion", "no_answer", "unreachable"],
)
async def test_a_probe_records_what_happened_on_the_line(line: Line, script: Any, outcome: str) -> None:
    line.fake.script(NHI, script)
    started = await line.service.probe("BVNHI-TH", line.clock())
    assert started.outbound_id is not None
    row = await line.until_done(started.outbound_id)
    assert row.outcome.value == outcome
    assert row.number == NHI


async def test_the_socket_dropping_mid_frame_and_coming_back_reconciles_the_lost_leg(line: Line) -> None:
    line.fake.script(NHI, Answer(ring_s=0.3))
    started = await line.service.probe("BVNHI-TH", line.clock())
    assert started.outbound_id is not None
    await line.fake.drop_websockets(mid_frame=True)  # a cut-off frame, then the TCP connection aborted
    # The leg is answered while our socket is away: its StasisStart is lost (Asterisk does not queue).
    await until(lambda: asyncio.sleep(0, len(line.connected)), lambda n: n >= 2)
    row = await line.until_done(started.outbound_id)
    # Answered while our socket was away or after: asked for its key either way, closed, never half-done.
    assert row.outcome.value == "no_key"
    leg = await line.leg(started.outbound_id, Leg.HOTLINE)
    # and its leg let go (the emulator forgets a channel once it is destroyed)
    await until(lambda: asyncio.sleep(0, leg in line.fake.channels), lambda present: not present)


async def test_asterisk_restarting_mid_call_closes_the_call_as_unknown_not_as_the_hotlines_failure(
    line: Line,
) -> None:
    line.fake.script(NHI, Answer(ring_s=5.0))
    started = await line.service.probe("BVNHI-TH", line.clock())
    assert started.outbound_id is not None
    await line.fake.restart(keep_channels=False)  # every channel lost, as a real restart
    row = await line.until_done(started.outbound_id)
    assert row.outcome.value == "unknown"
    await until(lambda: asyncio.sleep(0, len(line.connected)), lambda n: n >= 2)
    assert sum(line.connected[1:]) == 1  # closed by the reconciliation of the reconnection


async def test_malformed_and_unknown_frames_are_logged_and_the_loop_goes_on(line: Line) -> None:
    for raw in (
        "{not json",
        "[1,2]",
        '{"type":"StasisStart"}',
        '{"type":"SomethingNew","x":1}',
        '{"type":"ChannelDtmfReceived","channel":{"id":"hotline-out-1-hotline"}}',
    ):
        await line.fake.inject(raw)
    line.fake.script(NHI, Answer(dtmf="1"))
    started = await line.service.probe("BVNHI-TH", line.clock())
    assert started.outbound_id is not None
    assert (await line.until_done(started.outbound_id)).outcome.value == "human"
    assert len(line.connected) == 1  # the same socket all along


async def test_a_rest_error_or_a_timeout_closes_the_row_with_the_reason(line: Line) -> None:
    line.fake.fail_next("POST", r"^/channels$", 503, "Service Unavailable")
    first = await line.service.probe("BVNHI-TH", line.clock())
    assert first.skipped == "failed" and first.outbound_id is not None
    row = await line.row(first.outbound_id)
    assert (row.outcome.value, "503" in row.detail) == ("failed", True)
    line.fake.delay_next("POST", r"^/channels$", 2.0)  # longer than the client's 1 s
    second = await line.service.probe("BVNHI-TH", line.clock())
    assert second.outbound_id is not None
    row = await line.row(second.outbound_id)
    assert row.outcome.value == "failed" and "no reply" in row.detail
    with contextlib.suppress(Exception):
        await line.client.hangup(await line.leg(second.outbound_id, Leg.HOTLINE))


async def test_a_wrong_password_is_a_clear_error_not_a_crash(sample_app: App, clock: FakeClock) -> None:
    async with FakeAri() as fake:
        client = AriClient(
            AriConfig(url=fake.url, username="hotline", password="wrong", request_timeout_s=1.0)
        )
        try:
            with pytest.raises(TelephonyError, match="401"):
                await client.channels()
        finally:
            await client.close()
    del sample_app, clock
