"""`AgiSession`: the `AgiChannel` Protocol over one FastAGI TCP connection (asyncio streams).

Wire facts this relies on (captures in `/work/shared/asterisk`):
* Asterisk answers each command with one reply, in order; it never closes the socket on its own.
* `HANGUP\\n` arrives unprompted, before or after the reply to the command in flight.
* After a hang-up, channel commands get `511 ...` while variable commands still work.
* When we shut our side, Asterisk writes a last `HANGUP\\n` and then closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque

import structlog

from callcenter.asterisk.channel import AgiCommandError, AgiError, AgiHeader, ChannelHungUp, DigitsResult
from callcenter.asterisk.protocol import (
    MAX_HEADER_BYTES,
    MAX_HEADER_LINES,
    MAX_REPLY_LINE_BYTES,
    HeaderParser,
    LineSplitter,
    ProtocolError,
    Reply,
    ReplyParser,
    decode_line,
    encode_command,
    quote,
    word,
)

log = structlog.get_logger(__name__)

_READ_SIZE = 64 * 1024
_DIGITS = re.compile(r"[0-9*#A-Da-d]*")
_VERB_WORD = re.compile(r"[A-Z]+")


class ConnectionLost(AgiError):
    """Asterisk closed or reset the connection: no reply will come."""


class AgiTimeout(AgiError, TimeoutError):
    """No (complete) answer from Asterisk within the deadline."""


async def read_header(
    reader: asyncio.StreamReader,
    *,
    deadline: float,
    max_bytes: int = MAX_HEADER_BYTES,
    max_lines: int = MAX_HEADER_LINES,
) -> tuple[AgiHeader, bytes]:
    """Read the `agi_*` header within `deadline` seconds in all (a trickling peer cannot hold us).

    Returns the header and the bytes that followed it. Raises `AgiTimeout`, `ProtocolError` (too big)
    or `ConnectionLost` (EOF before the empty line).
    """
    parser = HeaderParser(max_bytes=max_bytes, max_lines=max_lines)
    try:
        async with asyncio.timeout(deadline):
            while True:
                chunk = await reader.read(_READ_SIZE)
                if not chunk:
                    raise ConnectionLost("connection closed before the end of the AGI header")
                header = parser.feed(chunk)
                if header is not None:
                    return header, parser.remainder
    except TimeoutError as exc:
        raise AgiTimeout(f"no complete AGI header within {deadline}s") from exc
    except OSError as exc:
        raise ConnectionLost(f"connection failed while reading the AGI header: {exc!r}") from exc


class AgiSession:
    """One FastAGI conversation. Commands are serialised; every read has a deadline."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        header: AgiHeader,
        *,
        command_timeout: float = 60.0,
        close_timeout: float = 1.0,
        buffered: bytes = b"",
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._header = header
        self._command_timeout = command_timeout
        self._close_timeout = close_timeout
        self._splitter = LineSplitter(MAX_REPLY_LINE_BYTES)
        self._replies = ReplyParser()
        self._lines: deque[bytes] = deque(self._splitter.feed(buffered))
        self._lock = asyncio.Lock()
        # Commands written whose reply was not read yet: a command cancelled mid-wait (handler
        # timeout) leaves one behind, and its late reply must not be taken for the next command's.
        self._outstanding = 0
        self._hung_up = False
        self._broken: str | None = None
        self._closed = False

    # --- AgiChannel -------------------------------------------------------------------------------

    @property
    def header(self) -> AgiHeader:
        return self._header

    @property
    def hung_up(self) -> bool:
        return self._hung_up

    @property
    def closed(self) -> bool:
        return self._closed

    async def answer(self) -> None:
        reply = await self.run_command("ANSWER")
        self._check(reply, "ANSWER", minus_one_is_hangup=True)

    async def stream_file(self, name: str, escape_digits: str = "") -> None:
        # Escape digits always quoted: `STREAM FILE hotline-welcome ""` is what Asterisk was sent.
        line = encode_command("STREAM", "FILE", word(name), quote(escape_digits))
        # -1 also comes back for a missing sound file (`200 result=-1 endpos=0`); res_agi gives no
        # way to tell that from a hang-up on this line, the following HANGUP tells.
        self._check(await self._execute(line, self._command_timeout), "STREAM FILE", minus_one_is_hangup=True)

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> DigitsResult:
        if timeout_ms <= 0 or max_digits <= 0:
            raise ValueError("GET DATA needs timeout_ms > 0 and max_digits > 0 (0 means Asterisk defaults)")
        line = encode_command("GET", "DATA", word(prompt), str(timeout_ms), str(max_digits))
        # The timeout runs after the prompt and again after every digit, so allow them all, on top
        # of the usual command deadline which covers the prompt itself.
        deadline = self._command_timeout + timeout_ms / 1000 * (max_digits + 1)
        reply = await self._execute(line, deadline)
        self._check(reply, "GET DATA", minus_one_is_hangup=True)
        # `200 result=2024`, `200 result=12 (timeout)`, `200 result= (timeout)` (no digit at all).
        if not _DIGITS.fullmatch(reply.result):
            raise AgiCommandError(f"GET DATA: unexpected reply {reply.text!r}")
        return DigitsResult(digits=reply.result, timed_out=reply.data == "timeout")

    async def set_variable(self, name: str, value: str) -> None:
        line = encode_command("SET", "VARIABLE", word(name), quote(value))
        self._check(await self._execute(line, self._command_timeout), "SET VARIABLE")

    async def get_variable(self, name: str) -> str | None:
        reply = await self.run_command("GET VARIABLE", name)
        return self._value(reply, "GET VARIABLE")

    async def get_full_variable(self, expression: str) -> str | None:
        reply = await self.run_command("GET FULL VARIABLE", expression)
        return self._value(reply, "GET FULL VARIABLE")

    async def verbose(self, message: str, level: int = 1) -> None:
        line = encode_command("VERBOSE", quote(message), str(level))
        self._check(await self._execute(line, self._command_timeout), "VERBOSE")

    # --- lower level ------------------------------------------------------------------------------

    async def run_command(self, verb: str, *args: str, deadline: float | None = None) -> Reply:
        """Send `verb` (e.g. "CHANNEL STATUS") with `args` (each made one argument) and return the reply.

        The reply is not interpreted beyond hang-up tracking (a 511 marks the channel dead).
        """
        line = encode_command(*(word(part) for part in verb.split()), *(word(arg) for arg in args))
        return await self._execute(line, self._command_timeout if deadline is None else deadline)

    async def close(self) -> None:
        """Shut our side, let Asterisk say its last `HANGUP`, then close. Bounded; survives cancellation."""
        if self._closed:
            return
        self._closed = True
        try:
            with contextlib.suppress(OSError, RuntimeError):
                if self._writer.can_write_eof():
                    self._writer.write_eof()
            # Asterisk does not close on its own while we keep the socket; after our FIN it writes
            # `HANGUP\n` (on every session end, live channel or not: not a caller hang-up) and
            # closes. Reading it also keeps the kernel from answering unread data with a RST.
            with contextlib.suppress(TimeoutError, OSError):
                async with asyncio.timeout(self._close_timeout):
                    while await self._reader.read(_READ_SIZE):
                        pass
        finally:
            self._writer.close()
        with contextlib.suppress(TimeoutError, OSError):
            async with asyncio.timeout(self._close_timeout):
                await self._writer.wait_closed()

    # --- internals --------------------------------------------------------------------------------

    async def _execute(self, line: bytes, deadline: float) -> Reply:
        async with self._lock:
            if self._closed:
                raise AgiError("AGI session already closed")
            if self._broken is not None:
                raise ConnectionLost(f"AGI session unusable: {self._broken}")
            try:
                async with asyncio.timeout(deadline):
                    self._writer.write(line)
                    self._outstanding += 1
                    await self._writer.drain()
                    while True:
                        reply = await self._read_reply()
                        self._outstanding -= 1
                        if self._outstanding == 0:
                            break
                        log.debug("agi.stale_reply_skipped", code=reply.code)
            except TimeoutError as exc:
                raise AgiTimeout(f"no reply to {_verb(line)} within {deadline:.1f}s") from exc
            except OSError as exc:
                self._broken = repr(exc)
                raise ConnectionLost(f"connection failed during {_verb(line)}: {exc!r}") from exc
            except ProtocolError as exc:
                self._broken = str(exc)
                raise
            if reply.code == 511:
                self._hung_up = True
            return reply

    async def _read_reply(self) -> Reply:
        while True:
            item = self._replies.feed_line(decode_line(await self._next_line()))
            if item is None:
                continue
            if isinstance(item, Reply):
                return item
            # Unprompted HANGUP: the reply to the command in flight still follows; keep reading.
            if not self._hung_up:
                log.info("agi.hangup_notified")
            self._hung_up = True

    async def _next_line(self) -> bytes:
        while not self._lines:
            chunk = await self._reader.read(_READ_SIZE)
            if not chunk:
                self._broken = "Asterisk closed the connection"
                raise ConnectionLost("Asterisk closed the connection while a reply was due")
            self._lines.extend(self._splitter.feed(chunk))
        return self._lines.popleft()

    def _check(self, reply: Reply, command: str, *, minus_one_is_hangup: bool = False) -> None:
        if reply.code == 511:
            raise ChannelHungUp(f"{command}: {reply.text}")
        if reply.code != 200:
            raise AgiCommandError(f"{command}: {reply.text}")
        if minus_one_is_hangup and reply.result == "-1":
            self._hung_up = True
            raise ChannelHungUp(f"{command}: {reply.text}")

    def _value(self, reply: Reply, command: str) -> str | None:
        self._check(reply, command)
        if reply.result == "0":
            return None
        return reply.data if reply.data is not None else ""


def _verb(line: bytes) -> str:
    """The command's leading words, for error messages (never its values: they may be personal)."""
    words = line.decode("utf-8", errors="replace").split(" ")[:3]
    return " ".join(w for w in words if _VERB_WORD.fullmatch(w))
