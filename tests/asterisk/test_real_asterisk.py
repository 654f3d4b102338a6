"""The calls we place, against a REAL Asterisk 22 (opt-in: skipped unless CALLCENTER_TEST_ARI_URL is set).

The Asterisk must load the project's dialplan/ files as dialplan/README.md installs them (the ARI user,
[hotline-ari-leg]) plus this test context of Local-channel "phones", dialled with
CALLCENTER_TEST_ARI_DIAL="Local/{number}@test-phones/n":

    [test-phones]
    ; an officer: presses 1 after 1 s, talks (a 5.5 s prompt as their voice), hangs up
    exten => 0961000100,1,Answer()
     same => n,Set(CHANNEL(language)=vi)
     same => n,Wait(1)
     same => n,SendDTMF(1)
     same => n,Playback(hotline-connecting)
     same => n,Hangup()
    ; a citizen: talks (an 8 s prompt as their voice); the officer gone, answers the survey with 2
    exten => 0912000200,1,Answer()
     same => n,Set(CHANNEL(language)=vi)
     same => n,Playback(hotline-thanks)
     same => n,SendDTMF(2)
     same => n,Wait(10)
     same => n,Hangup()
    ; a busy line
    exten => 0912000300,1,Busy(5)
    ; a hotline answered by a human who presses 1
    exten => 0912000400,1,Answer()
     same => n,Wait(1)
     same => n,SendDTMF(1)
     same => n,Wait(10)
     same => n,Hangup()
    ; a voicemail: answers, never presses a key
    exten => 0912000500,1,Answer()
     same => n,Wait(20)
     same => n,Hangup()

Also: CALLCENTER_TEST_ARI_PASSWORD (ari_hotline.conf's), and CALLCENTER_TEST_ARI_RECORDINGS (Asterisk's
HOTLINE_RECORDINGS_DIR, when this machine can read it) to check the citizen leg's MixMonitor files.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from callcenter.app import App
from callcenter.asterisk.ari import AriClient, AriConfig
from callcenter.domain.access import Role
from callcenter.domain.facility import Facility, FacilityKind
from callcenter.domain.outbound import Leg, channel_id
from callcenter.services.calls import IncomingCall
from callcenter.services.outbound import OutboundPolicy, OutboundService
from callcenter.services.users import UserInput
from tests.conftest import TZ, FakeClock

URL = os.environ.get("CALLCENTER_TEST_ARI_URL", "")
pytestmark = pytest.mark.skipif(
    not URL, reason="no real Asterisk: set CALLCENTER_TEST_ARI_URL (see the docstring)"
)
DAYTIME = datetime(2026, 11, 24, 9, 30, tzinfo=TZ).astimezone(UTC)
POLICY = OutboundPolicy(
    tz=TZ, caller_id="19009095", accept_timeout_s=4.0, survey_timeout_s=10.0, ring_timeout_s=10
)


@pytest.fixture
async def real(sample_app: App, clock: FakeClock) -> AsyncIterator[OutboundService]:
    # A different instant each run (within the callback hours): the legs' channel ids carry the row's
    # creation time, and a real Asterisk may still hold the legs of the previous run's row 1.
    clock.now = DAYTIME + timedelta(seconds=time.time() % 3600)
    client = AriClient(
        AriConfig(
            url=URL,
            username=os.environ.get("CALLCENTER_TEST_ARI_USER", "hotline"),
            password=os.environ.get("CALLCENTER_TEST_ARI_PASSWORD", ""),
            dial_template=os.environ.get("CALLCENTER_TEST_ARI_DIAL", "Local/{number}@test-phones/n"),
        )
    )
    service = OutboundService(sample_app.uow, client, POLICY, clock)
    stop = asyncio.Event()
    connected = asyncio.Event()

    async def on_connected() -> None:
        connected.set()

    events = asyncio.create_task(client.run_events(service, clock, stop, on_connected=on_connected))
    await asyncio.wait_for(connected.wait(), 10)
    try:
        yield service
    finally:
        stop.set()
        await asyncio.wait_for(events, 10)
        await service.close()
        await client.close()


async def done(app: App, outbound_id: int, wait_s: float = 30.0) -> Any:
    for _ in range(int(wait_s * 20)):
        async with app.uow() as uow:
            row = await uow.outbound.get(outbound_id)
        if row is not None and row.state.value == "done":
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"not done after {wait_s} s: {row}")


async def test_a_callback_through_real_asterisk(
    real: OutboundService, sample_app: App, clock: FakeClock
) -> None:
    officer = await sample_app.users.create(
        UserInput("off_real", Role.FACILITY_OFFICER, "Cán bộ", facility_code="BVDK-TH", phone="0961000100"),
        "mat-khau-dai-du-12",
        clock(),
    )
    received = await sample_app.calls.receive(
        IncomingCall("real.1", "PJSIP/t-1", "0912000200", "", "0968115115"), clock()
    )
    oid = await real.request_callback(received.ticket_id, officer.principal(), clock())
    row = await done(sample_app, oid)
    assert (row.outcome.value, row.survey.value if row.survey else None) == ("talked", "not_resolved")
    assert row.accepted_at is not None and row.talk_started_at is not None
    recordings = os.environ.get("CALLCENTER_TEST_ARI_RECORDINGS")
    if recordings:
        base = f"hotline-{channel_id(oid, Leg.CITIZEN, row.created_at)}"
        for suffix in ("", "-rx", "-tx"):
            path = Path(recordings) / f"{base}{suffix}.wav"
            assert path.is_file() and path.stat().st_size > 44, path


@pytest.mark.parametrize(
    ("number", "outcome"), [("0912000400", "human"), ("0912000500", "no_key"), ("0912000300", "busy")]
)
async def test_test_calls_through_real_asterisk(
    real: OutboundService, sample_app: App, clock: FakeClock, number: str, outcome: str
) -> None:
    code = f"REAL-{number[-3:]}"
    await sample_app.facilities.import_facilities(
        [
            Facility(
                code,
                f"9{number[-3:]}",
                f"Thử {number[-3:]}",
                FacilityKind.PROVINCIAL_HOSPITAL,
                "Thanh Hóa",
                number,
            )
        ],
        clock(),
    )
    started = await real.probe(code, clock())
    assert started.outbound_id is not None, started
    row = await done(sample_app, started.outbound_id)
    assert row.outcome.value == outcome
