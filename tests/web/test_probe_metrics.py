"""callcenter_probes_total{facility, outcome} in /metrics (issue 10 "probes by outcome"), read from the
database at each scrape through the app's real wiring, with no phone number in it (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from callcenter.app import App, build_web
from callcenter.domain.outbound import Outcome
from tests.conftest import FakeClock
from tests.fakes.probes import add_probe


async def _probes(client: TestClient[object, object]) -> tuple[str, dict[tuple[str, str], float]]:
    body = await (await client.get("/metrics")).text()
    return body, {
        (s.labels["facility"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == "callcenter_probes_total"
    }


async def test_probes_by_facility_and_outcome_are_read_at_each_scrape(
    sample_app: App, clock: FakeClock
) -> None:
    async with TestClient(TestServer(build_web(sample_app))) as client:
        body, before = await _probes(client)
        assert before == {} and "# TYPE callcenter_probes_total counter" in body
        now = clock()
        await add_probe(sample_app, "BVNHI-TH", now - timedelta(hours=3), Outcome.HUMAN, 4000)
        await add_probe(sample_app, "BVNHI-TH", now - timedelta(hours=2), Outcome.NO_ANSWER)
        await add_probe(sample_app, "BVNHI-TH", now - timedelta(hours=1), Outcome.HUMAN, 3000)
        await add_probe(sample_app, "BVDK-TH", now - timedelta(hours=1), Outcome.UNKNOWN)
        await add_probe(sample_app, "TTYT-HH", now, None)  # still ringing: no outcome yet
        body, after = await _probes(client)
        assert after == {
            ("BVNHI-TH", "human"): 2,
            ("BVNHI-TH", "no_answer"): 1,
            ("BVDK-TH", "unknown"): 1,
        }
        assert "0912115224" not in body  # the hotline's number is never a label
