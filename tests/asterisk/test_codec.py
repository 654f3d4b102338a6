"""The pure FastAGI codec against every captured byte, at every read boundary."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.asterisk.channel import AgiHeader
from callcenter.asterisk.protocol import (
    HANGUP,
    MAX_COMMAND_BYTES,
    CommandTooLong,
    Hangup,
    HeaderParser,
    LineSplitter,
    ProtocolError,
    Reply,
    ReplyParser,
    decode_line,
    encode_command,
    parse_replies,
    quote,
    split_command,
    word,
)
from tests.fakes import captures

SESSIONS = captures.all_sessions()
SESSION_IDS = [s.name for s in SESSIONS]


def _reference_header(data: bytes) -> AgiHeader:
    """The obvious parse of a well-formed header, to compare the incremental parser with."""
    values: dict[str, str] = {}
    args: list[str] = []
    for line in data.decode().split("\n"):
        if not line:
            break
        key, value = line.split(": ", 1)
        if key.startswith("agi_arg_"):
            args.append(value)
        else:
            values[key.removeprefix("agi_")] = value
    return AgiHeader(values, tuple(args))


def _feed_all(pieces: list[bytes]) -> tuple[AgiHeader, bytes]:
    parser = HeaderParser()
    result = None
    for piece in pieces:
        result = parser.feed(piece)
    assert result is not None
    return result, parser.remainder


# --- headers ----------------------------------------------------------------------------------------


@captures.requires_captures
@pytest.mark.parametrize("session", SESSIONS, ids=SESSION_IDS)
def test_captured_header_at_every_split_point(session: captures.Session) -> None:
    data = session.header_bytes
    expected = _reference_header(data)
    assert len(expected.values) == 22
    for cut in range(len(data) + 1):
        header, rest = _feed_all([data[:cut], data[cut:]])
        assert header == expected, cut
        assert rest == b""


@captures.requires_captures
@pytest.mark.parametrize("session", SESSIONS, ids=SESSION_IDS)
def test_captured_header_with_the_captured_read_boundaries(session: captures.Session) -> None:
    parser = HeaderParser()
    header = None
    for chunk in session.chunks:
        if chunk.from_asterisk:
            header = parser.feed(chunk.data)
            if header is not None:
                break
    assert header == _reference_header(session.header_bytes)
    # One byte at a time, too.
    assert _feed_all([bytes([b]) for b in session.header_bytes])[0] == header


@captures.requires_captures
@given(data=st.data())
@settings(max_examples=200, deadline=None)
def test_captured_header_any_partition(data: st.DataObject) -> None:
    session = data.draw(st.sampled_from(SESSIONS))
    raw = session.header_bytes + session.after_header
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=12)))
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    header, rest = _feed_all(pieces)
    assert header == _reference_header(session.header_bytes)
    # What follows the empty line is handed on untouched (HANGUP may come right after the header).
    assert rest == session.after_header


@captures.requires_captures
def test_captured_header_contents() -> None:
    route = captures.session("1-answered", 1)
    header = _feed_all([route.header_bytes])[0]
    assert header.script == "route_call"
    assert header.uniqueid == "1795380439.44"
    assert header.get("accountcode", "missing") == ""  # "agi_accountcode: " keeps its ": "
    assert header.args == ()
    first = captures.agi_session_txt()[0]
    with_args = _feed_all([first.header_bytes])[0]
    assert with_args.script == "route"  # agi_network_script: route?caller=5551234
    assert with_args.args == ("arg1", "arg 2")
    assert "arg_1" not in with_args.values


def test_header_args_are_ordered_by_number() -> None:
    data = b"agi_network_script: x\nagi_arg_2: b\nagi_arg_10: c\nagi_arg_1: a\n\n"
    assert _feed_all([data])[0].args == ("a", "b", "c")


def test_header_bytes_that_are_not_utf8_are_replaced() -> None:
    data = b'agi_calleridname: Nguy\xe1\xbb\x85n "A"\rB\xff\nagi_callerid: 09\xc3\n\n'
    header = _feed_all([data])[0]
    assert header.calleridname == 'Nguyễn "A"\ufffdB\ufffd'
    assert header.callerid == "09\ufffd"


def test_header_multibyte_character_split_across_reads() -> None:
    data = "agi_calleridname: Nguyễn Văn A\n\n".encode()
    for cut in range(len(data) + 1):
        assert _feed_all([data[:cut], data[cut:]])[0].calleridname == "Nguyễn Văn A"


def test_header_stray_lines_are_skipped_not_fatal() -> None:
    parser = HeaderParser()
    header = parser.feed(b"agi_network_script: route_call\nnot a header line\nagi_: x\n\n")
    assert header is not None and header.script == "route_call"
    assert parser.ignored_lines == 2


def test_header_crlf_tolerated() -> None:
    header = _feed_all([b"agi_network_script: route_call\r\nagi_callerid: 1\r\n\r\n"])[0]
    assert header.script == "route_call" and header.callerid == "1"


def test_header_too_big_is_rejected_before_the_newline() -> None:
    parser = HeaderParser(max_bytes=1024)
    for _ in range(10):
        parser.feed(b"x" * 100)  # one endless line...
    with pytest.raises(ProtocolError, match="longer than 1024"):
        parser.feed(b"x" * 100)  # ...is refused once over the limit, not buffered for ever


def test_header_too_big_in_many_lines() -> None:
    parser = HeaderParser(max_bytes=16384)
    with pytest.raises(ProtocolError):
        parser.feed(b"agi_x: y\n" * 8000)


def test_header_too_many_lines() -> None:
    parser = HeaderParser(max_lines=10)
    with pytest.raises(ProtocolError, match="more than 10 lines"):
        parser.feed(b"agi_a: b\n" * 11)


# --- replies ----------------------------------------------------------------------------------------


def _replies(stream: bytes) -> list[Reply | Hangup]:
    splitter = LineSplitter(64 * 1024)
    return parse_replies(decode_line(line) for line in splitter.feed(stream))


@captures.requires_captures
@pytest.mark.parametrize("session", SESSIONS, ids=SESSION_IDS)
def test_every_captured_reply_parses(session: captures.Session) -> None:
    items = _replies(session.after_header)
    replies = [r for r in items if isinstance(r, Reply)]
    # One reply per command we sent, whatever HANGUP lines came in between.
    assert len(replies) == len(session.commands)
    for reply in replies:
        assert reply.code in (200, 510, 511, 520)


@captures.requires_captures
def test_reply_stream_at_every_split_point() -> None:
    stream = captures.agi_session_txt()[1].after_header  # has the split 520 block and an async HANGUP
    expected = _replies(stream)
    for cut in range(len(stream) + 1):
        splitter, parser = LineSplitter(1024), ReplyParser()
        got = []
        for piece in (stream[:cut], stream[cut:]):
            for line in splitter.feed(piece):
                if (item := parser.feed_line(decode_line(line))) is not None:
                    got.append(item)
        assert got == expected


@pytest.mark.parametrize(
    ("line", "result", "data", "fields"),
    [
        ("200 result=0", "0", None, {}),
        (
            "200 result=1 (PJSIP/bob-00000022,PJSIP/bob-00000021)",
            "1",
            "PJSIP/bob-00000022,PJSIP/bob-00000021",
            {},
        ),
        ("200 result=1 ()", "1", "", {}),
        ("200 result=0 endpos=4000", "0", None, {"endpos": "4000"}),
        ("200 result= (timeout)", "", "timeout", {}),
        ("200 result=12 (timeout)", "12", "timeout", {}),
        ("200 result=2024", "2024", None, {}),
        ("200 result=-1", "-1", None, {}),
        ("200 result=0 (timeout) endpos=1234", "0", "timeout", {"endpos": "1234"}),
        ("200 result=1 (a (b) c)", "1", "a (b) c", {}),
    ],
)
def test_200_forms(line: str, result: str, data: str | None, fields: dict[str, str]) -> None:
    (reply,) = parse_replies([line])
    assert isinstance(reply, Reply)
    assert (reply.code, reply.result, reply.data, reply.fields) == (200, result, data, fields)


def test_error_forms_and_hangup() -> None:
    items = parse_replies(
        [
            "HANGUP",
            "510 Invalid or unknown command",
            "511 Command Not Permitted on a dead channel or intercept routine",
            "520-Invalid command syntax.  Proper usage follows:",
            "Sets a variable to the current channel.",
            "520 End of proper usage.",
        ]
    )
    assert items[0] is HANGUP
    assert [r.code for r in items[1:] if isinstance(r, Reply)] == [510, 511, 520]
    assert "Sets a variable" in items[3].text  # type: ignore[union-attr]


def test_value_with_a_newline_is_joined() -> None:
    assert parse_replies(["200 result=1 (two", "lines)"]) == [
        Reply(200, "200 result=1 (two\nlines)", "1", "two\nlines")
    ]


@pytest.mark.parametrize("line", ["garbage", "200 resul=1", "200 result=1 junk", "42"])
def test_garbage_reply_is_a_protocol_error(line: str) -> None:
    with pytest.raises(ProtocolError):
        parse_replies([line])


# --- commands ---------------------------------------------------------------------------------------


@captures.requires_captures
def test_encoding_reproduces_captured_commands() -> None:
    sent = [cmd for s in captures.all_sessions() for cmd in s.commands]
    assert b'SET VARIABLE HOTLINE_TARGET_2 "PJSIP/bob/sip:carol@127.0.0.1:5090"\n' in sent
    for line in sent:
        args = split_command(line.decode().removesuffix("\n"))
        # Every captured command survives a split/encode round trip (bare where it was bare).
        assert split_command(encode_command(*map(word, args)).decode().removesuffix("\n")) == args


def _asterisk_sees(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ").replace("\x00", "")


@given(st.text())
@settings(max_examples=500)
def test_quoted_value_is_exactly_one_argument_on_one_line(value: str) -> None:
    try:
        line = encode_command("SET", "VARIABLE", "X", quote(value))
    except CommandTooLong:
        assert len(quote(value).encode("utf-8", errors="replace")) > MAX_COMMAND_BYTES - 20
        return
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert b"\r" not in line and b"\x00" not in line
    assert len(line) <= MAX_COMMAND_BYTES
    text = line[:-1].decode("utf-8", errors="replace")
    assert split_command(text) == ["SET", "VARIABLE", "X", _asterisk_sees(value)]


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_word_is_exactly_one_argument(value: str) -> None:
    line = encode_command("GET", "VARIABLE", word(value))
    assert line.count(b"\n") == 1 and b"\r" not in line
    assert split_command(line[:-1].decode()) == ["GET", "VARIABLE", _asterisk_sees(value)]


@pytest.mark.parametrize(
    "evil",
    [
        'x"\nEXEC System "rm -rf /',
        'x\\"\nHANGUP',
        "x\r\nHANGUP\r\n",
        'a\\" "b',
        "\\",
        '"',
        "trailing backslash\\",
    ],
)
def test_injection_attempts_stay_one_argument(evil: str) -> None:
    line = encode_command("SET", "VARIABLE", "X", quote(evil))
    assert line.count(b"\n") == 1
    assert split_command(line[:-1].decode()) == ["SET", "VARIABLE", "X", _asterisk_sees(evil)]


def test_too_long_command_is_refused_not_cut() -> None:
    with pytest.raises(CommandTooLong):
        encode_command("SET", "VARIABLE", "X", quote("x" * MAX_COMMAND_BYTES))
    assert len(encode_command("VERBOSE", quote("x" * (MAX_COMMAND_BYTES - 13)), "1")) == MAX_COMMAND_BYTES


def test_raw_newline_in_a_word_is_refused() -> None:
    with pytest.raises(ProtocolError):
        encode_command("NOOP\nHANGUP")


def test_split_command_matches_parse_args() -> None:
    # Cases worked through res_agi.c parse_args() by hand.
    assert split_command('STREAM FILE hotline-welcome ""') == ["STREAM", "FILE", "hotline-welcome", ""]
    assert split_command('EXEC NoOp "from call_ended"') == ["EXEC", "NoOp", "from call_ended"]
    assert split_command('a"b c"d e') == ["ab cd", "e"]
    assert split_command(r"a\ b \\ \"") == ["a b", "\\", '"']
    assert split_command("  x\t y  ") == ["x", "y"]
