"""`AgiSession` against a scripted peer: reply forms, HANGUP ordering, deadlines, closing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from callcenter.asterisk.channel import AgiCommandError, AgiHeader, ChannelHungUp, DigitsResult
from callcenter.asterisk.session import AgiSession, AgiTimeout, ConnectionLost, read_header
from callcenter.asterisk.variables import AGI_FAILURE, DIALSTATUS

from .conftest import Pair

HEADER = AgiHeader({"network_script": "route_call", "uniqueid": "1.1"})
MakePair = Callable[[], Awaitable[Pair]]


async def _session(
    tcp_pair: MakePair, *, command_timeout: float = 2.0, close_timeout: float = 0.3
) -> tuple[AgiSession, Pair]:
    pair = await tcp_pair()
    reader, writer = pair.ours
    session = AgiSession(reader, writer, HEADER, command_timeout=command_timeout, close_timeout=close_timeout)
    return session, pair


async def _expect(pair: Pair, line: bytes, *replies: bytes) -> None:
    """The peer reads our next command, checks it, and answers with `replies` (one write each)."""
    reader, writer = pair.theirs
    assert await asyncio.wait_for(reader.readline(), 5) == line
    for reply in replies:
        writer.write(reply)
        await writer.drain()


async def test_variable_reply_forms(tcp_pair: MakePair) -> None:
    session, pair = await _session(tcp_pair)
    peer = asyncio.create_task(
        _run(
            _expect(pair, b"GET VARIABLE A\n", b"200 result=1 (x (y) z)\n"),
            _expect(pair, b"GET VARIABLE B\n", b"200 result=1 ()\n"),
            _expect(pair, b"GET VARIABLE C\n", b"200 result=0\n"),
            _expect(pair, b"GET FULL VARIABLE ${CDR(billsec)}\n", b"200 result=1 (15)\n"),
        )
    )
    assert await session.get_variable("A") == "x (y) z"
    assert await session.get_variable("B") == ""
    assert await session.get_variable("C") is None
    assert await session.get_full_variable("${CDR(billsec)}") == "15"
    await peer


async def _run(*steps: Awaitable[None]) -> None:
    for step in steps:
        await step


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"200 result=2024\n", DigitsResult("2024", timed_out=False)),
        (b"200 result=7\n", DigitsResult("7", timed_out=False)),
        (b"200 result=12 (timeout)\n", DigitsResult("12", timed_out=True)),
        (b"200 result= (timeout)\n", DigitsResult("", timed_out=True)),
    ],
)
async def test_get_data_forms(tcp_pair: MakePair, reply: bytes, expected: DigitsResult) -> None:
    session, pair = await _session(tcp_pair)
    peer = asyncio.create_task(_expect(pair, b"GET DATA hotline-enter-code 5000 4\n", reply))
    assert await session.get_data("hotline-enter-code", 5000, 4) == expected
    assert not session.hung_up
    await peer


@pytest.mark.parametrize(
    "chunks",
    [
        [b"HANGUP\n", b"200 result=1\n"],  # HANGUP first, as in scenario 6 after the -1
        [b"HANGUP\n200 result=1\n"],  # the same in one segment
        [b"HANG", b"UP\n200 res", b"ult=1\n"],  # split anywhere
        [b"200 result=1\nHANGUP\n"],  # after the reply
    ],
)
async def test_hangup_before_or_after_the_reply(tcp_pair: MakePair, chunks: list[bytes]) -> None:
    session, pair = await _session(tcp_pair)
    peer = asyncio.create_task(_expect(pair, f'SET VARIABLE {AGI_FAILURE} "x"\n'.encode(), *chunks))
    await session.set_variable(AGI_FAILURE, "x")
    await peer
    if chunks[0].startswith(b"HANG"):
        assert session.hung_up
    # A HANGUP that came after the reply is seen with the next read; the reply itself was right.
    peer = asyncio.create_task(_expect(pair, f"GET VARIABLE {AGI_FAILURE}\n".encode(), b"200 result=1 (x)\n"))
    assert await session.get_variable(AGI_FAILURE) == "x"
    await peer
    assert session.hung_up


async def test_minus_one_and_511_mean_hung_up(tcp_pair: MakePair) -> None:
    session, pair = await _session(tcp_pair)
    peer = asyncio.create_task(
        _run(
            _expect(pair, b"GET DATA p 15000 4\n", b"200 result=-1\n"),
            _expect(
                pair, b'STREAM FILE p ""\n', b"HANGUP\n", b"511 Command Not Permitted on a dead channel\n"
            ),
            _expect(pair, b"ANSWER\n", b"200 result=-1\n"),
        )
    )
    with pytest.raises(ChannelHungUp):
        await session.get_data("p", 15000, 4)
    assert session.hung_up
    with pytest.raises(ChannelHungUp):
        await session.stream_file("p")
    with pytest.raises(ChannelHungUp):
        await session.answer()
    await peer


async def test_510_and_multiline_520_are_command_errors(tcp_pair: MakePair) -> None:
    session, pair = await _session(tcp_pair)
    peer = asyncio.create_task(
        _run(
            _expect(pair, b'VERBOSE "hi" 1\n', b"510 Invalid or unknown command\n"),
            # The 520 block as captured (agi-session.txt session 2): split after its first line.
            _expect(
                pair,
                b'SET VARIABLE A ""\n',
                b"520-Invalid command syntax.  Proper usage follows:\n",
                b"Sets a variable to the current channel.\n520 End of proper usage.\n",
            ),
            _expect(pair, b"GET VARIABLE A\n", b"200 result=0\n"),
        )
    )
    with pytest.raises(AgiCommandError, match="510"):
        await session.verbose("hi")
    with pytest.raises(AgiCommandError, match="Sets a variable"):
        await session.set_variable("A", "")
    # The session is still in step after the multi-line reply.
    assert await session.get_variable("A") is None
    await peer
    assert not session.hung_up


async def test_reply_timeout_then_the_late_reply_is_skipped(tcp_pair: MakePair) -> None:
    session, pair = await _session(tcp_pair, command_timeout=0.1)
    reader, writer = pair.theirs
    with pytest.raises(AgiTimeout):
        await session.get_variable(DIALSTATUS)
    assert await reader.readline() == f"GET VARIABLE {DIALSTATUS}\n".encode()
    writer.write(b"200 result=1 (LATE)\n")
    peer = asyncio.create_task(_expect(pair, b"GET VARIABLE B\n", b"200 result=1 (right)\n"))
    assert await session.get_variable("B") == "right"
    await peer


async def test_get_data_deadline_covers_its_own_timeout(tcp_pair: MakePair) -> None:
    # command_timeout alone (0.1 s) is shorter than the reply delay; GET DATA's allowance is not.
    session, pair = await _session(tcp_pair, command_timeout=0.1)
    reader, writer = pair.theirs

    async def slow_caller() -> None:
        await reader.readline()
        await asyncio.sleep(0.4)
        writer.write(b"200 result=12 (timeout)\n")

    peer = asyncio.create_task(slow_caller())
    assert await session.get_data("p", 500, 3) == DigitsResult("12", True)
    await peer


async def test_eof_mid_command_is_connection_lost_and_stays_so(tcp_pair: MakePair) -> None:
    session, pair = await _session(tcp_pair)
    reader, writer = pair.theirs

    async def vanish() -> None:
        await reader.readline()
        writer.close()

    peer = asyncio.create_task(vanish())
    with pytest.raises(ConnectionLost):
        await session.answer()
    await peer
    with pytest.raises(ConnectionLost):
        await session.verbose("anyone?")


async def test_close_sends_fin_reads_the_last_hangup_and_closes(tcp_pair: MakePair) -> None:
    session, pair = await _session(tcp_pair)
    reader, writer = pair.theirs

    async def asterisk_end() -> None:
        assert await reader.read() == b""  # our FIN
        writer.write(b"HANGUP\n")
        writer.close()

    peer = asyncio.create_task(asterisk_end())
    await session.close()
    await peer
    # The HANGUP after our FIN ends every session; it does not say the caller hung up.
    assert session.closed and not session.hung_up
    await session.close()  # idempotent
    with pytest.raises(Exception, match="closed"):
        await session.verbose("after close")


async def test_close_is_bounded_when_the_peer_never_closes(tcp_pair: MakePair) -> None:
    session, pair = await _session(tcp_pair, close_timeout=0.1)
    await asyncio.wait_for(session.close(), 3)
    assert await asyncio.wait_for(pair.theirs[0].read(), 3) == b""


async def test_close_survives_cancellation(tcp_pair: MakePair) -> None:
    session, pair = await _session(tcp_pair, close_timeout=30)
    task = asyncio.create_task(session.close())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The socket was closed all the same.
    assert await asyncio.wait_for(pair.theirs[0].read(), 3) == b""


async def test_read_header_hands_on_what_follows(tcp_pair: MakePair) -> None:
    pair = await tcp_pair()
    pair.theirs[1].write(b"agi_network_script: route_call\n\nHANGUP\n200 res")
    header, rest = await read_header(pair.ours[0], deadline=2)
    assert header.script == "route_call"
    assert rest == b"HANGUP\n200 res"
    session = AgiSession(*pair.ours, header, buffered=rest)
    pair.theirs[1].write(b"ult=1\n")
    await session.verbose("x")
    assert session.hung_up


async def test_get_data_arguments_are_checked(tcp_pair: MakePair) -> None:
    session, _ = await _session(tcp_pair)
    with pytest.raises(ValueError, match="timeout_ms"):
        await session.get_data("p", 0, 4)
    with pytest.raises(ValueError, match="max_digits"):
        await session.get_data("p", 5000, 0)
