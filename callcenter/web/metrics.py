"""/metrics in the Prometheus text format (prometheus-client), and the `Metrics` port behind it.

One registry per application (not the library's global one), so that two apps in one process (tests,
`callcenter serve` beside a worker) never mix their counts. Figures that live in the database or on
disk (the transcription queue, the journal) are read when Prometheus scrapes, not kept up to date.
Labels are codes and outcomes, never a phone number or a name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from callcenter.web.context import services

NO_FACILITY = "none"  # calls to the switchboard before (or without) a keypad code
# From a millisecond (a routed call on SQLite) to the whole IVR (tens of seconds) in one histogram.
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class _ProbeCounts(Collector):
    """callcenter_probes_total{facility, outcome}: the test calls in the database, as of the last scrape
    (a counter: rows are only added; several nodes report the same figures, as for the job queue)."""

    def __init__(self) -> None:
        self.counts: Mapping[tuple[str, str], int] = {}

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "callcenter_probes",
            "Test calls to the hotlines (cuộc gọi kiểm tra) finished, per facility and outcome (human, "
            "no_key, busy, no_answer, unreachable, failed and unknown: ours), from the database",
            labels=["facility", "outcome"],
        )
        for (facility, outcome), n in sorted(self.counts.items()):
            family.add_metric([facility, outcome], n)
        yield family


class PrometheusMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._probes = _ProbeCounts()
        r.register(self._probes)
        self._received = Counter(
            "callcenter_calls_received",
            "Calls received, per facility dialled ('none': the switchboard, before a code is typed)",
            ["facility"],
            registry=r,
        )
        self._ended = Counter(
            "callcenter_calls_ended",
            "Calls ended, per facility and outcome (answered, abandoned, voicemail, unanswered, unknown)",
            ["facility", "state"],
            registry=r,
        )
        self._route = Histogram(
            "callcenter_route_call_seconds",
            "Our share of route_call: receive (call, ticket, chain for a facility's own number) or route "
            "(the chain after a keypad code), durable commit included",
            ["step"],
            buckets=_SECONDS,
            registry=r,
        )
        self._in_flight = Gauge(
            "callcenter_agi_sessions_in_flight", "FastAGI sessions now open", ["script"], registry=r
        )
        self._session = Histogram(
            "callcenter_agi_session_seconds",
            "FastAGI sessions, header to close (route_call includes the prompts)",
            ["script"],
            buckets=_SECONDS,
            registry=r,
        )
        self._agi_failures = Counter(
            "callcenter_agi_failures",
            "FastAGI sessions that reported HOTLINE_AGI_FAILURE to the dialplan, per reason",
            ["reason"],
            registry=r,
        )
        self._jobs = Histogram(
            "callcenter_transcription_job_seconds",
            "Transcription jobs done in this process, per outcome (done, retry, failed)",
            ["outcome"],
            buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
            registry=r,
        )
        self._queue = Gauge(
            "callcenter_transcription_jobs",
            "Transcription jobs in the database, per status",
            ["status"],
            registry=r,
        )
        self._journal = Gauge(
            "callcenter_journal_pending",
            "Call ends spooled to the journal while the database was unavailable, not yet replayed",
            registry=r,
        )
        self._http = Counter(
            "callcenter_http_requests",
            "HTTP requests, per route (its name in the route table) and status",
            ["route", "status"],
            registry=r,
        )

    # --- the services' port --------------------------------------------------------------------------

    def call_received(self, facility: str | None) -> None:
        self._received.labels(facility or NO_FACILITY).inc()

    def call_ended(self, facility: str | None, state: str) -> None:
        self._ended.labels(facility or NO_FACILITY, state).inc()

    def route_decided(self, step: str, seconds: float) -> None:
        self._route.labels(step).observe(seconds)

    def agi_session(self, script: str, delta: int) -> None:
        self._in_flight.labels(script).inc(delta)

    def agi_session_done(self, script: str, seconds: float) -> None:
        self._session.labels(script).observe(seconds)

    def agi_failure(self, reason: str) -> None:
        self._agi_failures.labels(reason).inc()

    def transcription_job(self, outcome: str, seconds: float) -> None:
        self._jobs.labels(outcome).observe(seconds)

    # --- the web's own -------------------------------------------------------------------------------

    def http_request(self, route: str, status: int) -> None:
        self._http.labels(route, str(status)).inc()

    def scraped(
        self,
        jobs: Mapping[str, int],
        journal_pending: int,
        probes: Mapping[tuple[str, str], int] | None = None,
    ) -> bytes:
        for status in ("queued", "running", "done", "failed"):
            self._queue.labels(status).set(jobs.get(status, 0))
        self._journal.set(journal_pending)
        if probes is not None:
            self._probes.counts = dict(probes)
        return generate_latest(self.registry)


async def _no_probes() -> Mapping[tuple[str, str], int]:
    return {}


@dataclass(frozen=True)
class MetricsSources:
    """What /metrics reads at scrape time."""

    metrics: PrometheusMetrics
    job_counts: Callable[[], Awaitable[Mapping[str, int]]]
    journal_pending: Callable[[], Awaitable[int]]
    # {(facility, outcome): test calls}, read from the database at each scrape
    probe_counts: Callable[[], Awaitable[Mapping[tuple[str, str], int]]] = field(default=_no_probes)


async def metrics_page(request: web.Request) -> web.StreamResponse:
    sources = services(request).metrics
    if sources is None:
        raise web.HTTPNotFound()
    body = sources.metrics.scraped(
        await sources.job_counts(), await sources.journal_pending(), await sources.probe_counts()
    )
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
