"""`callcenter simulate --callback REF` and `--probe CODE`: a callback and a test call end to end on the
embedded default (SQLite, the sample data), with the package's ARI emulator as Asterisk and the phones,
through the same ARI client, events loop and service as `serve`."""

from __future__ import annotations

import asyncio

import pytest

from callcenter.app import build_app, utc_now
from callcenter.cli import main
from callcenter.domain.access import Role
from callcenter.services.calls import IncomingCall
from callcenter.services.users import UserInput
from callcenter.settings import load_settings

OFFICER_PHONE = "0961222333"


def ticket_and_officer(config: str) -> str:
    async def make() -> str:
        app = build_app(load_settings(config))
        try:
            await app.users.create(
                UserInput(
                    "canbo", Role.FACILITY_OFFICER, "Cán bộ", facility_code="BVDK-TH", phone=OFFICER_PHONE
                ),
                "mat-khau-dai-du-12",
                utc_now(),
            )
            received = await app.calls.receive(
                IncomingCall("1796000000.1", "PJSIP/t-1", "0912345678", "", "0968115115"), utc_now()
            )
            async with app.uow() as uow:
                record = await uow.tickets.record(received.ticket_id)
            assert record is not None
            return record.ref
        finally:
            await app.close()

    assert main(["--config", config, "db", "upgrade"]) == 0
    return asyncio.run(make())


def test_a_simulated_callback_talks_and_the_survey_lands_on_the_ticket(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ref = ticket_and_officer(config)
    capsys.readouterr()
    args = ["--config", config, "simulate", "--callback", ref, "--officer", "canbo", "--talk-s", "1"]
    assert main([*args, "--at", "2026-11-24 09:30", "--survey", "2"]) == 0
    out = capsys.readouterr().out
    assert "Đã nói chuyện" in out and "Người phản ánh cho biết chưa được giải quyết" in out
    assert "callback.requested" in out and "outcome=talked" in out and "survey=not_resolved" in out
    assert OFFICER_PHONE not in out and "0912345678" not in out
    # The citizen busy: exit 1 with the outcome; at night: refused, exit 2, nothing dialled.
    assert main([*args, "--at", "2026-11-24 10:00", "--citizen", "busy"]) == 1
    assert "Máy bận" in capsys.readouterr().out
    assert main([*args, "--at", "2026-11-24 23:30"]) == 2
    assert "ngoài giờ" in capsys.readouterr().err


@pytest.mark.parametrize(("answer", "code", "label"), [("human", 0, "đã bấm 1"), ("busy", 1, "Máy bận")])
def test_a_simulated_probe(
    config: str, capsys: pytest.CaptureFixture[str], answer: str, code: int, label: str
) -> None:
    assert main(["--config", config, "db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "simulate", "--probe", "BVNHI-TH", "--answer", answer]) == code
    assert label in capsys.readouterr().out
    assert main(["--config", config, "simulate", "--probe", "NOPE"]) == 2
