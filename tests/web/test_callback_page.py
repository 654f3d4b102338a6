""" "Gọi lại" on the pages, with the real ARI client against the fake Asterisk, on SQLite and PostgreSQL:
the ticket page's form rings the officer's phone first and lists the attempt and its outcome, a rule's
refusal comes back as the page (409, nothing dialled), the button is only there for those who may place
a callback when ARI is configured, and the queue /goi-lai lists the open tickets needing a callback
within the person's scope."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from callcenter.app import App
from callcenter.asterisk.ari import AriClient, AriConfig
from callcenter.domain.access import Principal, Role
from callcenter.domain.call import AttemptResult, CallEndReport
from callcenter.domain.phone import mask
from callcenter.services.calls import IncomingCall, RecordingNames
from callcenter.services.outbound import OutboundPolicy, OutboundService
from callcenter.services.ports_people import AuditFilter
from callcenter.services.users import UserUpdate
from tests.asterisk.test_ari_outbound import until
from tests.conftest import TZ, FakeClock
from tests.fakes.ari_server import Answer, FakeAri
from tests.web.conftest import Web, WebFactory

OFFICER_PHONE = "0961222333"
CITIZEN = "0912345678"
BVDK_HOTLINE, NHI_HOTLINE = "0968115115", "0912115224"  # config/sample/facilities.csv
DAYTIME = datetime(2026, 11, 24, 9, 30, tzinfo=TZ).astimezone(UTC)
BUTTON = re.compile(r'name="action" value="callback">\s*<button type="submit"[^>]*>Gọi lại</button>')


@dataclass
class Line:
    web: Web
    fake: FakeAri
    service: OutboundService
    ticket_id: int

    def dialled(self) -> list[str]:
        return [p["endpoint"] for m, path, p, _ in self.fake.requests if (m, path) == ("POST", "/channels")]


@contextlib.asynccontextmanager
async def telephone(
    app: App, clock: FakeClock, **policy: Any
) -> AsyncIterator[tuple[FakeAri, OutboundService]]:
    """The fake Asterisk and an OutboundService over the real ARI client, its events socket up; at the
    end, every request we made was one of ARI's own operations."""
    fake = FakeAri()
    await fake.start()
    client = AriClient(AriConfig(url=fake.url, username="hotline", password="secret", request_timeout_s=2.0))
    service = OutboundService(app.uow, client, OutboundPolicy(tz=TZ, caller_id="19009095", **policy), clock)
    stop = asyncio.Event()
    events = asyncio.create_task(client.run_events(service, clock, stop))
    try:
        await until(lambda: asyncio.sleep(0, bool(fake.registered)), bool)
        yield fake, service
    finally:
        stop.set()
        await asyncio.wait_for(events, 5)
        await service.close()
        await client.close()
        await fake.stop()
    fake.assert_no_violations()


@pytest.fixture
async def line(make_web: WebFactory, sample_app: App, clock: FakeClock) -> AsyncIterator[Line]:
    clock.now = DAYTIME
    async with telephone(sample_app, clock, accept_timeout_s=2.0, survey_timeout_s=3.0) as (fake, service):
        w = await make_web(outbound=service)
        await w.users.update(w.ids[Role.FACILITY_OFFICER], UserUpdate(phone=OFFICER_PHONE), clock())
        received = await sample_app.calls.receive(
            IncomingCall("1795380439.9", "PJSIP/trunk-9", CITIZEN, "", BVDK_HOTLINE), clock()
        )
        yield Line(w, fake, service, received.ticket_id)


async def _press(browser: Any, csrf: str, ticket_id: int) -> Any:
    return await browser.post(
        f"/phan-anh/{ticket_id}", data={"csrf_token": csrf, "action": "callback"}, allow_redirects=False
    )


