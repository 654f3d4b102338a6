"""The ticket page's hold button ("Giữ lại" / "Bỏ giữ lại"): supervisors and admins set and clear it,
through the same service method as POST /api/tickets/{id}/hold; everyone who sees the ticket sees that it
is held; facility officers and auditors cannot change it. Both databases."""

from __future__ import annotations

from callcenter.domain.access import Principal, Role
from callcenter.services.ports_people import AuditFilter
from tests.web.conftest import Web
from tests.web.tickets_data import make_ticket

HELD = '<span class="badge" id="giu-lai">Đang giữ lại</span>'


async def _held(web_app: Web, tid: int) -> bool:
    admin = Principal(web_app.ids[Role.ADMIN], "quantri", Role.ADMIN)
    return (await web_app.app.tickets.get(admin, tid, web_app.clock())).hold


async def test_a_supervisor_holds_and_releases_a_ticket_on_its_page(web_app: Web) -> None:
    tid = await make_ticket(web_app.app, web_app.clock, transcribe=False)
    client, csrf = await web_app.signed_in(Role.SUPERVISOR)
    page = await (await client.get(f"/phan-anh/{tid}")).text()
    assert HELD not in page and '<input type="hidden" name="hold" value="1">' in page
    assert ">Giữ lại</button>" in page
    r = await client.post(
        f"/phan-anh/{tid}", data={"csrf_token": csrf, "action": "hold", "hold": "1"}, allow_redirects=False
    )
    assert r.status == 303 and r.headers["Location"] == f"/phan-anh/{tid}?da_luu=1"
    assert await _held(web_app, tid)
    page = await (await client.get(r.headers["Location"])).text()
    assert HELD in page and ">Bỏ giữ lại</button>" in page and "Giữ lại hồ sơ · giamsat" in page
    api = await (await client.get(f"/api/tickets/{tid}")).json()
    assert api["hold"] is True  # the same state the API reads
    # Everyone who sees the ticket sees that it is held; only supervisors and admins get the button.
    for role in (Role.FACILITY_OFFICER, Role.AUDITOR):
        other, _ = await web_app.signed_in(role)
        html = await (await other.get(f"/phan-anh/{tid}")).text()
        assert HELD in html and 'name="hold"' not in html, role
    admin, admin_csrf = await web_app.signed_in(Role.ADMIN)
    r = await admin.post(
        f"/phan-anh/{tid}",
        data={"csrf_token": admin_csrf, "action": "hold", "hold": "0"},
        allow_redirects=False,
    )
    assert r.status == 303 and not await _held(web_app, tid)
    page = await (await admin.get(f"/phan-anh/{tid}")).text()
    assert HELD not in page and "Bỏ giữ lại hồ sơ · quantri" in page
    me = Principal(web_app.ids[Role.ADMIN], "quantri", Role.ADMIN)
    entries = await web_app.audit.query(me, AuditFilter(ticket_id=tid))
    assert [(e.action, e.username) for e in entries if e.action.startswith("ticket.hold")] == [
        ("ticket.hold_released", "quantri"),
        ("ticket.hold", "giamsat"),
    ]
    bad = await admin.post(
        f"/phan-anh/{tid}", data={"csrf_token": admin_csrf, "action": "hold", "hold": "có"}
    )
    assert bad.status == 400 and "hold: Giá trị giữ lại không hợp lệ" in await bad.text()
    assert not await _held(web_app, tid)


async def test_officers_and_auditors_cannot_hold(web_app: Web) -> None:
    tid = await make_ticket(web_app.app, web_app.clock, transcribe=False)
    # The officer's own facility's ticket: the service refuses; the auditor: the route does.
    for role, message in (
        (Role.FACILITY_OFFICER, "chỉ giám sát viên được giữ lại hồ sơ"),
        (Role.AUDITOR, "Bạn không có quyền truy cập"),
    ):
        client, csrf = await web_app.signed_in(role)
        r = await client.post(f"/phan-anh/{tid}", data={"csrf_token": csrf, "action": "hold", "hold": "1"})
        assert r.status == 403 and message in await r.text(), role
    assert not await _held(web_app, tid)
