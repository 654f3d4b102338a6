"""Roster editing by admins: one-off overrides (API and page forms), the CSV upload form with its report."""

from __future__ import annotations

from callcenter.domain.access import Principal, Role
from callcenter.services.ports_people import AuditFilter
from tests.web.conftest import Web

ROTA = (
    "kind,facility,tier,name,recurrence,handoff,start,end,day_kinds,officers,reason\n"
    "rotation,TTYT-HH,duty_officer,hh-ngay-thuong,daily,07:30,2026-01-05,,workday,An:0983214567,\n"
)
WEEK = {"start": "2026-11-23"}


def _saturday_duty_gaps(week: dict[str, object]) -> list[object]:
    days = week["days"]
    assert isinstance(days, list)
    saturday = next(d for d in days if d["date"] == "2026-11-28")
    return [g for g in saturday["gaps"] if g["tier"] == "duty_officer"]


async def test_override_api_fills_a_gap_and_deleting_it_on_the_page_shows_it_red(web_app: Web) -> None:
    admin, csrf = await web_app.signed_in(Role.ADMIN)
    h = {"X-CSRF-Token": csrf}
    r = await admin.post("/api/roster/import", data=ROTA.encode(), headers={**h, "Content-Type": "text/csv"})
    assert r.status == 200
    week = await (await admin.get("/api/roster/TTYT-HH/week", params=WEEK)).json()
    assert _saturday_duty_gaps(week)
    body = {
        "tier": "duty_officer",
        "officer": "Bình",
        "phone": "0983 214 568",
        "start": "2026-11-28T07:30:00+07:00",
        "end": "2026-11-30T07:30:00+07:00",
        "reason": "trực cuối tuần",
    }
    added = await admin.post("/api/roster/TTYT-HH/overrides", json=body, headers=h)
    assert added.status == 201, await added.text()
    override = await added.json()
    assert override["phone"] == "0983214568" and override["id"] > 0
    week = await (await admin.get("/api/roster/TTYT-HH/week", params=WEEK)).json()
    assert not _saturday_duty_gaps(week) and [o["id"] for o in week["overrides"]] == [override["id"]]
    page = await (await admin.get("/lich-truc/TTYT-HH", params=WEEK)).text()
    assert "Bình (0983214568)" in page and "Thiếu Cán bộ trực</strong> 28/11" not in page
    assert 'value="confirm_delete_override"' in page and "/api/roster/export" in page
    # Refusals name the field.
    for bad, field in (
        ({**body, "end": body["start"]}, "end"),
        ({**body, "phone": "12ab"}, "phone"),
        ({**body, "start": "2026-11-28T07:30:00"}, "start"),
        ({**body, "tier": "chief"}, "tier"),
    ):
        r = await admin.post("/api/roster/TTYT-HH/overrides", json=bad, headers=h)
        assert r.status == 400 and (await r.json())["error"]["field"] == field, (field, await r.text())
    # Delete through the page form: the list's button only asks, naming the override ...
    asked = await admin.post(
        "/lich-truc/TTYT-HH?start=2026-11-23",
        data={"csrf_token": csrf, "action": "confirm_delete_override", "override_id": str(override["id"])},
    )
    confirm = await asked.text()
    assert asked.status == 200 and "Xoá lịch trực đột xuất?" in confirm and "Xoá hẳn" in confirm
    assert "Bình (0983214568)" in confirm and 'value="delete_override"' in confirm
    week = await (await admin.get("/api/roster/TTYT-HH/week", params=WEEK)).json()
    assert [o["id"] for o in week["overrides"]] == [override["id"]]  # nothing deleted yet
    # ... and its second button deletes: the Saturday gap is back, in red.
    r = await admin.post(
        "/lich-truc/TTYT-HH?start=2026-11-23",
        data={"csrf_token": csrf, "action": "delete_override", "override_id": str(override["id"])},
        allow_redirects=False,
    )
    assert r.status == 303 and r.headers["Location"].startswith("/lich-truc/TTYT-HH?start=2026-11-23")
    page = await (await admin.get(r.headers["Location"])).text()
    assert "Đã lưu lịch trực." in page and '<li class="gap"><strong>Thiếu Cán bộ trực:</strong> 28/11' in page
    assert (await admin.delete(f"/api/roster/overrides/{override['id']}", headers=h)).status == 404


