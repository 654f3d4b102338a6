"""The callback API over HTTP (POST /api/tickets/{id}/callback, GET …/callbacks) with the real ARI
client against the fake Asterisk, on SQLite and PostgreSQL: the officer's phone rings first, the browser
never sees a number, the attempt is audited, and the rules answer with a clear 409."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from callcenter.app import App
from callcenter.asterisk.ari import AriClient, AriConfig
from callcenter.domain.access import Principal, Role
from callcenter.services.calls import IncomingCall
from callcenter.services.outbound import OutboundPolicy, OutboundService
from callcenter.services.ports_people import AuditFilter
from callcenter.services.users import UserUpdate
from tests.conftest import TZ, FakeClock
from tests.fakes.ari_server import Answer, FakeAri
from tests.web.conftest import Web, WebFactory

OFFICER_PHONE = "0961222333"
CITIZEN = "0912345678"
DAYTIME = datetime(2026, 11, 24, 9, 30, tzinfo=TZ).astimezone(UTC)


@dataclass
class Line:
    web: Web
    fake: FakeAri
    ticket_id: int


@pytest.fixture
async def line(make_web: WebFactory, sample_app: App, clock: FakeClock) -> AsyncIterator[Line]:
    clock.now = DAYTIME
    fake = FakeAri()
    await fake.start()
    client = AriClient(AriConfig(url=fake.url, username="hotline", password="secret", request_timeout_s=2.0))
    service = OutboundService(
        sample_app.uow, client, OutboundPolicy(tz=TZ, caller_id="19009095", accept_timeout_s=2.0), clock
    )
    stop = asyncio.Event()
    events = asyncio.create_task(client.run_events(service, clock, stop))
    w = await make_web(outbound=service)
    await w.users.update(w.ids[Role.FACILITY_OFFICER], UserUpdate(phone=OFFICER_PHONE), clock())
    received = await sample_app.calls.receive(
        IncomingCall("1795380439.9", "PJSIP/trunk-9", CITIZEN, "", "0968115115"), clock()
    )
    for _ in range(500):  # the events socket is up
        if fake.registered:
            break
        await asyncio.sleep(0.01)
    try:
        yield Line(w, fake, received.ticket_id)
    finally:
        stop.set()
        await asyncio.wait_for(events, 5)
        await service.close()
        await client.close()
        await fake.stop()
    fake.assert_no_violations()


async def test_an_officer_places_a_callback_and_reads_its_outcome_without_seeing_a_number(line: Line) -> None:
    line.fake.script(OFFICER_PHONE, Answer(dtmf="1"))
    line.fake.script(CITIZEN, Answer(hangup_after_s=0.3))
    browser, csrf = await line.web.signed_in(Role.FACILITY_OFFICER)
    response = await browser.post(f"/api/tickets/{line.ticket_id}/callback", headers={"X-CSRF-Token": csrf})
    text = await response.text()
    assert response.status == 202, text
    body: dict[str, Any] = await response.json()
    assert body["callback"]["state"] == "ringing"
    outbound_id = body["callback"]["id"]
    for _ in range(300):
        listed = await (await browser.get(f"/api/tickets/{line.ticket_id}/callbacks")).json()
        if listed["callbacks"][0]["state"] == "done":
            break
        await asyncio.sleep(0.02)
    [attempt] = listed["callbacks"]
    assert (attempt["id"], attempt["outcome"], attempt["outcome_vi"]) == (
        outbound_id,
        "talked",
        "Đã nói chuyện",
    )
    for page in (text, str(listed)):
        assert (
            CITIZEN not in page and OFFICER_PHONE not in page
        )  # the server dials; the browser never sees it
    originated = [p["endpoint"] for m, path, p, _ in line.fake.requests if (m, path) == ("POST", "/channels")]
    assert originated == [f"PJSIP/{OFFICER_PHONE}@hotline-trunk", f"PJSIP/{CITIZEN}@hotline-trunk"]
    admin = Principal(line.web.ids[Role.ADMIN], "quantri", Role.ADMIN)
    entries = await line.web.audit.query(admin, AuditFilter(action="ticket.callback"))
    assert [(e.ticket_id, e.detail) for e in entries] == [(line.ticket_id, {"outbound_id": outbound_id})]


async def test_the_rules_answer_409_with_the_rule_and_roles_are_checked(line: Line, clock: FakeClock) -> None:
    clock.now = clock.now.replace(hour=16)  # 23:30 local
    browser, csrf = await line.web.signed_in(Role.FACILITY_OFFICER)
    url = f"/api/tickets/{line.ticket_id}/callback"
    response = await browser.post(url, headers={"X-CSRF-Token": csrf})
    assert response.status == 409
    error = (await response.json())["error"]
    assert error["code"] == "callback_night" and "ngoài giờ" in error["message"]
    auditor, csrf_a = await line.web.signed_in(Role.AUDITOR)
    assert (await auditor.post(url, headers={"X-CSRF-Token": csrf_a})).status == 403
    assert (await auditor.get(f"/api/tickets/{line.ticket_id}/callbacks")).status == 200
    clock.now = DAYTIME
    supervisor, csrf_s = await line.web.signed_in(Role.SUPERVISOR)  # no phone on the account
    response = await supervisor.post(url, headers={"X-CSRF-Token": csrf_s})
    assert (response.status, (await response.json())["error"]["code"]) == (409, "callback_no_officer_phone")
    assert [r for r in line.fake.requests if r[1] == "/channels"] == []


async def test_without_ari_the_api_says_callbacks_are_not_configured(
    make_web: WebFactory, sample_app: App
) -> None:
    w = await make_web()
    browser, csrf = await w.signed_in(Role.SUPERVISOR)
    response = await browser.post("/api/tickets/1/callback", headers={"X-CSRF-Token": csrf})
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "telephony_disabled"
