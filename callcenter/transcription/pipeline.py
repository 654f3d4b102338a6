"""One call's recordings to one timed transcript of caller and officer turns.

MixMonitor writes `<name>-rx.wav` (what the caller said), `<name>-tx.wav` (what the caller heard:
ringback, prompts, then the officer) and `<name>.wav` (both mixed), all starting together, so word
times of the two legs share one clock. The legs are transcribed separately and merged; the mix is
transcribed only when a leg cannot be used, and then its turns have no speaker. A leg quieter than
SILENCE_DBFS is not sent to the engine: nobody spoke on it, and decoding it would cost time for nothing.
A `<name>-voicemail.wav`, when given, is the caller alone on its own clock: its turns are apart.

Nothing about a leg raises: a missing, empty or broken file, or an engine failing on it, is reported
in `CallTranscript.legs` with a reason, and the call gets whatever the other recordings give.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Final

from callcenter.domain.turns import Speaker, TimedWord, Turn, merge_turns, turns_from_mix
from callcenter.transcription.audio import SILENCE_DBFS, AudioError, load_pcm
from callcenter.transcription.engine import SpeechEngine, Transcript, Word

CALLER: Final = "rx"
OFFICER: Final = "tx"
MIX: Final = "mix"
VOICEMAIL: Final = "voicemail"


class LegStatus(StrEnum):
    TRANSCRIBED = "transcribed"
    SILENT = "silent"  # readable, but below the silence level: nothing to transcribe
    NOT_NEEDED = "not_needed"  # the mix, when both legs were usable
    MISSING = "missing"  # not given, or no such file
    EMPTY = "empty"
    NOT_WAV = "not_wav"
    TRUNCATED = "truncated"
    UNSUPPORTED = "unsupported"
    UNREADABLE = "unreadable"
    ENGINE_FAILED = "engine_failed"


_FROM_AUDIO_ERROR: Final = {
    "missing": LegStatus.MISSING,
    "empty": LegStatus.EMPTY,
    "not_wav": LegStatus.NOT_WAV,
    "truncated": LegStatus.TRUNCATED,
    "unsupported": LegStatus.UNSUPPORTED,
}


class Source(StrEnum):
    LEGS = "legs"  # caller and officer from rx and tx
    MIX = "mix"  # unknown speakers from the mixed recording
    CALLER_ONLY = "caller_only"  # tx and the mix unusable
    OFFICER_ONLY = "officer_only"  # rx and the mix unusable
    NONE = "none"


@dataclass(frozen=True, slots=True)
class LegReport:
    leg: str
    path: Path | None
    status: LegStatus
    reason: str = ""
    duration_s: float | None = None
    dbfs: float | None = None
    notes: tuple[str, ...] = ()  # repairs made reading the file (wrong header sizes, a cut sample)
    transcript: Transcript | None = None
    convert_s: float = 0.0
    transcribe_s: float = 0.0

    @property
    def usable(self) -> bool:
        return self.status in (LegStatus.TRANSCRIBED, LegStatus.SILENT)


@dataclass(frozen=True, slots=True)
class CallTranscript:
    turns: tuple[Turn, ...]
    source: Source
    legs: Mapping[str, LegReport]
    engine: str
    language: str
    voicemail_turns: tuple[Turn, ...] = field(default=())

    @property
    def failures(self) -> dict[str, LegReport]:
        """Legs that were wanted and could not be used, with the reason."""
        return {k: r for k, r in self.legs.items() if not r.usable and r.status != LegStatus.NOT_NEEDED}


def legs_for_recording(directory: Path, name: str) -> dict[str, Path]:
    """MixMonitor's file names for a recording name; the voicemail only when it exists."""
    legs = {
        CALLER: directory / f"{name}-rx.wav",
        OFFICER: directory / f"{name}-tx.wav",
        MIX: directory / f"{name}.wav",
    }
    voicemail = directory / f"{name}-voicemail.wav"
    if voicemail.exists():
        legs[VOICEMAIL] = voicemail
    return legs


