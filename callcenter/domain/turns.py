"""A call's conversation as turns: who spoke, from when to when, saying what, word by word.

The caller's words come from the rx leg and the officer's from the tx leg of the same MixMonitor
recording, so their times share one clock. A turn is a run of one speaker's words; the run ends at
a pause longer than gap_s, or at a pause in which the other side said a word (a hand-over). Words of
the other side spoken over the run do not break it: when both talk at once (a "vâng" over the
caller's sentence, or two people talking across each other) each keeps a whole turn, and the turns,
ordered by their start, overlap in time as the speech did. Splitting at every interleaved word
instead turned the real scenario-1 call into 27 turns of one or two words for 10 seconds of speech.
Every word keeps its times, so a page can seek the recording to any of them.
"""

from __future__ import annotations

import math
from bisect import bisect_left
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
    """Both sides' words as turns ordered by their start (ties: the caller's first)."""
    _check_gap(gap_s)
    caller = sorted(caller_words, key=_start)
    officer = sorted(officer_words, key=_start)
    runs = [(Speaker.CALLER, run) for run in _runs(caller, officer, gap_s)]
    runs += [(Speaker.OFFICER, run) for run in _runs(officer, caller, gap_s)]
    runs.sort(key=lambda r: (r[1][0].start_s, r[0] != Speaker.CALLER))
    return [_turn(speaker, run) for speaker, run in runs]


def turns_from_mix(words: Iterable[TimedWord], *, gap_s: float = 1.0) -> list[Turn]:
    """Turns of unknown speakers from the mixed recording: split at pauses longer than gap_s."""
    _check_gap(gap_s)
    return [_turn(Speaker.UNKNOWN, run) for run in _runs(sorted(words, key=_start), [], gap_s)]


def _start(word: TimedWord) -> float:
    return word.start_s


def _check_gap(gap_s: float) -> None:
    if not (gap_s >= 0 and math.isfinite(gap_s)):
        raise ValueError(f"gap_s must be a finite number >= 0, not {gap_s}")


def _runs(own: Sequence[TimedWord], other: Sequence[TimedWord], gap_s: float) -> list[list[TimedWord]]:
    """own (sorted by start) cut into runs; other (sorted by start) only tells where hand-overs are."""
    other_starts = [w.start_s for w in other]
    runs: list[list[TimedWord]] = []
    run: list[TimedWord] = []
    run_end = 0.0
    for word in own:
        if run and (
            word.start_s - run_end > gap_s or _spoke_within(other, other_starts, run_end, word.start_s)
        ):
            runs.append(run)
            run = []
        if not run:
            run_end = word.end_s
        run.append(word)
        run_end = max(run_end, word.end_s)
    if run:
        runs.append(run)
    return runs


def _spoke_within(
    other: Sequence[TimedWord], starts: list[float], pause_start: float, pause_end: float
) -> bool:
    """Whether a word of the other side lies wholly inside the pause [pause_start, pause_end]."""
    i = bisect_left(starts, pause_start)
    while i < len(other) and other[i].start_s <= pause_end:
        if other[i].end_s <= pause_end:
            return True
        i += 1
    return False


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
