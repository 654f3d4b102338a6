"""/metrics (Prometheus text) and /readyz, through the app's real wiring (`build_web`), with calls played
over real FastAGI (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from callcenter.app import App, SpeechModelState, _warm_up, build_web, start_workers
from callcenter.asterisk.emulator import ROUTE_CALL_HEADER, AsteriskPeer
from callcenter.asterisk.server import FastAgiServer
from callcenter.asterisk.simulate import SimulatedCall, simulate_call
from callcenter.asterisk.variables import AGI_FAILURE
from tests.conftest import FakeClock

CALLER = "0912345678"


@pytest.fixture
async def client(sample_app: App) -> AsyncIterator[TestClient[object, object]]:
    async with TestClient(TestServer(build_web(sample_app))) as c:
        yield c


async def _scrape(
    client: TestClient[object, object],
) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    body = await response.text()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    return body, samples


async def test_calls_over_fastagi_show_in_the_metrics_without_a_phone_number(
    sample_app: App, client: TestClient[object, object], clock: FakeClock
) -> None:
    server = FastAgiServer(sample_app.handlers, host="127.0.0.1", port=0, metrics=sample_app.metrics)
    await server.start()
    try:
        answered = SimulatedCall(
            uniqueid="1795380439.1", caller=CALLER, dialled="0968115115", outcomes=("busy", "answer")
        )
        keypad = SimulatedCall(uniqueid="1795380439.2", caller=CALLER, digits="1002", outcomes=("cancel",))
        for call in (answered, keypad):
            assert (await simulate_call("127.0.0.1", server.port, call)).routed
        # a script nobody serves: a failure, and one label value however many such names are sent
        for name in ("no_such_thing", "nor_this"):
            peer = AsteriskPeer({**ROUTE_CALL_HEADER, "network_script": name})
            assert (await peer.run("127.0.0.1", server.port)).variables == {AGI_FAILURE: "unknown_script"}
    finally:
        await server.close()

    body, m = await _scrape(client)
    assert m[("callcenter_calls_received_total", (("facility", "BVDK-TH"),))] == 1
    # the switchboard's call is received before its code is typed; it ends as the facility's
    assert m[("callcenter_calls_received_total", (("facility", "none"),))] == 1
    assert m[("callcenter_calls_ended_total", (("facility", "BVDK-TH"), ("state", "answered")))] == 1
    assert m[("callcenter_calls_ended_total", (("facility", "BVNHI-TH"), ("state", "abandoned")))] == 1
    assert m[("callcenter_route_call_seconds_count", (("step", "receive"),))] == 2
    assert m[("callcenter_route_call_seconds_count", (("step", "route"),))] == 1  # the keypad call's chain
    assert m[("callcenter_agi_sessions_in_flight", (("script", "route_call"),))] == 0
    assert m[("callcenter_agi_session_seconds_count", (("script", "call_ended"),))] == 2
    assert m[("callcenter_agi_failures_total", (("reason", "unknown_script"),))] == 2
    assert m[("callcenter_agi_sessions_in_flight", (("script", "unknown"),))] == 0
    assert m[("callcenter_journal_pending", ())] == 0
    assert m[("callcenter_transcription_jobs", (("status", "queued"),))] == 2  # one per recorded call
    # the caller's number, or any phone number, never in a label or anywhere in the page
    assert CALLER not in body and re.search(r"(?<!\d)0\d{9}(?!\d)", body) is None

    _, again = await _scrape(client)
    assert again[("callcenter_http_requests_total", (("route", "metrics"), ("status", "200")))] == 1


async def test_the_journal_shows_a_call_end_the_database_did_not_take(
    sample_app: App, client: TestClient[object, object]
) -> None:
    await sample_app.journal.append("call_ended", {"test": True})
    _, m = await _scrape(client)
    assert m[("callcenter_journal_pending", ())] == 1


async def test_ready_when_everything_is_in_place_and_says_what_is_not(
    sample_app: App, client: TestClient[object, object]
) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "recordings": "ok"},
    }

    recordings = Path(sample_app.settings.recordings.dir)
    shutil.rmtree(recordings)  # a lost mount, a deleted directory
    async with sample_app.engine.begin() as conn:
        head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        await conn.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    try:
        response = await client.get("/readyz")
        body = await response.json()
    finally:  # the PostgreSQL test database outlives this test: give it its revision back
        async with sample_app.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert response.status == 503
    assert body["status"] == "error" and body["checks"]["database"] == "ok"
    assert body["checks"]["recordings"].startswith(f"cannot write in {recordings}")
    assert (
        "database at 0006" in body["checks"]["migrations"]
        and "callcenter db upgrade" in body["checks"]["migrations"]
    )
    assert (await client.get("/healthz")).status == 200  # alive all the same: not a reason to restart it


class _Model:
    def __init__(self, problem: Exception | None = None) -> None:
        self._problem = problem

    async def warm_up(self) -> None:
        if self._problem is not None:
            raise self._problem


async def test_ready_only_once_the_workers_speech_model_is_loaded(
    sample_app: App, client: TestClient[object, object]
) -> None:
    sample_app.speech.expected = True  # serve started transcription workers in this process
    response = await client.get("/readyz")
    assert response.status == 503 and (await response.json())["checks"]["speech_model"] == "loading"
    await _warm_up(sample_app, _Model())  # type: ignore[arg-type]
    response = await client.get("/readyz")
    assert (await response.json())["checks"]["speech_model"] == "ok", await response.json()
    assert response.status == 200

    sample_app.speech = SpeechModelState(expected=True)
    await _warm_up(sample_app, _Model(RuntimeError("Vosk could not load the model")))  # type: ignore[arg-type]
    body = await (await client.get("/readyz")).json()
    assert body["checks"]["speech_model"] == "RuntimeError: Vosk could not load the model"


async def test_an_unusable_model_directory_is_the_reason_given(
    sample_app: App, client: TestClient[object, object]
) -> None:
    stop = asyncio.Event()
    assert start_workers(sample_app, stop, 2) == []  # models/vosk-model-small-vn-0.4 is not installed here
    body = await (await client.get("/readyz")).json()
    assert body["status"] == "error"
    assert "vosk-model-small-vn-0.4" in body["checks"]["speech_model"]
