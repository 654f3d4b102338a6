"""A call's conversation as turns: who spoke, from when to when, saying what, word by word.

The caller's words come from the rx leg and the officer's from the tx leg of the same MixMonitor
recording, so their times share one clock. Turns are runs of one speaker's words in time order: a new
turn starts when the other side speaks or after a silence longer than gap_s. Overlapping speech is
kept as it happened, so a "vâng" from the officer in the middle of the caller's sentence splits it in
two turns around it. Every word keeps its times, so a page can seek the recording to any of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Speaker(StrEnum):
    CALLER = "caller"
    OFFICER = "officer"
    UNKNOWN = "unknown"  # from the mixed recording, when the legs could not be used


@dataclass(frozen=True, slots=True)
class TimedWord:
    text: str
    start_s: float
    end_s: float
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s)):
            raise ValueError(f"word {self.text!r} has non-finite times {self.start_s}..{self.end_s}")
        if self.start_s < 0 or self.end_s < self.start_s:
            raise ValueError(f"word {self.text!r} has times {self.start_s}..{self.end_s}")


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: Speaker
    start_s: float
    end_s: float
    text: str
    words: tuple[TimedWord, ...]


def merge_turns(
    caller_words: Iterable[TimedWord], officer_words: Iterable[TimedWord], *, gap_s: float = 1.0
) -> list[Turn]:
    """Both sides' words as turns in time order (ties: the caller first, then each side's own order)."""
    tagged = [(w, Speaker.CALLER) for w in caller_words] + [(w, Speaker.OFFICER) for w in officer_words]
    return _group(tagged, gap_s)


def turns_from_mix(words: Iterable[TimedWord], *, gap_s: float = 1.0) -> list[Turn]:
    """Turns of unknown speakers from the mixed recording: split at silences longer than gap_s."""
    return _group([(w, Speaker.UNKNOWN) for w in words], gap_s)


def _group(tagged: Sequence[tuple[TimedWord, Speaker]], gap_s: float) -> list[Turn]:
    if not (gap_s >= 0 and math.isfinite(gap_s)):
        raise ValueError(f"gap_s must be a finite number >= 0, not {gap_s}")
    order = sorted(
        range(len(tagged)), key=lambda i: (tagged[i][0].start_s, tagged[i][1] != Speaker.CALLER, i)
    )
    turns: list[Turn] = []
    run: list[TimedWord] = []
    speaker = Speaker.UNKNOWN
    run_end = 0.0
    for i in order:
        word, who = tagged[i]
        if run and (who != speaker or word.start_s - run_end > gap_s):
            turns.append(_turn(speaker, run))
            run = []
        if not run:
            speaker, run_end = who, word.end_s
        run.append(word)
        run_end = max(run_end, word.end_s)
    if run:
        turns.append(_turn(speaker, run))
    return turns


def _turn(speaker: Speaker, words: list[TimedWord]) -> Turn:
    return Turn(
        speaker=speaker,
        start_s=words[0].start_s,
        end_s=max(w.end_s for w in words),
        text=" ".join(w.text for w in words),
        words=tuple(words),
    )


def render(turns: Iterable[Turn]) -> str:
    """One line per turn, "[12.3 caller] text", for people and tools (never for logs: see habits)."""
    return "\n".join(f"[{t.start_s:.1f} {t.speaker.value}] {t.text}" for t in turns)
