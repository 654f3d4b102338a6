"""The ARI client: REST calls to place and steer the legs of the calls we place, and the one events
WebSocket of our Stasis app, with reconnection.

Every REST call here is one of ARI's own operations (ari-api-docs; a test checks each request the fake
Asterisk receives against them). Asterisk does not queue events while our socket is away, so each
(re)connection first calls `on_connected` (the service reconciles its rows against `GET /channels`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiohttp
import structlog

from callcenter.asterisk import variables as v
from callcenter.asterisk.ari_events import (
    AriEventError,
    ChannelDestroyed,
    ChannelDtmfReceived,
    Dial,
    Ignored,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
    parse_event,
)
from callcenter.services.ports_outbound import LegEndedAtOnce, LiveLeg, TelephonyError, TelephonyGone

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class AriConfig:
    url: str  # e.g. http://127.0.0.1:8088/ari
    username: str
    password: str
    app: str = "hotline"
    dial_template: str = "PJSIP/{number}@hotline-trunk"
    request_timeout_s: float = 10.0
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    language: str = "vi"  # of the prompts we play (sounds/<language>/), as HOTLINE_LANGUAGE


class EventSink(Protocol):
    """What the events drive (services.outbound.OutboundService)."""

    async def leg_answered(self, channel: str, now: datetime, *, recorded: bool = False) -> None: ...
    async def leg_left(self, channel: str, now: datetime) -> None: ...
    async def dial_status(self, channel: str, status: str, now: datetime) -> None: ...
    async def digit(self, channel: str, digit: str, now: datetime) -> None: ...
    async def leg_ended(self, channel: str, cause: int | None, now: datetime) -> None: ...
    async def playback_finished(self, playback_id: str, now: datetime) -> None: ...


class AriClient:
    """Implements services.ports_outbound.Telephony over ARI's REST API."""

    def __init__(self, config: AriConfig, session: aiohttp.ClientSession | None = None) -> None:
        self._config = config
        self._session = session
        self._own_session = session is None
        self._base = config.url.rstrip("/")

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": _basic_auth(self._config.username, self._config.password)},
                timeout=aiohttp.ClientTimeout(total=self._config.request_timeout_s),
            )
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """One REST call; the decoded JSON reply (None for 204). 404 raises TelephonyGone, any other
        4xx/5xx, a connection failure or a timeout TelephonyError (with the status and ARI's message)."""
        session = await self._http()
        try:
            async with session.request(method, self._base + path, params=params or None, json=body) as r:
                raw = await r.read()
                if r.status >= 400:
                    message = _message(raw) or r.reason or ""
                    error = TelephonyGone if r.status == 404 else TelephonyError
                    raise error(f"{method} {path}: {r.status} {message}", status=r.status)
                if r.status == 204 or not raw:
                    return None
                try:
                    return json.loads(raw)
                except ValueError:
                    raise TelephonyError(f"{method} {path}: reply is not JSON", status=r.status) from None
        except TimeoutError:
            raise TelephonyError(f"{method} {path}: no reply in {self._config.request_timeout_s} s") from None
        except aiohttp.ClientError as exc:
            raise TelephonyError(f"{method} {path}: {type(exc).__name__}: {exc}") from None

    # --- Telephony --------------------------------------------------------------------------------

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
        # Into our app from its creation: every event of the leg comes to us, a busy or unanswered
        # one's Dial and ChannelDestroyed included (a leg sent to the dialplan would be heard only from
        # its Stasis(), and a busy line ends within milliseconds, before any subscription could be made).
        variables = {v.ARI_APP: self._config.app}
        if recording is not None:
            # For record_leg: [hotline-ari-leg] starts MixMonitor, then Stasis() with these arguments.
            variables[v.RECORDING] = recording
            variables[v.ARI_ARGS] = ",".join([*stasis_args, v.ARI_RECORDED_TAG])
        try:
            await self.request(
                "POST",
                "/channels",
                {
                    "endpoint": self._config.dial_template.format(number=number),
                    "app": self._config.app,
                    "appArgs": ",".join(stasis_args),
                    "callerId": caller_id,
                    "timeout": str(timeout_s),
                    "channelId": channel_id,
                },
                {"variables": variables},
            )
        except TelephonyError as exc:
            if exc.status == 500:
                # res_ari's originate answers 500 when the channel cannot even be created (chan_pjsip:
                # the endpoint has no contact, "no route to destination"): the number is unreachable.
                raise LegEndedAtOnce(f"{channel_id}: Asterisk could not create the leg ({exc})") from None
            raise

    async def record_leg(self, channel_id: str) -> None:
        await self.request(
            "POST",
            f"/channels/{channel_id}/continue",
            {"context": v.ARI_LEG_CONTEXT, "extension": "s", "priority": "1"},
        )

    async def hangup(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{channel_id}", {"reason": "normal"})

    async def play(self, channel_id: str, sound: str, playback_id: str) -> None:
        await self.request(
            "POST",
            f"/channels/{channel_id}/play",
            {"media": f"sound:{sound}", "lang": self._config.language, "playbackId": playback_id},
        )

    async def bridge(self, bridge_id: str, channel_ids: list[str]) -> None:
        await self.request("POST", "/bridges", {"type": "mixing", "bridgeId": bridge_id, "name": bridge_id})
        await self.request("POST", f"/bridges/{bridge_id}/addChannel", {"channel": ",".join(channel_ids)})

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{bridge_id}")

    async def channels(self) -> dict[str, LiveLeg]:
        found = await self.request("GET", "/channels")
        if not isinstance(found, list):
            raise TelephonyError("GET /channels: not a list")
        live: dict[str, LiveLeg] = {}
        for c in found:
            if isinstance(c, dict) and isinstance(c.get("id"), str):
                dialplan = c.get("dialplan")
                context = dialplan.get("context") if isinstance(dialplan, dict) else None
                live[c["id"]] = LiveLeg(up=c.get("state") == "Up", recorded=context == v.ARI_LEG_CONTEXT)
        return live

    # --- events ----------------------------------------------------------------------------------

    async def run_events(
        self,
        sink: EventSink,
        clock: Callable[[], datetime],
        stop: asyncio.Event,
        on_connected: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """Read our app's events until `stop`; reconnect with a growing, jittered delay (reset after a
        connection that worked), calling `on_connected` each time the socket is up."""
        delay = self._config.reconnect_min_s
        warned: set[str] = set()
        url = self._base.replace("http", "ws", 1) + "/events"
        params = {"app": self._config.app, "subscribeAll": "false"}
        while not stop.is_set():
            connected = False
            try:
                session = await self._http()
                async with session.ws_connect(
                    url, params=params, heartbeat=30.0, timeout=_ws_timeout()
                ) as ws:
                    connected = True
                    log.info("ari.connected", app=self._config.app)
                    if on_connected is not None:
                        await _logged(on_connected(), "ari.on_connected_failed")
                    await self._read(ws, sink, clock, stop, warned)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning(
                    "ari.connect_failed", error=f"{type(exc).__name__}: {exc}", retry_in_s=round(delay, 2)
                )
            if stop.is_set():
                return
            if connected:
                log.warning("ari.disconnected", app=self._config.app)
                delay = self._config.reconnect_min_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self._config.reconnect_max_s)

    async def _read(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        sink: EventSink,
        clock: Callable[[], datetime],
        stop: asyncio.Event,
        warned: set[str],
    ) -> None:
        stopping = asyncio.create_task(stop.wait())
        try:
            while True:
                receiving = asyncio.create_task(ws.receive())
                done, _ = await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stopping in done:
                    receiving.cancel()
                    await ws.close()
                    return
                message = receiving.result()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    if message.type in (
                        aiohttp.WSMsgType.CLOSE,
                        aiohttp.WSMsgType.CLOSED,
                        aiohttp.WSMsgType.ERROR,
                    ):
                        return
                    continue
                await self._dispatch(message.data, sink, clock, warned)
        finally:
            stopping.cancel()

    async def _dispatch(
        self, text: str, sink: EventSink, clock: Callable[[], datetime], warned: set[str]
    ) -> None:
        try:
            event = parse_event(text)
        except AriEventError as exc:
            log.warning("ari.bad_event", error=str(exc), size=len(text))
            return
        now = clock()
        match event:
            case StasisStart(channel_id=channel, args=args):
                if args[:1] == (v.ARI_ARGS_TAG,):
                    recorded = args[-1:] == (v.ARI_RECORDED_TAG,)
                    await _logged(
                        sink.leg_answered(channel, now, recorded=recorded),
                        "ari.handler_failed",
                        event="StasisStart",
                    )
            case StasisEnd(channel_id=channel):
                await _logged(sink.leg_left(channel, now), "ari.handler_failed", event="StasisEnd")
            case Dial(peer_id=channel, dialstatus=status):
                await _logged(sink.dial_status(channel, status, now), "ari.handler_failed", event="Dial")
            case ChannelDtmfReceived(channel_id=channel, digit=digit):
                await _logged(
                    sink.digit(channel, digit, now), "ari.handler_failed", event="ChannelDtmfReceived"
                )
            case ChannelDestroyed(channel_id=channel, cause=cause):
                await _logged(
                    sink.leg_ended(channel, cause, now), "ari.handler_failed", event="ChannelDestroyed"
                )
            case PlaybackFinished(playback_id=playback):
                await _logged(
                    sink.playback_finished(playback, now), "ari.handler_failed", event="PlaybackFinished"
                )
            case Ignored(type=kind):
                if kind not in warned and kind not in _EXPECTED:
                    warned.add(kind)
                    log.info("ari.event_ignored", type=kind)


# Events Asterisk sends about our legs that we have no use for: not worth a log line.
_EXPECTED = frozenset(
    {
        "ChannelStateChange",
        "ChannelVarset",
        "ChannelHangupRequest",
        "ChannelDialplan",
        "ChannelCallerId",
        "ChannelConnectedLine",
        "ChannelEnteredBridge",
        "ChannelLeftBridge",
        "BridgeCreated",
        "BridgeDestroyed",
        "PlaybackStarted",
        "ChannelCreated",
    }
)


def _basic_auth(username: str, password: str) -> str:
    """ARI takes HTTP basic auth on REST and on the WebSocket upgrade alike (ari.conf users)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _ws_timeout() -> aiohttp.ClientWSTimeout:
    return aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0)


async def _logged(work: Awaitable[object], what: str, **context: str) -> None:
    """A handler's failure is logged with the event, never allowed to end the events loop."""
    try:
        await work
    except Exception:
        log.exception(what, **context)


def _message(raw: bytes) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return raw[:200].decode("utf-8", "replace")
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return ""
