"""Transcription jobs: queued with the call's end, leased, retried, failed visibly; transcripts searchable."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from callcenter.app import App
from callcenter.asterisk import variables as v
from callcenter.domain.turns import Speaker, TimedWord, Turn
from callcenter.services.ports import TranscriptionResult
from callcenter.services.tickets import TicketQueries
from callcenter.services.transcription import JobPolicy, TranscriptionService
from callcenter.settings import Settings
from tests.conftest import FakeClock
from tests.fakes.memory_channel import MemoryChannel

CALLER_SAYS = "bệnh viện hết thuốc tiểu đường tôi phải ra ngoài mua số tôi là 0912 345 678"
OFFICER_SAYS = "vâng tôi ghi nhận phản ánh của bác"


def _turn(speaker: Speaker, text: str, start: float) -> Turn:
    words = tuple(TimedWord(w, start + i * 0.4, start + i * 0.4 + 0.3) for i, w in enumerate(text.split()))
    return Turn(speaker, words[0].start_s, words[-1].end_s, text, words)


class FakeTranscriber:
    """Stands in for the speech engine (the engines have their own tests on real audio)."""

    def __init__(self, fail_times: int = 0, problems: dict[str, str] | None = None) -> None:
        self.calls: list[Mapping[str, Path]] = []
        self._fail = fail_times
        self._problems = problems

    def transcribe(self, recordings: Mapping[str, Path]) -> TranscriptionResult:
        self.calls.append(recordings)
        if self._fail:
            self._fail -= 1
            raise RuntimeError("model crashed")
        if self._problems is not None:
            return TranscriptionResult((), (), "none", "fake", "vi", dict(self._problems))
        turns = (_turn(Speaker.CALLER, CALLER_SAYS, 0.5), _turn(Speaker.OFFICER, OFFICER_SAYS, 9.0))
        return TranscriptionResult(turns, (), "legs", "fake", "vi", {})


async def _answered_call(app: App) -> MemoryChannel:
    channel = MemoryChannel()
    channel.values["dnid"] = "0968115115"
    await app.handlers[v.ROUTE_CALL](channel)
    channel.hang_up_for_call_ended()
    channel.variables.update(
        HOTLINE_IDX="1",
        DIALSTATUS="ANSWER",
        ANSWEREDTIME_MS="20000",
        MIXMONITOR_FILENAME="/var/spool/asterisk/monitor/hotline/hotline-1795380439.44.wav",
    )
    await app.handlers[v.CALL_ENDED](channel)
    return channel


def _service(
    app: App, settings: Settings, engine: FakeTranscriber, owner: str = "w1"
) -> TranscriptionService:
    return TranscriptionService(app.uow, engine, Path(settings.recordings.dir), JobPolicy(), owner)


async def test_a_call_end_queues_a_job_that_fills_in_the_ticket(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    await _answered_call(sample_app)
    engine = FakeTranscriber()
    worker = _service(sample_app, settings, engine)
    assert await worker.run_once(clock) is False  # MixMonitor may still hold the files open
    clock.advance(seconds=11)
    assert await worker.run_once(clock) is True
    assert sorted(engine.calls[0]) == ["caller", "mix", "officer", "voicemail"]
    assert engine.calls[0]["caller"].name == "hotline-1795380439.44-rx.wav"
    assert await worker.run_once(clock) is False  # done once

    ticket = (await TicketQueries(sample_app.uow).latest())[0]
    assert ticket.category_suggested == "thieu_thuoc"
    assert ticket.category_confidence is not None and ticket.category_confidence > 0.3
    async with sample_app.uow() as uow:
        transcript = await uow.transcripts.for_ticket(ticket.id)
        state = await uow.jobs.state_for_ticket(ticket.id)
    assert transcript is not None and state == ("done", 1, "")
    assert [t["speaker"] for t in transcript.turns] == ["caller", "officer"]
    assert transcript.turns[0]["words"][0] == ["bệnh", 0.5, 0.8]
    assert "0912 345 678" in transcript.text and "0912 345 678" not in transcript.text_masked


async def test_search_is_accent_insensitive(sample_app: App, settings: Settings, clock: FakeClock) -> None:
    await _answered_call(sample_app)
    clock.advance(seconds=11)
    await _service(sample_app, settings, FakeTranscriber()).run_once(clock)
    queries = TicketQueries(sample_app.uow)
    for query in ("tieu duong", "TIỂU ĐƯỜNG", "het thuoc", "Hết Thuốc tiểu"):
        assert [t.facility_code for t in await queries.search(query)] == ["BVDK-TH"], query
    assert await queries.search("vac xin") == []
    assert await queries.search('" OR 1=1 --') == []  # no query syntax reaches the engine


async def test_engine_failures_are_retried_with_backoff_then_failed_on_the_ticket(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    await _answered_call(sample_app)
    engine = FakeTranscriber(fail_times=5)
    worker = _service(sample_app, settings, engine)
    clock.advance(seconds=11)
    assert await worker.run_once(clock)  # attempt 1 fails
    assert await worker.run_once(clock) is False  # backing off (30 s)
    clock.advance(seconds=31)
    assert await worker.run_once(clock)  # attempt 2 fails
    clock.advance(seconds=121)
    assert await worker.run_once(clock)  # attempt 3 fails: that was the last
    clock.advance(hours=1)
    assert await worker.run_once(clock) is False
    ticket = (await TicketQueries(sample_app.uow).latest())[0]
    async with sample_app.uow() as uow:
        state = await uow.jobs.state_for_ticket(ticket.id)
        events = [kind for _, kind, _ in await uow.tickets.events(ticket.id)]
    assert state == ("failed", 3, "RuntimeError: model crashed")
    assert "transcription_failed" in events
    assert len(engine.calls) == 3


async def test_unusable_recordings_fail_at_once_with_the_reason(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    await _answered_call(sample_app)
    problems = {"caller": "not a WAV file", "officer": "empty file", "mix": "not a WAV file"}
    clock.advance(seconds=11)
    assert await _service(sample_app, settings, FakeTranscriber(problems=problems)).run_once(clock)
    ticket = (await TicketQueries(sample_app.uow).latest())[0]
    async with sample_app.uow() as uow:
        state = await uow.jobs.state_for_ticket(ticket.id)
    assert state is not None and state[0] == "failed" and "caller: not a WAV file" in state[2]


async def test_a_worker_killed_mid_job_loses_it_only_until_its_lease_runs_out(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    await _answered_call(sample_app)
    clock.advance(seconds=11)
    async with sample_app.uow() as uow:
        claimed = await uow.jobs.claim("dead-worker", clock(), 600)
        await uow.commit()
    assert claimed is not None  # ... and the worker dies here
    other = _service(sample_app, settings, FakeTranscriber(), owner="w2")
    assert await other.run_once(clock) is False  # still leased
    clock.advance(seconds=601)
    assert await other.run_once(clock) is True
    async with sample_app.uow() as uow:
        assert await uow.jobs.state_for_ticket(claimed.ticket_id) == ("done", 2, "")


async def test_two_workers_never_take_the_same_job(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    for uid in ("1.1", "1.2"):
        channel = MemoryChannel()
        channel.values.update(dnid="0968115115", uniqueid=uid)
        await sample_app.handlers[v.ROUTE_CALL](channel)
        channel.hang_up_for_call_ended()
        channel.variables.update(
            HOTLINE_IDX="1", DIALSTATUS="ANSWER", ANSWEREDTIME_MS="1000", MIXMONITOR_FILENAME="/x.wav"
        )
        await sample_app.handlers[v.CALL_ENDED](channel)
    clock.advance(seconds=11)
    async with sample_app.uow() as uow:
        first = await uow.jobs.claim("a", clock(), 600)
        await uow.commit()
    async with sample_app.uow() as uow:
        second = await uow.jobs.claim("b", clock(), 600)
        third = await uow.jobs.claim("c", clock(), 600)
        await uow.commit()
    assert first is not None and second is not None and first.id != second.id and third is None


async def test_a_recording_no_call_knows_becomes_a_ticket(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    directory = Path(settings.recordings.dir)
    for suffix in ("", "-rx", "-tx"):
        (directory / f"hotline-1795999999.7{suffix}.wav").write_bytes(b"RIFF")
    worker = _service(sample_app, settings, FakeTranscriber())
    # Still being written (a call in progress on the dialplan's fallback path): not an orphan yet.
    assert await worker.orphan_recordings() == []
    an_hour_ago = time.time() - 3600
    for suffix in ("", "-rx", "-tx"):
        os.utime(directory / f"hotline-1795999999.7{suffix}.wav", (an_hour_ago, an_hour_ago))
    assert await worker.orphan_recordings() == ["hotline-1795999999.7"]
    ref = await sample_app.calls.adopt_recording("hotline-1795999999.7", clock())
    assert await worker.orphan_recordings() == []
    ticket = (await TicketQueries(sample_app.uow).latest())[0]
    assert (ticket.ref, ticket.call_state, ticket.needs_callback) == (ref, "unknown", True)
    assert await worker.run_once(clock) is True  # its job is due at once


async def test_a_routed_call_s_recording_is_not_an_orphan(sample_app: App, settings: Settings) -> None:
    channel = MemoryChannel()
    await sample_app.handlers[v.ROUTE_CALL](channel)  # routed; its call has not ended yet
    channel.digits.clear()
    name = channel.variables.get(v.RECORDING) or "hotline-1795380439.44"
    path = Path(settings.recordings.dir) / f"{name}.wav"
    path.write_bytes(b"RIFF")
    os.utime(path, (time.time() - 3600, time.time() - 3600))
    assert await _service(sample_app, settings, FakeTranscriber()).orphan_recordings() == []
