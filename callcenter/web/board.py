"""The live board: the page (/bang-truc), its JSON snapshot (/api/board) and its Server-Sent Events feed
(/api/board/events): a `snapshot` event at connect and whenever the watcher's own snapshot changes, a
comment every `board_heartbeat_s` so that proxies keep the stream open. The stream ends when the client
goes (noticed within a poll), when the server stops, and after `board_stream_max_s`: EventSource then
connects again through the authentication middleware, so a session that ended stops the feed."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from callcenter.services.board import BoardService, content_of
from callcenter.web.context import STATE, principal, services, state
from callcenter.web.io import json_response
from callcenter.web.render import render

STREAM_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once
}
RETRY_MS = 3000


def _board(request: web.Request) -> BoardService:
    board = services(request).board
    if board is None:
        raise web.HTTPNotFound()
    return board


async def board_page(request: web.Request) -> web.StreamResponse:
    snapshot = await _board(request).snapshot(principal(request))
    return render(request, "board.html", {"board": snapshot}, title="Bảng trực")


async def board_json(request: web.Request) -> web.StreamResponse:
    return json_response(await _board(request).snapshot(principal(request)))


def sse_event(name: str, data: dict[str, Any], event_id: int) -> bytes:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event_id}\nevent: {name}\ndata: {body}\n\n".encode()


async def board_events(request: web.Request) -> web.StreamResponse:
    board = _board(request)
    who = principal(request)
    config = state(request).config
    loop = asyncio.get_running_loop()
    response = web.StreamResponse(headers=STREAM_HEADERS)
    await response.prepare(request)
    await response.write(f"retry: {RETRY_MS}\n\n".encode())
    started = last_write = loop.time()
    sent: dict[str, Any] | None = None
    count = 0
    try:
        async with board.feed.watch() as watcher:
            while True:
                wait = max(0.05, min(1.0, config.board_heartbeat_s - (loop.time() - last_write)))
                facts = await watcher.next(wait)
                if board.feed.closed or _gone(request):
                    break
                if facts is not None:
                    snapshot = board.view(facts, who)
                    if sent is None or content_of(snapshot) != sent:
                        count += 1
                        await response.write(sse_event("snapshot", snapshot, count))
                        sent, last_write = content_of(snapshot), loop.time()
                if loop.time() - last_write >= config.board_heartbeat_s:
                    await response.write(b": keep-alive\n\n")
                    last_write = loop.time()
                if loop.time() - started >= config.board_stream_max_s:
                    break
    except (ConnectionResetError, ConnectionError):
        return response  # the browser went between two checks
    with contextlib.suppress(ConnectionResetError, ConnectionError):
        await response.write_eof()
    return response


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def close_board(app: web.Application) -> None:
    """on_shutdown: end every board stream now (aiohttp would otherwise wait for them to finish)."""
    board = app[STATE].services.board
    if board is not None:
        await board.close()
