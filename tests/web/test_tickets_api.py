"""The ticket API over a real ticket (call routed and ended, transcribed, recordings on disk): reading in
scope, changing, audit rows, hostile input, and streaming recordings with HTTP Range."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from callcenter.domain.access import Principal, Role
from callcenter.services.errors import NotFound
from callcenter.services.ports_people import AuditFilter
from callcenter.services.users import UserInput
from callcenter.web.tickets import recording_path, starts_listening
from tests.web.conftest import PASSWORD, Web, login
from tests.web.tickets_data import SCENARIO, make_ticket

MIX = "hotline-1795380439.44.wav"


async def _audit(web_app: Web, action: str) -> list[Any]:
    admin = Principal(web_app.ids[Role.ADMIN], "quantri", Role.ADMIN)
    return await web_app.audit.query(admin, AuditFilter(action=action))


async def _other_officer(web_app: Web) -> Any:
    """A facility officer of another facility (the children's hospital)."""
    await web_app.users.create(
        UserInput("canbonhi", Role.FACILITY_OFFICER, "Cán Bộ Nhi", facility_code="BVNHI-TH"),
        PASSWORD,
        web_app.clock(),
    )
    client = await web_app.client()
    csrf = await login(client, "canbonhi")
    return client, csrf


async def test_list_search_filters_and_pages(web_app: Web) -> None:
    first = await make_ticket(web_app.app, web_app.clock)
    second = await make_ticket(web_app.app, web_app.clock, dialled="0912115224", transcribe=False)
    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    everything = await (await client.get("/api/tickets")).json()
    assert everything["total"] == 2 and [t["id"] for t in everything["items"]] == [second, first]
    found = await (await client.get("/api/tickets", params={"text": "tieu duong"})).json()
    assert [t["id"] for t in found["items"]] == [first]
    assert (await (await client.get("/api/tickets", params={"text": "vac xin"})).json())["total"] == 0
    paged = await (await client.get("/api/tickets", params={"page_size": "1", "page": "2"})).json()
    assert (paged["total"], paged["pages"], [t["id"] for t in paged["items"]]) == (2, 2, [first])
    by_facility = await (await client.get("/api/tickets", params={"facility_code": "BVNHI-TH"})).json()
    assert [t["id"] for t in by_facility["items"]] == [second]
    by_category = await (await client.get("/api/tickets", params={"category": "thieu_thuoc"})).json()
    assert [t["id"] for t in by_category["items"]] == [first]
    assert (await (await client.get("/api/tickets", params={"overdue": "true"})).json())["total"] == 0
    dated = await client.get("/api/tickets", params={"date_from": "2026-11-23", "date_to": "2026-11-23"})
    assert (await dated.json())["total"] == 2
    for params, field in [
        ({"status": "bogus"}, "status"),
        ({"page": "abc"}, "page"),
        ({"page_size": "100000"}, "page_size"),
        ({"date_from": "23/11/2026"}, "date_from"),
        ({"overdue": "maybe"}, "overdue"),
        ({"category": "nope"}, "category"),
        ({"date_from": "2026-11-24", "date_to": "2026-11-23"}, "date_to"),
        ({"unknown": "1"}, "unknown"),
        ({"text": "x" * 201}, "text"),
    ]:
        r = await client.get("/api/tickets", params=params)
        assert r.status == 400, params
        assert (await r.json())["error"]["field"] == field, params


async def test_read_one_ticket_is_audited_and_masked_per_role(web_app: Web) -> None:
    tid = await make_ticket(web_app.app, web_app.clock)
    supervisor, _ = await web_app.signed_in(Role.SUPERVISOR)
    body = await (await supervisor.get(f"/api/tickets/{tid}")).json()
    assert body["ticket"]["caller_number"] == "0912345678" and body["can_edit"] is True
    assert body["next_statuses"] == ["dang_xu_ly", "chuyen"] or "dang_xu_ly" in body["next_statuses"]
    assert [r["kind"] for r in body["recordings"]] == ["mix", "caller", "officer"]
    assert body["recordings"][0]["url"] == f"/api/tickets/{tid}/recordings/{body['recordings'][0]['id']}"
    assert [t["speaker"] for t in body["transcript"]["turns"]] == ["caller", "officer"]
    assert body["call"]["answered_by"] and body["call"]["attempts"][0]["result"] == "answered"
    [view] = await _audit(web_app, "ticket.view")
    assert (view.username, view.ticket_id) == ("giamsat", tid)

    officer, _ = await web_app.signed_in(Role.FACILITY_OFFICER)
    mine = await (await officer.get(f"/api/tickets/{tid}")).json()
    assert mine["ticket"]["caller_number"] == "*******678" and mine["caller_name"] is None
    assert "0912 345 678" not in str(mine) and mine["transcript"]["masked"] is True

    auditor, _ = await web_app.signed_in(Role.AUDITOR)
    seen = await (await auditor.get(f"/api/tickets/{tid}")).json()
    assert seen["can_edit"] is False and seen["next_statuses"] == []


async def test_another_facilitys_officer_sees_nothing(web_app: Web) -> None:
    tid = await make_ticket(web_app.app, web_app.clock)
    client, csrf = await _other_officer(web_app)
    assert (await (await client.get("/api/tickets")).json())["total"] == 0
    for url in (f"/api/tickets/{tid}", f"/api/tickets/{tid}/recordings/1", f"/phan-anh/{tid}"):
        assert (await client.get(url)).status == 404, url
    r = await client.post(
        f"/api/tickets/{tid}/status", json={"status": "dang_xu_ly"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status == 404
    assert await _audit(web_app, "ticket.view") == [] and await _audit(web_app, "recording.listen") == []


async def test_changes_are_applied_and_audited(web_app: Web) -> None:
    tid = await make_ticket(web_app.app, web_app.clock)
    client, csrf = await web_app.signed_in(Role.SUPERVISOR)
    h = {"X-CSRF-Token": csrf}

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await client.post(f"/api/tickets/{tid}/{path}", json=body, headers=h)
        assert r.status == 200, await r.text()
        result: dict[str, Any] = await r.json()
        return result

    assert (await post("status", {"status": "dang_xu_ly"}))["ticket"]["status"] == "dang_xu_ly"
    officer_id = web_app.ids[Role.FACILITY_OFFICER]
    assert (await post("assign", {"assignee_id": officer_id}))["ticket"]["assignee_id"] == officer_id
    deadline = (await post("deadline", {"deadline": "2026-11-30T17:00:00+07:00"}))["ticket"]
    assert deadline["deadline"].startswith("2026-11-30T10:00") and deadline["deadline_is_default"] is False
    assert (await post("deadline", {"deadline": None}))["ticket"]["deadline_is_default"] is True
    assert (await post("notes", {"text": "Đã gọi cho khoa Dược"}))["notes"][0][
        "text"
    ] == "Đã gọi cho khoa Dược"
    assert (await post("result", {"text": "Đã bổ sung thuốc"}))["result_told"] == "Đã bổ sung thuốc"
    assert (await post("category", {"category": "thieu_thuoc"}))["ticket"][
        "category_confirmed"
    ] == "thieu_thuoc"
    done = await post("status", {"status": "da_giai_quyet"})
    assert done["ticket"]["status"] == "da_giai_quyet" and done["ticket"]["resolved_at"]
    updates = await _audit(web_app, "ticket.update")
    assert sorted(e.detail["field"] for e in updates) == sorted(
        ["status", "assignee", "deadline", "deadline", "note", "result_told", "category", "status"]
    )
    assert {e.ticket_id for e in updates} == {tid}
    kinds = [h["kind"] for h in done["history"]]
    assert "status_changed" in kinds and "note_added" in kinds


async def test_auditors_cannot_change_anything(web_app: Web) -> None:
    tid = await make_ticket(web_app.app, web_app.clock)
    client, csrf = await web_app.signed_in(Role.AUDITOR)
    r = await client.post(
        f"/api/tickets/{tid}/notes", json={"text": "xin chào"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status == 403 and await _audit(web_app, "ticket.update") == []


async def test_hostile_input_is_refused_naming_the_field(web_app: Web) -> None:
    tid = await make_ticket(web_app.app, web_app.clock, transcribe=False)
    client, csrf = await web_app.signed_in(Role.SUPERVISOR)
    h = {"X-CSRF-Token": csrf}
    cases: list[tuple[str, Any, int, str | None]] = [
        ("status", {"status": 1}, 400, "status"),
        ("status", {"status": "xong"}, 400, "status"),
        ("status", {"status": "da_giai_quyet"}, 400, "result_told"),
        ("status", {"status": "chuyen"}, 400, "forwarded_to"),
        ("status", {"status": "dang_xu_ly", "admin": True}, 400, "admin"),
        ("assign", {"assignee_id": "5"}, 400, "assignee_id"),
        ("assign", {"assignee_id": 999999}, 400, "assignee_id"),
        ("assign", {}, 400, "assignee_id"),
        ("deadline", {"deadline": "2026-11-30T17:00:00"}, 400, "deadline"),
        ("deadline", {"deadline": "2020-01-01T00:00:00+07:00"}, 400, "deadline"),
        ("deadline", {"deadline": 12}, 400, "deadline"),
        ("notes", {"text": ""}, 400, "text"),
        ("notes", {"text": "x" * 5001}, 400, "text"),
        ("notes", {"text": ["a"]}, 400, "text"),
        ("notes", [1, 2], 400, None),
        ("result", {"text": None}, 400, "text"),
        ("category", {"category": "khong_dung_tham_quyen"}, 400, "category"),
        ("category", {"category": "vui_ve"}, 400, "category"),
    ]
    for path, body, status, field in cases:
        r = await client.post(f"/api/tickets/{tid}/{path}", json=body, headers=h)
        assert r.status == status, (path, body, r.status)
        if field:
            assert (await r.json())["error"]["field"] == field, (path, body)
    bad_json = await client.post(
        f"/api/tickets/{tid}/notes", data=b"{not json", headers={**h, "Content-Type": "application/json"}
    )
    assert bad_json.status == 400 and (await bad_json.json())["error"]["code"] == "invalid_json"
    form = await client.post(f"/api/tickets/{tid}/notes", data={"text": "x"}, headers=h)
    assert form.status == 415
    huge = await client.post(
        f"/api/tickets/{tid}/notes",
        data=b'{"text": "' + b"x" * (web_app.config.max_body_bytes + 10) + b'"}',
        headers={**h, "Content-Type": "application/json"},
    )
    assert huge.status == 413
    for url in ("/api/tickets/abc", "/api/tickets/-1", "/api/tickets/1.5", "/api/tickets/99999"):
        assert (await client.get(url)).status == 404, url
    r = await client.post("/api/tickets/abc/status", json={"status": "dang_xu_ly"}, headers=h)
    assert r.status == 404
    assert await _audit(web_app, "ticket.update") == []


async def test_recordings_stream_with_range_and_are_audited_once_per_listen(web_app: Web) -> None:
    tid = await make_ticket(web_app.app, web_app.clock)
    client, _ = await web_app.signed_in(Role.FACILITY_OFFICER)
    detail = await (await client.get(f"/api/tickets/{tid}")).json()
    mix = next(r for r in detail["recordings"] if r["kind"] == "mix")
    data = (SCENARIO / MIX).read_bytes()

    whole = await client.get(mix["url"])
    assert whole.status == 200 and whole.headers["Content-Type"] == "audio/wav"
    assert await whole.read() == data and whole.headers.get("Accept-Ranges") == "bytes"
    first = await client.get(mix["url"], headers={"Range": "bytes=0-99"})
    assert first.status == 206 and first.headers["Content-Range"] == f"bytes 0-99/{len(data)}"
    assert await first.read() == data[:100]
    middle = await client.get(mix["url"], headers={"Range": "bytes=1000-1999"})
    assert middle.status == 206 and await middle.read() == data[1000:2000]
    assert middle.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    tail = await client.get(mix["url"], headers={"Range": "bytes=-10"})
    assert tail.status == 206 and await tail.read() == data[-10:]
    beyond = await client.get(mix["url"], headers={"Range": f"bytes={len(data) + 5}-"})
    assert beyond.status == 416
    listens = await _audit(web_app, "recording.listen")
    assert len(listens) == 2  # the request without Range and the one starting at byte 0
    assert {(e.username, e.ticket_id, e.recording_id) for e in listens} == {("canbo", tid, mix["id"])}


async def test_recording_ids_cannot_reach_other_files(web_app: Web, tmp_path: Path) -> None:
    tid = await make_ticket(web_app.app, web_app.clock)
    client, _ = await web_app.signed_in(Role.ADMIN)
    base = f"/api/tickets/{tid}/recordings/"
    for rid in (
        "../../../../etc/passwd",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "1%00",
        "abc",
        "-1",
        "99999",
        MIX,
    ):
        r = await client.get(base + rid)
        assert r.status in (404, 400), (rid, r.status)
        assert b"root:" not in await r.read()
    other = await make_ticket(web_app.app, web_app.clock, dialled="0912115224", transcribe=False, copy=False)
    other_recordings = (await (await client.get(f"/api/tickets/{other}")).json())["recordings"]
    mine = (await (await client.get(f"/api/tickets/{tid}")).json())["recordings"]
    for r in other_recordings:  # another ticket's recording id under this ticket: not found
        assert (await client.get(base + str(r["id"]))).status == 404
    os.remove(Path(web_app.app.settings.recordings.dir) / MIX)  # gone from disk: 404, not a 500
    assert (await client.get(mine[0]["url"])).status == 404


def test_recording_path_stays_under_the_directory(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    root.mkdir()
    (root / "a.wav").write_bytes(b"RIFF")
    (tmp_path / "secret.wav").write_bytes(b"secret")
    (root / "link.wav").symlink_to(tmp_path / "secret.wav")
    assert recording_path(root, "a.wav") == (root / "a.wav").resolve()
    for name in ("../secret.wav", "link.wav", "/etc/passwd", "", ".", "missing.wav"):
        with pytest.raises(NotFound):
            recording_path(root, name)


def test_which_requests_count_as_a_listen() -> None:
    assert starts_listening(None) and starts_listening("bytes=0-") and starts_listening("bytes=0-99")
    assert not starts_listening("bytes=100-") and not starts_listening("bytes=-500")
    assert not starts_listening("rubbish")


async def test_openapi_documents_the_ticket_api(web_app: Web) -> None:
    client = await web_app.client()
    doc = await (await client.get("/api/openapi.json")).json()
    paths = doc["paths"]
    for path in (
        "/api/tickets",
        "/api/tickets/{ticket_id}",
        "/api/tickets/{ticket_id}/status",
        "/api/tickets/{ticket_id}/recordings/{recording_id}",
        "/api/facilities",
        "/api/roster/{facility_code}/week",
        "/api/roster/export",
        "/api/roster/import",
    ):
        assert path in paths, path
    listing = paths["/api/tickets"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"status", "text", "page", "page_size", "overdue"}
    status = paths["/api/tickets/{ticket_id}/status"]["post"]
    assert "requestBody" in status and status["x-roles"] == ["admin", "facility_officer", "supervisor"]
    assert "TicketDetailOut" in doc["components"]["schemas"]


async def test_a_supervisor_holds_a_ticket_and_an_officer_cannot(web_app: Web) -> None:
    tid = await make_ticket(web_app.app, web_app.clock)
    client, csrf = await web_app.signed_in(Role.SUPERVISOR)
    r = await client.post(f"/api/tickets/{tid}/hold", json={"hold": True}, headers={"X-CSRF-Token": csrf})
    assert r.status == 200, await r.text()
    assert (await r.json())["hold"] is True
    assert [e.ticket_id for e in await _audit(web_app, "ticket.hold")] == [tid]
    officer, officer_csrf = await web_app.signed_in(Role.FACILITY_OFFICER)
    r = await officer.post(
        f"/api/tickets/{tid}/hold", json={"hold": False}, headers={"X-CSRF-Token": officer_csrf}
    )
    assert r.status == 403
    r = await client.post(f"/api/tickets/{tid}/hold", json={"hold": "yes"}, headers={"X-CSRF-Token": csrf})
    assert r.status == 400  # a bool, not a word
    assert (await (await client.get(f"/api/tickets/{tid}")).json())["hold"] is True
