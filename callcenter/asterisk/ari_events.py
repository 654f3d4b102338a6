"""ARI WebSocket events we act on, parsed from one text frame of compact JSON (the shapes of
shared/asterisk/captures/ari-events*.jsonl and ari-api-docs/events.json). No I/O.

Only the fields we use are read; a frame that is not JSON, not an object, or lacks what its type needs
raises AriEventError (the caller logs it and goes on); an event type we do not use is `Ignored`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class AriEventError(ValueError):
    """A frame that is not an ARI event we can read."""


@dataclass(frozen=True)
class StasisStart:
    channel_id: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class StasisEnd:
    channel_id: str


@dataclass(frozen=True)
class Dial:
    """A dial's progress on one of our legs: `peer` is the leg, dialstatus "" while it rings, then
    ANSWER, BUSY, NOANSWER, CHANUNAVAIL, CONGESTION, CANCEL… (Asterisk 22 sends it for an originate)."""

    peer_id: str
    dialstatus: str


@dataclass(frozen=True)
class ChannelDestroyed:
    channel_id: str
    cause: int | None
    cause_txt: str


@dataclass(frozen=True)
class ChannelDtmfReceived:
    channel_id: str
    digit: str


@dataclass(frozen=True)
class PlaybackFinished:
    playback_id: str


@dataclass(frozen=True)
class Ignored:
    type: str


AriEvent = (
    StasisStart | StasisEnd | Dial | ChannelDestroyed | ChannelDtmfReceived | PlaybackFinished | Ignored
)


def parse_event(text: str) -> AriEvent:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise AriEventError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise AriEventError("not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise AriEventError("no event type")
    match kind:
        case "StasisStart":
            args = data.get("args", [])
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                raise AriEventError("StasisStart: args is not a list of strings")
            return StasisStart(_channel_id(data, kind), tuple(args))
        case "StasisEnd":
            return StasisEnd(_channel_id(data, kind))
        case "Dial":
            peer = data.get("peer")
            status = data.get("dialstatus", "")
            if not isinstance(peer, dict) or not isinstance(peer.get("id"), str):
                raise AriEventError("Dial: no peer id")
            return Dial(peer["id"], status if isinstance(status, str) else "")
        case "ChannelDestroyed":
            cause = data.get("cause")
            txt = data.get("cause_txt", "")
            return ChannelDestroyed(
                _channel_id(data, kind),
                cause if isinstance(cause, int) and not isinstance(cause, bool) else None,
                txt if isinstance(txt, str) else "",
            )
        case "ChannelDtmfReceived":
            digit = data.get("digit")
            if not isinstance(digit, str) or len(digit) != 1:
                raise AriEventError("ChannelDtmfReceived: no digit")
            return ChannelDtmfReceived(_channel_id(data, kind), digit)
        case "PlaybackFinished":
            playback = data.get("playback")
            if not isinstance(playback, dict) or not isinstance(playback.get("id"), str):
                raise AriEventError("PlaybackFinished: no playback id")
            return PlaybackFinished(playback["id"])
        case _:
            return Ignored(kind)


def _channel_id(data: dict[str, Any], kind: str) -> str:
    channel = data.get("channel")
    if not isinstance(channel, dict) or not isinstance(channel.get("id"), str) or not channel["id"]:
        raise AriEventError(f"{kind}: no channel id")
    return str(channel["id"])
