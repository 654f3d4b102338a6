"""The composition root's web app (real argon2 parameters) and the `callcenter users` commands."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer
from docx import Document
from structlog.testing import capture_logs

from callcenter.app import App, build_web, serve
from callcenter.cli import main
from callcenter.services.users import UserInput
from callcenter.settings import Settings

PASSWORD = "mat-khau-that-dai-7"


async def test_the_app_serves_health_pages_and_sign_in(sample_app: App) -> None:
    await sample_app.users.create(UserInput("quantri", "admin"), PASSWORD, sample_app.clock())
    async with TestClient(TestServer(build_web(sample_app))) as client:
        health = await client.get("/healthz")
        assert health.status == 200 and await health.json() == {"status": "ok", "database": None}
        assert (await client.get("/dang-nhap")).status == 200
        signed = await client.post("/api/session", json={"username": "quantri", "password": PASSWORD})
        assert signed.status == 201
        assert (await (await client.get("/api/me")).json())["user"]["role"] == "admin"
        # The Báo cáo's sender comes from the [report] settings (config/callcenter.toml: Thanh Hóa).
        docx = await client.get("/bao-cao.docx", params={"from": "2026-11-01", "to": "2026-11-23"})
        assert docx.status == 200
        header = Document(io.BytesIO(await docx.read())).tables[0].rows[0].cells
        assert header[0].text.startswith(sample_app.settings.report.agency_parent + "\nSỞ Y TẾ")
        assert header[1].text.endswith(f"{sample_app.settings.report.place}, ngày … tháng … năm 2026")


async def test_serve_says_how_to_create_the_first_admin(settings: Settings) -> None:
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(serve(settings.model_copy(update={"load_sample_data": False}), stop))
        for _ in range(200):
            if any(e["event"] == "service.started" for e in logs):
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 30)
    [hint] = [e for e in logs if e["event"] == "web.no_admin"]
    assert "callcenter users add admin --role admin" in hint["hint"]
    # what /readyz would answer, said at start: here only the speech model may be missing or loading
    [ready] = [e for e in logs if e["event"] in ("service.ready", "service.not_ready")]
    assert set(ready) - {"event", "log_level", "speech_model"} == set(), ready


def test_users_commands(
    config: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*argv: str, stdin: str = "") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return main(["--config", config, "users", *argv])

    assert run("list") == 0
    assert "users add admin --role admin" in capsys.readouterr().out
    assert (
        run(
            "add",
            "admin",
            "--role",
            "admin",
            "--full-name",
            "Quản Trị",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        == 0
    )
    assert "đã tạo" in capsys.readouterr().out
    assert (
        run(
            "add",
            "giamsat",
            "--role",
            "supervisor",
            "--province",
            "Thanh Hóa",
            "--password-stdin",
            stdin=PASSWORD,
        )
        == 0
    )
    capsys.readouterr()
    # Bad input: exit 2, the field named, nothing created.
    assert run("add", "canbo", "--role", "facility_officer", "--password-stdin", stdin=PASSWORD) == 2
    assert "(facility_code)" in capsys.readouterr().err
    assert run("add", "ngan", "--role", "auditor", "--password-stdin", stdin="ngan\n") == 2
    assert "(password)" in capsys.readouterr().err
    # No terminal and no --password-stdin: refuse rather than read a password from a pipe unasked.
    assert run("add", "khac", "--role", "auditor") == 2
    capsys.readouterr()

    assert run("list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["username"], r["role"], r["province"]) for r in rows] == [
        ("admin", "admin", None),
        ("giamsat", "supervisor", "Thanh Hóa"),
    ]
    assert run("passwd", "giamsat", "--password-stdin", stdin="mot-mat-khau-moi\n") == 0
    assert run("deactivate", "giamsat") == 0
    assert run("deactivate", "admin") == 2  # the last admin
    assert "cuối cùng" in capsys.readouterr().err
    assert run("list") == 0
    assert "(đã khóa)" in capsys.readouterr().out
