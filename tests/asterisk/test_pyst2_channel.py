"""Pyst2Channel: pyst2's `AGI` on in-memory stdin/stdout, fed with bytes Asterisk 22.10.1 really sent.

The headers and replies come from `../shared/asterisk` (scenarios/*/agi.raw, agi.jsonl and
captures/agi-session.txt.raw); a test that needs a reply line asserts it is in a capture before using it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import io
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _import_pyst2_agi() -> Any:
    """pyst2's `asterisk.agi`, although pytest imports this directory as a package named `asterisk` too.

    tests/asterisk/__init__.py makes pytest register this test directory as the top-level package
    `asterisk` (the first directory up without __init__.py, tests/, goes on sys.path), which hides pyst2's
    own `asterisk` package. Adding pyst2's directory to that package's search path makes `asterisk.agi`
    the real module again, for this file and for callcenter.asterisk.pyst2_channel alike.
    """
    try:
        return importlib.import_module("asterisk.agi")
    except ModuleNotFoundError:
        package = sys.modules.get("asterisk")
        if package is None or not hasattr(package, "__path__"):
            raise
        package.__path__.append(str(importlib.metadata.distribution("pyst2").locate_file("asterisk")))
        return importlib.import_module("asterisk.agi")


AGI = _import_pyst2_agi().AGI

from callcenter.asterisk.channel import AgiCommandError, ChannelHungUp, DigitsResult  # noqa: E402
from callcenter.asterisk.pyst2_channel import Pyst2Channel  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "asterisk"
SCENARIOS = SHARED / "scenarios"
SESSIONS_RAW = SHARED / "captures" / "agi-session.txt.raw"

pytestmark = pytest.mark.skipif(
    not (SCENARIOS / "1-answered" / "agi.raw").is_file(),
    reason=f"Asterisk captures not found at {SHARED} (expected ../shared/asterisk beside the repo)",
)

HEADER_START = b"agi_network: yes\n"


def sessions(raw_file: Path) -> list[bytes]:
    """The bytes Asterisk sent, one entry per AGI session (each starts with its header)."""
    raw = raw_file.read_bytes()
    return [HEADER_START + part for part in raw.split(HEADER_START)[1:]]


def header_of(session: bytes) -> bytes:
    return session[: session.index(b"\n\n") + 2]


def replies_of(session: bytes) -> list[bytes]:
    return [line + b"\n" for line in session[len(header_of(session)) :].split(b"\n")[:-1]]


def captured(line: bytes, *scenarios: str) -> bytes:
    """`line` (with its newline) after checking Asterisk really sent it in one of the captures."""
    files = [SCENARIOS / s / "agi.raw" for s in scenarios] or [SESSIONS_RAW]
    assert any(line in f.read_bytes().splitlines(keepends=True) for f in files), f"{line!r} not captured"
    return line


def commands_of(scenario: str, session: int) -> list[str]:
    """The command lines the capture server sent in one session (agi.jsonl)."""
    rows = [json.loads(r) for r in (SCENARIOS / scenario / "agi.jsonl").read_text().splitlines()]
    sent = b"".join(
        bytes.fromhex(r["hex"]) for r in rows if r["session"] == session and r["dir"] == "to_asterisk"
    )
    return sent.decode().splitlines()


@pytest.fixture(autouse=True)
def _restore_sighup() -> Iterator[None]:
    # pyst2's AGI() installs its own SIGHUP handler for the whole process.
    previous = signal.getsignal(signal.SIGHUP)
    yield
    signal.signal(signal.SIGHUP, previous)


class Wire:
    """A pyst2 AGI whose stdin holds `data` and whose stdout we read back."""

    def __init__(self, data: bytes) -> None:
        self.stdout = io.StringIO()
        self.agi: Any = AGI(stdin=io.BytesIO(data), stdout=self.stdout, stderr=io.StringIO())
        self.channel = Pyst2Channel(self.agi)

    @property
    def sent(self) -> list[str]:
        return self.stdout.getvalue().splitlines()


# --- header -----------------------------------------------------------------------------------------------


def test_header_from_the_route_call_session() -> None:
    route_call, call_ended = sessions(SCENARIOS / "1-answered" / "agi.raw")
    header = Wire(header_of(route_call)).channel.header
    assert header.script == "route_call"
    assert header.uniqueid == "1795380439.44"
    assert header.channel == "PJSIP/sipp-0000001c"
    assert header.callerid == "0912345678"
    assert header.calleridname == "Nguyen Van A"
    assert header.dnid == "19009095" and header.extension == "19009095"
    assert header.get("accountcode") == ""  # "agi_accountcode: " with nothing after the space
    assert header.get("request") == "agi://127.0.0.1:4573/route_call"  # pyst2 splits on ':' and joins back
    assert header.args == ()
    assert len(header.values) == 22 and not any(k.startswith("agi_") for k in header.values)
    assert Wire(header_of(call_ended)).channel.header.script == "call_ended"


def test_header_arguments_and_query_string() -> None:
    first = sessions(SESSIONS_RAW)[0]
    header = Wire(header_of(first)).channel.header
    assert header.get("network_script") == "route?caller=5551234"
    assert header.script == "route"
    assert header.args == ("arg1", "arg 2")
    assert "arg_1" not in header.values


# --- a whole route_call session ---------------------------------------------------------------------------


async def test_route_call_replayed() -> None:
    route_call = sessions(SCENARIOS / "1-answered" / "agi.raw")[0]
    wire = Wire(route_call)
    channel = wire.channel
    await channel.answer()
    await channel.stream_file("hotline-welcome")
    assert await channel.get_data("hotline-enter-code", 5000, 4) == DigitsResult("2024", timed_out=False)
    for name, value in [
        ("HOTLINE_FACILITY_CODE", "2024"),
        ("HOTLINE_TARGET_1", "PJSIP/bob"),
        ("HOTLINE_TARGET_2", "PJSIP/bob/sip:carol@127.0.0.1:5090"),
        ("HOTLINE_RING_TIMEOUT", "15"),
        ("HOTLINE_RECORDING", "hotline-1795380439.44"),
    ]:
        await channel.set_variable(name, value)
    assert not channel.hung_up
    assert wire.sent == [
        "ANSWER",
        'STREAM FILE hotline-welcome ""',
        "GET DATA hotline-enter-code 5000 4",
        'SET VARIABLE "HOTLINE_FACILITY_CODE" "2024"',
        'SET VARIABLE "HOTLINE_TARGET_1" "PJSIP/bob"',
        'SET VARIABLE "HOTLINE_TARGET_2" "PJSIP/bob/sip:carol@127.0.0.1:5090"',
        'SET VARIABLE "HOTLINE_RING_TIMEOUT" "15"',
        'SET VARIABLE "HOTLINE_RECORDING" "hotline-1795380439.44"',
    ]
    # The capture's commands, quoting aside, are the same.
    assert [c.replace('"', "") for c in wire.sent] == [
        c.replace('"', "") for c in commands_of("1-answered", 1)
    ]


# --- variables: None vs "" --------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["1-answered", "3-noanswer", "6-caller-hangup-in-getdata"])
async def test_call_ended_variables_replayed(scenario: str) -> None:
    """Every GET (FULL) VARIABLE of the captured call_ended session: result=0 -> None, `()` -> ""."""
    call_ended = sessions(SCENARIOS / scenario / "agi.raw")[1]
    replies = replies_of(call_ended)
    wire = Wire(call_ended)
    checked = 0
    for command, reply in zip(commands_of(scenario, 2), replies, strict=False):
        text = reply.decode().rstrip("\n")
        if command.startswith("GET VARIABLE "):
            got = await wire.channel.get_variable(command.removeprefix("GET VARIABLE "))
        elif command.startswith("GET FULL VARIABLE "):
            got = await wire.channel.get_full_variable(command.removeprefix("GET FULL VARIABLE "))
        else:
            break
        expected = None if text == "200 result=0" else text.removeprefix("200 result=1 (").removesuffix(")")
        assert got == expected, (command, text)
        checked += 1
    assert checked >= 15
    assert wire.channel.hung_up is False  # a dead-channel session starts with no HANGUP


async def test_unset_and_empty_are_told_apart() -> None:
    unset = captured(b"200 result=0\n", "1-answered")
    empty = captured(b"200 result=1 ()\n", "1-answered")
    value = captured(b"200 result=1 (ANSWER)\n", "1-answered")
    header = header_of(sessions(SCENARIOS / "1-answered" / "agi.raw")[1])
    wire = Wire(header + unset + empty + value)
    assert await wire.channel.get_variable("HOTLINE_RESULT_1") is None
    assert await wire.channel.get_variable("PROGRESSTIME") == ""
    assert await wire.channel.get_variable("DIALSTATUS") == "ANSWER"
    assert wire.sent == [
        'GET VARIABLE "HOTLINE_RESULT_1"',
        'GET VARIABLE "PROGRESSTIME"',
        'GET VARIABLE "DIALSTATUS"',
    ]


async def test_a_value_that_reads_hangup_is_a_value() -> None:
    """pyst2 raises AGIResultHangup for data "(hangup)"; a variable may hold that word."""
    template = captured(b"200 result=1 (PJSIP/bob)\n", "6-caller-hangup-in-getdata")
    header = header_of(sessions(SCENARIOS / "1-answered" / "agi.raw")[1])
    wire = Wire(header + template.replace(b"PJSIP/bob", b"hangup"))
    assert await wire.channel.get_variable("LAST_WORD") == "hangup"
    assert not wire.channel.hung_up


async def test_set_variable_quotes_for_res_agi() -> None:
    ok = captured(b"200 result=1\n", "1-answered")
    header = header_of(sessions(SCENARIOS / "1-answered" / "agi.raw")[0])
    wire = Wire(header + ok)
    await wire.channel.set_variable("NOTE", 'says "hi" \\ bye')
    assert wire.sent == ['SET VARIABLE "NOTE" "says \\"hi\\" \\\\ bye"']
    with pytest.raises(AgiCommandError):
        await wire.channel.set_variable("NOTE", "two\nlines")


# --- GET DATA ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "scenario", "expected"),
    [
        (b"200 result=2024\n", "1-answered", DigitsResult("2024", timed_out=False)),
        (b"200 result=7\n", "5a-confirm-refused-continue", DigitsResult("7", timed_out=False)),
        (b"200 result=12 (timeout)\n", "4-unreachable", DigitsResult("12", timed_out=True)),
        (b"200 result= (timeout)\n", "3-noanswer", DigitsResult("", timed_out=True)),
    ],
)
async def test_get_data(reply: bytes, scenario: str, expected: DigitsResult) -> None:
    header = header_of(sessions(SCENARIOS / scenario / "agi.raw")[0])
    wire = Wire(header + captured(reply, scenario))
    assert await wire.channel.get_data("hotline-enter-code", 5000, 4) == expected
    assert wire.sent == ["GET DATA hotline-enter-code 5000 4"]


# --- hang-ups ---------------------------------------------------------------------------------------------


async def test_caller_hangs_up_during_get_data() -> None:
    """Capture 6: -1 for GET DATA, then an async HANGUP line before the next reply; variables still work."""
    session = sessions(SCENARIOS / "6-caller-hangup-in-getdata" / "agi.raw")[0]
    dead_channel = captured(
        b"511 Command Not Permitted on a dead channel or intercept routine\n", "6-caller-hangup-in-getdata"
    )
    # The capture's script sent one more STREAM FILE after the hang-up (answered 511); this channel refuses
    # it without asking Asterisk, so that reply is not fed.
    wire = Wire(session.replace(dead_channel, b"", 1))
    channel = wire.channel
    await channel.answer()
    await channel.stream_file("hotline-welcome")
    with pytest.raises(ChannelHungUp):
        await channel.get_data("hotline-enter-code", 15000, 4)
    assert channel.hung_up
    await channel.set_variable("HOTLINE_TARGET_1", "PJSIP/bob")  # the HANGUP line before its reply is skipped
    assert await channel.get_variable("HOTLINE_TARGET_1") == "PJSIP/bob"
    with pytest.raises(ChannelHungUp):
        await channel.stream_file("hotline-welcome")
    await channel.verbose("route_call: caller gone")
    assert wire.sent[-1] == 'VERBOSE "route_call: caller gone" 1'
    assert sum(line.startswith("STREAM FILE") for line in wire.sent) == 1


async def test_dead_channel_511() -> None:
    call_ended = sessions(SCENARIOS / "6-caller-hangup-in-getdata" / "agi.raw")[1]
    dead_channel = captured(
        b"511 Command Not Permitted on a dead channel or intercept routine\n", "6-caller-hangup-in-getdata"
    )
    value = captured(b"200 result=1 (0)\n", "6-caller-hangup-in-getdata")
    wire = Wire(header_of(call_ended) + dead_channel + value)
    assert not wire.channel.hung_up
    with pytest.raises(ChannelHungUp):
        await wire.channel.answer()
    assert wire.channel.hung_up
    assert await wire.channel.get_variable("HANGUPCAUSE") == "0"


async def test_sighup_refuses_audio_but_not_variables() -> None:
    """Classic AGI: Asterisk signals the hang-up with SIGHUP; pyst2's handler records it."""
    ok = captured(b"200 result=1\n", "1-answered")
    wire = Wire(header_of(sessions(SCENARIOS / "1-answered" / "agi.raw")[0]) + ok + ok)
    os.kill(os.getpid(), signal.SIGHUP)
    assert wire.channel.hung_up
    with pytest.raises(ChannelHungUp):
        await wire.channel.answer()
    with pytest.raises(ChannelHungUp):
        await wire.channel.get_data("hotline-enter-code", 5000, 4)
    await wire.channel.set_variable("HOTLINE_RESULT_1", "BUSY")
    await wire.channel.verbose("still here")
    assert wire.sent == ['SET VARIABLE "HOTLINE_RESULT_1" "BUSY"', 'VERBOSE "still here" 1']


