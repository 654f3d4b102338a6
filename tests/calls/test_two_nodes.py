"""Two `serve` nodes on one database (two apps, each with its own engine and pool): the same call's
call_ended arriving on both at once is applied once, nothing is spooled as a failure, and a sweep of
the shared recordings runs on one node at a time."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from callcenter.app import App, adopt_orphan_recordings, build_app, load_sample_data_once
from callcenter.domain.call import AttemptResult, CallEndReport
from callcenter.services.calls import IncomingCall, RecordingNames
from callcenter.services.tickets import TicketQueries
from callcenter.settings import Settings
from callcenter.storage.db import is_sqlite
from callcenter.storage.election import elected
from tests.conftest import FakeClock


async def test_the_same_call_ended_on_two_nodes_is_applied_once(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    other = build_app(settings, clock)  # the second node
    try:
        ticket_ids = []
        for n in range(5):
            incoming = IncomingCall(f"1795380439.{n}", f"PJSIP/trunk-{n}", "0912345678", "", "0968115115")
            received = await sample_app.calls.receive(incoming, clock())
            ticket_ids.append(received.ticket_id)
            # as Asterisk's hang-up handler sends it: with the call id route_call put on the channel
            ended = IncomingCall(*list(incoming.__dict__.values())[:5], call_id=received.call_id)
            report = CallEndReport(True, 1, {}, AttemptResult.ANSWERED, 15_000, 16, None, False, 30)
            files = RecordingNames(f"hotline-1795380439.{n}", None)
            outcomes = await asyncio.gather(
                sample_app.calls.end(ended, report, files, clock()),
                other.calls.end(ended, report, files, clock()),
            )
            assert sum(o is not None for o in outcomes) == 1, outcomes
        for app in (sample_app, other):
            assert await app.journal.pending() == []  # neither node took the other's end for a failure
        async with sample_app.uow() as uow:
            for ticket_id in ticket_ids:
                kinds = [kind for _, kind, _ in await uow.tickets.events(ticket_id)]
                assert kinds.count("call_ended") == 1, kinds
                assert (await uow.jobs.state_for_ticket(ticket_id) or ("",))[0] == "queued"
    finally:
        await other.close()


async def test_two_nodes_sweeping_shared_recordings_make_one_ticket_each(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    """The recordings directory is a volume both nodes mount: an orphan recording is adopted once."""
    directory = Path(settings.recordings.dir)
    an_hour_ago = time.time() - 3600
    for n in range(6):
        for suffix in ("", "-rx", "-tx"):
            path = directory / f"hotline-1795999999.{n}{suffix}.wav"
            path.write_bytes(b"RIFF")
            os.utime(path, (an_hour_ago, an_hour_ago))
    other = build_app(settings, clock)
    try:
        before = await TicketQueries(sample_app.uow).count()
        for _ in range(3):  # rounds of the maintenance loop, on both nodes at once
            await asyncio.gather(
                adopt_orphan_recordings(sample_app, clock()), adopt_orphan_recordings(other, clock())
            )
        assert await TicketQueries(sample_app.uow).count() == before + 6
    finally:
        await other.close()


async def test_the_election_lets_one_node_in_at_a_time(sample_app: App, settings: Settings) -> None:
    if is_sqlite(settings.database.url):
        async with elected(sample_app.engine, "sweep") as one, elected(sample_app.engine, "sweep") as two:
            assert one and two  # one node's database: nobody to take turns with
        return
    other = build_app(settings)
    try:
        async with elected(sample_app.engine, "sweep") as first:
            assert first
            async with elected(other.engine, "sweep") as second:
                assert not second  # never waits: skips this round
            async with elected(other.engine, "another task") as unrelated:
                assert unrelated
        async with elected(other.engine, "sweep") as after:
            assert after  # given back when the first node's block ended
    finally:
        await other.close()


async def test_two_asterisk_boxes_with_their_systemname_make_two_calls(sample_app: App) -> None:
    """Asterisk prefixes UNIQUEID with its systemname: the same epoch.sequence on two boxes is two calls."""
    from callcenter.asterisk import variables as v
    from callcenter.asterisk.server import FastAgiServer
    from callcenter.asterisk.simulate import SimulatedCall, simulate_call

    server = FastAgiServer(sample_app.handlers, host="127.0.0.1", port=0)
    await server.start()
    try:
        refs = set()
        for box in ("tongdai-a", "tongdai-b"):
            call = SimulatedCall(uniqueid=f"{box}-1795380439.44", dialled="0968115115", outcomes=("answer",))
            result = await simulate_call("127.0.0.1", server.port, call)
            assert result.routed and result.ended.server_closed
            refs.add(result.route.variables[v.TICKET_REF])
            assert result.route.variables[v.RECORDING] == f"hotline-{box}-1795380439.44"
    finally:
        await server.close()
    assert len(refs) == 2


async def test_two_nodes_starting_together_load_the_sample_data_once(
    settings: Settings, clock: FakeClock
) -> None:
    """load_sample_data on an empty database: each node finds the registry empty; one loads it."""
    nodes = [build_app(settings, clock) for _ in range(3)]
    try:
        await asyncio.gather(*(load_sample_data_once(node, clock()) for node in nodes))
        async with nodes[0].uow() as uow:
            rotations = await uow.roster.rotations()
        assert len(await nodes[0].facilities.list()) == 5
        assert len(rotations) == 16  # config/sample/roster.csv, once
    finally:
        for node in nodes:
            await node.close()
