"""Hotline health (seed 001: a dead or unanswered hotline is itself a fault): calls made through the real
FastAGI handlers, counted by FacilityService.health in SQL, shown by GET /api/facilities and /co-so."""

from __future__ import annotations

import re
from datetime import timedelta

from callcenter.app import App
from callcenter.asterisk import variables as v
from callcenter.domain.access import Role
from tests.fakes.memory_channel import MemoryChannel
from tests.web.conftest import Web

BVDK, BVNHI, TTYT_HH = "0968115115", "0912115224", "0865203115"
MIX = "/var/spool/asterisk/monitor/hotline/hotline-1795380439.44.wav"
ANSWERED_FIRST = {"HOTLINE_IDX": "1", "DIALSTATUS": "ANSWER", "ANSWEREDTIME_MS": "15000"}
ANSWERED_BACKUP = {
    "HOTLINE_IDX": "2",
    "HOTLINE_RESULT_1": "BUSY",
    "DIALSTATUS": "ANSWER",
    "ANSWEREDTIME_MS": "9000",
}
ALL_FAILED = {
    "HOTLINE_IDX": "4",
    "HOTLINE_RESULT_1": "NOANSWER",
    "HOTLINE_RESULT_2": "BUSY",
    "HOTLINE_RESULT_3": "NOANSWER",
    "HOTLINE_RESULT_4": "NOANSWER",
    "DIALSTATUS": "NOANSWER",
    "ANSWEREDTIME_MS": "",
}
ABANDONED = {"HOTLINE_IDX": "1", "DIALSTATUS": "CANCEL"}


async def call(app: App, dialled: str, ending: dict[str, str]) -> None:
    channel = MemoryChannel()
    channel.values["dnid"] = dialled
    await app.handlers[v.ROUTE_CALL](channel)
    channel.hang_up_for_call_ended()
    channel.variables.update(ending, MIXMONITOR_FILENAME=MIX)
    await app.handlers[v.CALL_ENDED](channel)


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

    health = await app.facilities.health(None, clock())
    bvdk = health["BVDK-TH"]
    assert (bvdk.calls, bvdk.answered, bvdk.answered_by_first, bvdk.all_failed, bvdk.abandoned) == (
        4,
        2,
        1,
        1,
        1,
    )
    assert bvdk.answer_rate == 0.5 and not bvdk.silent and not bvdk.not_viettel
    assert bvdk.last_answered_at == first_answered + timedelta(minutes=10)
    hh = health["TTYT-HH"]
    assert (hh.calls, hh.answered, hh.answer_rate, hh.last_answered_at, hh.silent) == (2, 0, 0.0, None, True)
    nhi = health["BVNHI-TH"]
    assert (nhi.calls, nhi.answered, nhi.silent, nhi.not_viettel) == (1, 1, True, True)
    quiet = health["TYT-QX-QNINH"]
    assert (quiet.calls, quiet.answer_rate, quiet.silent) == (0, None, False)
    # Only the period counts: from just after the BVNHI call, it is gone.
    later = await app.facilities.health(first_answered, clock())
    assert later["BVNHI-TH"].calls == 0 and later["BVDK-TH"].calls == 4

    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    body = await (await client.get("/api/facilities")).json()
    by_code = {f["code"]: f["health"] for f in body["facilities"]}
    assert by_code["BVDK-TH"]["answered_by_first"] == 1 and by_code["BVDK-TH"]["answer_rate"] == 0.5
    assert by_code["BVDK-TH"]["all_failed"] == 1 and by_code["BVDK-TH"]["abandoned"] == 1
    assert by_code["TTYT-HH"]["silent"] is True and by_code["TTYT-HH"]["last_answered_at"] is None
    html = await (await client.get("/co-so")).text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and "style=" not in html
    assert html.count("badge badge-overdue silent") == 2 and "Không nghe máy" in html
    assert "50%" in html and "0%" in html
    # The last answered BVDK call as local time (UTC+7).
    local = (bvdk.last_answered_at + timedelta(hours=7)).strftime("%d/%m/%Y %H:%M")
    assert local in html
