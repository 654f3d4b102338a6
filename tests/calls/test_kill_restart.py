"""The real process is killed (SIGKILL) right after route_call; the ticket survives, and call_ended
sent to the restarted service completes it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callcenter.app import build_app
from callcenter.asterisk import variables as v
from callcenter.asterisk.emulator import CALL_ENDED_HEADER, ROUTE_CALL_HEADER, AsteriskPeer, Press
from callcenter.asterisk.simulate import SimulatedCall, dialplan_after_route
from callcenter.services.tickets import TicketQueries
from callcenter.settings import load_settings
from tests.conftest import REPO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "callcenter.toml"
    path.write_text(
        f"""
load_sample_data = true
sample_dir = "{REPO / "config" / "sample"}"
journal_dir = "{tmp_path / "journal"}"
[database]
url = "sqlite+aiosqlite:///{tmp_path / "kill.db"}"
[agi]
port = {_free_port()}
[http]
port = {_free_port()}
[recordings]
dir = "{tmp_path}"
[logging]
format = "json"
""",
        encoding="utf-8",
    )
    return path


class Service:
    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.settings = load_settings(config)
        self._log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: val for k, val in os.environ.items() if not k.startswith("CALLCENTER_")}
        with self._log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from callcenter.cli import main; raise SystemExit(main())",
                    "--config",
                    str(self.config),
                    "serve",
                ],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self._log.read_text()
            try:
                socket.create_connection(("127.0.0.1", self.settings.agi.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"service did not start:\n{self._log.read_text()}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = Service(_config(tmp_path), tmp_path / "service.log")
    try:
        yield svc
    finally:
        svc.stop()


async def _tickets(service: Service) -> list[tuple[str | None, str | None]]:
    app = build_app(service.settings)
    try:
        return [(t.call_state, t.answered_tier) for t in await TicketQueries(app.uow).latest()]
    finally:
        await app.close()


async def test_kill_after_route_call_then_call_ended_on_restart(service: Service) -> None:
    service.start()
    port = service.settings.agi.port
    header = {**ROUTE_CALL_HEADER, "uniqueid": "1795380439.77"}
    route = await AsteriskPeer(header, digits=[Press("1001")]).run("127.0.0.1", port)
    assert route.variables[v.ROUTE_OK] == "1"

    service.kill()  # SIGKILL: no shutdown code runs
    assert await _tickets(service) == [("routed", None)]

    service.start()
    call = SimulatedCall(uniqueid="1795380439.77", outcomes=("noanswer", "answer"))
    ended = await AsteriskPeer(
        {**CALL_ENDED_HEADER, "uniqueid": "1795380439.77"},
        variables={**route.variables, **dialplan_after_route(route.variables, call)},
    ).run("127.0.0.1", port)
    assert ended.server_closed
    await asyncio.sleep(0)
    assert await _tickets(service) == [("answered", "backup")]
