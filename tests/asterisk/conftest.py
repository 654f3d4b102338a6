"""Fixtures for the FastAGI tests: a server on an ephemeral port, and raw TCP pairs to script a peer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from callcenter.asterisk.server import FastAgiServer, Handler

# Small deadlines keep the suite fast; the behaviour under test does not depend on their size.
FAST: dict[str, float] = {
    "header_timeout": 0.3,
    "command_timeout": 2.0,
    "handler_timeout": 2.0,
    "slot_wait": 0.05,
    "failure_timeout": 1.0,
    "close_timeout": 0.3,
    "shutdown_grace": 1.0,
}

StartServer = Callable[..., Awaitable[FastAgiServer]]


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    servers: list[FastAgiServer] = []

    async def start(handlers: Mapping[str, Handler], **overrides: Any) -> FastAgiServer:
        server = FastAgiServer(handlers, host="127.0.0.1", port=0, **{**FAST, **overrides})
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close(grace=1.0)


@dataclass
class Pair:
    """Both ends of one loopback TCP connection: `ours` for the code under test, `theirs` for the script."""

    ours: tuple[asyncio.StreamReader, asyncio.StreamWriter]
    theirs: tuple[asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture
async def tcp_pair() -> AsyncIterator[Callable[[], Awaitable[Pair]]]:
    accepted: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def on_accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accepted.put((reader, writer))

    listener = await asyncio.start_server(on_accept, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    writers: list[asyncio.StreamWriter] = []

    async def make() -> Pair:
        ours = await asyncio.open_connection("127.0.0.1", port)
        theirs = await asyncio.wait_for(accepted.get(), 5)
        writers.extend([ours[1], theirs[1]])
        return Pair(ours, theirs)

    yield make
    for writer in writers:
        writer.close()
    listener.close()
    await listener.wait_closed()


async def until(predicate: Callable[[], bool], limit: float = 5.0) -> None:
    """Wait for a condition the server reaches asynchronously (bounded, so a bug fails, not hangs)."""
    async with asyncio.timeout(limit):
        while not predicate():  # noqa: ASYNC110 - server state with no event to wait on
            await asyncio.sleep(0.005)
