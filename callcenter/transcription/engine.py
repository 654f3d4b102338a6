"""What a speech engine is to the rest of the service: PCM in, timed words out.

Engines are synchronous and may take seconds per minute of audio; workers run them in a thread or a
process of their own. An engine instance may be shared by threads: it keeps no per-call state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start_s: float  # from the start of the audio given to the engine
    end_s: float
    confidence: float  # 0..1, as the engine reports it (Vosk: posterior; Whisper: token probability)


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    words: tuple[Word, ...]
    language: str  # what the engine recognised in ("vi"), or its model's language
    engine: str


class SpeechEngine(Protocol):
    name: str
    sample_rate: int  # the rate it wants; others are accepted and resampled explicitly

    def transcribe(self, pcm: bytes, sample_rate: int) -> Transcript:
        """Mono signed 16-bit little-endian PCM at sample_rate. Raises EngineError on failure."""
        ...


class EngineError(Exception):
    """The engine could not run: its model is missing or broken, or it failed on this audio."""


class ModelLayoutError(EngineError):
    """A model directory that lacks files the engine needs. `missing` names them, relative to `path`."""

    def __init__(
        self, engine: str, path: str, missing: tuple[str, ...], hint: str = "", *, message: str = ""
    ) -> None:
        self.engine = engine
        self.path = path
        self.missing = missing
        message = message or f"{engine} model at {path} is incomplete: missing {', '.join(missing)}"
        super().__init__(f"{message}. {hint}" if hint else message)
