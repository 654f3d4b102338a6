"""The HTML pages: the ticket list (filters, accent-insensitive search), one ticket with its forms,
the roster week and the facility registry; plus the facilities/roster API and the iCal feed."""

from __future__ import annotations

import re

from callcenter.domain.access import Role
from callcenter.services.users import UserInput
from tests.web.conftest import PASSWORD, Web, login
from tests.web.tickets_data import make_ticket


def _no_inline_script_or_style(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "style=" not in html and "<style" not in html and "onclick" not in html


async def test_list_page_searches_without_accents_and_filters(web_app: Web) -> None:
    tid = await make_ticket(web_app.app, web_app.clock)
    await make_ticket(web_app.app, web_app.clock, dialled="0912115224", transcribe=False)
    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    html = await (await client.get("/phan-anh", params={"text": "tieu duong", "status": ""})).text()
    _no_inline_script_or_style(html)
    assert f'href="/phan-anh/{tid}"' in html and "Tìm thấy 1 phản ánh" in html
    everything = await (await client.get("/phan-anh")).text()
    assert "Tìm thấy 2 phản ánh" in everything and 'aria-current="page"' in everything
    paged = await (await client.get("/phan-anh", params={"page_size": "1"})).text()
    assert "Trang sau" in paged and "page=2" in paged
    bad = await client.get("/phan-anh", params={"date_from": "hôm qua"})
    assert bad.status == 400 and "date_from" in await bad.text()


async def test_ticket_page_shows_the_call_and_its_forms(web_app: Web) -> None:
    tid = await make_ticket(web_app.app, web_app.clock)
    client, csrf = await web_app.signed_in(Role.SUPERVISOR)
    html = await (await client.get(f"/phan-anh/{tid}")).text()
    _no_inline_script_or_style(html)
    assert re.search(rf'<audio[^>]+src="/api/tickets/{tid}/recordings/\d+"[^>]+id="audio-mix"', html)
    assert html.count("<audio") == 3 and 'src="/static/ticket.js"' in html
    assert html.count('class="turn-button"') == 2 and 'data-start="0.5"' in html
    assert "0912345678" in html and "Trịnh Thị Mai" in html  # the caller (supervisor) and who answered
    assert 'data-status="dang_xu_ly"' in html and "Máy gợi ý: Thiếu thuốc" in html
    r = await client.post(
        f"/phan-anh/{tid}",
        data={"csrf_token": csrf, "action": "status", "status": "dang_xu_ly"},
        allow_redirects=False,
    )
    assert r.status == 303 and r.headers["Location"] == f"/phan-anh/{tid}?da_luu=1"
    after = await (await client.get(f"/phan-anh/{tid}?da_luu=1")).text()
    assert "Đã lưu thay đổi" in after and '<span class="badge status-dang_xu_ly" id="trang-thai">' in after
    for data in (
        {"action": "note", "text": "Đã gọi khoa Dược"},
        {"action": "result", "result_told": "Đã bổ sung thuốc"},
        {"action": "category", "category": "thieu_thuoc"},
        {"action": "deadline", "deadline": "2026-11-30T17:00"},
        {"action": "assign", "assignee_id": str(web_app.ids[Role.FACILITY_OFFICER])},
    ):
        r = await client.post(f"/phan-anh/{tid}", data={"csrf_token": csrf, **data}, allow_redirects=False)
        assert r.status == 303, (data, await r.text())
    done = await (await client.get(f"/phan-anh/{tid}")).text()
    assert "Đã gọi khoa Dược" in done and "Đã bổ sung thuốc" in done and "30/11/2026 17:00" in done
    assert "Trần Cán Bộ" in done
    wrong = await client.post(
        f"/phan-anh/{tid}", data={"csrf_token": csrf, "action": "note", "text": " "}, allow_redirects=False
    )
    assert wrong.status == 400 and "text:" in await wrong.text()
    unknown = await client.post(f"/phan-anh/{tid}", data={"csrf_token": csrf, "action": "xoa"})
    assert unknown.status == 400


async def test_officer_sees_masked_number_auditor_sees_no_forms(web_app: Web) -> None:
    tid = await make_ticket(web_app.app, web_app.clock)
    officer, _ = await web_app.signed_in(Role.FACILITY_OFFICER)
    html = await (await officer.get(f"/phan-anh/{tid}")).text()
    assert "*******678" in html and "0912345678" not in html and "0912 345 678" not in html
    auditor, _ = await web_app.signed_in(Role.AUDITOR)
    html = await (await auditor.get(f"/phan-anh/{tid}")).text()
    assert "<audio" in html and 'method="post" action="/phan-anh' not in html and "data-status" not in html


async def test_facilities_page_and_api_flag_hotlines_that_are_not_viettel(web_app: Web) -> None:
    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    body = await (await client.get("/api/facilities")).json()
    flagged = {f["code"] for f in body["facilities"] if f["not_viettel"]}
    assert flagged == {"BVNHI-TH", "TTYT-QX"} and len(body["facilities"]) == 5
    html = await (await client.get("/co-so")).text()
    _no_inline_script_or_style(html)
    assert html.count('class="flagged"') == 2 and "Không phải Viettel" in html
    officer, _ = await web_app.signed_in(Role.FACILITY_OFFICER)
    mine = await (await officer.get("/api/facilities")).json()
    assert [f["code"] for f in mine["facilities"]] == ["BVDK-TH"]


async def test_roster_week_api_and_page(web_app: Web) -> None:
    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    week = await (await client.get("/api/roster/BVDK-TH/week", params={"start": "2026-11-23"})).json()
    assert week["days"][0]["date"] == "2026-11-23" and len(week["days"]) == 7
    monday = week["days"][0]
    assert {d["tier"] for d in monday["duties"]} == {"duty_officer", "backup", "leader"}
    assert any(d["officer"] == "Trịnh Thị Mai" for d in monday["duties"])
    html = await (await client.get("/lich-truc/BVDK-TH", params={"start": "2026-11-23"})).text()
    _no_inline_script_or_style(html)
    assert "23/11/2026" in html and "Cán bộ trực" in html and "Tuần sau" in html
    gaps_somewhere = []
    for f in ("BVDK-TH", "BVNHI-TH", "TTYT-QX", "TTYT-HH", "TYT-QX-QNINH"):
        w = await (await client.get(f"/api/roster/{f}/week", params={"start": "2026-11-23"})).json()
        gaps_somewhere += w["gaps"]
        if w["gaps"]:
            page = await (await client.get(f"/lich-truc/{f}", params={"start": "2026-11-23"})).text()
            assert 'class="gap"' in page and "khoảng trống" in page
    bad = await client.get("/api/roster/BVDK-TH/week", params={"start": "23-11-2026"})
    assert bad.status == 400 and (await bad.json())["error"]["field"] == "start"
    assert (await client.get("/api/roster/NOPE/week")).status == 404
    officer, _ = await web_app.signed_in(Role.FACILITY_OFFICER)
    assert (await officer.get("/api/roster/BVNHI-TH/week")).status == 404
    assert (await officer.get("/api/roster/BVDK-TH/week")).status == 200


async def test_roster_gaps_are_shown(web_app: Web) -> None:
    admin, csrf = await web_app.signed_in(Role.ADMIN)
    csv_text = (
        "kind,facility,tier,name,recurrence,handoff,start,end,day_kinds,officers,reason\n"
        "rotation,TTYT-HH,duty_officer,hh-ngay-thuong,daily,07:30,2026-01-05,,workday,An:0983214567,\n"
    )
    r = await admin.post(
        "/api/roster/import",
        data=csv_text.encode(),
        headers={"X-CSRF-Token": csrf, "Content-Type": "text/csv"},
    )
    assert r.status == 200, await r.text()
    week = await (await admin.get("/api/roster/TTYT-HH/week", params={"start": "2026-11-23"})).json()
    assert any(g["tier"] == "duty_officer" for g in week["gaps"])  # the weekend has nobody
    saturday = next(d for d in week["days"] if d["date"] == "2026-11-28")
    assert saturday["gaps"]
    page = await (await admin.get("/lich-truc/TTYT-HH", params={"start": "2026-11-23"})).text()
    assert 'class="gap"' in page and "Thiếu Cán bộ trực" in page


async def test_roster_export_and_import(web_app: Web) -> None:
    admin, csrf = await web_app.signed_in(Role.ADMIN)
    exported = await admin.get("/api/roster/export")
    assert exported.status == 200 and exported.headers["Content-Type"].startswith("text/csv")
    text = await exported.text()
    assert "bvdk-truc-chinh" in text
    h = {"X-CSRF-Token": csrf, "Content-Type": "text/csv"}
    again = await admin.post("/api/roster/import", data=text.encode(), headers=h)
    assert again.status == 200 and (await again.json())["ok"] is True
    broken = text.replace("07:30", "25:99", 1)
    r = await admin.post("/api/roster/import", data=broken.encode(), headers=h)
    body = await r.json()
    assert r.status == 400 and body["ok"] is False and body["errors"][0]["field"] == "handoff"
    assert body["errors"][0]["row"] >= 2 and body["errors"][0]["reason"]
    assert body["error"]["field"] == "handoff"
    empty = await admin.post("/api/roster/import", data=b"", headers=h)
    assert empty.status == 400 and (await empty.json())["error"]["field"] == "body"
    latin = await admin.post("/api/roster/import", data="Hà".encode("utf-16"), headers=h)
    assert latin.status == 400
    as_json = await admin.post("/api/roster/import", json={"a": 1}, headers={"X-CSRF-Token": csrf})
    assert as_json.status == 415
    assert await (await admin.get("/api/roster/export")).text() == text  # the refused files changed nothing


async def test_ical_feed_needs_sign_in_and_lists_eight_weeks(web_app: Web) -> None:
    anonymous = await web_app.client()
    r = await anonymous.get("/ical/BVDK-TH.ics", allow_redirects=False)
    assert r.status == 303 and r.headers["Location"].startswith("/dang-nhap?next=")
    await web_app.users.create(
        UserInput("canbonhi", Role.FACILITY_OFFICER, facility_code="BVNHI-TH"), PASSWORD, web_app.clock()
    )
    other = await web_app.client()
    await login(other, "canbonhi")
    assert (await other.get("/ical/BVDK-TH.ics")).status == 404
    client, _ = await web_app.signed_in(Role.FACILITY_OFFICER)
    feed = await client.get("/ical/BVDK-TH.ics")
    assert feed.status == 200 and feed.headers["Content-Type"].startswith("text/calendar")
    text = await feed.text()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    events = text.count("BEGIN:VEVENT")
    assert events >= 56  # at least a duty officer a day for 8 weeks
    assert "DTSTART:2026" in text and "Trịnh Thị Mai" in text.replace("\r\n ", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
