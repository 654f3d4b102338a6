"""Our server against a fake Asterisk that replays the captured bytes, chunk for chunk.

The handler issues the commands the capture shows (read from the capture, so no name is spelled
here); the fake answers each with the captured reply chunks. The bytes our server sends must be the
captured `to_asterisk` bytes, exactly.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from callcenter.asterisk.channel import AgiChannel, ChannelHungUp, DigitsResult
from callcenter.asterisk.protocol import LineSplitter, Reply, decode_line, parse_replies, split_command
from callcenter.asterisk.session import AgiSession
from tests.fakes import captures

from .conftest import StartServer

SESSIONS = [s for s in captures.all_sessions() if not s.name.startswith("agi-session.txt")]


async def replay(session: captures.Session, port: int) -> bytes:
    """Play Asterisk from the capture: send its chunks in turn, read ours; the last HANGUP after our FIN."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    chunks = list(session.chunks)
    final_hangup = chunks[-1].from_asterisk and chunks[-1].data == b"HANGUP\n"
    received = bytearray()
    try:
        for chunk in chunks[:-1] if final_hangup else chunks:
            if chunk.from_asterisk:
                writer.write(chunk.data)
                await writer.drain()
            else:
                received += await asyncio.wait_for(reader.readexactly(len(chunk.data)), 5)
        received += await asyncio.wait_for(reader.read(), 5)  # up to the server's FIN
        if final_hangup:
            writer.write(b"HANGUP\n")  # what Asterisk writes after the script's FIN
            await writer.drain()
    finally:
        writer.close()
    return bytes(received)


async def perform(channel: AgiChannel, line: bytes) -> object:
    """Issue one captured command through the AgiChannel API (raw only for what it does not cover)."""
    try:
        match split_command(line.decode().removesuffix("\n")):
            case ["ANSWER"]:
                await channel.answer()
                return None
            case ["STREAM", "FILE", name, escape]:
                await channel.stream_file(name, escape)
                return None
            case ["GET", "DATA", prompt, timeout_ms, digits]:
                return await channel.get_data(prompt, int(timeout_ms), int(digits))
            case ["SET", "VARIABLE", name, value]:
                await channel.set_variable(name, value)
                return None
            case ["GET", "VARIABLE", name]:
                return await channel.get_variable(name)
            case ["GET", "FULL", "VARIABLE", expression]:
                return await channel.get_full_variable(expression)
            case ["VERBOSE", message, level]:
                await channel.verbose(message, int(level))
                return None
            case [verb, *args]:
                assert isinstance(channel, AgiSession)
                return (await channel.run_command(verb, *args)).code
    except ChannelHungUp:
        return ChannelHungUp
    raise AssertionError(f"cannot replay {line!r}")


def expected_outcome(line: bytes, reply: Reply) -> object:
    """What the API must return for `line` given the captured `reply`."""
    args = split_command(line.decode().removesuffix("\n"))
    typed = args[0] in ("ANSWER", "STREAM", "VERBOSE") or args[:2] in (["GET", "DATA"], ["SET", "VARIABLE"])
    variable = args[:2] == ["GET", "VARIABLE"] or args[:3] == ["GET", "FULL", "VARIABLE"]
    if not (typed or variable):
        return reply.code
    if reply.code == 511 or (
        args[0] != "VERBOSE" and args[:2] != ["SET", "VARIABLE"] and reply.result == "-1"
    ):
        return ChannelHungUp
    if args[:2] == ["GET", "DATA"]:
        return DigitsResult(reply.result, reply.data == "timeout")
    if variable:
        return None if reply.result == "0" else reply.data
    return None


def captured_replies(session: captures.Session) -> list[Reply]:
    lines = LineSplitter(1 << 16).feed(session.after_header)
    return [r for r in parse_replies(decode_line(line) for line in lines) if isinstance(r, Reply)]


@captures.requires_captures
@pytest.mark.parametrize("session", SESSIONS, ids=[s.name for s in SESSIONS])
async def test_server_sends_the_captured_bytes(session: captures.Session, start_server: StartServer) -> None:
    outcomes: list[object] = []
    flags: list[bool] = []

    async def handler(channel: AgiChannel) -> None:
        for line in session.commands:
            outcomes.append(await perform(channel, line))
        flags.append(channel.hung_up)

    header_script = session.header_bytes.split(b"agi_network_script: ", 1)[1].split(b"\n", 1)[0].decode()
    server = await start_server({header_script: handler})
    sent = await replay(session, server.port)

    assert sent == session.to_asterisk
    replies = captured_replies(session)
    assert outcomes == [expected_outcome(c, r) for c, r in zip(session.commands, replies, strict=True)]
    # Once Asterisk said HANGUP (or -1/511), the channel is known to be gone.
    hung_up_in_capture = b"HANGUP\n" in session.after_header.removesuffix(b"HANGUP\n") or any(
        r.code == 511 or r.result == "-1" for r in replies
    )
    assert flags == [hung_up_in_capture]


@captures.requires_captures
async def test_scenario_1_route_call_outcomes(start_server: StartServer) -> None:
    session = captures.session("1-answered", 1)
    outcomes: list[object] = []

    async def handler(channel: AgiChannel) -> None:
        outcomes.extend([await perform(channel, line) for line in session.commands])

    server = await start_server({"route_call": handler})
    assert (
        await replay(session, server.port)
        == (captures.SCENARIOS_DIR / "1-answered" / "agi-sent.raw").read_bytes()[: len(session.to_asterisk)]
    )
    assert outcomes == [None, None, DigitsResult("2024", timed_out=False), None, None, None, None, None]


@captures.requires_captures
async def test_scenario_6_hangup_in_get_data(start_server: StartServer) -> None:
    """GET DATA gets `200 result=-1`; HANGUP comes BEFORE the next (SET VARIABLE) reply; variables work."""
    session = captures.session("6-caller-hangup-in-getdata", 1)
    seen: list[object] = []

    async def handler(channel: AgiChannel) -> None:
        await channel.answer()
        await channel.stream_file("hotline-welcome")
        with pytest.raises(ChannelHungUp):
            await channel.get_data("hotline-enter-code", 15000, 4)
        seen.append(channel.hung_up)
        lines = session.commands
        # The rest exactly as captured: SET VARIABLE, GET VARIABLE, STREAM FILE (511), VERBOSE.
        seen.extend([await perform(channel, line) for line in lines[3:]])

    server = await start_server({"route_call": handler})
    assert await replay(session, server.port) == session.to_asterisk
    assert seen == [True, None, "PJSIP/bob", ChannelHungUp, None]
