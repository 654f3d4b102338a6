"""Asterisk's side of a FastAGI session, from a small channel model: for tests and `simulate`.

Every reply below is copied from a capture in `/work/shared/asterisk` (cited next to it). Where no
capture shows a reply (a command we never sent to a live channel), the comment says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from callcenter.asterisk.protocol import split_command
from callcenter.asterisk.variables import CALL_ENDED, ROUTE_CALL

# Order of the header lines (README "FastAGI facts seen on the wire"; scenarios/*/agi.txt).
HEADER_KEYS: tuple[str, ...] = (
    "network",
    "network_script",
    "request",
    "channel",
    "language",
    "type",
    "uniqueid",
    "version",
    "callerid",
    "calleridname",
    "callingpres",
    "callingani2",
    "callington",
    "callingtns",
    "dnid",
    "rdnis",
    "context",
    "extension",
    "priority",
    "enhanced",
    "accountcode",
    "threadid",
)

# scenarios/1-answered/agi.txt, session 1 (route_call).
ROUTE_CALL_HEADER: dict[str, str] = {
    "network": "yes",
    "network_script": ROUTE_CALL,
    "request": f"agi://127.0.0.1:4573/{ROUTE_CALL}",
    "channel": "PJSIP/sipp-0000001c",
    "language": "en",
    "type": "PJSIP",
    "uniqueid": "1795380439.44",
    "version": "22.10.1",
    "callerid": "0912345678",
    "calleridname": "Nguyen Van A",
    "callingpres": "0",
    "callingani2": "0",
    "callington": "0",
    "callingtns": "0",
    "dnid": "19009095",
    "rdnis": "unknown",
    "context": "hotline-in",
    "extension": "19009095",
    "priority": "4",
    "enhanced": "0.0",
    "accountcode": "",
    "threadid": "140210831922880",
}

# scenarios/1-answered/agi.txt, session 2 (call_ended, from the hangup handler: a dead channel).
CALL_ENDED_HEADER: dict[str, str] = {
    **ROUTE_CALL_HEADER,
    "network_script": CALL_ENDED,
    "request": f"agi://127.0.0.1:4573/{CALL_ENDED}",
    "context": "hotline-hangup",
    "extension": "s",
    "priority": "2",
}

# --- reply bytes -----------------------------------------------------------------------------------
OK_0 = b"200 result=0\n"  # ANSWER, NOOP, EXEC, GET VARIABLE unset (scenarios/1-answered/agi.txt)
OK_1 = b"200 result=1\n"  # SET VARIABLE, VERBOSE, HANGUP (scenarios/1-answered, captures/agi-session.txt)
HANGUP_NOTICE = b"HANGUP\n"  # every session end; async hang-up (scenarios/6, captures/agi-session.txt)
MINUS_ONE = b"200 result=-1\n"  # GET DATA / WAIT FOR DIGIT on hang-up (scenarios/6, agi-session.txt s3)
INVALID = b"510 Invalid or unknown command\n"  # captures/agi-session.txt session 2 (NOSUCHCOMMAND)
DEAD = b"511 Command Not Permitted on a dead channel or intercept routine\n"  # scenarios/1 session 2
# captures/agi-session.txt session 2 (`SET VARIABLE` without arguments), written in three parts.
USAGE_START = b"520-Invalid command syntax.  Proper usage follows:\n"
USAGE_END = b"520 End of proper usage.\n"
SET_VARIABLE_USAGE = b"Sets a variable to the current channel.\n"
CHANNEL_UP = b"200 result=6\n"  # CHANNEL STATUS on a live, answered channel (agi-session.txt s2)

# endpos (samples at 8 kHz) of prompts played to the end (scenarios/*/agi.txt, agi-session.txt s2).
CAPTURED_ENDPOS: dict[str, int] = {"hotline-welcome": 22852, "beep": 4000}
DEFAULT_ENDPOS = 8000  # any other file: not captured, one second of audio

# `agi show commands` (captures/agi-commands.txt): all commands, and those that run on a dead channel.
COMMANDS: tuple[str, ...] = (
    "answer", "asyncagi break", "channel status", "database del", "database deltree", "database get",
    "database put", "exec", "get data", "get full variable", "get option", "get variable", "hangup",
    "noop", "receive char", "receive text", "record file", "say alpha", "say digits", "say number",
    "say phonetic", "say date", "say time", "say datetime", "send image", "send text",
    "set autohangup", "set callerid", "set context", "set extension", "set music", "set priority",
    "set variable", "stream file", "control stream file", "tdd mode", "verbose", "wait for digit",
    "speech create", "speech set", "speech destroy", "speech load grammar", "speech unload grammar",
    "speech activate grammar", "speech deactivate grammar", "speech recognize", "gosub",
)  # fmt: skip
DEAD_OK: frozenset[str] = frozenset({
    "asyncagi break", "database del", "database deltree", "database get", "database put", "exec",
    "get full variable", "get variable", "noop", "set variable", "verbose", "speech destroy",
    "speech unload grammar",
})  # fmt: skip
_COMMAND_WORDS = sorted((tuple(c.split()) for c in COMMANDS), key=len, reverse=True)
_SIMPLE_EXPRESSION = re.compile(r"\$\{(\w+)\}")


# --- planned caller input --------------------------------------------------------------------------


@dataclass(frozen=True)
class Press:
    """The caller keys `digits` and GET DATA ends on max digits or `#`: `200 result=2024`."""

    digits: str


@dataclass(frozen=True)
class Timeout:
    """GET DATA ends on its timeout: `200 result= (timeout)`, or `200 result=12 (timeout)` after digits."""

    digits: str = ""


@dataclass(frozen=True)
class HangUp:
    """The caller hangs up during GET DATA: `200 result=-1`, then `HANGUP` (scenario 6)."""


DigitInput = Press | Timeout | HangUp


@dataclass
class Transcript:
    commands: list[str] = field(default_factory=list)  # command lines received, without "\n"
    variables: dict[str, str] = field(default_factory=dict)  # channel variables at the end
    server_closed: bool = False  # the server shut its side (EOF) rather than us giving up
    hung_up: bool = False  # the channel was dead at the end
    sent: bytes = b""  # everything we (Asterisk) sent, header included


def header_lines(values: Mapping[str, str], args: Sequence[str] = ()) -> list[bytes]:
    """The header as Asterisk writes it: one `agi_<key>: <value>\\n` per write, then the empty line."""
    keys = [k for k in HEADER_KEYS if k in values] + [k for k in values if k not in HEADER_KEYS]
    lines = [_encode(f"agi_{key}: {values[key]}\n") for key in keys]
    lines += [_encode(f"agi_arg_{n}: {arg}\n") for n, arg in enumerate(args, start=1)]
    return [*lines, b"\n"]


def _encode(text: str) -> bytes:
    # Asterisk sends bytes, not necessarily UTF-8: "\udcff" (surrogateescape) stands for the byte 0xff.
    try:
        return text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace")


class AsteriskPeer:
    """Plays Asterisk for one FastAGI session against a server; returns what happened."""

    def __init__(
        self,
        header: Mapping[str, str] = ROUTE_CALL_HEADER,
        args: Sequence[str] = (),
        *,
        variables: Mapping[str, str] | None = None,
        expressions: Mapping[str, str] | None = None,
        digits: Iterable[DigitInput] = (),
        alive: bool | None = None,
        endpos: Mapping[str, int] | None = None,
        hangup_before_command: int | None = None,
        raw_header: Sequence[bytes] | None = None,
        idle_timeout: float = 10.0,
    ) -> None:
        """`alive` defaults to False for call_ended (it runs in the hangup handler), else True.

        `hangup_before_command=n`: the caller hangs up before command n (0-based) is answered; an
        unprompted `HANGUP` is sent before that reply, and the command runs on the dead channel.
        """
        self._lines = list(raw_header) if raw_header is not None else header_lines(header, args)
        self.variables: dict[str, str] = dict(variables or {})
        self._expressions = dict(expressions or {})
        self._digits: deque[DigitInput] = deque(digits)
        self.alive = header.get("network_script") != CALL_ENDED if alive is None else alive
        self._endpos = dict(CAPTURED_ENDPOS if endpos is None else endpos)
        self._hangup_before = hangup_before_command
        self._idle_timeout = idle_timeout

    async def run(self, host: str, port: int) -> Transcript:
        reader, writer = await asyncio.open_connection(host, port)
        return await self.serve(reader, writer)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Transcript:
        transcript = Transcript()
        out = bytearray()

        async def send(*parts: bytes) -> None:
            # One write per part, as Asterisk does (header lines, the 520 block, reply then HANGUP).
            for part in parts:
                out.extend(part)
                writer.write(part)
                await writer.drain()

        try:
            await send(*self._lines)
            while True:
                try:
                    async with asyncio.timeout(self._idle_timeout):
                        raw = await reader.readline()
                except TimeoutError:
                    break
                if not raw.endswith(b"\n"):
                    # EOF (a partial last line is dropped, as fgets+feof does in res_agi).
                    transcript.server_closed = True
                    await send(HANGUP_NOTICE)
                    break
                line = raw[:-1].decode("utf-8", errors="replace")
                index = len(transcript.commands)
                transcript.commands.append(line)
                if index == self._hangup_before and self.alive:
                    self.alive = False
                    await send(HANGUP_NOTICE)
                await send(*self._answer(line))
        except (ConnectionError, OSError):
            transcript.server_closed = True
        except ValueError:
            pass  # a command line over the StreamReader limit: not FastAGI any more, give up
        finally:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()
        transcript.variables = dict(self.variables)
        transcript.hung_up = not self.alive
        transcript.sent = bytes(out)
        return transcript

    # --- the channel model ------------------------------------------------------------------------

    def _answer(self, line: str) -> list[bytes]:
        args = split_command(line)
        command = _find(args)
        if command is None:
            return [INVALID]
        if not self.alive and command not in DEAD_OK:
            return [DEAD]
        params = args[len(command.split()) :]
        match command:
            case "answer":
                return [OK_0]
            case "stream file":
                if not params:
                    return _usage(command)
                return [f"200 result=0 endpos={self._endpos.get(params[0], DEFAULT_ENDPOS)}\n".encode()]
            case "get data":
                return self._get_data() if params else _usage(command)
            case "wait for digit":
                return self._wait_for_digit()
            case "set variable":
                if len(params) != 2:
                    return _usage(command)
                self.variables[params[0]] = params[1]
                return [OK_1]
            case "get variable":
                if len(params) != 1:
                    return _usage(command)
                return [_value(self.variables.get(params[0]))]
            case "get full variable":
                if not params:
                    return _usage(command)
                # Always result=1: an unknown expression evaluates to "" (`200 result=1 ()`, scenario 6).
                return [_value(self._evaluate(params[0]) or "")]
            case "verbose":
                return [OK_1]
            case "hangup":
                # captures/agi-session.txt s1: `200 result=1`, then the HANGUP notice.
                self.alive = False
                return [OK_1, HANGUP_NOTICE]
            case "channel status":
                return [CHANNEL_UP]
            case _:
                # NOOP and EXEC answer `200 result=0` (scenarios/1 session 2); other live-channel
                # commands were never captured and get the same neutral reply.
                return [OK_0]

    def _evaluate(self, expression: str) -> str | None:
        match = _SIMPLE_EXPRESSION.fullmatch(expression)
        if match and match.group(1) in self.variables:
            return self.variables[match.group(1)]
        return self._expressions.get(expression)

    def _get_data(self) -> list[bytes]:
        planned = self._digits.popleft() if self._digits else Timeout()
        if isinstance(planned, HangUp):
            self.alive = False
            return [MINUS_ONE, HANGUP_NOTICE]
        if isinstance(planned, Timeout):
            return [f"200 result={planned.digits} (timeout)\n".encode()]
        return [f"200 result={planned.digits}\n".encode()]

    def _wait_for_digit(self) -> list[bytes]:
        planned = self._digits.popleft() if self._digits else Timeout()
        if isinstance(planned, HangUp):
            self.alive = False
            return [MINUS_ONE, HANGUP_NOTICE]
        if isinstance(planned, Press) and planned.digits:
            # The ASCII code of the digit: `200 result=49` for "1" (captures/agi-session.txt s2).
            return [f"200 result={ord(planned.digits[0])}\n".encode()]
        return [OK_0]  # timeout: not captured; res_agi documents 0


def _find(args: list[str]) -> str | None:
    lowered = [a.lower() for a in args]
    for words in _COMMAND_WORDS:
        if tuple(lowered[: len(words)]) == words:
            return " ".join(words)
    return None


def _value(value: str | None) -> bytes:
    # GET VARIABLE: `200 result=1 (value)`, `200 result=1 ()` when empty, `200 result=0` when unset.
    return OK_0 if value is None else f"200 result=1 ({value})\n".encode()


def _usage(command: str) -> list[bytes]:
    # The 520 frame is captured for SET VARIABLE only; other commands reuse it with their summary.
    body = SET_VARIABLE_USAGE if command == "set variable" else f"Usage of {command.upper()}.\n".encode()
    return [USAGE_START, body, USAGE_END]
