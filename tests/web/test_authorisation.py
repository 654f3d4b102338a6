"""Every route of the table, for every role and for nobody: allowed, 401/redirect, or 403 as expected.

Adding a route to callcenter/web/routes.py without adding its expectation here fails
`test_every_route_has_an_expectation`: access is a decision to write down, not a default.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import ClientResponse

from callcenter.domain.access import Role
from callcenter.services.users import UserInput
from callcenter.web.routes import route_table
from callcenter.web.routing import (
    ADMINS,
    AUDIT_READERS,
    PUBLIC,
    SIGNED_IN,
    SUPERVISORS,
    TICKET_EDITORS,
    Access,
    Kind,
    Route,
)
from tests.web.conftest import PASSWORD, PEOPLE, Web

EXPECTED: dict[str, Access] = {
    "home": SIGNED_IN,
    "login_page": PUBLIC,
    "login_submit": PUBLIC,
    "logout_submit": SIGNED_IN,
    "static": PUBLIC,
    "healthz": PUBLIC,
    "readyz": PUBLIC,
    "metrics": PUBLIC,  # codes and counts only; the HTTP port is on loopback unless put behind a proxy
    "openapi": PUBLIC,
    "session_create": PUBLIC,
    "session_delete": SIGNED_IN,
    "me": SIGNED_IN,
    "users_list": ADMINS,
    "users_create": ADMINS,
    "users_get": ADMINS,
    "users_update": ADMINS,
    "users_deactivate": ADMINS,
    "users_password": ADMINS,
    "audit_query": AUDIT_READERS,
    # tickets: everyone signed in reads (the service narrows to their scope); auditors never change
    "tickets_page": SIGNED_IN,
    "ticket_page": SIGNED_IN,
    "ticket_submit": TICKET_EDITORS,
    "callback_queue_page": TICKET_EDITORS,
    "tickets_list": SIGNED_IN,
    "tickets_get": SIGNED_IN,
    "tickets_status": TICKET_EDITORS,
    "tickets_assign": TICKET_EDITORS,
    "tickets_deadline": TICKET_EDITORS,
    "tickets_note": TICKET_EDITORS,
    "tickets_result": TICKET_EDITORS,
    "tickets_category": TICKET_EDITORS,
    "tickets_hold": SUPERVISORS,
    "tickets_callback": TICKET_EDITORS,
    "tickets_callbacks": SIGNED_IN,
    "tickets_recording": SIGNED_IN,
    # facilities and roster: read by everyone signed in (in scope); the whole roster CSV by admins
    "facilities_page": SIGNED_IN,
    "facilities_list": SIGNED_IN,
    "roster_page": SIGNED_IN,
    "roster_week": SIGNED_IN,
    "roster_ical": SIGNED_IN,
    "roster_export": ADMINS,
    "roster_import": ADMINS,
    "roster_submit": ADMINS,
    "roster_override_add": ADMINS,
    "roster_override_delete": ADMINS,
    # the period report: every role, each over its own scope (tests/web/test_report_page.py)
    "report_page": SIGNED_IN,
    "report_xlsx": SIGNED_IN,
    "report_docx": SIGNED_IN,
    "report_api": SIGNED_IN,
    # the users page: admins only (tests/web/test_user_pages.py)
    "users_page": ADMINS,
    "users_submit": ADMINS,
    # the audit log page: as the API (tests/web/test_audit_page.py)
    "audit_page": AUDIT_READERS,
    # the live board: every role, each over the ticket list's scope (tests/web/test_board*.py)
    "board_page": SIGNED_IN,
    "board_api": SIGNED_IN,
    "board_events": SIGNED_IN,
}
FORBIDDEN_TEXT = "Bạn không có quyền truy cập"


def test_every_route_has_an_expectation() -> None:
    names = {r.name for r in route_table()}
    assert not names - EXPECTED.keys(), f"routes with no expectation here: {sorted(names - EXPECTED.keys())}"
    assert not EXPECTED.keys() - names, f"expectations for no route: {sorted(EXPECTED.keys() - names)}"


def test_the_table_grants_what_is_expected() -> None:
    for route in route_table():
        assert route.roles == EXPECTED[route.name], route.name


def _url(route: Route, params: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::[^{}]+)?\}", lambda m: params.get(m.group(1), "1"), route.path)


async def _call(client: Any, route: Route, params: dict[str, str], csrf: str | None) -> ClientResponse:
    headers = {"X-CSRF-Token": csrf} if csrf and route.state_changing else {}
    kwargs: dict[str, Any] = {"headers": headers, "allow_redirects": False}
    if route.body is not None:
        kwargs["json"] = {}
    response: ClientResponse = await client.request(route.method, _url(route, params), **kwargs)
    await response.read()
    return response


def _denied_as_anonymous(route: Route, r: ClientResponse, body: bytes) -> bool:
    if route.kind is Kind.PAGE:
        return r.status == 303 and r.headers.get("Location", "").startswith("/dang-nhap?next=")
    return r.status == 401 and b'"unauthenticated"' in body


def _forbidden(route: Route, r: ClientResponse, body: bytes) -> bool:
    if r.status != 403:
        return False
    if route.kind is Kind.PAGE:
        return FORBIDDEN_TEXT in body.decode()
    return b'"forbidden"' in body


async def test_every_route_enforces_its_roles(web_app: Web) -> None:
    # A user the admin routes may change (deactivate, reset) without touching the callers' accounts.
    target = await web_app.users.create(UserInput("muctieu", Role.AUDITOR), PASSWORD, web_app.clock())
    params = {"user_id": str(target.id), "name": "style.css"}
    problems: list[str] = []
    for route in route_table():
        expected = EXPECTED[route.name]
        anonymous = await web_app.client()
        r = await _call(anonymous, route, params, None)
        body = await r.read()
        if expected == PUBLIC:
            if _denied_as_anonymous(route, r, body) or _forbidden(route, r, body):
                problems.append(f"{route.name}: public, but nobody got {r.status}")
        elif not _denied_as_anonymous(route, r, body):
            problems.append(f"{route.name}: nobody got {r.status}, not 401 / redirect to sign-in")
        for role in Role:
            # A fresh session each time: logout or deactivate routes must not spoil the next check.
            client, csrf = await web_app.signed_in(role)
            r = await _call(client, route, params, csrf)
            body = await r.read()
            allowed = expected == PUBLIC or role in expected
            if allowed and (_forbidden(route, r, body) or _denied_as_anonymous(route, r, body)):
                problems.append(f"{route.name}: {role.value} is allowed but got {r.status} {body[:80]!r}")
            if not allowed and not _forbidden(route, r, body):
                problems.append(f"{route.name}: {role.value} must get 403, got {r.status}")
            if route.name in {"users_deactivate", "users_password"} and allowed:
                # Put the target back as it was, for the next role.
                await web_app.users.update(target.id, _reactivate(), web_app.clock())
    assert not problems, "\n".join(problems)


def _reactivate() -> Any:
    from callcenter.services.users import UserUpdate

    return UserUpdate(active=True)


async def test_every_state_changing_route_needs_the_csrf_token(web_app: Web) -> None:
    """Signed in with an allowed role, but without the token: 403 "csrf" on every one of them."""
    target = await web_app.users.create(UserInput("muctieu", Role.AUDITOR), PASSWORD, web_app.clock())
    params = {"user_id": str(target.id)}
    checked = []
    for route in route_table():
        if route.public or not route.state_changing:
            continue
        assert isinstance(route.roles, frozenset)
        role = sorted(route.roles)[0]
        client, _ = await web_app.signed_in(role)
        for token in (None, "sai-ma-csrf"):
            headers = {"X-CSRF-Token": token} if token else {}
            kwargs: dict[str, Any] = {"headers": headers, "allow_redirects": False}
            if route.body is not None:
                kwargs["json"] = {}
            r = await client.request(route.method, _url(route, params), **kwargs)
            assert r.status == 403, (route.name, token, r.status)
            if route.kind is Kind.API:
                assert (await r.json())["error"]["code"] == "csrf"
            else:
                assert "CSRF" in await r.text()
        # And the session is still there: a refused request changed nothing.
        assert (await client.get("/api/me")).status == 200
        checked.append(route.name)
    assert "session_delete" in checked and "logout_submit" in checked and "users_create" in checked


async def test_users_see_their_own_name_in_the_menu_bar(web_app: Web) -> None:
    for role, person in PEOPLE.items():
        client, _ = await web_app.signed_in(role)
        html = await (await client.get("/")).text()
        assert person.full_name in html
