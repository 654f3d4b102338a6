"""FastAGI wire codec: the header Asterisk sends, its replies, and the commands we send. No I/O.

Everything here follows what Asterisk 22 was seen doing on the wire (see `/work/shared/asterisk`):
`\\n` line ends, header lines `agi_<key>: <value>` ended by an empty line, replies `200 result=...`,
`510`/`511`, multi-line `520-...`/`520 End of proper usage.`, and the unprompted `HANGUP` line.
Command quoting mirrors res_agi.c `parse_args()`, the code that splits our line into arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from callcenter.asterisk.channel import AgiError, AgiHeader

# A real header is about 500 bytes and 22 lines (plus one line per AGI() argument, at most 128 in
# res_agi's MAX_ARGS), so these bounds only ever stop a peer that is not Asterisk.
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADER_LINES = 256
# res_agi reads a command into `char buf[AGI_BUF_LEN]` (2048) with fgets: a longer line is cut and the
# rest is run as a SECOND command. So a line (with its "\n") must fit in 2047 bytes.
MAX_COMMAND_BYTES = 2047
# GET FULL VARIABLE answers from a 4096-byte buffer; 520 usage texts come as several short lines.
MAX_REPLY_LINE_BYTES = 16 * 1024
MAX_REPLY_LINES = 500

HANGUP_LINE = "HANGUP"

_ARG_KEY = re.compile(r"arg_(\d{1,4})")
# C0 controls (but TAB) and DEL: never legitimate in a header value, and a CR in a caller's name must
# not reach a log line or a database field as a line break.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# A word that res_agi's parse_args takes literally without quotes: no space/tab (separators), no `"`
# (toggles quoting), no `\\` (escape), no control characters (CR/LF/NUL end or cut the line).
_BARE_WORD = re.compile(r'[^\s"\\\x00-\x1f\x7f]+')
_FIELD = re.compile(r"[A-Za-z_]+=\S*")
_STATUS = re.compile(r"(\d{3})([ -])(.*)", re.DOTALL)


class ProtocolError(AgiError):
    """The peer sent something that is not FastAGI, or too much of it."""


class CommandTooLong(ProtocolError):
    """The encoded command would not fit in res_agi's line buffer (it would be cut into two commands)."""


# --- lines ----------------------------------------------------------------------------------------


