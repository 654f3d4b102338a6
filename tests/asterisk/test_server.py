"""The FastAGI server under hostile or unlucky conditions: it logs, tells the dialplan, and keeps serving."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from callcenter.asterisk.channel import AgiChannel, AgiError
from callcenter.asterisk.emulator import ROUTE_CALL_HEADER, AsteriskPeer, header_lines
from callcenter.asterisk.server import entry_points
from callcenter.asterisk.variables import AGI_FAILURE, ROUTE_CALL

from .conftest import StartServer, until


async def _noop(channel: AgiChannel) -> None:
    await channel.verbose("hello")


def _events(logs: Sequence[Mapping[str, Any]]) -> list[str]:
    return [entry["event"] for entry in logs]


async def _serves_normally(port: int) -> None:
    transcript = await AsteriskPeer().run("127.0.0.1", port)
    assert transcript.commands == ['VERBOSE "hello" 1']
    assert transcript.server_closed and AGI_FAILURE not in transcript.variables


# --- header ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("first_bytes", [b"", b"".join(header_lines(ROUTE_CALL_HEADER))[:100]])
async def test_header_stall_is_closed_after_header_timeout(
    start_server: StartServer, first_bytes: bytes
) -> None:
    server = await start_server({ROUTE_CALL: _noop})
    with capture_logs() as logs:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(first_bytes)
        # The server gives up on its own (header_timeout 0.3 s): we only see its close.
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        await until(lambda: server.active_connections == 0)
    assert "agi.header_timeout" in _events(logs)
    await _serves_normally(server.port)


async def test_64k_header_is_rejected(start_server: StartServer) -> None:
    server = await start_server({ROUTE_CALL: _noop})
    with capture_logs() as logs:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        with contextlib.suppress(ConnectionError):
            writer.write(b"agi_calleridname: " + b"A" * 64 * 1024 + b"\n\n")
            await writer.drain()
        with contextlib.suppress(ConnectionError):
            assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        await until(lambda: server.active_connections == 0)
    rejected = [e for e in logs if e["event"] == "agi.header_rejected"]
    assert rejected and "16384" in rejected[0]["reason"]
    await _serves_normally(server.port)


async def test_eof_inside_the_header_is_quietly_dropped(start_server: StartServer) -> None:
    server = await start_server({ROUTE_CALL: _noop})
    with capture_logs() as logs:
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"agi_network: yes\nagi_netw")
        writer.close()
        await until(lambda: "agi.header_incomplete" in _events(logs))
    await _serves_normally(server.port)


async def test_non_utf8_and_quotes_in_the_caller_name(start_server: StartServer) -> None:
    names: list[str] = []

    async def handler(channel: AgiChannel) -> None:
        names.append(channel.header.calleridname)
        await channel.set_variable("ECHO", channel.header.calleridname)

    lines = header_lines(ROUTE_CALL_HEADER)
    evil = b'agi_calleridname: Nguy\xe1\xbb\x85n "A\\" \xff\xfeB\rC\n'
    lines = [evil if line.startswith(b"agi_calleridname:") else line for line in lines]
    server = await start_server({ROUTE_CALL: handler})
    transcript = await AsteriskPeer(raw_header=lines).run("127.0.0.1", server.port)
    expected = 'Nguyễn "A\\" \ufffd\ufffdB\ufffdC'
    assert names == [expected]
    # Through our quoting and Asterisk's parse_args, the value arrives intact, on one command line.
    assert transcript.variables["ECHO"] == expected
    assert len(transcript.commands) == 1


# --- dispatch and failures -------------------------------------------------------------------------


async def test_unknown_script_sets_agi_failure(start_server: StartServer) -> None:
    server = await start_server({ROUTE_CALL: _noop})
    with capture_logs() as logs:
        transcript = await AsteriskPeer({**ROUTE_CALL_HEADER, "network_script": "no_such_thing"}).run(
            "127.0.0.1", server.port
        )
    assert transcript.variables == {AGI_FAILURE: "unknown_script"}
    assert transcript.server_closed
    assert "agi.unknown_script" in _events(logs)


async def test_script_is_matched_without_query_string(start_server: StartServer) -> None:
    header = {**ROUTE_CALL_HEADER, "network_script": f"{ROUTE_CALL}?caller=5551234"}
    server = await start_server({ROUTE_CALL: _noop})
    assert (await AsteriskPeer(header).run("127.0.0.1", server.port)).commands == ['VERBOSE "hello" 1']


async def test_handler_raising_sets_error(start_server: StartServer) -> None:
    async def broken(channel: AgiChannel) -> None:
        await channel.answer()
        raise RuntimeError("bug in the handler")

    server = await start_server({ROUTE_CALL: broken})
    with capture_logs() as logs:
        transcript = await AsteriskPeer().run("127.0.0.1", server.port)
    assert transcript.variables == {AGI_FAILURE: "error"}
    failed = [e for e in logs if e["event"] == "agi.handler_failed"]
    assert failed and failed[0]["exc_info"] is True
    # The server is still there for the next call.
    assert (await AsteriskPeer().run("127.0.0.1", server.port)).variables == {AGI_FAILURE: "error"}


async def test_handler_exceeding_its_time_sets_timeout(start_server: StartServer) -> None:
    async def slow(channel: AgiChannel) -> None:
        await channel.answer()
        await asyncio.sleep(30)

    server = await start_server({ROUTE_CALL: slow}, handler_timeout=0.2)
    with capture_logs() as logs:
        transcript = await AsteriskPeer().run("127.0.0.1", server.port)
    assert transcript.variables == {AGI_FAILURE: "timeout"}
    assert "agi.handler_timeout" in _events(logs)


async def test_handler_timeout_mid_command_skips_the_late_reply(start_server: StartServer) -> None:
    """Cut off during GET DATA: the failure report must wait out GET DATA's reply, not take it for its own."""

    async def waits_for_digits(channel: AgiChannel) -> None:
        await channel.get_data("hotline-enter-code", 5000, 4)

    server = await start_server({ROUTE_CALL: waits_for_digits}, handler_timeout=0.2, failure_timeout=3.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    for line in header_lines(ROUTE_CALL_HEADER):
        writer.write(line)
    assert await reader.readline() == b"GET DATA hotline-enter-code 5000 4\n"
    # The report is already queued behind GET DATA, as Asterisk would see it.
    assert await asyncio.wait_for(reader.readline(), 5) == f'SET VARIABLE {AGI_FAILURE} "timeout"\n'.encode()
    writer.write(b"200 result= (timeout)\n")  # GET DATA's reply, late
    with capture_logs() as logs:
        writer.write(b"200 result=1\n")  # the SET VARIABLE's
        assert await asyncio.wait_for(reader.read(), 5) == b""  # then the server closes
        writer.write(b"HANGUP\n")
        writer.close()
        await until(lambda: server.active_connections == 0)
    assert "agi.failure_not_reported" not in _events(logs)


async def test_peer_disconnecting_mid_command(start_server: StartServer) -> None:
    errors: list[type[BaseException]] = []
    done = asyncio.Event()

    async def handler(channel: AgiChannel) -> None:
        try:
            await channel.answer()
        except AgiError as exc:
            errors.append(type(exc))
        try:
            await channel.verbose("still there?")
        except AgiError as exc:
            errors.append(type(exc))
        done.set()

    server = await start_server({ROUTE_CALL: handler})
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    for line in header_lines(ROUTE_CALL_HEADER):
        writer.write(line)
    assert await reader.readline() == b"ANSWER\n"
    writer.close()  # Asterisk (or the network) gone mid-command
    await asyncio.wait_for(done.wait(), 5)
    assert len(errors) == 2 and all(issubclass(e, AgiError) for e in errors)
    server_handlers = {ROUTE_CALL: _noop}
    other = await start_server(server_handlers)
    await _serves_normally(other.port)
    await until(lambda: server.active_connections == 0)


async def test_max_sessions_bounded_third_call_is_busy(start_server: StartServer) -> None:
    gate = asyncio.Event()
    running = 0

    async def slow(channel: AgiChannel) -> None:
        nonlocal running
        running += 1
        await gate.wait()
        await channel.set_variable("DONE", "1")

    server = await start_server({ROUTE_CALL: slow}, max_sessions=2, slot_wait=0.05)
    first = [asyncio.create_task(AsteriskPeer().run("127.0.0.1", server.port)) for _ in range(2)]
    await until(lambda: running == 2)
    with capture_logs() as logs:
        third = await AsteriskPeer().run("127.0.0.1", server.port)
    assert third.variables == {AGI_FAILURE: "busy"}
    assert "agi.busy" in _events(logs)
    gate.set()
    for transcript in await asyncio.gather(*first):
        assert transcript.variables == {"DONE": "1"}
    # Slots are given back: the next call runs.
    assert (await AsteriskPeer().run("127.0.0.1", server.port)).variables == {"DONE": "1"}


async def test_close_cancels_stuck_sessions_after_grace(start_server: StartServer) -> None:
    cancelled = asyncio.Event()

    async def stuck(channel: AgiChannel) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    server = await start_server({ROUTE_CALL: stuck}, handler_timeout=60)
    peer = asyncio.create_task(AsteriskPeer().run("127.0.0.1", server.port))
    await until(lambda: server.active_connections == 1)
    await asyncio.sleep(0.05)
    await asyncio.wait_for(server.close(grace=0.1), 5)
    assert cancelled.is_set()
    transcript = await asyncio.wait_for(peer, 5)
    assert transcript.server_closed  # the connection was closed, not left hanging
    assert server.active_connections == 0


# --- logging --------------------------------------------------------------------------------------


async def test_session_context_is_bound_and_caller_masked(start_server: StartServer) -> None:
    bound: list[dict[str, Any]] = []

    async def handler(channel: AgiChannel) -> None:
        bound.append(structlog.contextvars.get_contextvars())
        await channel.verbose("hello")

    server = await start_server({ROUTE_CALL: handler})
    with capture_logs() as logs:
        await AsteriskPeer().run("127.0.0.1", server.port)
        await until(lambda: server.active_connections == 0)
    assert bound == [{"call_id": ROUTE_CALL_HEADER["uniqueid"], "script": ROUTE_CALL}]
    start = next(e for e in logs if e["event"] == "agi.session_start")
    assert start["caller"] == "*******678"
    assert "agi.session_end" in _events(logs)
    text = repr(logs)
    assert ROUTE_CALL_HEADER["callerid"] not in text
    assert ROUTE_CALL_HEADER["calleridname"] not in text
    assert all(e["event"].startswith("agi.") for e in logs)


def test_entry_points_table_rejects_duplicates() -> None:
    table = entry_points([("a", _noop), ("b", _noop)])
    assert list(table) == ["a", "b"]
    with pytest.raises(ValueError, match="'a'"):
        entry_points([("a", _noop), ("a", _noop)])


async def test_close_while_a_header_is_still_coming(start_server: StartServer) -> None:
    server = await start_server({ROUTE_CALL: _noop}, header_timeout=60)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"agi_network: yes\n")
    await until(lambda: server.active_connections == 1)
    await asyncio.wait_for(server.close(grace=0.1), 5)
    # Cancelled in the header phase: the socket is closed all the same, not leaked.
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
