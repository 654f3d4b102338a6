"""FastAGI throughput: N concurrent simulated calls through the real server and database, against a bare
asyncio AGI server doing the same exchange without our code, both measured in this run.

    .venv/bin/python bench/agi_throughput.py [--calls 100] [--rounds 3] [--burst 1000] [--database URL]

A call = the route_call session + the call_ended session, driven by the same Asterisk-side peer
(callcenter.asterisk.emulator) for both servers. Prints sessions/s, p50 and p99 of a call's two
sessions, and the ratio ours/baseline. Targets (issue #2): ratio >= 0.5, p99 <= 50 ms on SQLite, and a
1,000-call burst ending with 1,000 tickets and 0 errors. Figures, not assertions: machines here are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from callcenter.app import App, build_app, prepare_database  # noqa: E402
from callcenter.asterisk import variables as v  # noqa: E402
from callcenter.asterisk.emulator import CALL_ENDED_HEADER, AsteriskPeer  # noqa: E402
from callcenter.asterisk.protocol import HeaderParser  # noqa: E402
from callcenter.asterisk.server import FastAgiServer  # noqa: E402
from callcenter.asterisk.simulate import SimulatedCall, simulate_call  # noqa: E402
from callcenter.logging import configure_logging  # noqa: E402
from callcenter.services.tickets import TicketQueries  # noqa: E402
from callcenter.settings import load_settings  # noqa: E402


def _call(i: int) -> SimulatedCall:
    # Half the callers dial a facility's own number, half go through the switchboard and type a code.
    if i % 2:
        return SimulatedCall(uniqueid=f"1795380439.{i}", dialled="0968115115", outcomes=("busy", "answer"))
    return SimulatedCall(uniqueid=f"1795380439.{i}", digits="1002", outcomes=("answer",))


class BareServer:
    """The same AGI exchange with no service behind it: read the header, send the commands our handlers
    would send (taken from a real run), read each reply, close."""

    def __init__(self, route_commands: list[str], ended_commands: list[str]) -> None:
        self._scripts = {v.ROUTE_CALL: route_commands, v.CALL_ENDED: ended_commands}
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


async def _run_calls(port: int, calls: list[SimulatedCall]) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0

    async def one(call: SimulatedCall) -> None:
        nonlocal errors
        t0 = time.perf_counter()
        try:
            result = await simulate_call("127.0.0.1", port, call)
            if not result.routed or not result.ended.server_closed:
                errors += 1
        except Exception:
            errors += 1
        latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(c) for c in calls))
    return time.perf_counter() - t0, latencies, errors


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _fresh_app(database: str | None, workdir: Path, tag: str) -> App:
    url = database or f"sqlite+aiosqlite:///{workdir / f'bench-{tag}.db'}"
    settings = load_settings(
        REPO / "config" / "callcenter.toml",
        database={"url": url},
        sample_dir=str(REPO / "config" / "sample"),
        load_sample_data=True,
    )
    app = build_app(settings)
    await prepare_database(app, datetime.now(UTC))
    return app


async def _with_server(
    app: App, fn: Callable[[int], Awaitable[tuple[float, list[float], int]]]
) -> tuple[float, list[float], int]:
    server = FastAgiServer(app.handlers, host="127.0.0.1", port=0, max_sessions=200, slot_wait=30.0)
    await server.start()
    try:
        return await fn(server.port)
    finally:
        await server.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--burst", type=int, default=1000)
    ap.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    args = ap.parse_args()
    configure_logging("console", "warning")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        app = await _fresh_app(args.database, workdir, "main")
        # One real call gives the exact command lists the bare server replays.
        sample = await _with_server(app, lambda port: _run_calls(port, [_call(0)]))
        assert sample[2] == 0, "the warm-up call failed"
        route_cmds, ended_cmds = await _commands(app)

        bare = BareServer(route_cmds, ended_cmds)
        bare_port = await bare.start()
        ours_rates, bare_rates, ours_lat, bare_lat, errors = [], [], [], [], 0
        for r in range(args.rounds):
            calls = [_call(r * args.calls + i + 1) for i in range(args.calls)]
            b_elapsed, b_lat, b_err = await _run_calls(bare_port, calls)
            o_elapsed, o_lat, o_err = await _with_server(app, lambda port, c=calls: _run_calls(port, c))
            bare_rates.append(2 * len(calls) / b_elapsed)
            ours_rates.append(2 * len(calls) / o_elapsed)
            bare_lat += b_lat
            ours_lat += o_lat
            errors += o_err + b_err
        await bare.close()
        await app.close()

        ours, base = statistics.median(ours_rates), statistics.median(bare_rates)
        db = "sqlite" if args.database is None else args.database.split(":", 1)[0]
        print(f"database: {db}; {args.calls} concurrent calls x {args.rounds} rounds (2 sessions a call)")
        print(
            f"baseline (bare asyncio AGI): {base:8.1f} sessions/s  p50 {_pct(bare_lat, 0.5):6.1f} ms  "
            f"p99 {_pct(bare_lat, 0.99):6.1f} ms"
        )
        print(
            f"callcenter (server + db):    {ours:8.1f} sessions/s  p50 {_pct(ours_lat, 0.5):6.1f} ms  "
            f"p99 {_pct(ours_lat, 0.99):6.1f} ms"
        )
        print(f"ratio ours/baseline: {ours / base:.2f}  (target >= 0.5)   errors: {errors}")

        if args.burst:
            burst_app = await _fresh_app(args.database, workdir, "burst")
            calls = [_call(10_000_000 + i) for i in range(args.burst)]
            before = await TicketQueries(burst_app.uow).count()
            elapsed, lat, err = await _with_server(burst_app, lambda port: _run_calls(port, calls))
            made = await TicketQueries(burst_app.uow).count() - before
            await burst_app.close()
            print(
                f"burst: {args.burst} calls at once in {elapsed:.1f} s -> {made} tickets, {err} errors, "
                f"p99 {_pct(lat, 0.99):.0f} ms"
            )


async def _commands(app: App) -> tuple[list[str], list[str]]:
    # Replaying our own handler's command lines, read back through the emulator, keeps both servers'
    # exchanges identical in count and size.
    from callcenter.asterisk.simulate import dialplan_after_route

    route_cmds: list[str] = []
    ended_cmds: list[str] = []
    server = FastAgiServer(app.handlers, host="127.0.0.1", port=0)
    await server.start()
    try:
        call = _call(999_999_999)
        res = await simulate_call("127.0.0.1", server.port, call)
        route_cmds = res.route.commands
        ended = await AsteriskPeer(
            {**CALL_ENDED_HEADER, "uniqueid": "bench-probe"},
            variables={**res.route.variables, **dialplan_after_route(res.route.variables, call)},
        ).run("127.0.0.1", server.port)
        ended_cmds = ended.commands
    finally:
        await server.close()
    return route_cmds, ended_cmds


if __name__ == "__main__":
    asyncio.run(main())
