"""The emulator (Asterisk's side) against the captures: same header, same replies, byte for byte."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from callcenter.asterisk.emulator import (
    CALL_ENDED_HEADER,
    COMMANDS,
    DEAD_OK,
    ROUTE_CALL_HEADER,
    AsteriskPeer,
    DigitInput,
    HangUp,
    Press,
    Timeout,
    Transcript,
    header_lines,
)
from callcenter.asterisk.protocol import (
    HANGUP,
    HeaderParser,
    LineSplitter,
    Reply,
    decode_line,
    parse_replies,
    split_command,
)
from callcenter.asterisk.variables import ROUTE_CALL
from tests.fakes import captures

# Sessions whose capture ends with the server's FIN and Asterisk's last HANGUP (not 7c: it closed hard).
SESSIONS = [
    s
    for name in captures.scenario_names()
    for s in captures.scenario_sessions(name)
    if s.after_header.endswith(b"HANGUP\n")
]

Exchange = Callable[[AsteriskPeer, list[bytes]], Awaitable[tuple[bytes, Transcript]]]


@pytest.fixture
async def exchange() -> AsyncIterator[Exchange]:
    """Run `peer` and send it `commands` (then our FIN) as a server would; return all it sent us."""
    listeners: list[asyncio.Server] = []

    async def run(peer: AsteriskPeer, commands: list[bytes]) -> tuple[bytes, Transcript]:
        done: asyncio.Future[Transcript] = asyncio.get_running_loop().create_future()

        async def on_accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            done.set_result(await peer.serve(reader, writer))

        listener = await asyncio.start_server(on_accept, "127.0.0.1", 0)
        listeners.append(listener)
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.sockets[0].getsockname()[1])
        for command in commands:
            writer.write(command)
        writer.write_eof()
        received = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return received, await asyncio.wait_for(done, 5)

    yield run
    for listener in listeners:
        listener.close()


def model(session: captures.Session) -> AsteriskPeer:
    """A channel model holding what the capture shows the channel had (values from its replies)."""
    header = HeaderParser().feed(session.header_bytes)
    assert header is not None
    items = parse_replies(decode_line(line) for line in LineSplitter(1 << 16).feed(session.after_header))
    replies = [r for r in items if isinstance(r, Reply)]
    variables: dict[str, str] = {}
    expressions: dict[str, str] = {}
    digits: list[DigitInput] = []
    endpos: dict[str, int] = {}
    assigned: set[str] = set()
    for line, reply in zip(session.commands, replies, strict=True):
        match split_command(line.decode().removesuffix("\n")):
            case ["SET", "VARIABLE", name, _]:
                assigned.add(name)
            case ["GET", "VARIABLE", name] if reply.result == "1" and name not in assigned:
                variables[name] = reply.data or ""
            case ["GET", "FULL", "VARIABLE", expression] if reply.code == 200:
                expressions[expression] = reply.data or ""
            case ["GET", "DATA", *_] if reply.code == 200:
                digits.append(
                    HangUp()
                    if reply.result == "-1"
                    else Timeout(reply.result)
                    if reply.data == "timeout"
                    else Press(reply.result)
                )
            case ["STREAM", "FILE", name, *_] if reply.code == 200:
                endpos[name] = int(reply.fields["endpos"])
    # An unprompted HANGUP that is neither the -1 follow-up nor the last line: the caller left
    # between commands (7d) — before the command whose reply comes next.
    hangup_before = None
    seen = 0
    for index, item in enumerate(items[:-1]):
        previous = items[index - 1] if index else None
        if item is HANGUP and not (isinstance(previous, Reply) and previous.result == "-1"):
            hangup_before = seen
            break
        seen += isinstance(item, Reply)
    return AsteriskPeer(
        header.values,
        header.args,
        variables=variables,
        expressions=expressions,
        digits=digits,
        endpos=endpos,
        alive=header.script == ROUTE_CALL,
        hangup_before_command=hangup_before,
    )


@captures.requires_captures
@pytest.mark.parametrize("session", SESSIONS, ids=[s.name for s in SESSIONS])
async def test_emulator_replies_equal_the_capture(session: captures.Session, exchange: Exchange) -> None:
    received, transcript = await exchange(model(session), session.commands)
    assert received == session.from_asterisk
    assert transcript.server_closed
    assert transcript.commands == [c.decode().removesuffix("\n") for c in session.commands]


@captures.requires_captures
def test_default_headers_are_the_scenario_1_captures() -> None:
    route, ended = captures.scenario_sessions("1-answered")
    assert b"".join(header_lines(ROUTE_CALL_HEADER)) == route.header_bytes
    assert b"".join(header_lines(CALL_ENDED_HEADER)) == ended.header_bytes
    assert len(header_lines(ROUTE_CALL_HEADER)) == 23  # 22 lines, each its own write, then the empty line


@captures.requires_captures
def test_header_args_as_captured() -> None:
    first = captures.agi_session_txt()[0]
    header = HeaderParser().feed(first.header_bytes)
    assert header is not None
    assert b"".join(header_lines(header.values, header.args)) == first.header_bytes


@captures.requires_captures
def test_command_table_is_agi_show_commands() -> None:
    table = captures.agi_commands_txt()
    assert set(COMMANDS) == set(table)
    assert {name for name, dead in table.items() if dead} == DEAD_OK


@captures.requires_captures
async def test_errors_and_live_channel_replies_as_captured(exchange: Exchange) -> None:
    # captures/agi-session.txt session 2: NOSUCHCOMMAND -> 510, bare SET VARIABLE -> 520 block,
    # CHANNEL STATUS -> 6, WAIT FOR DIGIT -> ASCII code, HANGUP -> 1 then the HANGUP notice.
    stream = captures.agi_session_txt()[1].after_header
    commands = [
        b"NOSUCHCOMMAND foo\n",
        b"SET VARIABLE\n",
        b"CHANNEL STATUS\n",
        b"WAIT FOR DIGIT 3000\n",
        b"HANGUP\n",
    ]
    received, transcript = await exchange(AsteriskPeer(digits=[Press("1")]), commands)
    replies = received[len(b"".join(header_lines(ROUTE_CALL_HEADER))) :]
    expected = [
        b"510 Invalid or unknown command\n",
        b"520-Invalid command syntax.  Proper usage follows:\nSets a variable to the current channel.\n"
        b"520 End of proper usage.\n",
        b"200 result=6\n",
        b"200 result=49\n",
        b"200 result=1\nHANGUP\n",
    ]
    for part in expected:
        assert part in stream
    assert replies == b"".join(expected) + b"HANGUP\n"
    assert transcript.hung_up


async def test_unprompted_hangup_before_a_reply(exchange: Exchange) -> None:
    peer = AsteriskPeer(hangup_before_command=1)
    received, transcript = await exchange(peer, [b"ANSWER\n", b'SET VARIABLE A "1"\n', b'STREAM FILE x ""\n'])
    tail = received.split(b"\n\n", 1)[1]
    assert tail == (
        b"200 result=0\n"
        b"HANGUP\n200 result=1\n"
        b"511 Command Not Permitted on a dead channel or intercept routine\n"
        b"HANGUP\n"
    )
    assert transcript.variables == {"A": "1"} and transcript.hung_up


async def test_get_data_plan(exchange: Exchange) -> None:
    peer = AsteriskPeer(digits=[Press("2024"), Timeout("12"), Timeout(), HangUp()])
    received, _ = await exchange(peer, [b"GET DATA p 5000 4\n"] * 5)
    assert received.split(b"\n\n", 1)[1] == (
        b"200 result=2024\n200 result=12 (timeout)\n200 result= (timeout)\n200 result=-1\nHANGUP\n"
        b"511 Command Not Permitted on a dead channel or intercept routine\nHANGUP\n"
    )


async def test_full_variable_expressions(exchange: Exchange) -> None:
    peer = AsteriskPeer(CALL_ENDED_HEADER, variables={"X": "1"}, expressions={"${CDR(billsec)}": "15"})
    commands = [
        b"GET FULL VARIABLE ${X}\n",
        b"GET FULL VARIABLE ${CDR(billsec)}\n",
        b"GET FULL VARIABLE ${Y}\n",
    ]
    received, transcript = await exchange(peer, commands)
    assert received.split(b"\n\n", 1)[1] == b"200 result=1 (1)\n200 result=1 (15)\n200 result=1 ()\nHANGUP\n"
    assert transcript.hung_up  # call_ended runs on a dead channel
