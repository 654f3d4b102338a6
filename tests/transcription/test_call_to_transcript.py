"""A whole call with the real engine: capture 1's MixMonitor files -> job -> Vosk -> turns on the ticket."""

from __future__ import annotations

import shutil
from pathlib import Path

from callcenter.app import App
from callcenter.asterisk import variables as v
from callcenter.services.tickets import TicketQueries
from callcenter.services.transcription import JobPolicy, TranscriptionService
from callcenter.settings import Settings
from callcenter.transcription.adapter import PipelineTranscriber
from callcenter.transcription.vosk_engine import VoskEngine
from tests.conftest import FakeClock
from tests.fakes.memory_channel import MemoryChannel
from tests.transcription.conftest import RECORDING_1, SCENARIO_1


async def test_real_recordings_become_turns_on_the_ticket(
    sample_app: App, settings: Settings, clock: FakeClock, vosk_engine: VoskEngine
) -> None:
    for wav in SCENARIO_1.glob("*.wav"):
        shutil.copy(wav, Path(settings.recordings.dir) / wav.name)
    channel = MemoryChannel()  # capture 1's header: uniqueid 1795380439.44 -> recording RECORDING_1
    channel.values["dnid"] = "0968115115"
    await sample_app.handlers[v.ROUTE_CALL](channel)
    assert channel.variables[v.RECORDING] == RECORDING_1
    channel.hang_up_for_call_ended()
    channel.variables.update(
        HOTLINE_IDX="1",
        DIALSTATUS="ANSWER",
        ANSWEREDTIME_MS="15506",
        HANGUPCAUSE="16",
        MIXMONITOR_FILENAME=f"/var/spool/asterisk/monitor/hotline/{RECORDING_1}.wav",
    )
    await sample_app.handlers[v.CALL_ENDED](channel)

    worker = TranscriptionService(
        sample_app.uow, PipelineTranscriber(vosk_engine), Path(settings.recordings.dir), JobPolicy()
    )
    clock.advance(seconds=11)
    assert await worker.run_once(clock) is True
    ticket = (await TicketQueries(sample_app.uow).latest())[0]
    async with sample_app.uow() as uow:
        transcript = await uow.transcripts.for_ticket(ticket.id)
        state = await uow.jobs.state_for_ticket(ticket.id)
    assert state == ("done", 1, "")
    assert transcript is not None and transcript.engine == "vosk" and transcript.source == "legs"
    # The caller speaks from 5.6 s into the 10.06 s recording (capture notes); Korean model, Vietnamese
    # speech: assert the structure and times, not the words.
    caller_turns = [t for t in transcript.turns if t["speaker"] == "caller"]
    assert caller_turns, transcript.leg_problems
    for turn in transcript.turns:
        assert 0 <= turn["start"] <= turn["end"] <= 10.1
        assert [w[1] for w in turn["words"]] == sorted(w[1] for w in turn["words"])
    assert ticket.category_suggested is not None
