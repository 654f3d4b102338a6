"""The audit log page (/nhat-ky): admins and auditors only; filters by user, action and local days (the
hotline's time zone, stored UTC); "older" paging by entry id; Vietnamese action labels; no caller's
number in what it shows. Both databases (the app fixtures are parametrised)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from callcenter.domain.access import Principal, Role
from callcenter.services.audit import AuditAction
from callcenter.services.ports_people import NewAuditEntry
from callcenter.web.audit_pages import PAGE_SIZE
from tests.conftest import TZ
from tests.web.conftest import Web

ROW = re.compile(r'<tr class="audit-entry" data-action="([^"]+)">')


def _officer(web_app: Web) -> Principal:
    return Principal(
        web_app.ids[Role.FACILITY_OFFICER], "canbo", Role.FACILITY_OFFICER, facility_code="BVDK-TH"
    )


async def _at(web_app: Web, local: datetime, who: Principal, action: str, **kw: object) -> None:
    """An entry written at that local time (the clock set there)."""
    web_app.clock.now = local.replace(tzinfo=TZ).astimezone(UTC)
    await web_app.audit.record(who, action, **kw)  # type: ignore[arg-type]


async def test_admins_and_auditors_read_it_and_others_get_403(web_app: Web) -> None:
    for role in (Role.ADMIN, Role.AUDITOR):
        client, _ = await web_app.signed_in(role)
        r = await client.get("/nhat-ky")
        html = await r.text()
        assert r.status == 200 and '<a href="/nhat-ky" aria-current="page">Nhật ký</a>' in html, role
        assert "Đăng nhập</td>" in html  # their own sign-in, labelled in Vietnamese
    for role in (Role.SUPERVISOR, Role.FACILITY_OFFICER):
        client, _ = await web_app.signed_in(role)
        r = await client.get("/nhat-ky")
        assert r.status == 403 and "Bạn không có quyền truy cập" in await r.text(), role
        assert 'href="/nhat-ky"' not in await (await client.get("/")).text(), role
    auditor, _ = await web_app.signed_in(Role.AUDITOR)
    menu = await (await auditor.get("/")).text()
    assert 'href="/nhat-ky"' in menu and 'href="/nguoi-dung"' not in menu
    assert (await auditor.get("/nguoi-dung")).status == 403


async def test_filters_by_user_action_and_local_days(web_app: Web) -> None:
    officer = _officer(web_app)
    admin = Principal(web_app.ids[Role.ADMIN], "quantri", Role.ADMIN)
    # 23:30 on the 23rd and 00:30 on the 24th, local time: 16:30 and 17:30 UTC on the same UTC day.
    await _at(web_app, datetime(2026, 11, 23, 23, 30), officer, AuditAction.TICKET_VIEW, ticket_id=7)
    await _at(web_app, datetime(2026, 11, 24, 0, 30), officer, AuditAction.RECORDING_LISTEN, ticket_id=7)
    await _at(web_app, datetime(2026, 11, 24, 9, 0), admin, AuditAction.TICKET_VIEW, ticket_id=8)
    await _at(web_app, datetime(2026, 11, 25, 0, 0), officer, AuditAction.TICKET_VIEW, ticket_id=9)
    client, _ = await web_app.signed_in(Role.AUDITOR)

    async def rows(**params: str) -> list[str]:
        r = await client.get("/nhat-ky", params=params)
        assert r.status == 200, await r.text()
        return ROW.findall(await r.text())

    day = await client.get("/nhat-ky", params={"date_from": "2026-11-24", "date_to": "2026-11-24"})
    html = await day.text()
    assert ROW.findall(html) == ["ticket.view", "recording.listen"]
    assert "24/11/2026 09:00:00" in html and "24/11/2026 00:30:00" in html and "Nghe ghi âm" in html
    assert '<a href="/phan-anh/7">số 7</a>' in html and "23/11/2026" not in html
    assert await rows(date_to="2026-11-23", username="canbo") == ["ticket.view"]
    assert await rows(date_from="2026-11-25", username="canbo") == ["ticket.view"]
    assert await rows(action="recording.listen") == ["recording.listen"]
    viewed = await client.get("/nhat-ky", params={"username": " CanBo ", "action": "ticket.view"})
    assert (
        'data-action="ticket.view"' in (page := await viewed.text()) and "số 9" in page and "số 8" not in page
    )
    assert '<option value="ticket.view" selected>Xem phản ánh</option>' in page  # the form keeps the filter
    # Empty fields, as a form sends them, are no filter.
    everything = await rows(username="", action="", date_from="", date_to="")
    assert everything.count("ticket.view") == 3 and "recording.listen" in everything
    for params, message in (
        ({"date_from": "24/11/2026"}, "Từ ngày: ngày không hợp lệ"),
        ({"date_from": "2026-11-25", "date_to": "2026-11-24"}, "Từ ngày phải trước hoặc bằng đến ngày"),
        ({"before_id": "0"}, "before_id"),
        ({"tim": "x"}, "tim"),
    ):
        r = await client.get("/nhat-ky", params=params)
        html = await r.text()
        assert r.status == 400 and '<p class="error" role="alert">' in html and message in html, params
        assert not ROW.findall(html)


async def test_older_entries_page_by_before_id(web_app: Web) -> None:
    officer = _officer(web_app)
    for ticket_id in range(1, PAGE_SIZE + 6):
        await web_app.audit.record(officer, AuditAction.TICKET_VIEW, ticket_id=ticket_id)
    client, _ = await web_app.signed_in(Role.ADMIN)
    first = await (await client.get("/nhat-ky", params={"action": "ticket.view"})).text()
    shown = [int(n) for n in re.findall(r'<a href="/phan-anh/(\d+)">', first)]
    assert shown == list(range(PAGE_SIZE + 5, 5, -1))  # newest first, one page
    older = re.search(r'<a href="(/nhat-ky\?action=ticket.view&amp;before_id=\d+)" rel="next">Cũ hơn', first)
    assert older is not None and "Mới nhất" not in first
    rest = await (await client.get(older.group(1).replace("&amp;", "&"))).text()
    assert [int(n) for n in re.findall(r'<a href="/phan-anh/(\d+)">', rest)] == [5, 4, 3, 2, 1]
    assert "Cũ hơn" not in rest and '<a href="/nhat-ky?action=ticket.view">‹ Mới nhất</a>' in rest


async def test_entries_show_no_callers_number_even_if_one_was_stored(web_app: Web) -> None:
    """The service refuses and masks such detail when writing; an entry stored around it (an old row, a
    bug) is masked on the page as well."""
    async with web_app.app.uow() as uow:
        await uow.audit.add(
            NewAuditEntry(
                at=web_app.clock(),
                user_id=None,
                username="retention",
                action="retention.recordings_deleted",
                ticket_id=None,
                recording_id=None,
                detail={"note": "gọi lại 0912345678", "count": 123456789, "ids": ["0983 214 568", 4]},
                remote="",
            )
        )
        await uow.commit()
    admin, csrf = await web_app.signed_in(Role.ADMIN)
    # And a user page change: its detail names the person changed, never their phone number.
    form = {"csrf_token": csrf, "action": "create", "username": "nguoimoi", "role": "auditor"}
    r = await admin.post(
        "/nguoi-dung",
        data={**form, "phone": "0983111222", "password": "mat-khau-moi-123"},
        allow_redirects=False,
    )
    assert r.status == 303
    html = await (await admin.get("/nhat-ky")).text()
    assert "Hết hạn lưu: xoá ghi âm" in html and "gọi lại [SĐT]" in html and "[SĐT], 4" in html
    assert "số lượng: 123456789" in html  # numbers are counts, not masked
    assert "Thêm người dùng" in html and "người dùng: nguoimoi" in html
    for number in ("0912345678", "0983 214 568", "0983214568", "0983111222"):
        assert number not in html
