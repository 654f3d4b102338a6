"""The real Asterisk bytes recorded in `../shared/asterisk` (relative to the repository root).

Tests build their fakes from these bytes, never from memory. When the directory is missing (a
checkout without the shared captures) the tests that need it are skipped, saying why.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ASTERISK_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "asterisk"
SCENARIOS_DIR = ASTERISK_DIR / "scenarios"
CAPTURES_DIR = ASTERISK_DIR / "captures"
PRESENT = (SCENARIOS_DIR / "1-answered" / "agi.jsonl").is_file()
SKIP_REASON = f"Asterisk captures not found at {ASTERISK_DIR} (expected ../shared/asterisk beside the repo)"

requires_captures = pytest.mark.skipif(not PRESENT, reason=SKIP_REASON)


@dataclass(frozen=True)
class Chunk:
    """One recv() (from Asterisk) or send() (to Asterisk) of a captured session."""

    session: int
    from_asterisk: bool
    data: bytes


@dataclass(frozen=True)
class Session:
    name: str  # e.g. "1-answered#1"
    chunks: tuple[Chunk, ...]

    @property
    def from_asterisk(self) -> bytes:
        return b"".join(c.data for c in self.chunks if c.from_asterisk)

    @property
    def to_asterisk(self) -> bytes:
        return b"".join(c.data for c in self.chunks if not c.from_asterisk)

    @property
    def header_bytes(self) -> bytes:
        stream = self.from_asterisk
        return stream[: stream.index(b"\n\n") + 2]

    @property
    def after_header(self) -> bytes:
        return self.from_asterisk[len(self.header_bytes) :]

    @property
    def commands(self) -> list[bytes]:
        """Each command line we sent, with its "\\n" (one send() per command in every capture)."""
        return [c.data for c in self.chunks if not c.from_asterisk]


def require() -> None:
    if not PRESENT:
        pytest.skip(SKIP_REASON)


def scenario_names() -> list[str]:
    """Scenarios with AGI bytes (7a/7e never connected; 7b closed before a byte)."""
    if not PRESENT:
        return []
    return sorted(
        d.name
        for d in SCENARIOS_DIR.iterdir()
        if (d / "agi.jsonl").is_file() and (d / "agi.jsonl").stat().st_size
    )


@cache
def scenario_sessions(scenario: str) -> tuple[Session, ...]:
    require()
    by_session: dict[int, list[Chunk]] = {}
    for line in (SCENARIOS_DIR / scenario / "agi.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        chunk = Chunk(record["session"], record["dir"] == "from_asterisk", bytes.fromhex(record["hex"]))
        by_session.setdefault(chunk.session, []).append(chunk)
    return tuple(Session(f"{scenario}#{n}", tuple(chunks)) for n, chunks in sorted(by_session.items()))


def session(scenario: str, number: int) -> Session:
    return scenario_sessions(scenario)[number - 1]


@cache
def agi_session_txt() -> tuple[Session, ...]:
    """`captures/agi-session.txt` (route?caller=, extended, hangupwait): each repr()'d recv/send."""
    require()
    sessions: list[list[Chunk]] = []
    pattern = re.compile(r"^\s*[\d.]+ (<<|>>) (b'.*')$")
    for line in (CAPTURES_DIR / "agi-session.txt").read_text().splitlines():
        if line.startswith("=== session") and "from" in line:
            sessions.append([])
        elif match := pattern.match(line):
            data = ast.literal_eval(match.group(2))
            sessions[-1].append(Chunk(len(sessions), match.group(1) == "<<", data))
    raw = (CAPTURES_DIR / "agi-session.txt.raw").read_bytes()
    result = tuple(Session(f"agi-session.txt#{n}", tuple(s)) for n, s in enumerate(sessions, start=1))
    # The transcript and the raw file must tell the same story, or the transcript parse is wrong.
    assert b"".join(s.from_asterisk for s in result) == raw
    return result


def all_sessions() -> list[Session]:
    """Every captured session that got at least a full header."""
    if not PRESENT:
        return []
    found = [s for name in scenario_names() for s in scenario_sessions(name)]
    found += agi_session_txt()
    return [s for s in found if b"\n\n" in s.from_asterisk]


def agi_commands_txt() -> dict[str, bool]:
    """`agi show commands`: command (lower case) → runs on a dead channel."""
    require()
    table: dict[str, bool] = {}
    for line in (CAPTURES_DIR / "agi-commands.txt").read_text().splitlines():
        match = re.match(r"^\s+(Yes|No)\s+(.+?)\s{3}", line)
        if match:
            table[match.group(2).strip()] = match.group(1) == "Yes"
    return table
