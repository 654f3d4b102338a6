"""A ticket whose citizen's call was transcribed, and callbacks on it driven through OutboundService with
the recording double of the Telephony port (tests/calls/test_outbound.py): for the callback
transcription tests and the ticket page's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from callcenter.app import App
from callcenter.domain.access import Principal, Role
from callcenter.domain.outbound import Leg, channel_id
from callcenter.domain.turns import Speaker
from callcenter.services.outbound import OutboundPolicy, OutboundService
from callcenter.services.ports import TranscriptionResult
from callcenter.services.transcription import JobPolicy, TranscriptionService
from callcenter.services.users import UserInput
from tests.calls.test_outbound import FakeTelephony
from tests.conftest import TZ, FakeClock
from tests.jobs.test_transcription_jobs import CALLER_SAYS, OFFICER_SAYS, _turn
from tests.web.tickets_data import make_ticket

DAYTIME = datetime(2026, 11, 24, 9, 30, tzinfo=TZ).astimezone(UTC)  # callbacks are not placed at night
# Words said only in the callback (and a category and an incident the call's words do not have).
CITIZEN_SAYS = "sau mũi tiêm hôm qua cháu bị sốc phản vệ phải cấp cứu số mới của tôi là 0987 654 321"
OFFICER_CALLS_BACK = "chúng tôi đã báo ban giám đốc kiểm điểm khoa nhi"
POLICY = OutboundPolicy(tz=TZ, caller_id="19009095", accept_timeout_s=0.2, survey_timeout_s=0.2)


class CallAndCallbackTranscriber:
    """The speech engine's stand-in: the call's words for the call's files, the callback's for the
    callback's; the caller's turn only when it was handed the "-rx" leg as "caller", the officer's the
    "-tx" leg as "officer"."""

    def __init__(self) -> None:
        self.calls: list[Mapping[str, Path]] = []

    def transcribe(self, recordings: Mapping[str, Path]) -> TranscriptionResult:
        self.calls.append(recordings)
        callback = "-citizen" in recordings["caller"].name
        caller, officer = (CITIZEN_SAYS, OFFICER_CALLS_BACK) if callback else (CALLER_SAYS, OFFICER_SAYS)
        turns = []
        if recordings["caller"].name.endswith("-rx.wav"):
            turns.append(_turn(Speaker.CALLER, caller, 0.5))
        if recordings["officer"].name.endswith("-tx.wav"):
            turns.append(_turn(Speaker.OFFICER, officer, 9.0))
        return TranscriptionResult(tuple(turns), (), "legs", "fake", "vi", {})


@dataclass
class Callbacks:
    app: App
    clock: FakeClock
    engine: CallAndCallbackTranscriber
    worker: TranscriptionService
    service: OutboundService
    tel: FakeTelephony
    officer: Principal
    ticket_id: int

    async def talked(self, talk_s: int = 60) -> int:
        """A callback on the ticket that talked (the officer pressed 1, the citizen answered, the leg was
        recorded, the officer hung up after `talk_s`, the citizen pressed 1 at the survey)."""
        s, clock = self.service, self.clock
        oid = await s.request_callback(self.ticket_id, self.officer, clock())
        officer, citizen = await self.leg(oid, Leg.OFFICER), await self.leg(oid, Leg.CITIZEN)
        await s.leg_answered(officer, clock())
        await s.digit(officer, "1", clock())
        await s.leg_answered(citizen, clock())
        await s.leg_left(citizen, clock())
        await s.leg_answered(citizen, clock(), recorded=True)
        clock.advance(seconds=talk_s)
        self.tel.live.discard(officer)
        await s.leg_ended(officer, 16, clock())
        await s.digit(citizen, "1", clock())
        return oid

    async def busy(self) -> int:
        """A callback whose citizen's line was busy: nobody talked."""
        s, clock = self.service, self.clock
        oid = await s.request_callback(self.ticket_id, self.officer, clock())
        officer, citizen = await self.leg(oid, Leg.OFFICER), await self.leg(oid, Leg.CITIZEN)
        await s.leg_answered(officer, clock())
        await s.digit(officer, "1", clock())
        await s.leg_ended(citizen, 17, clock())
        return oid

    async def leg(self, outbound_id: int, leg: Leg) -> str:
        """The channel id the service gave that leg."""
        async with self.app.uow() as uow:
            row = await uow.outbound.get(outbound_id)
        assert row is not None
        return channel_id(outbound_id, leg, row.created_at)

    async def recording(self, outbound_id: int) -> str:
        async with self.app.uow() as uow:
            row = await uow.outbound.get(outbound_id)
        assert row is not None and row.recording is not None
        return row.recording


async def callbacks_on_a_transcribed_ticket(app: App, clock: FakeClock) -> Callbacks:
    """By day: a citizen's answered, recorded call to BVDK-TH, its transcript made; an officer of the
    facility with a phone, who may call the citizen back."""
    clock.now = DAYTIME
    ticket_id = await make_ticket(app, clock, transcribe=False, copy=False)
    engine = CallAndCallbackTranscriber()
    worker = TranscriptionService(app.uow, engine, Path(app.settings.recordings.dir), JobPolicy(), "cb")
    clock.advance(seconds=11)
    assert await worker.run_once(clock)
    officer = await app.users.create(
        UserInput(
            "cb_bvdk", Role.FACILITY_OFFICER, "Cán bộ gọi lại", facility_code="BVDK-TH", phone="0961222333"
        ),
        "mat-khau-dai-du-12",
        clock(),
    )
    tel = FakeTelephony()
    service = OutboundService(app.uow, tel, POLICY, clock)
    return Callbacks(app, clock, engine, worker, service, tel, officer.principal(), ticket_id)
