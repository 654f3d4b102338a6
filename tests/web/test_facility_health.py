"""Hotline health on the registry (seed 001: a dead or unanswered hotline is itself a fault): calls made
through the real FastAGI handlers, counted in SQL by the report's hotline health over the last 30 days,
shown by GET /api/facilities and /co-so."""

from __future__ import annotations

import re
from datetime import timedelta

from callcenter.domain.access import Principal, Role
from callcenter.domain.hotline_health import RECENT, FailReason
from callcenter.services.reports import ReportService
from tests.fakes.calls import ABANDONED, ALL_FAILED, ANSWERED_BACKUP, ANSWERED_FIRST
from tests.fakes.calls import place_call as call
from tests.web.conftest import Web

BVDK, BVNHI, TTYT_HH = "0968115115", "0912115224", "0865203115"


async def test_health_counts_a_known_set_of_calls(web_app: Web) -> None:
    app, clock = web_app.app, web_app.clock
    await call(app, BVNHI, ANSWERED_FIRST)  # answered, then 8 days of silence: flagged
    clock.advance(days=8)
    first_answered = clock()
    for ending in (ANSWERED_FIRST, ANSWERED_BACKUP, ALL_FAILED, ABANDONED):
        await call(app, BVDK, ending)
        clock.advance(minutes=10)
    await call(app, TTYT_HH, ALL_FAILED)  # calls, none answered: flagged
    await call(app, TTYT_HH, ABANDONED)
    clock.advance(hours=1)

    reports = ReportService(app.uow, app.settings.tz)
    admin = Principal(1, "admin", Role.ADMIN)
    now = clock()
    health = {h.facility_code: h for h in await reports.hotline_health(admin, now - RECENT, now)}
    bvdk = health["BVDK-TH"]
    assert (bvdk.calls, bvdk.answered, bvdk.answered_by_first, bvdk.all_failed, bvdk.abandoned) == (
        4,
        2,
        1,
        1,
        1,
    )
    assert bvdk.answer_rate == 0.5 and not bvdk.silent(now) and not bvdk.not_viettel
    assert bvdk.last_answered_at == first_answered + timedelta(minutes=10)
    hh = health["TTYT-HH"]
    assert (hh.calls, hh.answered, hh.answer_rate, hh.last_answered_at) == (2, 0, 0, None) and hh.silent(now)
    assert FailReason.NO_ANSWER in hh.reasons
    nhi = health["BVNHI-TH"]
    assert (nhi.calls, nhi.answered, nhi.silent(now), nhi.not_viettel) == (1, 1, True, True)
    quiet = health["TYT-QX-QNINH"]
    assert (quiet.calls, quiet.answer_rate, quiet.silent(now)) == (0, None, False)
    # Only the period counts: from just after the BVNHI call, it is gone.
    later = {h.facility_code: h for h in await reports.hotline_health(admin, first_answered, now)}
    assert later["BVNHI-TH"].calls == 0 and later["BVDK-TH"].calls == 4

    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    body = await (await client.get("/api/facilities")).json()
    by_code = {f["code"]: f["health"] for f in body["facilities"]}
    assert by_code["BVDK-TH"]["answered_by_first"] == 1 and by_code["BVDK-TH"]["answer_rate"] == 0.5
    assert by_code["BVDK-TH"]["all_failed"] == 1 and by_code["BVDK-TH"]["abandoned"] == 1
    assert by_code["TTYT-HH"]["silent"] is True and by_code["TTYT-HH"]["last_answered_at"] is None
    assert by_code["TTYT-HH"]["failing"] is True and "no_answer" in by_code["TTYT-HH"]["reasons"]
    assert by_code["BVNHI-TH"]["reasons"] == ["not_viettel"]
    html = await (await client.get("/co-so")).text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and "style=" not in html
    assert html.count("badge badge-overdue silent") == 2 and "Không nghe máy" in html
    assert "Có cuộc gọi nhưng không ai nghe máy" in html and "Đạt" in html
    assert "50%" in html and "0%" in html
    # The last answered BVDK call as local time (UTC+7).
    local = (bvdk.last_answered_at + timedelta(hours=7)).strftime("%d/%m/%Y %H:%M")
    assert local in html


async def test_the_period_is_chosen_7_30_or_90_days(web_app: Web) -> None:
    app, clock = web_app.app, web_app.clock
    await call(app, BVDK, ANSWERED_FIRST)  # 20 days ago: in the 30 and 90 day periods, not in 7
    clock.advance(days=20)
    client, _ = await web_app.signed_in(Role.SUPERVISOR)

    async def calls(query: str) -> int:
        body = await (await client.get("/api/facilities" + query)).json()
        return int({f["code"]: f["health"] for f in body["facilities"]}["BVDK-TH"]["calls"])

    assert (await calls("?days=7"), await calls(""), await calls("?days=30"), await calls("?days=90")) == (
        0,
        1,
        1,
        1,
    )
    bad = await client.get("/api/facilities?days=14")
    assert bad.status == 400 and "7, 30 hoặc 90" in await bad.text()
    html = await (await client.get("/co-so?days=7")).text()
    assert "Số liệu cuộc gọi trong 7 ngày qua" in html
    assert '<strong aria-current="true">7 ngày</strong>' in html and 'href="/co-so?days=90"' in html