def transcribe_call(
    engine: SpeechEngine,
    legs: Mapping[str, Path],
    *,
    gap_s: float = 1.0,
    silence_dbfs: float = SILENCE_DBFS,
    normalize: bool = True,
) -> CallTranscript:
    """Transcribe rx and tx (the mix only if one of them is unusable), merge into turns.

    normalize raises quiet legs towards full scale before the engine (peak to -1 dBFS, at most
    +24 dB). Measured on the real clip at -40 dBFS: Vosk-ko found no word in it as recorded;
    Whisper base's error rate went from 0.67 to 0.25 at 16 kHz, and stayed 0.92 through 8 kHz.
    """

    def run(leg: str) -> LegReport:
        return _transcribe_leg(engine, leg, legs.get(leg), silence_dbfs, normalize)

    reports: dict[str, LegReport] = {CALLER: run(CALLER), OFFICER: run(OFFICER)}
    caller, officer = reports[CALLER], reports[OFFICER]
    if caller.usable and officer.usable:
        reports[MIX] = LegReport(MIX, legs.get(MIX), LegStatus.NOT_NEEDED, "both legs were usable")
        turns = merge_turns(_timed(caller), _timed(officer), gap_s=gap_s)
        source = Source.LEGS
    else:
        reports[MIX] = mix = run(MIX)
        if mix.usable:
            turns, source = turns_from_mix(_timed(mix), gap_s=gap_s), Source.MIX
        elif caller.usable:
            turns, source = merge_turns(_timed(caller), [], gap_s=gap_s), Source.CALLER_ONLY
        elif officer.usable:
            turns, source = merge_turns([], _timed(officer), gap_s=gap_s), Source.OFFICER_ONLY
        else:
            turns, source = [], Source.NONE
    voicemail_turns: list[Turn] = []
    if VOICEMAIL in legs:
        reports[VOICEMAIL] = voicemail = run(VOICEMAIL)
        voicemail_turns = merge_turns(_timed(voicemail), [], gap_s=gap_s)
    languages = [r.transcript.language for r in reports.values() if r.transcript and r.transcript.words]
    return CallTranscript(
        turns=tuple(turns),
        source=source,
        legs=reports,
        engine=engine.name,
        language=max(set(languages), key=languages.count) if languages else "",
        voicemail_turns=tuple(voicemail_turns),
    )


def _transcribe_leg(
    engine: SpeechEngine, leg: str, path: Path | None, silence_dbfs: float, normalize: bool
) -> LegReport:
    if path is None:
        return LegReport(leg, None, LegStatus.MISSING, "no file given for this leg")
    started = time.perf_counter()
    try:
        audio = load_pcm(path, sample_rate=engine.sample_rate, normalize=normalize)
    except AudioError as exc:
        return LegReport(leg, path, _FROM_AUDIO_ERROR.get(exc.kind, LegStatus.UNREADABLE), exc.reason)
    converted = time.perf_counter()
    level = audio.dbfs() - audio.gain_db
    report = LegReport(
        leg,
        path,
        LegStatus.SILENT,
        duration_s=audio.duration_s,
        dbfs=round(level, 1) if math.isfinite(level) else None,
        notes=audio.source.notes if audio.source else (),
        convert_s=converted - started,
    )
    if level < silence_dbfs:
        return replace(report, reason=f"level {level:.1f} dBFS is below {silence_dbfs:.0f} dBFS")
    try:
        transcript = engine.transcribe(audio.pcm, audio.sample_rate)
    except Exception as exc:  # an engine is foreign code: whatever it raises is this leg's failure
        failed = f"{type(exc).__name__}: {exc}"
        return replace(report, status=LegStatus.ENGINE_FAILED, reason=failed, transcribe_s=_since(converted))
    return replace(
        report, status=LegStatus.TRANSCRIBED, transcript=transcript, transcribe_s=_since(converted)
    )


def _since(start: float) -> float:
    return time.perf_counter() - start


def _timed(report: LegReport) -> list[TimedWord]:
    if report.transcript is None:
        return []
    return [_timed_word(w) for w in report.transcript.words]


def _timed_word(word: Word) -> TimedWord:
    start = max(word.start_s, 0.0)
    return TimedWord(word.text, start, max(word.end_s, start), word.confidence)


__all__ = [
    "CALLER",
    "MIX",
    "OFFICER",
    "VOICEMAIL",
    "CallTranscript",
    "LegReport",
    "LegStatus",
    "Source",
    "Speaker",
    "legs_for_recording",
    "transcribe_call",
]
