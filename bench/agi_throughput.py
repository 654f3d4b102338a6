"""FastAGI throughput and latency: simulated calls through the real server and database, beside a bare
asyncio AGI server doing the same exchange without our code, both measured in the same run.

    .venv/bin/python bench/agi_throughput.py [--levels 1,10,100] [--calls 300] [--burst 1000]
                                             [--database URL]

A call = the route_call session + the call_ended session, played by the same Asterisk-side peer
(callcenter.asterisk.emulator, built from the captures) for both servers. The peer runs in a separate
process so that it does not share the server's core. At each concurrency level C, C callers place calls
back to back until --calls calls are done. Prints sessions/s, a call's p50/p99 (both its sessions), and
the ratio ours/baseline. Then a burst of --burst calls placed at once: tickets made and errors.
Figures, not assertions: machines here are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import multiprocessing
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


@dataclass
class Run:
    elapsed: float
    latencies: list[float]
    errors: int
    calls: int
    kinds: dict[str, int]

    @property
    def sessions_per_s(self) -> float:
        return 2 * self.calls / self.elapsed

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# --- the Asterisk side, in its own process ---------------------------------------------------------


async def _drive(port: int, first: int, count: int, concurrency: int) -> Run:
    latencies: list[float] = []
    kinds: dict[str, int] = {}
    queue = iter(range(first, first + count))

    def failed(kind: str) -> None:
        kinds[kind] = kinds.get(kind, 0) + 1

    async def caller() -> None:
        for i in queue:
            t0 = time.perf_counter()
            try:
                result = await simulate_call("127.0.0.1", port, make_call(i), idle_timeout=300)
                if not result.routed:
                    failed("no route: " + result.route.variables.get(v.AGI_FAILURE, "?"))
                elif not result.ended.server_closed:
                    failed("call_ended not closed by the server")
            except Exception as exc:
                failed(type(exc).__name__)
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return Run(time.perf_counter() - t0, latencies, sum(kinds.values()), count, kinds)


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


async def fresh_app(database: str | None, workdir: Path, tag: str) -> App:
    url = database or f"sqlite+aiosqlite:///{workdir / f'bench-{tag}.db'}"
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


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--levels", default="1,10,100", help="concurrent callers, comma-separated")
    ap.add_argument("--calls", type=int, default=300, help="calls per level (at least 50 at level 1)")
    ap.add_argument("--burst", type=int, default=1000)
    ap.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    args = ap.parse_args()
    configure_logging("console", "error")
    loop = asyncio.get_running_loop()
    pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    db = args.database.split("@")[-1] if args.database else "sqlite (aiosqlite, WAL, synchronous=FULL)"
    print(f"database: {db}; Asterisk side in a separate process; a call = route_call + call_ended")
    print(
        f"{'callers':>7} | {'baseline s/s':>12} {'p50 ms':>7} {'p99 ms':>7} | {'ours s/s':>8} "
        f"{'p50 ms':>7} {'p99 ms':>7} | {'ratio':>5} | errors"
    )

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        app = await fresh_app(args.database, workdir, "main")
        bare = BareServer(await recorded_scripts(app))
        bare_port = await bare.start()
        ours = FastAgiServer(app.handlers, host="127.0.0.1", port=0, max_sessions=1000, slot_wait=30.0)
        await ours.start()
        first = 1
        for level in (int(x) for x in args.levels.split(",")):
            count = max(args.calls if level > 1 else min(args.calls, 100), level)
            b = await loop.run_in_executor(pool, drive, bare_port, first, count, level)
            first += count
            o = await loop.run_in_executor(pool, drive, ours.port, first, count, level)
            first += count
            print(
                f"{level:>7} | {b.sessions_per_s:>12.1f} {b.pct(0.5):>7.1f} {b.pct(0.99):>7.1f} | "
                f"{o.sessions_per_s:>8.1f} {o.pct(0.5):>7.1f} {o.pct(0.99):>7.1f} | "
                f"{o.sessions_per_s / b.sessions_per_s:>5.2f} | {o.errors + b.errors}"
            )
        await ours.close()
        await bare.close()
        await app.close()

        if args.burst:
            app = await fresh_app(args.database, workdir, "burst")
            server = FastAgiServer(app.handlers, host="127.0.0.1", port=0, max_sessions=1000, slot_wait=30.0)
            await server.start()
            before = await TicketQueries(app.uow).count()
            run = await loop.run_in_executor(pool, drive, server.port, 10_000_000, args.burst, args.burst)
            made = await TicketQueries(app.uow).count() - before
            await server.close()
            await app.close()
            print(
                f"burst: {args.burst} calls placed at once -> {made} tickets, {run.errors} errors, "
                f"all done in {run.elapsed:.1f} s, a call's p99 {run.pct(0.99):.0f} ms"
            )
    pool.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