async def test_page_forms_add_an_override_and_report_a_bad_csv(web_app: Web) -> None:
    admin, csrf = await web_app.signed_in(Role.ADMIN)
    form = {
        "csrf_token": csrf,
        "action": "add_override",
        "tier": "backup",
        "officer": "Chi",
        "phone": "0983214569",
        "start": "2026-11-24T08:00",
        "end": "2026-11-24T17:00",
        "reason": "",
    }
    r = await admin.post("/lich-truc/BVDK-TH?start=2026-11-23", data=form, allow_redirects=False)
    assert r.status == 303
    week = await (await admin.get("/api/roster/BVDK-TH/week", params=WEEK)).json()
    (o,) = week["overrides"]
    assert o["start"] == "2026-11-24T08:00:00+07:00" and o["tier"] == "backup"
    bad = await admin.post("/lich-truc/BVDK-TH", data={**form, "end": "2026-11-24T07:00"})
    assert bad.status == 400 and "end:" in await bad.text()
    before = await (await admin.get("/api/roster/export")).text()
    broken = before.replace("07:30", "25:99", 1)
    from aiohttp import FormData

    upload = FormData()
    upload.add_field("csrf_token", csrf)
    upload.add_field("action", "import")
    upload.add_field("csv_file", broken.encode(), filename="lich.csv", content_type="text/csv")
    r = await admin.post("/lich-truc/BVDK-TH", data=upload)
    html = await r.text()
    assert r.status == 400 and "chưa nhập gì" in html and "<td>handoff</td>" in html
    assert "style=" not in html and "<style" not in html
    assert await (await admin.get("/api/roster/export")).text() == before
    good = FormData()
    good.add_field("csrf_token", csrf)
    good.add_field("action", "import")
    good.add_field("csv_file", before.encode(), filename="lich.csv", content_type="text/csv")
    r = await admin.post("/lich-truc/BVDK-TH", data=good, allow_redirects=False)
    assert r.status == 303
    pasted = await admin.post(
        "/lich-truc/BVDK-TH", data={"csrf_token": csrf, "action": "import", "csv_text": before}
    )
    assert pasted.status == 200 and "Đã lưu lịch trực." in await pasted.text()
    supervisor, s_csrf = await web_app.signed_in(Role.SUPERVISOR)
    page = await (await supervisor.get("/lich-truc/BVDK-TH", params=WEEK)).text()
    assert "add_override" not in page and "/api/roster/export" not in page
    r = await supervisor.post("/lich-truc/BVDK-TH", data={**form, "csrf_token": s_csrf})
    assert r.status == 403


async def test_roster_edits_are_in_the_audit_log_without_names_or_numbers(web_app: Web) -> None:
    admin, csrf = await web_app.signed_in(Role.ADMIN)
    h = {"X-CSRF-Token": csrf}
    r = await admin.post("/api/roster/import", data=ROTA.encode(), headers={**h, "Content-Type": "text/csv"})
    assert r.status == 200
    body = {
        "tier": "duty_officer",
        "officer": "Bình",
        "phone": "0983214568",
        "start": "2026-11-28T07:30:00+07:00",
        "end": "2026-11-30T07:30:00+07:00",
        "reason": "trực cuối tuần",
    }
    override = await (await admin.post("/api/roster/TTYT-HH/overrides", json=body, headers=h)).json()
    assert (await admin.delete(f"/api/roster/overrides/{override['id']}", headers=h)).status == 204
    me = Principal(web_app.ids[Role.ADMIN], "quantri", Role.ADMIN)
    entries = await web_app.audit.query(me, AuditFilter(username="quantri"))
    roster = [(e.action, e.detail) for e in entries if e.action.startswith("roster.")]
    assert sorted(a for a, _ in roster) == ["roster.import", "roster.override_add", "roster.override_delete"]
    added = next(d for a, d in roster if a == "roster.override_add")
    assert added["facility"] == "TTYT-HH" and added["override_id"] == override["id"]
    assert added["tier"] == "duty_officer" and added["start"].startswith("2026-11-28")
    assert "Bình" not in str(roster) and "0983214568" not in str(roster)