async def test_pressing_goi_lai_rings_the_officer_first_and_the_page_lists_the_attempt(
    line: Line, clock: FakeClock
) -> None:
    line.fake.script(OFFICER_PHONE, Answer(dtmf="1"))
    line.fake.script(CITIZEN, Answer(ring_s=0.1))
    browser, csrf = await line.web.signed_in(Role.FACILITY_OFFICER)
    page_url = f"/phan-anh/{line.ticket_id}"
    before = await (await browser.get(page_url)).text()
    assert BUTTON.search(before) and "Chưa gọi lại lần nào" in before
    assert CITIZEN not in before and mask(CITIZEN) in before  # the number stays masked for the officer

    response = await _press(browser, csrf, line.ticket_id)
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == f"{page_url}?dang_goi=1"
    assert line.dialled()[:1] == [f"PJSIP/{OFFICER_PHONE}@hotline-trunk"]  # the officer's phone first
    calling = await (await browser.get(response.headers["Location"])).text()
    assert "Đang gọi máy của bạn…" in calling
    assert "Yêu cầu gọi lại người phản ánh · canbo" in calling  # the history

    [oid] = [r.id for r in await line.service.attempts(_officer(line), line.ticket_id)]
    await until(lambda: _state(line), lambda s: s == "talking")
    assert line.dialled() == [f"PJSIP/{OFFICER_PHONE}@hotline-trunk", f"PJSIP/{CITIZEN}@hotline-trunk"]
    talking = await (await browser.get(page_url)).text()
    assert "Đang nói chuyện" in talking
    clock.advance(seconds=42)
    officer_leg = next(c for c in line.fake.channels if c.endswith("-officer"))
    citizen_leg = next(c for c in line.fake.channels if c.endswith("-citizen"))
    await line.fake.remote_hangup(officer_leg)  # the officer hangs up: the citizen is asked the survey
    await line.fake.wait_for(lambda e: e["type"] == "PlaybackFinished" and citizen_leg in e["playback"]["id"])
    await line.fake.press(citizen_leg, "1")
    await until(lambda: _state(line), lambda s: s == "done")

    html = await (await browser.get(page_url)).text()
    attempts = html[html.index('class="callback-attempts"') :]
    attempts = attempts[: attempts.index("</table>")]
    assert "24/11/2026 09:30" in attempts and "Đã nói chuyện" in attempts and "42 giây" in attempts
    assert "Người phản ánh xác nhận đã được giải quyết" in attempts
    assert "Kết thúc cuộc gọi lại: Đã nói chuyện · nói chuyện 42 giây · Người phản ánh xác nhận" in html
    assert CITIZEN not in html and OFFICER_PHONE not in html
    admin = Principal(line.web.ids[Role.ADMIN], "quantri", Role.ADMIN)
    entries = await line.web.audit.query(admin, AuditFilter(action="ticket.callback"))
    assert [(e.ticket_id, e.detail) for e in entries] == [(line.ticket_id, {"outbound_id": oid})]


def _officer(line: Line) -> Principal:
    return Principal(
        line.web.ids[Role.FACILITY_OFFICER], "canbo", Role.FACILITY_OFFICER, facility_code="BVDK-TH"
    )


async def _state(line: Line) -> str:
    found = await line.service.attempts(_officer(line), line.ticket_id)
    return found[-1].state.value if found else ""


async def test_a_refusal_comes_back_as_the_page_with_its_message_and_dials_nothing(
    line: Line, clock: FakeClock
) -> None:
    clock.now = clock.now.replace(hour=16)  # 23:30 local
    browser, csrf = await line.web.signed_in(Role.FACILITY_OFFICER)
    response = await _press(browser, csrf, line.ticket_id)
    html = await response.text()
    assert response.status == 409
    assert 'role="alert">Không gọi lại ngoài giờ cho phép</p>' in html and BUTTON.search(html)
    clock.now = DAYTIME
    supervisor, csrf_s = await line.web.signed_in(Role.SUPERVISOR)  # no phone on the account
    response = await _press(supervisor, csrf_s, line.ticket_id)
    assert response.status == 409
    assert "Tài khoản của bạn chưa có số điện thoại để nhận cuộc gọi" in await response.text()
    assert line.dialled() == [] and await line.service.attempts(_officer(line), line.ticket_id) == []
    admin = Principal(line.web.ids[Role.ADMIN], "quantri", Role.ADMIN)
    assert await line.web.audit.query(admin, AuditFilter(action="ticket.callback")) == []


async def test_no_button_for_the_auditor_who_may_not_press_it_either(line: Line) -> None:
    auditor, csrf = await line.web.signed_in(Role.AUDITOR)
    html = await (await auditor.get(f"/phan-anh/{line.ticket_id}")).text()
    assert "Gọi lại người phản ánh" in html and "Chưa gọi lại lần nào" in html  # reads the attempts
    assert not BUTTON.search(html) and 'value="callback"' not in html
    assert (await _press(auditor, csrf, line.ticket_id)).status == 403
    assert line.dialled() == []


