"""[transcription] after_call_s: a call's transcription job is due that long after its call_ended."""

from __future__ import annotations

from callcenter.app import build_app, load_sample_data_once
from callcenter.domain.call import AttemptResult, CallEndReport
from callcenter.services.calls import IncomingCall, RecordingNames
from callcenter.settings import Settings
from tests.conftest import FakeClock


async def test_the_delay_before_a_calls_transcription_is_a_setting(
    settings: Settings, clock: FakeClock
) -> None:
    """[transcription] after_call_s: the job is due that long after call_ended (MixMonitor's files)."""
    for delay_s, due_at_once in ((10.0, False), (0.0, True)):
        configured = settings.model_copy(
            update={"transcription": settings.transcription.model_copy(update={"after_call_s": delay_s})}
        )
        node = build_app(configured, clock)
        try:
            await load_sample_data_once(node, clock())
            uniqueid = f"1795380440.{int(delay_s)}"
            incoming = IncomingCall(uniqueid, "PJSIP/trunk-9", "0912345678", "", "0968115115")
            received = await node.calls.receive(incoming, clock())
            ended = IncomingCall(*list(incoming.__dict__.values())[:5], call_id=received.call_id)
            report = CallEndReport(True, 1, {}, AttemptResult.ANSWERED, 15_000, 16, None, False, 30)
            await node.calls.end(ended, report, RecordingNames(f"hotline-{uniqueid}", None), clock())
            async with node.uow() as uow:
                job = await uow.jobs.claim("test", clock(), 60)
                await uow.commit()
            assert (job is not None) is due_at_once, delay_s
        finally:
            await node.close()