class LineSplitter:
    """Cuts a byte stream into `\\n`-terminated lines, whatever the read boundaries."""

    def __init__(self, max_line_bytes: int) -> None:
        self._max = max_line_bytes
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Complete lines in `data` (without their `\\n`); the incomplete tail is kept for later."""
        self._buffer += data
        lines: list[bytes] = []
        start = 0
        while (end := self._buffer.find(b"\n", start)) >= 0:
            if end - start > self._max:
                raise ProtocolError(f"line longer than {self._max} bytes")
            lines.append(bytes(self._buffer[start:end]))
            start = end + 1
        del self._buffer[:start]
        if len(self._buffer) > self._max:
            raise ProtocolError(f"line longer than {self._max} bytes")
        return lines

    @property
    def pending(self) -> bytes:
        return bytes(self._buffer)


def decode_line(raw: bytes) -> str:
    """Bytes of one line as text; bytes that are not UTF-8 become U+FFFD instead of an exception."""
    return raw.decode("utf-8", errors="replace")


# --- header ---------------------------------------------------------------------------------------


class HeaderParser:
    """Incremental parser of the `agi_*` header: feed it bytes as they arrive, it says when it is done.

    Lines that are not `agi_<key>:<value>` are skipped (counted in `ignored_lines`) rather than fatal:
    a stray line (e.g. a caller name that contained a line break) must not cost the caller the call.
    """

    def __init__(self, *, max_bytes: int = MAX_HEADER_BYTES, max_lines: int = MAX_HEADER_LINES) -> None:
        self._max_bytes = max_bytes
        self._max_lines = max_lines
        self._splitter = LineSplitter(max_bytes)
        self._consumed = 0
        self._lines = 0
        self._values: dict[str, str] = {}
        self._args: dict[int, str] = {}
        self._header: AgiHeader | None = None
        self._remainder = b""
        self.ignored_lines = 0

    @property
    def header(self) -> AgiHeader | None:
        return self._header

    @property
    def remainder(self) -> bytes:
        """Bytes received after the empty line: already the start of the session (e.g. `HANGUP\\n`)."""
        return self._remainder

    def feed(self, data: bytes) -> AgiHeader | None:
        if self._header is not None:
            self._remainder += data
            return self._header
        lines = self._splitter.feed(data)
        for index, raw in enumerate(lines):
            self._consumed += len(raw) + 1
            self._lines += 1
            if self._consumed > self._max_bytes:
                raise ProtocolError(f"AGI header longer than {self._max_bytes} bytes")
            if self._lines > self._max_lines:
                raise ProtocolError(f"AGI header has more than {self._max_lines} lines")
            if raw in (b"", b"\r"):
                self._header = self._build()
                rest = b"\n".join(lines[index + 1 :])
                self._remainder = (rest + b"\n" if index + 1 < len(lines) else b"") + self._splitter.pending
                return self._header
            self._take(raw)
        if self._consumed + len(self._splitter.pending) > self._max_bytes:
            raise ProtocolError(f"AGI header longer than {self._max_bytes} bytes")
        return None

    def _take(self, raw: bytes) -> None:
        line = decode_line(raw.removesuffix(b"\r"))
        key, sep, value = line.partition(":")
        if not sep or not key.startswith("agi_") or len(key) == 4:
            self.ignored_lines += 1
            return
        key = key[4:]
        # Asterisk writes "agi_key: value"; an empty value keeps the ": " (agi_accountcode).
        value = _CONTROL.sub("\ufffd", value.removeprefix(" "))
        if match := _ARG_KEY.fullmatch(key):
            self._args.setdefault(int(match.group(1)), value)
        else:
            # First one wins: a repeated key must not override the entry point already read.
            self._values.setdefault(key, value)

    def _build(self) -> AgiHeader:
        return AgiHeader(values=dict(self._values), args=tuple(v for _, v in sorted(self._args.items())))


# --- replies --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hangup:
    """The unprompted `HANGUP` line: the channel hung up (or the session is ending). Not a reply."""


HANGUP = Hangup()


@dataclass(frozen=True)
class Reply:
    """One reply: `code` (200, 510, 511, 520); for 200 also `result`, the `(data)` and `key=value` fields."""

    code: int
    text: str
    result: str = ""
    data: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def result_int(self) -> int | None:
        try:
            return int(self.result)
        except ValueError:
            return None


def _parse_200(text: str) -> Reply | None:
    """A `200 result=...` line, or None if its `(data)` is not closed yet (a value holding a newline)."""
    if not text.startswith("200 result="):
        raise ProtocolError(f"200 reply without result=: {text[:80]!r}")
    result, _, tail = text[len("200 result=") :].partition(" ")
    data: str | None = None
    if tail.startswith("("):
        # GET VARIABLE writes "200 result=1 (%s)": the value may itself contain ")" or spaces, so when
        # the line ends with ")" everything between the first "(" and the last ")" is the data.
        if tail.endswith(")"):
            return Reply(200, text, result, tail[1:-1])
        match = re.fullmatch(r"\((.*)\)((?: [A-Za-z_]+=\S*)+)", tail, re.DOTALL)
        if match is None:
            return None
        data, tail = match.group(1), match.group(2).strip()
    fields: dict[str, str] = {}
    for token in tail.split():
        if not _FIELD.fullmatch(token):
            raise ProtocolError(f"unexpected reply: {text[:80]!r}")
        name, _, value = token.partition("=")
        fields[name] = value
    return Reply(200, text, result, data, fields)


class ReplyParser:
    """Turns reply lines into `Reply` / `HANGUP`, joining multi-line replies (`520-...`, data with `\\n`)."""

    def __init__(self, max_lines: int = MAX_REPLY_LINES) -> None:
        self._max_lines = max_lines
        self._pending: list[str] = []
        self._end_code: str | None = None  # "520" while inside a "520-" block

    @property
    def idle(self) -> bool:
        return not self._pending

    def feed_line(self, line: str) -> Reply | Hangup | None:
        if self._pending:
            return self._continue(line)
        if line == HANGUP_LINE:
            return HANGUP
        match = _STATUS.fullmatch(line)
        if match is None:
            raise ProtocolError(f"unexpected line from Asterisk: {line[:80]!r}")
        code, separator, _ = match.groups()
        if separator == "-":
            self._pending, self._end_code = [line], code
            return None
        if code == "200":
            reply = _parse_200(line)
            if reply is None:
                self._pending = [line]
            return reply
        return Reply(int(code), line)

    def _continue(self, line: str) -> Reply | None:
        self._pending.append(line)
        if len(self._pending) > self._max_lines:
            raise ProtocolError(f"reply longer than {self._max_lines} lines")
        if self._end_code is not None:
            if not line.startswith(self._end_code + " "):
                return None
            text, code = "\n".join(self._pending), int(self._end_code)
            self._pending, self._end_code = [], None
            return Reply(code, text)
        reply = _parse_200("\n".join(self._pending))
        if reply is not None:
            self._pending = []
        return reply


def parse_replies(lines: Iterable[str]) -> list[Reply | Hangup]:
    """All complete replies in `lines` (a convenience for tests and tools)."""
    parser = ReplyParser()
    return [item for line in lines if (item := parser.feed_line(line)) is not None]


# --- commands -------------------------------------------------------------------------------------


def _clean(value: str) -> str:
    # res_agi reads one command per "\n" and C strings end at NUL: neither can be escaped, so a line
    # break becomes a space (CR too, for symmetry) and NUL is dropped.
    return value.replace("\r", " ").replace("\n", " ").replace("\x00", "")


def quote(value: str) -> str:
    """`value` as one double-quoted argument that parse_args() reads back verbatim (bar CR/LF/NUL)."""
    escaped = _clean(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def word(value: str) -> str:
    """`value` as one argument: bare when that is unambiguous (as Asterisk's own examples), else quoted."""
    return value if _BARE_WORD.fullmatch(value) else quote(value)


def encode_command(*words: str) -> bytes:
    """One command line from already-encoded words (`word()`/`quote()`), with its `\\n`."""
    line = " ".join(words)
    if any(c in line for c in "\r\n\x00"):
        raise ProtocolError("command word contains CR, LF or NUL; encode values with word()/quote()")
    data = line.encode("utf-8", errors="replace") + b"\n"
    if len(data) > MAX_COMMAND_BYTES:
        raise CommandTooLong(f"AGI command of {len(data)} bytes exceeds {MAX_COMMAND_BYTES}")
    return data


def split_command(line: str) -> list[str]:
    """Arguments of a command line exactly as res_agi.c parse_args() splits them (Asterisk's side)."""
    args: list[list[str]] = []
    quoted = escaped = False
    whitespace = True
    for char in line:
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                args.append([])
                whitespace = False
            continue
        if char in " \t" and not quoted and not escaped:
            whitespace = True
            continue
        if char == "\\" and not escaped:
            escaped = True
            continue
        if whitespace:
            args.append([])
            whitespace = False
        args[-1].append(char)
        escaped = False
    return ["".join(arg) for arg in args]
