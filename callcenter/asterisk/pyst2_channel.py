"""`AgiChannel` over pyst2, for classic AGI: one process per call, `AGI(/path/agi/route_call.py)`.

Asterisk starts the script with the AGI header on stdin, reads commands from its stdout and, when the caller
hangs up, sends it SIGHUP (unless `AGISIGHUP=no`). pyst2's `asterisk.agi.AGI` reads the header in its
constructor, formats commands and checks reply codes; this class adapts it to the `AgiChannel` Protocol that
the handlers are written against. The methods are `async def` only to satisfy the Protocol: they call pyst2
synchronously, which is fine because the process serves exactly one call.

Where pyst2 (0.5.1, `asterisk/agi.py`) and the Protocol disagree, this class follows the Protocol:

* `get_variable`: pyst2 returns "" both for an unset variable (`200 result=0`) and an empty one
  (`200 result=1 ()`); the Protocol needs None for unset, so the reply line is parsed here.
* `get_data`: pyst2 returns only the digits. It cannot see `(timeout)` when no digit was pressed, because its
  reply regex needs a non-empty value after `result=` (`200 result= (timeout)` parses as no result at all),
  and it cannot tell that from `200 result=` (# pressed at once). The raw reply line is parsed here.
* pyst2 raises `AGIResultHangup` whenever a reply's parenthesised data is exactly `hangup`, so a variable
  whose value is the word "hangup" would look like a hang-up. Such replies are taken from the raw line.
* After SIGHUP pyst2 refuses every command (`AGISIGHUPHangup` before sending). Asterisk still runs variable
  commands and VERBOSE on a dead channel (call_ended depends on it), so those are sent without pyst2's check.
* `200 result=-1` raises pyst2's `AGIAppError` ("Error executing application, or hangup"). Following the
  Protocol it becomes `ChannelHungUp`, although Asterisk also answers -1 (`endpos=0`) to STREAM FILE of a
  prompt that does not exist; a missing prompt therefore looks like a hang-up here.
* pyst2 has no case for 511 (dead channel): it raises `AGIUnknownError(511, ...)`; mapped to `ChannelHungUp`.
* At end of input pyst2 fails with a bare `ValueError` (it does `int('')`), or loops for ever inside a `520-`
  usage block. The input wrapper raises instead, mapped to `ChannelHungUp`: Asterisk only closes the pipe when
  the AGI is over.
* A FastAGI server gets an unprompted `HANGUP` line (sometimes between a command and its reply); classic AGI
  gets SIGHUP instead. Such a line is skipped here all the same, so the reply that follows is not lost.
* pyst2 strips every header value, so trailing spaces of an `agi_arg_N` are lost.
"""

from __future__ import annotations

import re
from typing import Any

from asterisk.agi import (
    AGIDBError,
    AGIError,
    AGIHangup,
    AGIInvalidCommand,
    AGIUnknownError,
    AGIUsageError,
)

from callcenter.asterisk.channel import (
    AgiCommandError,
    AgiError,
    AgiHeader,
    ChannelHungUp,
    DigitsResult,
)

__all__ = ["Pyst2Channel", "header_from_env"]

_DEAD_CHANNEL = 511
# "200 result=<value>[ (<data>)][ <rest>]": the value may be empty ("200 result= (timeout)").
_REPLY = re.compile(r"^200 result=(?P<value>\S*)(?: \((?P<data>.*)\))?")
_ARG = re.compile(r"arg_(\d+)")


def header_from_env(env: dict[str, str]) -> AgiHeader:
    """Build the header from pyst2's `agi.env` (keys with the `agi_` prefix), as the FastAGI codec does.

    `values` has every `agi_*` key without its prefix except the arguments; `args` lists `agi_arg_1..N` in
    numeric order.
    """
    values: dict[str, str] = {}
    numbered: dict[int, str] = {}
    for key, value in env.items():
        if not key.startswith("agi_") or len(key) == 4:
            continue
        name = key[4:]
        if match := _ARG.fullmatch(name):
            numbered.setdefault(int(match.group(1)), value)
        else:
            values.setdefault(name, value)
    return AgiHeader(values=values, args=tuple(value for _, value in sorted(numbered.items())))


