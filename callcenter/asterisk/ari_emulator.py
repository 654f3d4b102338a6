"""An emulated Asterisk 22 ARI (REST + events WebSocket) on aiohttp, built from real Asterisk's bytes:
`callcenter simulate callback|probe` drives our ARI side against it end to end on a machine without
Asterisk, and the tests' FakeAri (tests/fakes/ari_server.py) is this plus a check of every request and
event against ARI's own API description (shared/asterisk/ari-api-docs).

Shapes come from shared/asterisk/captures/ari-*.jsonl, from a real Asterisk 22.10.1 (the Dial events, the
leg into the app from creation, StasisEnd/StasisStart around a continue) and from Asterisk's
res/ari/resource_channels.c (originate, hangup, play), resource_applications.c (subscribe) and stasis
(which app hears which channel).

Simulated world:
- `POST /channels` creates a PJSIP channel in state Down and returns at once; what happens next is the
  script of the dialled number (the user part of `PJSIP/<number>@<endpoint>`): `Answer`, `Busy`,
  `NoAnswer`, `Congestion` or `Unreachable` (which, as in Asterisk, fails the originate itself: 500).
- An app hears a channel while the channel is in its Stasis() or while it is subscribed to it (originate
  with `app=`, or `POST /applications/{app}/subscription`). A channel that entered Stasis from the dialplan
  and is not subscribed otherwise is not heard after StasisEnd: no ChannelDestroyed (as in the captures).
- An originate to `context=hotline-ari-leg, extension=s`, or a `continue` there, runs
  dialplan/extensions_hotline.conf's ARI leg: language from HOTLINE_LANGUAGE, MixMonitor when
  HOTLINE_RECORDING is set, then `Stasis(${HOTLINE_ARI_APP},${HOTLINE_ARI_ARGS})`.
- Events are not queued while no WebSocket of the app is connected.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from aiohttp import WSMsgType, web

from callcenter.asterisk import variables as v

RequestCheck = Callable[[str, str, Mapping[str, str], Any], str]  # -> the operation's nickname
EventCheck = Callable[[dict[str, Any]], None]

ASTERISK_ID = "02:fc:00:00:00:01"  # the captures' entity_id
ARI_LEG_CONTEXT = v.ARI_LEG_CONTEXT
ARI_LEG_STASIS_PRIORITY = 4  # [hotline-ari-leg] s: 1 Set, 2 GotoIf, 3 MixMonitor, 4 Stasis, 5 Hangup
AUTH_REALM = "Asterisk REST Interface"

# Asterisk's causes table (main/channel.c, ast_cause2str); the texts the scenarios show are checked by a test.
CAUSE_TXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    127: "Interworking, unspecified",
}
# DELETE /channels/{id}?reason= -> cause (resource_channels.c convert_reason_to_hangup_code)
REASON_CAUSE = {
    "normal": 16,
    "busy": 17,
    "congestion": 34,
    "no_answer": 19,
    "timeout": 18,
    "rejected": 21,
    "unallocated": 1,
    "normal_unspecified": 31,
    "number_incomplete": 28,
    "codec_mismatch": 58,
    "interworking": 127,
    "failure": 38,
    "answered_elsewhere": 26,
}
# What chan_pjsip sets when an answered call with RTP ends (ari-events-sip.jsonl, before the hang-up).
RTP_VARSETS = (
    (
        "RTPAUDIOQOS",
        "ssrc=2027038983;themssrc=235223118;lp=0;rxjitter=0.000000;rxcount=10;txjitter=0.000250;txcount=25;"
        "rlp=0;rtt=0.000000;rxmes=0.000000;txmes=88.087887",
    ),
    (
        "RTPAUDIOQOSJITTER",
        "minrxjitter=000.000000;maxrxjitter=000.000375;avgrxjitter=000.000156;stdevrxjitter=000.000104;"
        "mintxjitter=000.000000;maxtxjitter=000.000000;avgtxjitter=000.000000;stdevtxjitter=000.000000;",
    ),
)
ASTERISK_INFO = {  # GET /asterisk/info, as captured (startup times filled in at start)
    "build": {
        "os": "Linux",
        "kernel": "6.18.44-fc-v782",
        "machine": "x86_64",
        "options": "OPTIONAL_API",
        "date": "2026-11-22 20:23:11 UTC",
        "user": "root",
    },
    "system": {"version": "22.10.1", "entity_id": ASTERISK_ID},
    "config": {"name": "", "default_language": "en", "setid": {"user": "", "group": ""}},
    "status": {"startup_time": "", "last_reload_time": ""},
}


def timestamp() -> str:
    """ARI's time format: 2026-11-22T20:30:54.660+0000."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


