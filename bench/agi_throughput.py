"""FastAGI throughput and latency: simulated calls through the real server and database, beside a bare
asyncio AGI server doing the same exchange without our code, both measured in the same run.

    .venv/bin/python bench/agi_throughput.py [--levels 1,10,100] [--calls 300] [--burst 1000]
                                             [--databases sqlite,postgresql] [--profile N]

A call = the route_call session + the call_ended session, played by the same Asterisk-side peer
(callcenter.asterisk.emulator, built from the captures) for both servers. The peer runs in a separate
process so that it does not share the server's core. At each concurrency level C, C callers place calls
back to back until --calls calls are done. Prints, per database and level: sessions/s of ours and of the
bare server and their ratio, the route_call session's p50/p99 (what the caller waits for the first ring),
a whole call's p99, and the peak RSS of the process serving them. Then a burst of --burst calls placed at
once: tickets made and errors. `postgresql` is a fresh database made on 127.0.0.1 and dropped after;
any other value is a database URL. --profile N: cProfile of our server over the run, top N lines.
Figures, not assertions: machines here are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import cProfile
import io
import multiprocessing
import os
import pstats
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from callcenter.app import App, build_app, prepare_database  # noqa: E402
from callcenter.asterisk import variables as v  # noqa: E402
from callcenter.asterisk.protocol import HeaderParser  # noqa: E402
from callcenter.asterisk.server import FastAgiServer  # noqa: E402
from callcenter.asterisk.simulate import SimulatedCall, simulate_call  # noqa: E402
from callcenter.logging import configure_logging  # noqa: E402
from callcenter.services.tickets import TicketQueries  # noqa: E402
from callcenter.settings import load_settings  # noqa: E402


def make_call(i: int) -> SimulatedCall:
    # Half the callers dial a facility's own number; half go through the switchboard and type a code.
    if i % 2:
        return SimulatedCall(uniqueid=f"1795380439.{i}", dialled="0968115115", outcomes=("busy", "answer"))
    return SimulatedCall(uniqueid=f"1795380439.{i}", digits="1002", outcomes=("answer",))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


@dataclass
class Run:
    elapsed: float
    latencies: list[float]  # whole calls
    route_latencies: list[float]  # their route_call sessions
    errors: int
    calls: int
    kinds: dict[str, int]

    @property
    def sessions_per_s(self) -> float:
        return 2 * self.calls / self.elapsed

    def pct(self, q: float) -> float:
        return _pct(self.latencies, q)

    @staticmethod
    def merge(runs: list[Run]) -> Run:
        """The rounds of one server as one run: their median rate, every latency."""
        by_rate = sorted(runs, key=lambda r: r.sessions_per_s)
        mid = by_rate[len(by_rate) // 2]
        kinds: dict[str, int] = {}
        for r in runs:
            for k, n in r.kinds.items():
                kinds[k] = kinds.get(k, 0) + n
        return Run(
            mid.elapsed,
            [x for r in runs for x in r.latencies],
            [x for r in runs for x in r.route_latencies],
            sum(r.errors for r in runs),
            mid.calls,
            kinds,
        )

    def route_pct(self, q: float) -> float:
        return _pct(self.route_latencies, q)


# --- the Asterisk side, in its own process ---------------------------------------------------------


async def _drive(port: int, first: int, count: int, concurrency: int) -> Run:
    latencies: list[float] = []
    route_latencies: list[float] = []
    kinds: dict[str, int] = {}
    queue = iter(range(first, first + count))

    def failed(kind: str) -> None:
        kinds[kind] = kinds.get(kind, 0) + 1

    async def caller() -> None:
        for i in queue:
            t0 = time.perf_counter()
            try:
                result = await simulate_call("127.0.0.1", port, make_call(i), idle_timeout=300)
                route_latencies.append(result.route_seconds)
                if not result.routed:
                    failed("no route: " + result.route.variables.get(v.AGI_FAILURE, "?"))
                elif not result.ended.server_closed:
                    failed("call_ended not closed by the server")
            except Exception as exc:
                failed(type(exc).__name__)
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return Run(time.perf_counter() - t0, latencies, route_latencies, sum(kinds.values()), count, kinds)


def drive(port: int, first: int, count: int, concurrency: int) -> Run:
    configure_logging("console", "error")
    return asyncio.run(_drive(port, first, count, concurrency))


# --- the servers -----------------------------------------------------------------------------------


class BareServer:
    """The same AGI exchange with no service behind it: read the header, send the commands our handlers
    send (recorded from a real call), read each reply, close as our server does."""

    def __init__(self, scripts: dict[str, list[str]]) -> None:
        self._scripts = scripts
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = HeaderParser()
        header = None
        while header is None:
            chunk = await reader.read(4096)
            if not chunk:
                writer.close()
                return
            header = parser.feed(chunk)
        for command in self._scripts[header.script]:
            writer.write(command.encode() + b"\n")
            await writer.drain()
            while (await reader.readline()).startswith(b"HANGUP"):
                pass
        writer.write_eof()
        await reader.read()
        writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class PeakRss:
    """The process's resident memory, sampled while a run goes (VmRSS; VmHWM would keep the warm-up's)."""

    def __init__(self) -> None:
        self.peak_mib = 0.0
        self._task: asyncio.Task[None] | None = None

    @staticmethod
    def now_mib() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    async def _sample(self) -> None:
        while True:
            self.peak_mib = max(self.peak_mib, self.now_mib())
            await asyncio.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self.peak_mib = self.now_mib()
        self._task = asyncio.get_running_loop().create_task(self._sample())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.asynccontextmanager
async def database_url(spec: str, workdir: Path, tag: str):  # type: ignore[no-untyped-def]
    """A URL for one run: a fresh SQLite file, a fresh PostgreSQL database (dropped after), or `spec`."""
    if spec == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / f'bench-{tag}.db'}"
    elif spec == "postgresql":
        import asyncpg  # the PostgreSQL driver the service uses

        name = f"bench_agi_{os.getpid()}_{tag}"
        admin = await asyncpg.connect(PG_ADMIN)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    else:
        yield spec


def label(spec: str) -> str:
    if spec == "sqlite":
        return "sqlite"
    if spec == "postgresql":
        return "postgresql"
    return spec.split("@")[-1]


async def fresh_app(url: str, workdir: Path, tag: str) -> App:
    settings = load_settings(
        REPO / "config" / "callcenter.toml",
        database={"url": url},
        sample_dir=str(REPO / "config" / "sample"),
        journal_dir=str(workdir / f"journal-{tag}"),
        load_sample_data=True,
    )
    app = build_app(settings)
    await prepare_database(app, datetime.now(UTC))
    return app


async def recorded_scripts(app: App) -> dict[str, list[str]]:
    """The command lines our handlers send for one call, so the bare server sends the same."""
    server = FastAgiServer(app.handlers, host="127.0.0.1", port=0)
    await server.start()
    try:
        result = await simulate_call("127.0.0.1", server.port, make_call(0))
    finally:
        await server.close()
    assert result.routed, "the warm-up call was not routed"
    return {v.ROUTE_CALL: result.route.commands, v.CALL_ENDED: result.ended.commands}


async def bench_database(
    spec: str,
    args: argparse.Namespace,
    workdir: Path,
    pool: concurrent.futures.Executor,
    profile: cProfile.Profile | None,
) -> None:
    loop = asyncio.get_running_loop()
    async with database_url(spec, workdir, "main") as url:
        app = await fresh_app(url, workdir, "main")
        bare = BareServer(await recorded_scripts(app))
        bare_port = await bare.start()
        ours = FastAgiServer(app.handlers, host="127.0.0.1", port=0, max_sessions=1000, slot_wait=30.0)
        await ours.start()
        first = 1
        for level in (int(x) for x in args.levels.split(",")):
            count = max(args.calls if level > 1 else min(args.calls, 100), level)
            bares: list[Run] = []
            ourss: list[Run] = []
            with PeakRss() as rss:
                # Rounds alternate, so a slow spell of the machine falls on both servers alike.
                for _ in range(args.rounds):
                    bares.append(await loop.run_in_executor(pool, drive, bare_port, first, count, level))
                    first += count
                    if profile is not None:
                        profile.enable()
                    ourss.append(await loop.run_in_executor(pool, drive, ours.port, first, count, level))
                    if profile is not None:
                        profile.disable()
                    first += count
            b, o = Run.merge(bares), Run.merge(ourss)
            print(
                f"{label(spec):>10} {level:>7} | {o.sessions_per_s:>8.1f} {b.sessions_per_s:>8.1f} "
                f"{o.sessions_per_s / b.sessions_per_s:>5.2f} | {o.route_pct(0.5):>7.1f} "
                f"{o.route_pct(0.99):>7.1f} {b.route_pct(0.99):>7.1f} | {o.pct(0.99):>8.1f} | "
                f"{rss.peak_mib:>7.0f} | {o.errors + b.errors}" + (f" {o.kinds}" if o.kinds else ""),
                flush=True,
            )
        await ours.close()
        await bare.close()
        await app.close()

    if args.burst:
        async with database_url(spec, workdir, "burst") as url:
            app = await fresh_app(url, workdir, "burst")
            server = FastAgiServer(app.handlers, host="127.0.0.1", port=0, max_sessions=1000, slot_wait=30.0)
            await server.start()
            before = await TicketQueries(app.uow).count()
            with PeakRss() as rss:
                run = await loop.run_in_executor(pool, drive, server.port, 10_000_000, args.burst, args.burst)
            made = await TicketQueries(app.uow).count() - before
            await server.close()
            await app.close()
        print(
            f"{label(spec):>10} burst: {args.burst} calls placed at once -> {made} tickets, {run.errors} "
            f"errors, all done in {run.elapsed:.1f} s, route_call p99 {run.route_pct(0.99):.0f} ms, "
            f"a call's p99 {run.pct(0.99):.0f} ms, peak RSS {rss.peak_mib:.0f} MiB",
            flush=True,
        )


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--levels", default="1,10,100", help="concurrent callers, comma-separated")
    ap.add_argument("--calls", type=int, default=300, help="calls per level (at most 100 at level 1)")
    ap.add_argument("--burst", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per level (median rate)")
    ap.add_argument(
        "--databases", default="sqlite,postgresql", help="sqlite, postgresql (a fresh one) or URLs"
    )
    ap.add_argument("--profile", type=int, default=0, help="print cProfile's top N lines of our server")
    args = ap.parse_args()
    configure_logging("console", "error")
    pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    print("sqlite: aiosqlite, WAL, synchronous=FULL; postgresql: asyncpg, synchronous_commit=on")
    print("Asterisk side in a separate process; a call = route_call + call_ended; s/s = AGI sessions/s")
    print(
        f"{'database':>10} {'callers':>7} | {'ours s/s':>8} {'bare s/s':>8} {'ratio':>5} | "
        f"{'route_call p50 p99 ms':>23} (bare p99) | {'call p99':>8} | {'RSS MiB':>7} | errors"
    )
    profile = cProfile.Profile() if args.profile else None
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.databases.split(","):
            await bench_database(spec.strip(), args, Path(tmp), pool, profile)
    pool.shutdown()
    if profile is not None:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.profile)
        print(out.getvalue())


if __name__ == "__main__":
    asyncio.run(main())
