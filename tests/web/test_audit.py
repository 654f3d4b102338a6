"""The audit log: what is recorded, what never is, who may read it."""

from __future__ import annotations

import pytest
from aiohttp import web

from callcenter.domain.access import Principal, Role
from callcenter.services.audit import AuditAction, clean_detail
from callcenter.services.errors import PermissionDenied
from callcenter.services.ports_people import AuditFilter
from callcenter.web.context import audit, principal
from callcenter.web.io import json_response
from callcenter.web.routes import route_table
from callcenter.web.routing import TICKET_EDITORS, Kind, Route
from tests.web.conftest import Web, WebFactory

REQUIRED = {"login.ok", "login.failed", "logout", "ticket.view", "recording.listen", "ticket.update"}


def test_the_required_actions_exist() -> None:
    assert {a.value for a in AuditAction} >= REQUIRED


def test_detail_never_carries_caller_data() -> None:
    for key in ("caller_number", "transcript", "text", "phone", "Caller_Name", "password"):
        with pytest.raises(ValueError, match=key):
            clean_detail({key: "x"})
    cleaned = clean_detail({"status": "dang_xuly", "note": "gọi lại số 0912345678 giúp tôi", "fields": ["a"]})
    assert (
        "0912345678" not in str(cleaned) and cleaned["status"] == "dang_xuly" and cleaned["fields"] == ["a"]
    )
    with pytest.raises(ValueError, match="only strings"):
        clean_detail({"nested": {"a": 1}})


async def test_recorded_entries_are_read_back_newest_first_in_pages(web_app: Web) -> None:
    officer = Principal(
        web_app.ids[Role.FACILITY_OFFICER], "canbo", Role.FACILITY_OFFICER, facility_code="BVDK-TH"
    )
    for ticket_id in range(1, 6):
        await web_app.audit.record(officer, AuditAction.TICKET_VIEW, ticket_id=ticket_id, remote="10.0.0.9")
        web_app.clock.advance(seconds=1)
    await web_app.audit.record(officer, AuditAction.RECORDING_LISTEN, ticket_id=3, recording_id=12)

    client, _ = await web_app.signed_in(Role.AUDITOR)
    first = await (await client.get("/api/audit?action=ticket.view&limit=3")).json()
    assert [e["ticket_id"] for e in first["entries"]] == [5, 4, 3]
    assert first["entries"][0]["username"] == "canbo" and first["entries"][0]["remote"] == "10.0.0.9"
    rest = await (
        await client.get(f"/api/audit?action=ticket.view&limit=3&before_id={first['next_before_id']}")
    ).json()
    assert [e["ticket_id"] for e in rest["entries"]] == [2, 1] and rest["next_before_id"] is None
    listens = await (await client.get("/api/audit?ticket_id=3")).json()
    assert [e["action"] for e in listens["entries"]] == ["recording.listen", "ticket.view"]
    assert listens["entries"][0]["recording_id"] == 12
    since = web_app.clock().isoformat()
    recent = await client.get("/api/audit", params={"since": since, "action": "recording.listen"})
    assert len((await recent.json())["entries"]) == 1
    naive = await client.get("/api/audit", params={"since": "2026-11-23T10:00:00"})
    assert naive.status == 400 and (await naive.json())["error"]["field"] == "since"


async def test_only_admins_and_auditors_read_it(web_app: Web) -> None:
    supervisor = Principal(web_app.ids[Role.SUPERVISOR], "giamsat", Role.SUPERVISOR, province="Thanh Hóa")
    with pytest.raises(PermissionDenied):
        await web_app.audit.query(supervisor, AuditFilter())
    admin = Principal(web_app.ids[Role.ADMIN], "quantri", Role.ADMIN)
    assert isinstance(await web_app.audit.query(admin, AuditFilter(limit=10_000)), list)


async def test_a_handler_records_through_the_request_helper(make_web: WebFactory) -> None:
    """What a ticket page does: `await audit(request, AuditAction.TICKET_VIEW, ticket_id=...)`."""

    async def view_ticket(request: web.Request) -> web.StreamResponse:
        ticket_id = int(request.match_info["ticket_id"])
        await audit(request, AuditAction.TICKET_VIEW, ticket_id=ticket_id, detail={"tab": "transcript"})
        return json_response({"ticket_id": ticket_id, "viewer": principal(request).username})

    table = route_table()
    table.add(
        Route(
            method="GET",
            path=r"/api/test-only/tickets/{ticket_id:\d+}",
            handler=view_ticket,
            name="test_ticket_get",
            roles=TICKET_EDITORS,
            kind=Kind.API,
            summary="Một phản ánh / one ticket",
        )
    )
    web_app = await make_web(table=table)
    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    assert (await (await client.get("/api/test-only/tickets/42")).json()) == {
        "ticket_id": 42,
        "viewer": "giamsat",
    }
    auditor, _ = await web_app.signed_in(Role.AUDITOR)
    assert (await auditor.get("/api/test-only/tickets/42")).status == 403
    admin = Principal(web_app.ids[Role.ADMIN], "quantri", Role.ADMIN)
    [entry] = await web_app.audit.query(admin, AuditFilter(action="ticket.view"))
    assert (entry.username, entry.ticket_id, entry.detail, entry.remote) == (
        "giamsat",
        42,
        {"tab": "transcript"},
        "127.0.0.1",
    )
