"""The fake ARI server and the ARI docs checker, held against the real Asterisk 22 captures."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes.ari_docs import DOCS_DIR, check_event, check_request, docs
from tests.fakes.ari_server import (
    CAUSE_TXT,
    Answer,
    Busy,
    Congestion,
    FakeAri,
    NoAnswer,
    Unreachable,
)
from tests.fakes.captures import CAPTURES_DIR, SCENARIOS_DIR

pytestmark = pytest.mark.skipif(not DOCS_DIR.is_dir(), reason=f"ARI docs not found at {DOCS_DIR}")

AUTH = {"Authorization": aiohttp.encode_basic_auth("hotline", "secret")}
LEG = {"context": "hotline-ari-leg", "extension": "s"}


def jsonl(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (CAPTURES_DIR / name).read_text().splitlines() if line.strip()]


def shape(value: Any) -> Any:
    """The keys and value types of a JSON value, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    async with FakeAri("hotline", "secret", playback_s=0.05) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


class Events:
    """The app's events socket: frames as the client sees them."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.raw: list[str] = []

    async def next(self, wait_s: float = 2.0) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=wait_s)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        self.raw.append(msg.data)
        event = json.loads(msg.data)
        assert isinstance(event, dict)
        return event

    async def until(self, kind: str, wait_s: float = 2.0) -> list[dict[str, Any]]:
        seen = []
        while True:
            event = await self.next(wait_s)
            seen.append(event)
            if event["type"] == kind:
                return seen


@pytest.fixture
async def events(fake: FakeAri, http: aiohttp.ClientSession) -> AsyncIterator[Events]:
    ws = await http.ws_connect(f"{fake.url}/events?app=hotline&subscribeAll=false")
    yield Events(ws)
    await ws.close()


async def originate(fake: FakeAri, http: aiohttp.ClientSession, number: str, **params: str) -> dict[str, Any]:
    variables = params.pop("variables", None)
    query = {"endpoint": f"PJSIP/{number}@hotline-trunk", **params}
    body = {"variables": json.loads(variables)} if variables else None
    async with http.post(f"{fake.url}/channels", params=query, json=body) as resp:
        assert resp.status == 200, await resp.text()
        reply = await resp.json()
    assert isinstance(reply, dict)
    return reply


# --- the docs checker against the captures --------------------------------------------------------------


def test_every_captured_request_is_an_operation_of_the_docs() -> None:
    nicknames = [
        check_request(r["method"], r["path"], r["params"], None)
        for name in ("ari-rest.jsonl", "ari-rest-sip.jsonl")
        for r in jsonl(name)
    ]
    assert {"getInfo", "get", "originate", "answer", "setChannelVar", "record", "play", "list"} <= set(
        nicknames
    )
    assert (
        check_request("GET", "/events", {"app": "hotline", "subscribeAll": "false"}, None) == "eventWebsocket"
    )
    assert check_request("POST", "/channels/create", {"endpoint": "PJSIP/1@t", "app": "a"}, None) == "create"
    assert (
        check_request("POST", "/channels", {"endpoint": "PJSIP/1@t"}, {"variables": {"A": "1"}})
        == "originate"
    )


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "message"),
    [
        ("POST", "/channels/1.2/playback", {}, None, "no resource /channels/1.2/playback"),
        ("PUT", "/channels/1.2", {}, None, "no PUT"),
        (
            "POST",
            "/channels",
            {"endpoint": "PJSIP/1@t", "bogus": "1"},
            None,
            "unknown query parameter 'bogus'",
        ),
        ("POST", "/channels", {"endpoint": "PJSIP/1@t", "variables": "A=1"}, None, "a body parameter"),
        ("POST", "/channels", {}, None, "'endpoint' missing"),
        ("POST", "/channels", {"endpoint": "PJSIP/1@t", "timeout": "soon"}, None, "not an integer"),
        ("DELETE", "/channels/1.2", {"reason": "bye"}, None, "not in ['normal'"),
        ("POST", "/channels", {"endpoint": "PJSIP/1@t"}, {"variables": {"A": 1}}, "must be a string"),
        ("POST", "/channels", {"endpoint": "PJSIP/1@t"}, {"vars": {}}, "unknown body key 'vars'"),
        ("POST", "/bridges/b/addChannel", {"channel": "a", "mute": "maybe"}, None, "not a boolean"),
        ("POST", "/applications/hotline/subscription", {}, None, "'eventSource' missing"),
    ],
)
def test_invented_requests_fail(
    method: str, path: str, params: dict[str, str], body: Any, message: str
) -> None:
    with pytest.raises(AssertionError, match=None) as info:
        check_request(method, path, params, body)
    assert message in str(info.value)


def test_every_captured_event_passes_and_broken_ones_fail() -> None:
    captured = jsonl("ari-events.jsonl") + jsonl("ari-events-sip.jsonl")
    for event in captured:
        check_event(event)
    start = captured[0]
    for broken, message in [
        ({**start, "type": "ChannelExploded"}, "no event of events.json"),
        ({k: v for k, v in start.items() if k != "args"}, "lacks required property 'args'"),
        ({k: v for k, v in start.items() if k != "application"}, "lacks required property 'application'"),
        ({**start, "channel": {**start["channel"], "state": "Talking"}}, "not in"),
        ({**start, "channel": {**start["channel"], "dialplan": {"context": "x"}}}, "lacks required property"),
        ({**start, "timestamp": "yesterday"}, "ARI timestamp"),
        ({**start, "args": "inbound"}, "expected a list"),
    ]:
        with pytest.raises(AssertionError) as info:
            check_event(broken)
        assert message in str(info.value)
    assert "Playback" in docs().models and "Bridge" in docs().models


def test_cause_texts_are_those_asterisk_logged() -> None:
    readme = (SCENARIOS_DIR / "README.md").read_text()
    for cause in (3, 16, 17, 34):
        assert CAUSE_TXT[cause] in readme


# --- the fake: HTTP ---------------------------------------------------------------------------------------


async def test_auth_is_required_like_asterisk(fake: FakeAri) -> None:
    async with aiohttp.ClientSession() as anon:
        async with anon.get(f"{fake.url}/asterisk/info") as resp:
            assert resp.status == 401
            assert await resp.json() == {"message": "Authentication required"}
            assert resp.headers["WWW-Authenticate"].startswith("Basic realm=")
        async with anon.get(
            f"{fake.url}/asterisk/ping",
            headers={"Authorization": aiohttp.encode_basic_auth("hotline", "wrong")},
        ) as resp:
            assert resp.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await anon.ws_connect(f"{fake.url}/events?app=hotline")
        assert info.value.status == 401


async def test_info_and_application_replies_have_the_captured_shapes(
    fake: FakeAri, http: aiohttp.ClientSession, events: Events
) -> None:
    captured = {r["path"]: r["body"] for r in jsonl("ari-rest.jsonl")}
    async with http.get(f"{fake.url}/asterisk/info") as resp:
        assert shape(await resp.json()) == shape(captured["/asterisk/info"])
    async with http.get(f"{fake.url}/applications/hotline") as resp:
        assert await resp.json() == captured["/applications/hotline"]
    async with http.get(f"{fake.url}/applications/nobody") as resp:
        assert resp.status == 404
    async with http.get(f"{fake.url}/asterisk/ping") as resp:
        ping = await resp.json()
        assert ping["ping"] == "pong" and ping["asterisk_id"] == "02:fc:00:00:00:01"
    async with http.get(f"{fake.url}/channels/nope") as resp:
        assert (resp.status, await resp.json()) == (404, {"message": "Channel not found"})
    assert fake.requests[1] == ("GET", "/asterisk/info", {}, None)  # [0] is the events socket


async def test_originate_returns_a_down_channel_shaped_like_the_capture(
    fake: FakeAri, http: aiohttp.ClientSession
) -> None:
    captured = next(r for r in jsonl("ari-rest.jsonl") if r["path"] == "/channels")["body"]
    reply = await originate(
        fake, http, "0912345678", channelId="probe-1", callerId='"Hotline" <19009095>', **LEG
    )
    assert shape(reply) == shape(captured)
    assert reply["state"] == "Down" and reply["id"] == "probe-1"
    assert reply["caller"] == {"name": "Hotline", "number": "19009095"}
    assert reply["dialplan"]["app_name"] == "AppDial2"
    async with http.post(
        f"{fake.url}/channels", params={"endpoint": "PJSIP/1@hotline-trunk", "channelId": "probe-1", **LEG}
    ) as resp:
        assert resp.status == 409
    async with http.post(f"{fake.url}/channels", params=LEG) as resp:
        assert (resp.status, await resp.json()) == (400, {"message": "Endpoint must be specified"})
    assert fake.violations and "'endpoint' missing" in fake.violations[-1]
    fake.violations.clear()
    async with http.post(f"{fake.url}/channels", params={"endpoint": "PJSIP/1@t", "context": "x"}) as resp:
        assert resp.status == 400  # neither app nor extension (resource_channels.c)
    async with http.get(f"{fake.url}/channels") as resp:
        assert [c["id"] for c in await resp.json()] == ["probe-1"]


async def test_unreachable_fails_the_originate_itself(fake: FakeAri, http: aiohttp.ClientSession) -> None:
    fake.script("0900000003", Unreachable())
    async with http.post(
        f"{fake.url}/channels", params={"endpoint": "PJSIP/0900000003@hotline-trunk", **LEG}
    ) as r:
        assert r.status == 500
    assert fake.channels == {}


# --- the fake: the lifecycle of a leg ---------------------------------------------------------------------


async def test_answered_ari_leg(fake: FakeAri, http: aiohttp.ClientSession, events: Events) -> None:
    fake.script("0912345678", Answer(ring_s=0.05, dtmf="1", dtmf_after_s=0.3))
    variables = json.dumps({"HOTLINE_ARI_ARGS": "probe,42", "HOTLINE_RECORDING": "probe-42"})
    channel = await originate(fake, http, "0912345678", variables=variables, **LEG)
    async with http.post(
        f"{fake.url}/applications/hotline/subscription", params={"eventSource": f"channel:{channel['id']}"}
    ) as resp:
        assert resp.status == 200 and channel["id"] in (await resp.json())["channel_ids"]
    seen = [e for e in await events.until("StasisStart") if e["type"] != "Dial"]  # Dial: see below
    assert [(e["type"], e["channel"]["state"]) for e in seen] == [
        ("ChannelStateChange", "Ringing"),
        ("ChannelStateChange", "Up"),
        ("StasisStart", "Up"),
    ]
    start = seen[-1]
    assert start["args"] == ["probe", "42"]
    assert start["channel"]["dialplan"]["context"] == "hotline-ari-leg"
    assert start["channel"]["dialplan"]["app_data"] == "hotline,probe,42"
    assert start["channel"]["language"] == "vi"
    assert fake.channels[channel["id"]].recording == "probe-42"
    captured_start = jsonl("ari-events-sip.jsonl")[0]
    assert shape(start) == shape(captured_start)
    # play: 201 queued, then PlaybackStarted / PlaybackFinished
    async with http.post(
        f"{fake.url}/channels/{channel['id']}/play",
        params={"media": "sound:hotline-probe", "playbackId": "pb-1"},
    ) as resp:
        assert resp.status == 201
        played = await resp.json()
    captured_play = next(r for r in jsonl("ari-rest.jsonl") if r["path"].endswith("/play"))["body"]
    assert shape(played) == shape(captured_play) and played["state"] == "queued"
    seen = await events.until("ChannelDtmfReceived")
    assert [e["type"] for e in seen] == ["PlaybackStarted", "PlaybackFinished", "ChannelDtmfReceived"]
    captured = {e["type"]: e for e in jsonl("ari-events-sip.jsonl")}
    for event in seen:
        assert shape(event) == shape(captured[event["type"]])
    assert [e["playback"]["state"] for e in seen[:2]] == ["playing", "done"]
    assert seen[-1]["digit"] == "1"
    # our own hang-up
    async with http.delete(f"{fake.url}/channels/{channel['id']}", params={"reason": "normal"}) as resp:
        assert resp.status == 204
    end = await events.until("ChannelDestroyed")
    assert [e["type"] for e in end] == ["ChannelHangupRequest", "StasisEnd", "ChannelDestroyed"]
    assert end[0]["cause"] == 16 and end[-1]["cause_txt"] == "Normal Clearing"
    assert channel["id"] not in fake.channels
    async with http.delete(f"{fake.url}/channels/{channel['id']}") as resp:
        assert resp.status == 404
    for raw in events.raw:
        assert json.dumps(json.loads(raw), separators=(",", ":")) == raw  # compact, one event per frame


async def test_far_end_hangs_up_a_dialplan_leg_without_subscription(
    fake: FakeAri, http: aiohttp.ClientSession, events: Events
) -> None:
    """As captured: a channel heard only through its Stasis() gives no ChannelDestroyed after StasisEnd."""
    fake.script("0911111111", Answer(ring_s=0.0, hangup_after_s=0.1))
    await originate(fake, http, "0911111111", variables=json.dumps({"HOTLINE_ARI_ARGS": "callback,7"}), **LEG)
    seen = await events.until("StasisEnd")
    assert [e["type"] for e in seen] == [
        "StasisStart",
        "ChannelVarset",
        "ChannelVarset",
        "ChannelHangupRequest",
        "StasisEnd",
    ]
    assert "cause" not in seen[3]  # a SIP BYE (ari-events-sip.jsonl)
    with pytest.raises(asyncio.TimeoutError):
        await events.next(wait_s=0.2)


@pytest.mark.parametrize(
    ("script", "cause", "ringing"),
    [
        (Busy(), 17, False),
        (Congestion(), 34, False),
        (NoAnswer(ring_s=0.1), 19, True),
        (Busy(ring_s=0.05), 17, True),
    ],
)
async def test_unanswered_legs_end_with_the_scripted_cause(
    fake: FakeAri, http: aiohttp.ClientSession, events: Events, script: Any, cause: int, ringing: bool
) -> None:
    fake.script("0922222222", script)
    await originate(fake, http, "0922222222", app="hotline", appArgs="probe,9", timeout="5")
    seen = await events.until("ChannelDestroyed")
    kinds = [e["type"] for e in seen]
    assert ("ChannelStateChange" in kinds) == ringing and "StasisStart" not in kinds
    assert seen[-1]["cause"] == cause and seen[-1]["cause_txt"] == CAUSE_TXT[cause]
    assert fake.channels == {}


async def test_app_originate_enters_stasis_with_its_args_and_hears_the_destroy(
    fake: FakeAri, http: aiohttp.ClientSession, events: Events
) -> None:
    channel = await originate(fake, http, "0933333333", app="hotline", appArgs="callback,officer")
    seen = await events.until("StasisStart")
    assert seen[-1]["args"] == ["callback", "officer"]
    await fake.remote_hangup(channel["id"], cause=16)
    end = await events.until("ChannelDestroyed")
    assert [e["type"] for e in end][-3:] == ["ChannelHangupRequest", "StasisEnd", "ChannelDestroyed"]


async def test_bridge(fake: FakeAri, http: aiohttp.ClientSession, events: Events) -> None:
    a = await originate(fake, http, "0944444444", app="hotline")
    b = await originate(fake, http, "0955555555", app="hotline")
    await events.until("StasisStart")
    await events.until("StasisStart")
    async with http.post(
        f"{fake.url}/bridges", params={"type": "mixing", "bridgeId": "br-1", "name": "cb"}
    ) as r:
        bridge = await r.json()
    assert bridge["bridge_type"] == "mixing" and bridge["channels"] == []
    docs().check_model("Bridge", bridge, "bridge")
    async with http.post(
        f"{fake.url}/bridges/br-1/addChannel", params={"channel": f"{a['id']},{b['id']}"}
    ) as r:
        assert r.status == 204
    entered = [await events.next(), await events.next()]
    assert [e["type"] for e in entered] == ["ChannelEnteredBridge"] * 2
    assert entered[1]["bridge"]["channels"] == [a["id"], b["id"]]
    async with http.post(f"{fake.url}/bridges/br-1/addChannel", params={"channel": "nope"}) as r:
        assert r.status == 400
    async with http.delete(f"{fake.url}/bridges/br-1") as r:
        assert r.status == 204
    gone = await events.until("BridgeDestroyed")
    assert [e["type"] for e in gone] == ["ChannelLeftBridge", "ChannelLeftBridge", "BridgeDestroyed"]


# --- the fake: the socket and failures --------------------------------------------------------------------


async def test_events_are_not_queued_while_no_socket_is_connected(
    fake: FakeAri, http: aiohttp.ClientSession
) -> None:
    channel = await originate(fake, http, "0966666666", app="hotline")
    await asyncio.sleep(0.15)  # answered and in Stasis with nobody listening
    ws = await http.ws_connect(f"{fake.url}/events?app=hotline&subscribeAll=false")
    await fake.press(channel["id"], "5")
    msg = await ws.receive(timeout=1)
    assert json.loads(msg.data)["type"] == "ChannelDtmfReceived"  # not the StasisStart nobody heard
    await ws.close()


async def test_drop_inject_and_restart(fake: FakeAri, http: aiohttp.ClientSession) -> None:
    ws = await http.ws_connect(f"{fake.url}/events?app=hotline&subscribeAll=false")
    await fake.inject('{"type":"NoSuchEvent"}')
    assert (await ws.receive(timeout=1)).data == '{"type":"NoSuchEvent"}'
    await fake.drop_websockets(mid_frame=True)
    first = await ws.receive(timeout=1)
    assert first.type == aiohttp.WSMsgType.TEXT
    with pytest.raises(ValueError, match="Unterminated string"):
        json.loads(first.data)
    after = await ws.receive(timeout=1)
    assert after.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE)
    await ws.close()

    channel = await originate(fake, http, "0977777777", app="hotline")
    await fake.restart(keep_channels=True)
    async with http.get(f"{fake.url}/channels/{channel['id']}") as resp:
        assert resp.status == 200
    url = await fake.restart(keep_channels=False)
    assert url == fake.url
    async with http.get(f"{fake.url}/channels") as resp:
        assert await resp.json() == []
    async with http.get(f"{fake.url}/applications/hotline") as resp:
        assert resp.status == 404  # no app until it connects again


async def test_fail_and_delay_next(fake: FakeAri, http: aiohttp.ClientSession) -> None:
    fake.fail_next("POST", r"^/channels$", 503, "Service Unavailable")
    async with http.post(f"{fake.url}/channels", params={"endpoint": "PJSIP/1@t", **LEG}) as resp:
        assert (resp.status, await resp.json()) == (503, {"message": "Service Unavailable"})
    fake.delay_next("GET", r"^/asterisk/ping$", 0.5)
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(f"{fake.url}/asterisk/ping", timeout=aiohttp.ClientTimeout(total=0.1)):
            pass
    async with http.get(f"{fake.url}/asterisk/ping") as resp:
        assert resp.status == 200


async def test_undocumented_requests_are_violations(fake: FakeAri, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{fake.url}/channels/x/playback") as resp:
        assert (resp.status, await resp.json()) == (404, {"message": "Resource not found"})
    async with http.get(f"{fake.url}/asterisk/info", params={"verbose": "1"}) as resp:
        assert resp.status == 400
    assert len(fake.violations) == 2
    with pytest.raises(AssertionError):
        fake.assert_no_violations()
    fake.violations.clear()


def test_the_emulators_own_operation_table_is_ari_api_docs() -> None:
    """`callcenter simulate` runs the emulator without the docs: its table must name each path as the
    docs do, so the two never route a request differently."""
    from callcenter.asterisk.ari_emulator import OPERATIONS, operation_of
    from tests.fakes.ari_docs import docs

    described = docs()
    for method, pattern, nickname in OPERATIONS:
        sample = re.sub(r"\[\^/\]\+", "x-1", pattern.pattern)
        operation, _ = described.match(method, sample)
        assert (operation.method, operation.nickname) == (method, nickname), (method, sample)
        assert operation_of(method, sample, {}, None) == nickname
    with pytest.raises(AssertionError):
        operation_of("POST", "/channels/x-1/snoop", {}, None)  # documented, not simulated
