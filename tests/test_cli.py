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


def test_tickets_list_reads_what_the_web_list_reads(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    """One read path: the command line lists, in order, what the web list shows an admin, through the
    same service (its filters checked there: a status that does not exist is a clear error, exit 2)."""
    from callcenter.domain.access import Principal, Role
    from callcenter.services.tickets import TicketFilter
    from tests.conftest import FakeClock
    from tests.web.tickets_data import make_ticket

    assert main(["--config", config, "db", "upgrade"]) == 0

    async def two_tickets() -> list[str]:
        app = build_app(load_settings(config))
        try:
            clock = FakeClock(utc_now())
            await make_ticket(app, clock, transcribe=False)  # BVDK-TH, answered and recorded
            await make_ticket(app, clock, dialled="0912115224", transcribe=False, copy=False)
            admin = Principal(1, "quantri", Role.ADMIN)
            page = await app.tickets.list(admin, TicketFilter(), utc_now())
            return [i.ref for i in page.items]
        finally:
            await app.close()

    web_refs = asyncio.run(two_tickets())
    capsys.readouterr()
    assert main(["--config", config, "tickets", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["ref"] for r in rows] == web_refs and len(rows) == 2
    recorded = next(r for r in rows if r["facility"] == "BVDK-TH")
    assert sorted(recorded["recordings"]) == ["caller", "mix", "officer"]
    assert recorded["call_state"] == "answered" and recorded["status"] == "moi_tiep_nhan"
    assert main(["--config", config, "tickets", "list", "--json", "--facility", "BVDK-TH"]) == 0
    assert [r["ref"] for r in json.loads(capsys.readouterr().out)] == [recorded["ref"]]
    assert main(["--config", config, "tickets", "list", "--limit", "1"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(web_refs[0]) and "moi_tiep_nhan" in line
    assert main(["--config", config, "tickets", "list", "--status", "xong"]) == 2
    assert "lỗi (status)" in capsys.readouterr().err


def test_a_missing_config_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", "/nonexistent.toml", "facilities", "list"]) == 2
    assert "config file not found" in capsys.readouterr().err


# --- simulate --rating: the survey runs before call_ended, as the dialplan does ----------------------------


class _RunningServer:
    """`callcenter serve`'s FastAGI side on a free port, in a thread, over the config's database."""

    def __init__(self, config: str) -> None:
        import threading

        self._config = config
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.port = 0

    async def _serve(self) -> None:
        from callcenter.app import prepare_database
        from callcenter.asterisk.server import FastAgiServer

        app = build_app(load_settings(self._config))
        try:
            await prepare_database(app, utc_now())
            server = FastAgiServer(
                app.handlers, host="127.0.0.1", port=0, handler_timeout=10, header_timeout=2
            )
            await server.start()
            self._loop, self._stop, self.port = asyncio.get_running_loop(), asyncio.Event(), server.port
            self._ready.set()
            await self._stop.wait()
            await server.close()
        finally:
            self._ready.set()
            await app.close()

    def __enter__(self) -> _RunningServer:
        self._thread.start()
        assert self._ready.wait(60) and self.port, "the FastAGI server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


def _rating_of_the_call(config: str) -> tuple[str, int | None, str | None]:
    from typing import Any

    from sqlalchemy import select

    from callcenter.storage.models import CallRow

    async def read() -> tuple[str, int | None, str | None]:
        app = build_app(load_settings(config))
        try:
            async with app.uow() as uow:
                session: Any = uow.calls._s  # type: ignore[attr-defined]
                (row,) = (await session.execute(select(CallRow))).scalars()
                return row.state, row.rating, row.rating_status
        finally:
            await app.close()

    return asyncio.run(read())


@pytest.mark.parametrize(("rating", "expected"), [("4", (4, "rated")), ("none", (None, "no_answer"))])
def test_simulate_with_a_rating_runs_the_survey(
    config: str, capsys: pytest.CaptureFixture[str], rating: str, expected: tuple[int | None, str]
) -> None:
    with _RunningServer(config) as server:
        capsys.readouterr()
        argv = ["--config", config, "simulate", "--port", str(server.port), "--digits", "1001"]
        assert main([*argv, "--outcomes", "busy,answer", "--rating", rating]) == 0
    out = capsys.readouterr().out
    assert f"rate_call: {expected[1]}" in out
    assert out.index("rate_call:") < out.index("call_ended:"), "the survey runs before call_ended"
    assert _rating_of_the_call(config) == ("answered", *expected)


def test_simulate_rating_on_an_unanswered_call_asks_nothing(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with _RunningServer(config) as server:
        argv = ["--config", config, "simulate", "--port", str(server.port), "--digits", "1001"]
        assert main([*argv, "--outcomes", "busy,noanswer,noanswer,noanswer", "--rating", "5"]) == 0
    assert "rate_call:" not in capsys.readouterr().out
    assert _rating_of_the_call(config) == ("unanswered", None, None)


@pytest.mark.parametrize("bad", ["0", "6", "45", "x"])
def test_simulate_rating_must_be_one_to_five_or_none(
    config: str, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--config", config, "simulate", "--rating", bad])
    assert exit_.value.code == 2
    assert "1..5 or none" in capsys.readouterr().err


def test_ready_says_what_is_missing_and_fails_until_it_is_there(
    config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", config, "ready", "--json"]) == 1  # a new database: nothing migrated yet
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "error" and report["checks"]["database"] == "ok"
    assert report["checks"]["migrations"].startswith("database at no revision")
    assert "speech_model" not in report["checks"]  # engine "none" in this file
    assert main(["--config", config, "db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "ready"]) == 0
    lines = capsys.readouterr().out.split("\n")
    assert [line.split()[0] for line in lines if line] == ["database", "migrations", "recordings"]
    assert all(line.split()[1] == "ok" for line in lines if line)
    # a Vosk engine whose model directory is not there: said, and a failure
    Path(config).write_text(
        Path(config)
        .read_text(encoding="utf-8")
        .replace('engine = "none"', 'engine = "vosk"\nmodel_path = "/nonexistent/vosk"'),
        encoding="utf-8",
    )
    assert main(["--config", config, "ready"]) == 1
    assert "speech_model  Vosk model /nonexistent/vosk does not exist" in capsys.readouterr().out


def test_retention_run_says_what_it_would_remove(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    Path(config).write_text(
        Path(config).read_text(encoding="utf-8") + "\n[retention]\nrecordings_days = 30\n", encoding="utf-8"
    )
    assert main(["--config", config, "retention", "run", "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "dry_run": True,
        "recordings": 0,
        "bytes_freed": 0,
        "transcripts": 0,
        "callers": 0,
        "tickets": 0,
    }
    assert main(["--config", config, "retention", "run"]) == 0
    assert "đã xoá / removed: 0 bản ghi âm" in capsys.readouterr().out
