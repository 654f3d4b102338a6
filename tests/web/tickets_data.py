"""A real ticket for the web tests: a call routed and ended through the FastAGI handlers, its recordings
copied from the Asterisk scenario, and a transcript made by the transcription service (fake engine)."""

from __future__ import annotations

import shutil
from pathlib import Path

from callcenter.app import App
from callcenter.asterisk import variables as v
from callcenter.services.tickets import TicketQueries
from callcenter.services.transcription import JobPolicy, TranscriptionService
from tests.conftest import SHARED, FakeClock
from tests.fakes.memory_channel import MemoryChannel
from tests.jobs.test_transcription_jobs import CALLER_SAYS, FakeTranscriber

SCENARIO = SHARED / "asterisk" / "scenarios" / "1-answered" / "recordings"
__all__ = ["CALLER_SAYS", "SCENARIO", "make_ticket"]


async def make_ticket(
    app: App, clock: FakeClock, *, dialled: str = "0968115115", transcribe: bool = True, copy: bool = True
) -> int:
    """An answered call to `dialled` (BVDK-TH by default) that became a ticket; returns its id."""
    recordings = Path(app.settings.recordings.dir)
    if copy:
        for wav in SCENARIO.glob("*.wav"):
            shutil.copy(wav, recordings / wav.name)
    channel = MemoryChannel()
    channel.values["dnid"] = dialled
    await app.handlers[v.ROUTE_CALL](channel)
    channel.hang_up_for_call_ended()
    channel.variables.update(
        HOTLINE_IDX="1",
        DIALSTATUS="ANSWER",
        ANSWEREDTIME_MS="20000",
        MIXMONITOR_FILENAME=f"/var/spool/asterisk/monitor/hotline/{channel.variables[v.RECORDING]}.wav",
    )
    await app.handlers[v.CALL_ENDED](channel)
    if transcribe:
        clock.advance(seconds=11)
        worker = TranscriptionService(app.uow, FakeTranscriber(), recordings, JobPolicy(), "web-tests")
        assert await worker.run_once(clock)
    latest = await TicketQueries(app.uow).latest(limit=1)
    return latest[0].id
