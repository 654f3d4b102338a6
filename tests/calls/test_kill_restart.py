"""The real process is killed (SIGKILL) right after route_call; the ticket survives, and call_ended
sent to the restarted service completes it."""

from __future__ import annotations

import asyncio
import socket
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
from tests.fakes.processes import CallcenterProcess, free_port


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
port = {free_port()}
[http]
port = {free_port()}
[recordings]
dir = "{tmp_path}"
[logging]
format = "json"
""",
        encoding="utf-8",
    )
    return path


class Service(CallcenterProcess):
    """`callcenter serve`; started once its FastAGI port answers."""

    def __init__(self, config: Path, log: Path) -> None:
        super().__init__("service", config, ["serve"], log)
        self.settings = load_settings(config)

    def start(self) -> None:
        super().start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                socket.create_connection(("127.0.0.1", self.settings.agi.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"service did not start:\n{self.tail()}")


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
