"""The speech pipeline behind the services' `Transcriber` port, and the engine chosen by the settings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from callcenter.services.ports import TranscriptionResult
from callcenter.transcription.engine import SpeechEngine
from callcenter.transcription.pipeline import CALLER, MIX, OFFICER, VOICEMAIL, LegStatus, transcribe_call
from callcenter.transcription.vosk_engine import VoskEngine, check_vosk_layout
from callcenter.transcription.whisper_engine import WhisperEngine, check_whisper_layout

# The services name recordings by what they hold; the pipeline by MixMonitor's leg names.
_LEGS = {"caller": CALLER, "officer": OFFICER, "mix": MIX, "voicemail": VOICEMAIL}
_KINDS = {leg: kind for kind, leg in _LEGS.items()}
_FINE = {LegStatus.TRANSCRIBED, LegStatus.NOT_NEEDED, LegStatus.SILENT}


class PipelineTranscriber:
    def __init__(self, engine: SpeechEngine) -> None:
        self._engine = engine

    @property
    def engine_name(self) -> str:
        return self._engine.name

    def load(self) -> None:
        """Load the engine's model now (blocking: seconds for Vosk's, more for Whisper's)."""
        load = getattr(self._engine, "load", None)
        if load is not None:
            load()

    def transcribe(self, recordings: Mapping[str, Path]) -> TranscriptionResult:
        legs = {
            _LEGS[kind]: path
            for kind, path in recordings.items()
            # A call without a voicemail has no such file: that is not a problem to report.
            if kind in _LEGS and (kind != "voicemail" or path.exists())
        }
        call = transcribe_call(self._engine, legs)
        problems = {
            _KINDS.get(leg, leg): f"{report.status.value}: {report.reason}"
            for leg, report in call.legs.items()
            if report.status not in _FINE
        }
        return TranscriptionResult(
            turns=call.turns,
            voicemail_turns=call.voicemail_turns,
            source=call.source.value,
            engine=call.engine,
            language=call.language,
            problems=problems,
        )


def make_engine(kind: str, model_path: Path, language: str = "vi") -> SpeechEngine:
    """The engine of the settings; construction does no I/O (models load in the worker, once)."""
    if kind == "vosk":
        return VoskEngine(model_path, language=language)
    if kind == "whisper":
        return WhisperEngine(model_path, language=language)
    raise ValueError(f"unknown transcription engine {kind!r}")


def check_model(kind: str, model_path: Path) -> str | None:
    """None when the model directory is usable, else why not (said at start-up, not at the first call)."""
    try:
        (check_vosk_layout if kind == "vosk" else check_whisper_layout)(model_path)
    except Exception as exc:
        return str(exc)
    return None
