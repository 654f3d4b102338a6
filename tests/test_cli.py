"""The operator's command line, end to end through `main()` (SQLite, a temporary config)."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest

from callcenter.app import build_app, utc_now
from callcenter.cli import main
from callcenter.services.calls import IncomingCall
from callcenter.settings import load_settings


def test_classify_reads_lines_and_writes_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "sys.stdin",
        io.StringIO("Bệnh viện hết thuốc, phải ra ngoài mua\n\nbac si tiem nham thuoc cho con toi\n"),
    )
    assert main(["classify"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["category"] for x in lines] == ["thieu_thuoc", "chuyen_mon"]
    assert [x["incident"] for x in lines] == [False, True]
    assert all(0 <= x["confidence"] <= 1 for x in lines)


def test_facilities_and_roster_commands(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", config, "facilities", "list", "--json"]) == 0
    facilities = json.loads(capsys.readouterr().out)
    assert {f["code"]: f["not_viettel"] for f in facilities}["TTYT-QX"] is True
    assert (
        main(
            [
                "--config",
                config,
                "roster",
                "show",
                "--at",
                "2026-11-23 03:00",
                "--facility",
                "BVDK-TH",
                "--json",
            ]
        )
        == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert set(shown["facilities"]["BVDK-TH"]) == {"duty_officer", "backup", "leader"}
    assert main(["--config", config, "roster", "gaps", "--days", "7", "--from", "2026-11-23 00:00"]) == 0
    assert main(["--config", config, "roster", "show", "--facility", "NOPE"]) == 2


def test_a_bad_facilities_file_changes_nothing(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,keypad_code,name,kind,province,hotline,authority_line\nX1,1,Tên,other,TH,12345,\n",
        encoding="utf-8",
    )
    assert main(["--config", config, "facilities", "import", str(bad)]) == 2
    assert "hotline" in capsys.readouterr().err
    assert main(["--config", config, "facilities", "list", "--json"]) == 0
    assert "X1" not in capsys.readouterr().out


def test_tickets_list_masks_callers_unless_asked(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", config, "db", "upgrade"]) == 0

    async def one_call() -> None:
        app = build_app(load_settings(config))
        try:
            await app.calls.receive(
                IncomingCall("1.1", "PJSIP/x", "0912345678", "Bà Lan", "0968115115"), utc_now()
            )
        finally:
            await app.close()

    asyncio.run(one_call())
    capsys.readouterr()
    assert main(["--config", config, "tickets", "list", "--json"]) == 0
    [ticket] = json.loads(capsys.readouterr().out)
    assert ticket["caller"] == "*******678" and ticket["facility"] == "BVDK-TH"
    assert main(["--config", config, "tickets", "list", "--json", "--show-numbers"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["caller"] == "0912345678"


def test_a_missing_config_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", "/nonexistent.toml", "facilities", "list"]) == 2
    assert "config file not found" in capsys.readouterr().err