async def test_without_ari_there_is_no_button_and_the_form_says_so(
    make_web: WebFactory, sample_app: App, clock: FakeClock
) -> None:
    w = await make_web()
    received = await sample_app.calls.receive(
        IncomingCall("1795380439.9", "PJSIP/trunk-9", CITIZEN, "", BVDK_HOTLINE), clock()
    )
    browser, csrf = await w.signed_in(Role.SUPERVISOR)
    html = await (await browser.get(f"/phan-anh/{received.ticket_id}")).text()
    assert 'value="callback"' not in html and "Gọi lại người phản ánh" not in html
    response = await _press(browser, csrf, received.ticket_id)
    assert response.status == 503 and "Chức năng gọi lại chưa được bật" in await response.text()


async def _ticket(app: App, clock: FakeClock, n: int, dialled: str, *, answered: bool) -> int:
    incoming = IncomingCall(f"1795380500.{n}", f"PJSIP/trunk-{n}", CITIZEN, "", dialled)
    received = await app.calls.receive(incoming, clock())
    incoming = IncomingCall(
        f"1795380500.{n}", f"PJSIP/trunk-{n}", CITIZEN, "", dialled, call_id=received.call_id
    )
    if answered:
        report = CallEndReport(True, 1, {}, AttemptResult.ANSWERED, 15_000, 16, None, False, 30)
    else:  # the caller hung up while the first target rang: a callback is due
        report = CallEndReport(True, 1, {}, AttemptResult.CANCELLED, None, 16, None, False, 10)
    await app.calls.end(incoming, report, RecordingNames(f"hotline-1795380500.{n}", None), clock())
    return received.ticket_id


def _queue_ids(html: str) -> list[int]:
    return [int(m) for m in re.findall(r'<tr data-ticket="(\d+)">', html)]


async def test_the_queue_lists_open_tickets_needing_a_callback_within_scope(
    line: Line, sample_app: App, clock: FakeClock
) -> None:
    clock.advance(minutes=1)
    bvdk = await _ticket(sample_app, clock, 1, BVDK_HOTLINE, answered=False)
    clock.advance(minutes=1)
    nhi = await _ticket(sample_app, clock, 2, NHI_HOTLINE, answered=False)
    clock.advance(minutes=1)
    answered = await _ticket(sample_app, clock, 3, BVDK_HOTLINE, answered=True)
    clock.advance(minutes=1)
    closed = await _ticket(sample_app, clock, 4, BVDK_HOTLINE, answered=False)
    admin = Principal(line.web.ids[Role.ADMIN], "quantri", Role.ADMIN)
    await sample_app.tickets.change_status(admin, closed, "da_giai_quyet", clock(), result_told="Đã gọi lại")
    # one attempt today on the BVDK ticket: the officer answers and never presses 1
    line.fake.script(OFFICER_PHONE, Answer())  # answers, never presses 1
    officer, csrf = await line.web.signed_in(Role.FACILITY_OFFICER)
    assert (await _press(officer, csrf, bvdk)).status == 303
    await until(lambda: line.service.attempts(admin, bvdk), lambda found: not found[-1].state.active)

    html = await (await officer.get("/goi-lai")).text()
    assert _queue_ids(html) == [bvdk]  # the officer's facility only; answered and closed ones are not due
    row = html[html.index(f'<tr data-ticket="{bvdk}">') :]
    row = row[: row.index("</tr>")]
    ref = (await sample_app.tickets.get(admin, bvdk, clock())).ref
    assert f'<a href="/phan-anh/{bvdk}">{ref}</a>' in row and "Bệnh viện Đa khoa tỉnh Thanh Hóa" in row
    assert "24/11/2026 09:31" in row and "<td>1</td>" in row
    assert "Nghe máy nhưng không bấm 1" in row and BUTTON.search(row)
    assert CITIZEN not in html and mask(CITIZEN) not in html
    assert 'aria-current="page"' in html and ">Cần gọi lại<" in html

    supervisor, _ = await line.web.signed_in(Role.SUPERVISOR)
    html = await (await supervisor.get("/goi-lai")).text()
    assert _queue_ids(html) == [nhi, bvdk]  # the province's, newest first
    nhi_row = html[html.index(f'<tr data-ticket="{nhi}">') :]
    assert "Chưa gọi" in nhi_row[: nhi_row.index("</tr>")]
    assert answered not in _queue_ids(html) and closed not in _queue_ids(html)
    auditor, _ = await line.web.signed_in(Role.AUDITOR)
    assert (await auditor.get("/goi-lai", allow_redirects=False)).status == 403
