"""The test calls' series on the registry (/co-so, /api/facilities), labelled "Cuộc gọi kiểm tra" and
kept apart from citizens' calls."""

from __future__ import annotations

from datetime import timedelta

from callcenter.domain.access import Role
from callcenter.domain.outbound import Outcome
from tests.fakes.calls import ANSWERED_FIRST
from tests.fakes.calls import place_call as call
from tests.fakes.probes import add_probe
from tests.web.conftest import Web


async def test_the_registry_shows_the_probe_series_and_flags_a_failing_night_probe(web_app: Web) -> None:
    app, clock = web_app.app, web_app.clock
    now = clock()  # Monday 23:40 local
    await call(app, "0968115115", ANSWERED_FIRST)  # BVDK-TH: a citizen's call
    await add_probe(app, "BVDK-TH", now - timedelta(hours=14), Outcome.HUMAN, 4000)  # Monday 09:40
    await add_probe(app, "BVDK-TH", now - timedelta(hours=13), Outcome.UNKNOWN)  # ours
    await add_probe(app, "BVNHI-TH", now - timedelta(hours=1), Outcome.NO_ANSWER, 30000)  # 22:40: night
    clock.advance(minutes=5)
    client, _ = await web_app.signed_in(Role.SUPERVISOR)

    body = await (await client.get("/api/facilities?days=7")).json()
    health = {f["code"]: f["health"] for f in body["facilities"]}
    bvdk, nhi = health["BVDK-TH"], health["BVNHI-TH"]
    assert bvdk["calls"] == 1 and nhi["calls"] == 0  # the probes are not citizens' calls
    assert bvdk["probes"]["label"] == "Cuộc gọi kiểm tra"
    assert (bvdk["probes"]["placed"], bvdk["probes"]["counted"], bvdk["probes"]["unknown"]) == (2, 1, 1)
    assert bvdk["probes"]["human_rate"] == 1.0 and bvdk["probes"]["mean_ring_to_human_s"] == 4.0
    assert bvdk["probes"]["failing"] is False and bvdk["failing"] is False
    assert nhi["probes"]["night"] == {"counted": 1, "human": 0, "rate": 0.0}
    assert nhi["probes"]["reasons"] == ["probe_off_hours", "probe_no_human"]
    assert nhi["reasons"] == ["not_viettel"]  # the citizens' reasons stay apart

    html = await (await client.get("/co-so?days=7")).text()
    assert '<th scope="col">Cuộc gọi kiểm tra</th>' in html
    assert html.count('class="badge badge-overdue probe-flag">Không có người nghe khi kiểm tra<') == 1
    assert "Cuộc gọi kiểm tra: 1 cơ sở không có người nghe khi kiểm tra" in html
    assert "có người nghe (bấm 1) 1/1 (100%)" in html and "ban đêm 0/1" in html
    assert "lỗi phía tổng đài, không tính: 1" in html

    report = await (await client.get("/bao-cao?from=2026-11-23&to=2026-11-23")).text()
    section = report[report.index('id="cuoc-goi-kiem-tra"') : report.index('id="khong-dat"')]
    assert "Bệnh viện Nhi Thanh Hóa" in section and "Không có người nghe khi kiểm tra" in section
    assert "1/1 (100" in section and "0/1 (0" in section  # BVDK's human answer, BVNHI's night probe
    failing = report[report.index('id="khong-dat"') :]
    assert "Cuộc gọi kiểm tra: Không có người nghe khi kiểm tra vào ban đêm" in failing
