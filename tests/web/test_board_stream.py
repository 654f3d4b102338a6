"""The live board's Server-Sent Events over real HTTP (the app as `serve` builds it, SQLite and
PostgreSQL): the snapshot at connect, a new call as a new event, the heartbeat, the scope, the end of
the stream when the server stops."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from callcenter.app import App, build_web
from callcenter.domain.access import Role
from callcenter.services.users import UserInput
from callcenter.web.context import STATE
from tests.conftest import FakeClock
from tests.web.test_board import BVDK_HOTLINE, call_in, hang_up

PASSWORD = "mat-khau-bang-truc-7"
PEOPLE = [
    UserInput("giamsat", Role.SUPERVISOR, "Lê Giám Sát", province="Thanh Hóa"),
    UserInput("canbonhi", Role.FACILITY_OFFICER, "Ngô Cán Bộ Nhi", facility_code="BVNHI-TH"),
]


@contextlib.asynccontextmanager
async def served(app: App, heartbeat_s: float = 15.0) -> AsyncIterator[tuple[str, web.Application]]:
    application = build_web(app)
    st = application[STATE]
    application[STATE] = replace(st, config=replace(st.config, board_heartbeat_s=heartbeat_s))
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server: Any = site._server
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", application
    finally:
        await runner.cleanup()


class Stream:
    """An EventSource's view of the response: events (name, data, comments seen before it)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.comments = 0

    async def event(self, within_s: float = 5.0) -> tuple[str, dict[str, Any]]:
        name, data = "message", ""
        async with asyncio.timeout(within_s):
            while True:
                raw = await self.response.content.readline()
                if not raw:
                    raise EOFError("the stream ended")
                line = raw.decode().rstrip("\n")
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data += line[6:]
                elif not line and data:
                    return name, json.loads(data)


@pytest.fixture
async def people(sample_app: App, clock: FakeClock) -> None:
    for person in PEOPLE:
        await sample_app.users.create(person, PASSWORD, clock())


async def signed_in(base: str, username: str) -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True))  # an IP address
    r = await session.post("/api/session", json={"username": username, "password": PASSWORD})
    assert r.status == 201, await r.text()
    return session


@pytest.mark.usefixtures("people")
async def test_the_feed_sends_a_snapshot_then_each_change(sample_app: App, clock: FakeClock) -> None:
    async with served(sample_app) as (base, application):
        supervisor, other = await signed_in(base, "giamsat"), await signed_in(base, "canbonhi")
        try:
            r = await supervisor.get("/api/board/events")
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/event-stream")
            assert r.headers["Cache-Control"] == "no-store"
            stream = Stream(r)
            name, first = await stream.event()
            assert name == "snapshot" and first["calls"] == []
            theirs = Stream(await other.get("/api/board/events"))
            assert (await theirs.event())[1]["calls"] == []

            started = time.perf_counter()
            received = await call_in(sample_app, clock, BVDK_HOTLINE)
            name, second = await stream.event()
            seen_after = time.perf_counter() - started
            assert name == "snapshot"
            assert [c["ticket"]["ref"] for c in second["calls"]] == [received.ticket_ref]
            assert seen_after < 2.5, seen_after  # polled about every second

            # Nothing changed: no new event (the clock alone changes nothing but `at`).
            with pytest.raises(TimeoutError):
                await stream.event(within_s=1.6)
            # The officer of another facility was never sent it: their stream has nothing new.
            with pytest.raises(TimeoutError):
                await theirs.event(within_s=0.5)

            clock.advance(seconds=26)  # the estimate moves on to the backup: that is a change
            assert (await stream.event())[1]["calls"][0]["target"]["index"] == 2
            await hang_up(sample_app, clock, received, answered=True)
            assert (await stream.event())[1]["calls"] == []

            # The JSON snapshot says the same.
            board = await (await supervisor.get("/api/board")).json()
            assert board["calls"] == [] and board["totals"]["answered"] == 1
            assert (await (await other.get("/api/board")).json())["totals"]["received"] == 0
            feed = application[STATE].services.board
            assert feed is not None and feed.feed.watchers == 2
        finally:
            await supervisor.close()
            await other.close()
        await asyncio.sleep(1.5)  # the clients went: their streams notice within a poll
        assert feed.feed.watchers == 0


@pytest.mark.usefixtures("people")
async def test_a_heartbeat_keeps_the_stream_open_and_it_ends_when_the_server_stops(
    sample_app: App,
) -> None:
    async with served(sample_app, heartbeat_s=0.3) as (base, _):
        client = await signed_in(base, "giamsat")
        try:
            stream = Stream(await client.get("/api/board/events"))
            await stream.event()
            with pytest.raises(TimeoutError):
                await stream.event(within_s=1.0)
            assert stream.comments >= 2  # ": keep-alive" about every 0.3 s
            stopped = time.perf_counter()
            reader = asyncio.create_task(stream.event(within_s=10))
        finally:
            pass
    # `served` ran runner.cleanup(): on_shutdown closed the feed, so the stream ended at once.
    with pytest.raises(EOFError):
        await reader
    assert time.perf_counter() - stopped < 3
    await client.close()


async def test_nobody_signed_in_gets_401_not_a_stream(sample_app: App) -> None:
    async with served(sample_app) as (base, _), aiohttp.ClientSession(base) as anonymous:
        r = await anonymous.get("/api/board/events")
        assert r.status == 401
        page = await anonymous.get("/bang-truc", allow_redirects=False)
        assert page.status == 303 and page.headers["Location"] == "/dang-nhap?next=/bang-truc"
