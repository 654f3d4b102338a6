"""`callcenter probes run | list` through `main()` against the fake Asterisk ARI (a real socket): its own
Stasis app, one line per facility, exit codes 0 / 1 / 2; `list` prints the series."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callcenter.cli import main
from tests.fakes.ari_server import Answer, Busy, FakeAri, NoAnswer, Unreachable

NHI, BVDK, HH, QX, QNINH = "0912115224", "0968115115", "0865203115", "02373863115", "0388452115"


@pytest.fixture
async def fake() -> AsyncIterator[FakeAri]:
    server = FakeAri()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    server.assert_no_violations()


def with_ari(config: str, url: str, password: str = "secret") -> str:
    path = Path(config)
    path.write_text(
        path.read_text(encoding="utf-8")
        + f"""
[ari]
enabled = true
url = "{url}"
password = "{password}"
request_timeout_s = 2.0
accept_timeout_s = 0.5
""",
        encoding="utf-8",
    )
    return config


def replace_in(config: str, old: str, new: str) -> None:
    path = Path(config)
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


async def run(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_one_facility_answered_by_a_human_is_exit_0_on_its_own_app(
    config: str, fake: FakeAri, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = with_ari(config, fake.url)
    fake.script(NHI, Answer(ring_s=0.3, dtmf="1"))
    assert await run("--config", cfg, "probes", "run", "--facility", "BVNHI-TH", "--wait", "10") == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1  # one facility, one line
    line = out[0]
    assert line.startswith("BVNHI-TH")
    assert "Cuộc gọi kiểm tra: Có người nghe (đã bấm 1), đổ chuông 0," in line
    originated = [p for m, path, p, _ in fake.requests if m == "POST" and path == "/channels"]
    assert [p["app"] for p in originated] == ["hotline-cli"]  # its own Stasis app, beside serve's
    assert await run("--config", cfg, "probes", "list", "--days", "7", "--json") == 0
    series = {s["facility_code"]: s for s in json.loads(capsys.readouterr().out)}
    assert (series["BVNHI-TH"]["placed"], series["BVNHI-TH"]["human"]) == (1, 1)
    assert series["BVDK-TH"]["placed"] == 0


async def test_every_facility_one_line_each_and_a_failure_is_exit_1(
    config: str, fake: FakeAri, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = with_ari(config, fake.url)
    fake.script(NHI, Answer(dtmf="1"))
    fake.script(BVDK, Busy())
    fake.script(HH, NoAnswer(ring_s=0.2))
    fake.script(QX, Unreachable())
    fake.script(QNINH, Answer())  # answered, never 1: a voicemail?
    assert await run("--config", cfg, "probes", "run", "--wait", "10", "--json") == 1
    got = {i["facility_code"]: i["outcome"] for i in json.loads(capsys.readouterr().out)}
    assert got == {
        "BVDK-TH": "busy",
        "BVNHI-TH": "human",
        "TTYT-HH": "no_answer",
        "TTYT-QX": "unreachable",
        "TYT-QX-QNINH": "no_key",
    }
    assert await run("--config", cfg, "probes", "list", "--days", "7") == 1
    out = capsys.readouterr().out
    assert "TTYT-HH" in out and "Không có người nghe khi kiểm tra" in out


async def test_a_probe_still_ringing_when_the_wait_ends_is_reported_and_closed_as_unknown(
    config: str, fake: FakeAri, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = with_ari(config, fake.url)
    fake.script(NHI, NoAnswer(ring_s=20))
    assert await run("--config", cfg, "probes", "run", "--facility", "BVNHI-TH", "--wait", "0.5") == 1
    assert "vẫn đang diễn ra" in capsys.readouterr().out
    # Closed as ours (not the hotline's failure): the next run may probe it again.
    fake.script(NHI, Answer(dtmf="1"))
    assert await run("--config", cfg, "probes", "run", "--facility", "BVNHI-TH", "--wait", "10") == 0
    assert "Có người nghe" in capsys.readouterr().out
    assert await run("--config", cfg, "probes", "list", "--days", "7", "--json") == 0
    nhi = next(s for s in json.loads(capsys.readouterr().out) if s["facility_code"] == "BVNHI-TH")
    assert (nhi["placed"], nhi["unknown"], nhi["counted"], nhi["human"]) == (2, 1, 1, 1)


async def test_bad_input_ari_disabled_or_unreachable_is_exit_2(
    config: str, fake: FakeAri, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run("--config", config, "probes", "run") == 2  # [ari] not enabled
    assert "ARI chưa bật" in capsys.readouterr().err
    cfg = with_ari(config, fake.url, password="wrong")
    assert await run("--config", cfg, "probes", "run") == 2
    assert "401" in capsys.readouterr().err
    replace_in(cfg, '"wrong"', '"secret"')
    assert await run("--config", cfg, "probes", "run", "--facility", "NOPE") == 2
    assert "NOPE" in capsys.readouterr().err
    assert await run("--config", cfg, "probes", "run", "--wait", "0") == 2
    assert await run("--config", cfg, "probes", "list", "--days", "0") == 2
    await fake.stop()
    assert await run("--config", cfg, "probes", "run", "--facility", "BVNHI-TH") == 2
    assert "không kết nối được ARI" in capsys.readouterr().err
    await fake.start()  # for the fixture's stop