async def test_minus_one_is_a_hang_up() -> None:
    header = header_of(sessions(SESSIONS_RAW)[0])
    wire = Wire(header + captured(b"200 result=-1\n"))
    with pytest.raises(ChannelHungUp):
        await wire.channel.stream_file("hotline-welcome")
    assert wire.channel.hung_up


async def test_end_of_input_is_a_hang_up() -> None:
    wire = Wire(header_of(sessions(SCENARIOS / "1-answered" / "agi.raw")[0]))
    with pytest.raises(ChannelHungUp):
        await wire.channel.get_variable("DIALSTATUS")
    assert wire.channel.hung_up


# --- refused commands -------------------------------------------------------------------------------------


async def test_invalid_command_and_usage_are_command_errors() -> None:
    raw = SESSIONS_RAW.read_bytes()
    invalid = captured(b"510 Invalid or unknown command\n")
    start = raw.index(b"520-")
    end = raw.index(b"520 End of proper usage.\n", start) + len(b"520 End of proper usage.\n")
    usage = raw[start:end]  # the whole multi-line 520 block
    ok = captured(b"200 result=1\n")
    wire = Wire(header_of(sessions(SESSIONS_RAW)[0]) + invalid + usage + ok)
    with pytest.raises(AgiCommandError):
        await wire.channel.get_variable("X")
    with pytest.raises(AgiCommandError):
        await wire.channel.verbose("x")
    # The usage block was consumed whole: the next reply is read in step.
    await wire.channel.set_variable("X", "1")
    assert not wire.channel.hung_up