# --- scripts: what the far end does ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """Rings `ring_s`, answers; presses `dtmf` (one digit every `dtmf_gap_s`) `dtmf_after_s` after entering
    Stasis; hangs up `hangup_after_s` after answering (None: stays until we hang up)."""

    ring_s: float = 0.05
    dtmf: str = ""
    dtmf_after_s: float = 0.1
    hangup_after_s: float | None = None
    dtmf_gap_s: float = 0.35  # the captures' spacing
    duration_ms: int = 100


@dataclass(frozen=True)
class Busy:
    """486 Busy Here: cause 17, after `ring_s` of ringing (0: no 180 at all)."""

    ring_s: float = 0.0
    cause: int = 17


@dataclass(frozen=True)
class Congestion:
    """503 Service Unavailable: cause 34."""

    ring_s: float = 0.0
    cause: int = 34


@dataclass(frozen=True)
class NoAnswer:
    """Rings until the originate's `timeout` (ARI's default 30 s) or `ring_s` if shorter, then is dropped."""

    ring_s: float | None = None
    cause: int = 19


@dataclass(frozen=True)
class Unreachable:
    """No contact for the endpoint: chan_pjsip cannot create the channel, the originate fails (500)."""

    cause: int = 3


Script = Answer | Busy | Congestion | NoAnswer | Unreachable


# --- the simulated state ---------------------------------------------------------------------------------


@dataclass
class FakeChannel:
    id: str
    name: str
    number: str
    state: str
    caller: dict[str, str]
    connected: dict[str, str]
    dialplan: dict[str, Any]
    creationtime: str
    language: str
    protocol_id: str
    variables: dict[str, str]
    script: Script
    originate: dict[str, Any]
    subscribed: set[str] = field(default_factory=set)  # apps subscribed (originate app=, subscription)
    stasis_app: str | None = None  # the app whose Stasis() the channel is in
    stasis_args: list[str] = field(default_factory=list)
    bridge: str | None = None
    recording: str | None = None  # MixMonitor's file, when the ARI leg recorded
    cause: int = 0
    hung_up: bool = False
    dtmf_received: list[str] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "protocol_id": self.protocol_id,
            "caller": dict(self.caller),
            "connected": dict(self.connected),
            "accountcode": "",
            "dialplan": dict(self.dialplan),
            "creationtime": self.creationtime,
            "language": self.language,
        }

    def apps(self) -> set[str]:
        return self.subscribed | ({self.stasis_app} if self.stasis_app else set())


@dataclass
class FakeBridge:
    id: str
    name: str
    bridge_type: str
    creationtime: str
    channels: list[str] = field(default_factory=list)
    subscribed: set[str] = field(default_factory=set)

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "technology": "simple_bridge" if len(self.channels) <= 2 else "softmix",
            "bridge_type": self.bridge_type,
            "bridge_class": "stasis",
            "creator": "Stasis",
            "name": self.name,
            "channels": list(self.channels),
            "creationtime": self.creationtime,
            "video_mode": "none",
        }


@dataclass
class _Rule:
    method: str
    path: re.Pattern[str]
    status: int = 0
    message: str = ""
    delay: float = 0.0


@dataclass(frozen=True)
class _Call:
    """One checked request, for the `_op_<resource>_<nickname>` handlers."""

    request: web.Request
    path: str
    params: dict[str, str]
    body: Any

    @property
    def ident(self) -> str:
        """The resource id in the path: /channels/<id>/play -> <id>."""
        return self.path.split("/")[2]


@dataclass
class _Socket:
    ws: web.WebSocketResponse
    apps: tuple[str, ...]
    subscribe_all: bool
    transport: asyncio.Transport | None
    active: bool = True


class ViolationError(AssertionError):
    pass


# The operations the emulator simulates: (method, path pattern) -> ARI's nickname (ari-api-docs).
OPERATIONS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), nickname)
    for method, pattern, nickname in (
        ("GET", r"/asterisk/info", "getInfo"),
        ("GET", r"/asterisk/ping", "ping"),
        ("GET", r"/applications", "list"),
        ("GET", r"/applications/[^/]+", "get"),
        ("POST", r"/applications/[^/]+/subscription", "subscribe"),
        ("GET", r"/channels", "list"),
        ("POST", r"/channels", "originate"),
        ("GET", r"/channels/[^/]+", "get"),
        ("DELETE", r"/channels/[^/]+", "hangup"),
        ("POST", r"/channels/[^/]+/continue", "continueInDialplan"),
        ("POST", r"/channels/[^/]+/play", "play"),
        ("POST", r"/bridges", "create"),
        ("GET", r"/bridges/[^/]+", "get"),
        ("POST", r"/bridges/[^/]+/addChannel", "addChannel"),
        ("DELETE", r"/bridges/[^/]+", "destroy"),
        ("GET", r"/events", "eventWebsocket"),
    )
)


def operation_of(method: str, path: str, params: Mapping[str, str], body: Any) -> str:
    """The nickname of the operation a request is (no parameter checks: the tests' checker does those)."""
    for m, pattern, nickname in OPERATIONS:
        if m == method and pattern.fullmatch(path):
            return nickname
    raise AssertionError(f"{method} {path} has no resource in the emulator")


class AriEmulator:
    """Asterisk 22's ARI under /ari on 127.0.0.1. See the module docstring for what it simulates."""

    def __init__(
        self,
        username: str = "hotline",
        password: str = "secret",
        *,
        app: str = "hotline",
        language: str = "vi",
        endpoint_context: str = "hotline-trunk-in",
        playback_s: float = 0.05,
        setup_s: float = 0.02,
        port: int = 0,
        check_request: RequestCheck | None = None,
        check_event: EventCheck | None = None,
    ) -> None:
        # The tests give ari-api-docs' checks; without them the operation comes from OPERATIONS.
        self._check_request = check_request or operation_of
        self._check_event = check_event or (lambda event: None)
        self.username = username
        self.password = password
        self.app = app  # HOTLINE_ARI_APP: the app the ARI leg's Stasis() enters
        self.language = language  # HOTLINE_LANGUAGE
        self.endpoint_context = endpoint_context  # the trunk endpoint's context (pjsip_hotline.conf)
        self.playback_s = playback_s
        # From the originate to the far end's first answer (180, 200, 486, 503): the INVITE's round trip.
        # The scenarios show 4 ms; a client subscribes to the channel within it.
        self.setup_s = setup_s
        self.port = port
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.violations: list[str] = []
        self.events: list[dict[str, Any]] = []  # every event sent on some socket, in order
        self.channels: dict[str, FakeChannel] = {}
        self.bridges: dict[str, FakeBridge] = {}
        self.scripts: dict[str, Script] = {}
        self.default_script: Script = Answer()
        self.registered: set[str] = set()  # apps that connected since the last start
        self._sockets: list[_Socket] = []
        self._rules: list[_Rule] = []
        self._runner: web.AppRunner | None = None
        self._seq = itertools.count(1)
        self._started = ""
        self._playback_tasks: dict[str, asyncio.Task[None]] = {}

    # --- test controls -------------------------------------------------------------------------------------

    def script(self, number: str, script: Script) -> None:
        self.scripts[number] = script

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/ari/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        if self.port == 0:
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._started = timestamp()
        return self.url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ari"

    async def stop(self) -> None:
        """Asterisk goes away: sockets cut without a close frame, the HTTP port closed."""
        for sock in self._sockets:
            if sock.transport is not None:
                sock.transport.abort()
        self._sockets.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def restart(self, keep_channels: bool = False) -> str:
        """Stop and start on the same port. A real restart loses every channel and bridge (and apps)."""
        await self.stop()
        if not keep_channels:
            for channel in self.channels.values():
                for task in channel.tasks:
                    task.cancel()
            self.channels.clear()
            self.bridges.clear()
        self.registered.clear()
        return await self.start()

    async def __aenter__(self) -> AriEmulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for channel in self.channels.values():
            for task in channel.tasks:
                task.cancel()
        for task in self._playback_tasks.values():
            task.cancel()
        await self.stop()
        if exc_type is None and self.violations:
            raise ViolationError("requests that ari-api-docs does not allow:\n" + "\n".join(self.violations))

    def fail_next(self, method: str, path_regex: str, status: int, message: str) -> None:
        """The next `method` request whose ARI path matches `path_regex` (re.search) gets `status`."""
        self._rules.append(_Rule(method.upper(), re.compile(path_regex), status=status, message=message))

    def delay_next(self, method: str, path_regex: str, seconds: float) -> None:
        """The next matching request is answered only after `seconds` (then normally)."""
        self._rules.append(_Rule(method.upper(), re.compile(path_regex), delay=seconds))

    async def inject(self, raw_text: str) -> None:
        """Send `raw_text` as one text frame on every connected socket (a malformed or unknown event)."""
        for sock in list(self._sockets):
            if sock.active and not sock.ws.closed:
                await sock.ws.send_str(raw_text)

    async def drop_websockets(self, mid_frame: bool = False) -> None:
        """Close every events socket. mid_frame: first a text frame that is cut-off JSON, then half a
        frame on the wire and the TCP connection aborted (no close frame)."""
        for sock in list(self._sockets):
            if mid_frame and not sock.ws.closed:
                await sock.ws.send_str('{"type":"ChannelStateChange","timestamp":"2026-11-22T20:3')
                if sock.transport is not None:
                    payload = b'{"type":"StasisEnd","timestamp":"2026'
                    sock.transport.write(b"\x81\x7e\x01\x00" + payload)  # announces 256 bytes, sends fewer
                    sock.transport.abort()
            else:
                await sock.ws.close()
        self._sockets.clear()

    async def press(self, channel_id: str, digit: str, duration_ms: int = 100) -> None:
        channel = self.channels[channel_id]
        channel.dtmf_received.append(digit)
        await self._emit(
            channel,
            {
                "type": "ChannelDtmfReceived",
                "timestamp": timestamp(),
                "digit": digit,
                "duration_ms": duration_ms,
            },
        )

    async def remote_hangup(self, channel_id: str, cause: int = 16) -> None:
        """The far end hangs up (a SIP BYE): RTP variables, ChannelHangupRequest with no cause (as the SIP
        capture shows), StasisEnd, then ChannelDestroyed with `cause` to the apps still subscribed."""
        channel = self.channels.get(channel_id)
        if channel is None or channel.hung_up:
            return
        if channel.state == "Up":
            for name, value in RTP_VARSETS:
                await self._emit(
                    channel,
                    {"variable": name, "value": value, "type": "ChannelVarset", "timestamp": timestamp()},
                )
        await self._hangup(channel, cause, request={})

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], wait_s: float = 2.0
    ) -> dict[str, Any]:
        """The first event sent (so far or within `wait_s`) that matches `predicate`."""
        deadline = time.monotonic() + wait_s
        while True:
            for event in self.events:
                if predicate(event):
                    return event
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no such event within {wait_s} s; sent: {[e['type'] for e in self.events]}"
                )
            await asyncio.sleep(0.01)

    def assert_no_violations(self) -> None:
        assert not self.violations, "\n".join(self.violations)

    # --- events --------------------------------------------------------------------------------------------

    async def _send(self, apps: set[str], event: dict[str, Any]) -> None:
        for sock in list(self._sockets):
            if not sock.active or sock.ws.closed:
                continue
            targets = [a for a in sock.apps if a in apps or sock.subscribe_all]
            for app in targets:
                framed = {**event, "asterisk_id": ASTERISK_ID, "application": app}
                self._check_event(framed)
                self.events.append(framed)
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await sock.ws.send_str(json.dumps(framed, separators=(",", ":")))

    async def _emit(self, channel: FakeChannel, event: dict[str, Any], apps: set[str] | None = None) -> None:
        """An event about `channel` (its snapshot put in last, as the captures order the keys)."""
        event = {**event, "channel": channel.json()}
        await self._send(channel.apps() if apps is None else apps, event)

    def _later(self, channel: FakeChannel, delay: float, step: Callable[[], Awaitable[None]]) -> None:
        async def run() -> None:
            await asyncio.sleep(delay)
            if not channel.hung_up:
                await step()

        channel.tasks.append(asyncio.get_running_loop().create_task(run()))

    # --- the channel lifecycle -----------------------------------------------------------------------------

    async def _set_state(self, channel: FakeChannel, state: str) -> None:
        channel.state = state
        await self._emit(channel, {"type": "ChannelStateChange", "timestamp": timestamp()})

    async def _dial(self, channel: FakeChannel, dialstatus: str) -> None:
        """The originate's Dial progress, as Asterisk 22 sends it to the app of the leg (seen on a real
        one: "" when the dial starts, then ANSWER / BUSY / NOANSWER / CONGESTION), `peer` the leg."""
        origin = channel.originate
        dialstring = channel.originate.get("endpoint", "").partition("/")[2]
        event = {
            "type": "Dial",
            "timestamp": timestamp(),
            "dialstatus": dialstatus,
            "forward": "",
            "dialstring": dialstring or origin.get("endpoint", ""),
            "peer": channel.json(),
        }
        await self._send(channel.apps(), event)

    async def _run(self, channel: FakeChannel, timeout_s: float) -> None:
        script = channel.script
        await self._dial(channel, "")
        await asyncio.sleep(self.setup_s)
        if isinstance(script, Answer):
            if script.ring_s > 0:
                await self._set_state(channel, "Ringing")
                await asyncio.sleep(script.ring_s)
            if channel.hung_up:
                return
            await self._dial(channel, "ANSWER")
            await self._answer(channel, script)
        elif isinstance(script, Busy | Congestion):
            if script.ring_s > 0:
                await self._set_state(channel, "Ringing")
                await asyncio.sleep(script.ring_s)
            await self._dial(channel, "BUSY" if isinstance(script, Busy) else "CONGESTION")
            await self._hangup(channel, script.cause, request={"cause": script.cause})
        elif isinstance(script, NoAnswer):
            await self._set_state(channel, "Ringing")
            ring = timeout_s if script.ring_s is None else min(script.ring_s, timeout_s)
            await asyncio.sleep(ring)
            await self._dial(channel, "NOANSWER")
            await self._hangup(channel, script.cause, request=None)

    async def _answer(self, channel: FakeChannel, script: Answer) -> None:
        await self._set_state(channel, "Up")
        if script.hangup_after_s is not None:
            self._later(channel, script.hangup_after_s, lambda: self.remote_hangup(channel.id))
        origin = channel.originate
        if origin.get("app"):
            data = origin["app"] + ("," + origin["appArgs"] if origin.get("appArgs") else "")
            channel.dialplan = {**channel.dialplan, "app_name": "Stasis", "app_data": data}
            await self._enter_stasis(channel, data, script)
        elif origin.get("context") == ARI_LEG_CONTEXT and origin.get("extension") == "s":
            await self._run_ari_leg(channel, script)
        else:
            # A dialplan the fake does not know: no such extension, the PBX hangs the channel up.
            await self._hangup(channel, 16, request=None)

    async def _run_ari_leg(self, channel: FakeChannel, script: Answer | None) -> None:
        """dialplan/extensions_hotline.conf's [hotline-ari-leg]: language, MixMonitor when
        HOTLINE_RECORDING is set, Stasis(${HOTLINE_ARI_APP},${HOTLINE_ARI_ARGS})."""
        channel.language = self.language  # Set(CHANNEL(language)=${HOTLINE_LANGUAGE})
        recording = channel.variables.get("HOTLINE_RECORDING", "")
        if recording:
            channel.recording = recording
        # ${HOTLINE_ARI_APP}: a channel variable of that name wins over the global, as in Asterisk.
        app = channel.variables.get("HOTLINE_ARI_APP") or self.app
        data = f"{app},{channel.variables.get('HOTLINE_ARI_ARGS', '')}"
        channel.dialplan = {
            "context": ARI_LEG_CONTEXT,
            "exten": "s",
            "priority": ARI_LEG_STASIS_PRIORITY,
            "app_name": "Stasis",
            "app_data": data,
        }
        await self._enter_stasis(channel, data, script)

    async def _enter_stasis(self, channel: FakeChannel, data: str, script: Answer | None) -> None:
        app, *args = data.split(",")  # app_stasis: AST_STANDARD_APP_ARGS, argv after the app name
        channel.stasis_app = app
        channel.stasis_args = args
        await self._emit(channel, {"type": "StasisStart", "timestamp": timestamp(), "args": args})
        for i, digit in enumerate(script.dtmf if script is not None else ""):
            assert script is not None
            delay = script.dtmf_after_s + i * script.dtmf_gap_s
            self._later(
                channel,
                delay,
                lambda d=digit: self.press(channel.id, d, script.duration_ms),  # type: ignore[misc]
            )

    async def _hangup(self, channel: FakeChannel, cause: int, request: dict[str, Any] | None) -> None:
        """ChannelHangupRequest (when `request` is given: its extra keys), leaving the bridge, StasisEnd,
        ChannelDestroyed to the apps still subscribed."""
        if channel.hung_up:
            return
        channel.hung_up = True
        channel.cause = cause
        current = asyncio.current_task()
        for task in channel.tasks:
            if task is not current:
                task.cancel()
        if request is not None:
            await self._emit(channel, {**request, "type": "ChannelHangupRequest", "timestamp": timestamp()})
        for playback_id, task in list(self._playback_tasks.items()):
            if playback_id.startswith(channel.id + "|"):
                task.cancel()
        if channel.bridge and channel.bridge in self.bridges:
            bridge = self.bridges[channel.bridge]
            bridge.channels.remove(channel.id)
            channel.bridge = None
            await self._emit(
                channel,
                {"type": "ChannelLeftBridge", "timestamp": timestamp(), "bridge": bridge.json()},
                apps=channel.apps() | bridge.subscribed,
            )
        if channel.stasis_app:
            app = channel.stasis_app
            await self._emit(channel, {"type": "StasisEnd", "timestamp": timestamp()}, apps={app})
            channel.stasis_app = None
        destroyed = {
            "type": "ChannelDestroyed",
            "timestamp": timestamp(),
            "cause": cause,
            "cause_txt": CAUSE_TXT.get(cause, "Unknown"),
        }
        await self._emit(channel, destroyed, apps=set(channel.subscribed))
        self.channels.pop(channel.id, None)

    # --- HTTP ----------------------------------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        api_key = request.query.get("api_key")
        if api_key is not None:
            return api_key == f"{self.username}:{self.password}"
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == (self.username, self.password)

    @staticmethod
    def _error(status: int, message: str) -> web.Response:
        return web.json_response({"message": message}, status=status)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"].strip("/")
        params = {k: v for k, v in request.query.items() if k != "api_key"}
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    self.violations.append(f"{request.method} {path}: body is not JSON: {raw[:80]!r}")
                    return self._error(400, "Failed to parse request body")
        self.requests.append((request.method, path, params, body))
        if not self._authorised(request):
            return web.json_response(
                {"message": "Authentication required"},
                status=401,
                headers={"WWW-Authenticate": f'Basic realm="{AUTH_REALM}"'},
            )
        try:
            nickname = self._check_request(request.method, path, params, body)
        except AssertionError as exc:
            self.violations.append(str(exc))
            if "has no resource" in str(exc):
                return self._error(404, "Resource not found")
            if "has no " in str(exc):
                return self._error(405, "Invalid method")
            if path == "/channels" and request.method == "POST" and "'endpoint' missing" in str(exc):
                return self._error(400, "Endpoint must be specified")
            return self._error(400, str(exc))
        for rule in list(self._rules):
            if rule.method == request.method and rule.path.search(path):
                self._rules.remove(rule)
                if rule.delay:
                    await asyncio.sleep(rule.delay)
                if rule.status:
                    return self._error(rule.status, rule.message)
                break
        if isinstance(body, dict):  # query parameters may come in the body too
            params = {**params, **{k: v for k, v in body.items() if k != "variables" and isinstance(v, str)}}
        handler = getattr(self, "_op_" + path.strip("/").split("/")[0] + "_" + nickname, None)
        if handler is None:
            self.violations.append(f"{request.method} {path} ({nickname}): not simulated by the emulator")
            return self._error(501, "Not implemented in the ARI emulator")
        response: web.StreamResponse = await handler(_Call(request, path, params, body))
        return response

    # asterisk

    async def _op_asterisk_getInfo(self, call: _Call) -> web.StreamResponse:
        info = json.loads(json.dumps(ASTERISK_INFO))
        info["status"] = {"startup_time": self._started, "last_reload_time": self._started}
        if call.params.get("only"):
            info = {k: v for k, v in info.items() if k in call.params["only"].split(",")}
        return web.json_response(info)

    async def _op_asterisk_ping(self, call: _Call) -> web.StreamResponse:
        return web.json_response({"asterisk_id": ASTERISK_ID, "ping": "pong", "timestamp": timestamp()})

    # applications

    def _application(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "channel_ids": [c.id for c in self.channels.values() if name in c.apps()],
            "bridge_ids": [b.id for b in self.bridges.values() if name in b.subscribed],
            "endpoint_ids": [],
            "device_names": [],
            "events_allowed": [],
            "events_disallowed": [],
        }

    async def _op_applications_list(self, call: _Call) -> web.StreamResponse:
        return web.json_response([self._application(a) for a in sorted(self.registered)])

    async def _op_applications_get(self, call: _Call) -> web.StreamResponse:
        name = call.ident
        if name not in self.registered:
            return self._error(404, "Application not found")
        return web.json_response(self._application(name))

    async def _op_applications_subscribe(self, call: _Call) -> web.StreamResponse:
        name = call.ident
        sources = [s for s in call.params.get("eventSource", "").split(",") if s]
        if not sources:
            return self._error(400, "Missing parameter eventSource")
        if name not in self.registered:
            return self._error(404, "Application not found")
        targets: list[FakeChannel | FakeBridge] = []
        for source in sources:
            scheme, _, ident = source.partition(":")
            if scheme not in ("channel", "bridge", "endpoint", "deviceState"):
                return self._error(400, "Invalid event source URI scheme")
            found = self.channels.get(ident) if scheme == "channel" else self.bridges.get(ident)
            if found is None or scheme not in ("channel", "bridge"):
                return self._error(422, "Event source does not exist")
            targets.append(found)
        for target in targets:
            target.subscribed.add(name)
        return web.json_response(self._application(name))

    # channels

    async def _op_channels_list(self, call: _Call) -> web.StreamResponse:
        return web.json_response([c.json() for c in self.channels.values()])

    async def _op_channels_get(self, call: _Call) -> web.StreamResponse:
        channel = self.channels.get(call.ident)
        if channel is None:
            return self._error(404, "Channel not found")
        return web.json_response(channel.json())

    async def _op_channels_originate(self, call: _Call) -> web.StreamResponse:
        endpoint = call.params.get("endpoint", "")
        if not endpoint:
            return self._error(400, "Endpoint must be specified")
        tech, _, device = endpoint.partition("/")
        if not tech or not device:
            return self._error(400, "Invalid endpoint specified")
        if not call.params.get("app") and not call.params.get("extension"):
            return self._error(400, "Application or extension must be specified")
        channel_id = call.params.get("channelId") or f"{int(time.time())}.{next(self._seq)}"
        if channel_id in self.channels:
            return self._error(409, "Channel with given unique ID already exists")
        number, _, resource = device.partition("@")
        script = self.scripts.get(number, self.default_script)
        if isinstance(script, Unreachable):
            # ast_dial_prerun fails (no contact: cause 3): ast_ari_response_alloc_failed
            return web.json_response({"error": "Allocation failed"}, status=500)
        caller = {"name": "", "number": ""}
        if call.params.get("callerId"):
            m = re.fullmatch(r'\s*"?([^"<]*?)"?\s*<([^>]*)>\s*', call.params["callerId"])
            caller = (
                {"name": m.group(1), "number": m.group(2)}
                if m
                else {"name": "", "number": call.params["callerId"]}
            )
        variables: dict[str, str] = {}
        for name, value in ((call.body or {}).get("variables") or {}).items():
            variables[name] = value["value"] if isinstance(value, dict) else value
        seq = next(self._seq)
        channel = FakeChannel(
            id=channel_id,
            name=f"{tech}/{resource or number}-{seq:08x}",
            number=number,
            state="Down",
            caller=caller,
            connected=dict(caller),
            dialplan={
                "context": self.endpoint_context,
                "exten": "s",
                "priority": 1,
                "app_name": "AppDial2",
                "app_data": "(Outgoing Line)",
            },
            creationtime=timestamp(),
            language="en",
            protocol_id=f"{uuid.uuid4()}",
            variables=variables,
            script=script,
            originate=dict(call.params),
        )
        if call.params.get("app"):
            channel.subscribed.add(call.params["app"])
        self.channels[channel_id] = channel
        timeout = int(call.params.get("timeout", "30"))
        timeout_s = 30.0 if timeout == 0 else (10**9 if timeout < 0 else float(timeout))
        reply = channel.json()
        channel.tasks.append(asyncio.get_running_loop().create_task(self._run(channel, timeout_s)))
        return web.json_response(reply)

    async def _op_channels_hangup(self, call: _Call) -> web.StreamResponse:
        channel = self.channels.get(call.ident)
        if channel is None:
            return self._error(404, "Channel not found")
        if call.params.get("reason") and call.params.get("reason_code"):
            return self._error(400, "The reason and reason_code can't both be specified")
        if call.params.get("reason_code"):
            try:
                cause = int(call.params["reason_code"])
            except ValueError:
                return self._error(400, "Invalid reason for hangup reason code provided")
        else:
            cause = REASON_CAUSE[call.params.get("reason", "normal")]

        async def hang() -> None:
            await self._hangup(channel, cause, request={"cause": cause, "soft": True})

        asyncio.get_running_loop().create_task(hang())
        return web.Response(status=204)

    async def _op_channels_continueInDialplan(self, call: _Call) -> web.StreamResponse:
        """Leave Stasis (StasisEnd) and run the dialplan at context/extension/priority; the fake knows
        [hotline-ari-leg], which enters Stasis again (StasisStart with HOTLINE_ARI_ARGS)."""
        channel = self.channels.get(call.ident)
        if channel is None:
            return self._error(404, "Channel not found")
        if channel.stasis_app is None:
            return self._error(409, "Channel not in Stasis application")
        app, channel.stasis_app = channel.stasis_app, None

        async def run() -> None:
            await self._emit(channel, {"type": "StasisEnd", "timestamp": timestamp()}, apps={app})
            if call.params.get("context") == ARI_LEG_CONTEXT and call.params.get("extension", "s") == "s":
                await self._run_ari_leg(channel, None)
            else:
                await self._hangup(channel, 16, request=None)

        channel.tasks.append(asyncio.get_running_loop().create_task(run()))
        return web.Response(status=204)

    async def _op_channels_play(self, call: _Call) -> web.StreamResponse:
        channel = self.channels.get(call.ident)
        if channel is None:
            return self._error(404, "Channel not found")
        if channel.stasis_app is None:
            return self._error(409, "Channel not in Stasis application")
        if channel.state in ("Down", "Rsrved", "Ringing"):
            return self._error(412, "Channel in invalid state")
        playback_id = call.params.get("playbackId") or str(uuid.uuid4())
        media = call.params["media"].split(",")
        playback = {
            "id": playback_id,
            "media_uri": media[0],
            "target_uri": f"channel:{channel.id}",
            "language": call.params.get("lang") or channel.language,
            "state": "queued",
        }

        async def run() -> None:
            await self._send(
                channel.apps(),
                {
                    "type": "PlaybackStarted",
                    "timestamp": timestamp(),
                    "playback": {**playback, "state": "playing"},
                },
            )
            try:
                await asyncio.sleep(self.playback_s * len(media))
            finally:
                await self._send(
                    channel.apps() | ({channel.stasis_app} if channel.stasis_app else set()),
                    {
                        "type": "PlaybackFinished",
                        "timestamp": timestamp(),
                        "playback": {**playback, "state": "done"},
                    },
                )

        self._playback_tasks[f"{channel.id}|{playback_id}"] = asyncio.get_running_loop().create_task(run())
        return web.json_response(playback, status=201, headers={"Location": f"/playbacks/{playback_id}"})

    # bridges

    async def _op_bridges_create(self, call: _Call) -> web.StreamResponse:
        bridge_id = call.params.get("bridgeId") or str(uuid.uuid4())
        if bridge_id in self.bridges:
            return self._error(409, "Bridge with the same bridgeId already exists")
        kinds = call.params.get("type", "mixing").split(",")
        bridge = FakeBridge(
            id=bridge_id,
            name=call.params.get("name", ""),
            bridge_type="holding" if "holding" in kinds else "mixing",
            creationtime=timestamp(),
        )
        self.bridges[bridge_id] = bridge
        return web.json_response(bridge.json())

    async def _op_bridges_get(self, call: _Call) -> web.StreamResponse:
        bridge = self.bridges.get(call.ident)
        if bridge is None:
            return self._error(404, "Bridge not found")
        return web.json_response(bridge.json())

    async def _op_bridges_addChannel(self, call: _Call) -> web.StreamResponse:
        bridge = self.bridges.get(call.ident)
        if bridge is None:
            return self._error(404, "Bridge not found")
        channels = []
        for channel_id in call.params["channel"].split(","):
            channel = self.channels.get(channel_id)
            if channel is None:
                return self._error(400, "Channel not found")
            if channel.stasis_app is None:
                return self._error(422, "Channel not in Stasis application")
            channels.append(channel)

        async def enter() -> None:
            for channel in channels:
                if channel.hung_up or channel.id in bridge.channels:
                    continue
                bridge.channels.append(channel.id)
                channel.bridge = bridge.id
                if channel.stasis_app:
                    bridge.subscribed.add(channel.stasis_app)  # a Stasis channel's app hears its bridge
                await self._emit(
                    channel,
                    {"type": "ChannelEnteredBridge", "timestamp": timestamp(), "bridge": bridge.json()},
                    apps=channel.apps() | bridge.subscribed,
                )

        asyncio.get_running_loop().create_task(enter())
        return web.Response(status=204)

    async def _op_bridges_destroy(self, call: _Call) -> web.StreamResponse:
        bridge = self.bridges.get(call.ident)
        if bridge is None:
            return self._error(404, "Bridge not found")

        async def destroy() -> None:
            for channel_id in list(bridge.channels):
                bridge.channels.remove(channel_id)
                channel = self.channels.get(channel_id)
                if channel is not None:
                    channel.bridge = None
                    await self._emit(
                        channel,
                        {"type": "ChannelLeftBridge", "timestamp": timestamp(), "bridge": bridge.json()},
                        apps=channel.apps() | bridge.subscribed,
                    )
            self.bridges.pop(bridge.id, None)
            await self._send(
                bridge.subscribed,
                {"type": "BridgeDestroyed", "timestamp": timestamp(), "bridge": bridge.json()},
            )

        asyncio.get_running_loop().create_task(destroy())
        return web.Response(status=204)

    # events

    async def _op_events_eventWebsocket(self, call: _Call) -> web.StreamResponse:
        apps = tuple(a for a in call.params.get("app", "").split(",") if a)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(call.request)
        transport = call.request.transport
        for other in self._sockets:
            if other.active and set(other.apps) & set(apps):
                # "the newer WebSocket wins, and the older one receives this event" (events.json)
                for app in set(other.apps) & set(apps):
                    event = {
                        "type": "ApplicationReplaced",
                        "timestamp": timestamp(),
                        "asterisk_id": ASTERISK_ID,
                        "application": app,
                    }
                    self._check_event(event)
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await other.ws.send_str(json.dumps(event, separators=(",", ":")))
                other.active = False
        sock = _Socket(
            ws,
            apps,
            call.params.get("subscribeAll", "false").lower() in ("true", "yes", "1"),
            transport if isinstance(transport, asyncio.Transport) else None,
        )
        self._sockets.append(sock)
        self.registered.update(apps)
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            if sock in self._sockets:
                self._sockets.remove(sock)
        return ws