def _quote(text: str) -> str:
    """Quote one AGI argument the way res_agi's parse_args reads it back (backslash escapes)."""
    if "\n" in text or "\r" in text:
        raise AgiCommandError(f"an AGI argument cannot contain a line break: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _InputClosed(Exception):
    """Asterisk closed the AGI input (end of file) while a reply was expected."""


class _ReplyReader:
    """Wraps the AGI input stream for pyst2: skips `HANGUP` lines and keeps the last reply line."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.last_line = ""
        self.saw_hangup = False

    def readline(self) -> str:
        while True:
            raw = self._stream.readline()
            line: str = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
            if line == "":
                self.last_line = ""
                raise _InputClosed("end of AGI input")
            text = line.rstrip("\r\n")
            if text.strip() == "HANGUP":
                self.saw_hangup = True
                continue
            self.last_line = text
            return line


class Pyst2Channel:
    """The `AgiChannel` of one classic AGI process, over a constructed `asterisk.agi.AGI`."""

    def __init__(self, agi: Any) -> None:
        self._agi = agi
        self._reader = _ReplyReader(agi.stdin)
        # pyst2 reads replies with `self.stdin.readline()`; the header was already read by AGI().
        agi.stdin = self._reader
        self._header = header_from_env(dict(agi.env))
        self._dead = False

    # --- Protocol -----------------------------------------------------------------------------------

    @property
    def header(self) -> AgiHeader:
        return self._header

    @property
    def hung_up(self) -> bool:
        return self._dead or self._reader.saw_hangup or bool(getattr(self._agi, "_got_sighup", False))

    async def answer(self) -> None:
        self._live("ANSWER")

    async def stream_file(self, name: str, escape_digits: str = "") -> None:
        self._live("STREAM FILE", name, _quote(escape_digits))

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> DigitsResult:
        line = self._live("GET DATA", prompt, str(timeout_ms), str(max_digits))
        value, data = self._parse(line)
        return DigitsResult(digits=value, timed_out=data == "timeout")

    async def set_variable(self, name: str, value: str) -> None:
        self._any("SET VARIABLE", _quote(name), _quote(value))

    async def get_variable(self, name: str) -> str | None:
        return self._value(self._any("GET VARIABLE", _quote(name)))

    async def get_full_variable(self, expression: str) -> str | None:
        return self._value(self._any("GET FULL VARIABLE", _quote(expression)))

    async def verbose(self, message: str, level: int = 1) -> None:
        self._any("VERBOSE", _quote(message), str(level))

    # --- internals ----------------------------------------------------------------------------------

    def _live(self, command: str, *args: str) -> str:
        """A command that needs the caller on the line (ANSWER, STREAM FILE, GET DATA)."""
        if self.hung_up:
            self._dead = True
            raise ChannelHungUp(f"{command}: the channel has hung up")
        return self._run(command, *args)

    def _any(self, command: str, *args: str) -> str:
        """A command Asterisk also runs on a dead channel (variables, VERBOSE): sent even after SIGHUP."""
        return self._run(command, *args)

    def _run(self, command: str, *args: str) -> str:
        """Send one command through pyst2 and return the raw `200 ...` reply line."""
        try:
            # Not agi.execute(): it refuses every command once SIGHUP came, and _live already checks that.
            self._agi.send_command(command, *args)
            self._agi.get_result()
        except AGIHangup as exc:
            # AGIResultHangup (data "hangup"), AGISIGHUPHangup, AGISIGPIPEHangup.
            if self._reader.last_line.startswith("200 ") and "result=-1" not in self._reader.last_line:
                # Only the "(hangup)" data of a normal reply, e.g. a variable whose value is "hangup".
                return self._reader.last_line
            self._dead = True
            raise ChannelHungUp(f"{command}: {exc}") from exc
        except AGIDBError as exc:
            raise AgiCommandError(f"{command}: {exc}") from exc
        except (AGIInvalidCommand, AGIUsageError) as exc:
            raise AgiCommandError(f"{command}: {exc}") from exc
        except AGIUnknownError as exc:
            if exc.args and exc.args[0] == _DEAD_CHANNEL:
                self._dead = True
                raise ChannelHungUp(f"{command}: {self._reader.last_line}") from exc
            raise AgiError(f"{command}: unexpected reply {self._reader.last_line!r}") from exc
        except AGIError as exc:
            # AGIAppError: "200 result=-1" -- the command failed because the caller is gone.
            if "result=-1" in self._reader.last_line:
                self._dead = True
                raise ChannelHungUp(f"{command}: {self._reader.last_line}") from exc
            raise AgiError(f"{command}: {exc}") from exc
        except (_InputClosed, BrokenPipeError) as exc:
            self._dead = True
            raise ChannelHungUp(f"{command}: Asterisk closed the AGI connection") from exc
        except ValueError as exc:
            raise AgiError(f"{command}: unreadable reply {self._reader.last_line!r}") from exc
        except OSError as exc:
            raise AgiError(f"{command}: {exc}") from exc
        return self._reader.last_line

    @staticmethod
    def _parse(line: str) -> tuple[str, str | None]:
        match = _REPLY.match(line)
        if match is None:
            raise AgiError(f"unexpected reply {line!r}")
        return match.group("value"), match.group("data")

    def _value(self, line: str) -> str | None:
        """`200 result=0` -> None (not set); `200 result=1 (v)` -> v (possibly "")."""
        value, data = self._parse(line)
        if value != "1":
            return None
        return data or ""
