"""The HTTP surface: security headers, body limits, validation errors naming the field, OpenAPI."""

from __future__ import annotations

import pytest
import structlog
import structlog.testing

from callcenter.domain.access import Role
from callcenter.web.context import WebConfig
from callcenter.web.routes import route_table
from callcenter.web.routing import (
    PUBLIC,
    SIGNED_IN,
    DuplicateRoute,
    Kind,
    Route,
    RouteTable,
    template,
)
from tests.web.conftest import PASSWORD, Web, WebFactory

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _check_security_headers(headers: object) -> None:
    h = dict(headers)  # type: ignore[call-overload]
    csp = h["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    for name, value in HEADERS.items():
        assert h[name] == value, name
    assert h["X-Request-ID"]


async def test_security_headers_on_pages_api_errors_and_redirects(web_app: Web) -> None:
    client = await web_app.client()
    for path, status in [
        ("/dang-nhap", 200),  # page
        ("/healthz", 200),  # API
        ("/api/me", 401),  # API error
        ("/khong-co", 404),  # page error
        ("/static/style.css", 200),  # static file
    ]:
        response = await client.get(path)
        assert response.status == status, path
        _check_security_headers(response.headers)
    redirect = await client.get("/", allow_redirects=False)
    assert redirect.status == 303
    _check_security_headers(redirect.headers)
    # Personal data must not linger in caches; the style sheet may.
    assert (await client.get("/api/me")).headers["Cache-Control"] == "no-store"
    assert "max-age" in (await client.get("/static/style.css")).headers["Cache-Control"]


async def test_oversized_body_is_413(make_web: WebFactory) -> None:
    web_app = await make_web(WebConfig(max_body_bytes=4096))
    client = await web_app.client()
    big = {"username": "x" * 5000, "password": PASSWORD}
    response = await client.post("/api/session", json=big)
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "too_large"

    # Without a Content-Length (chunked), aiohttp's own limit stops it while reading.
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"x" * 1000

    client2 = await web_app.client()
    csrf = (
        await (await client2.post("/api/session", json={"username": "quantri", "password": PASSWORD})).json()
    )["csrf_token"]
    response = await client2.post(
        "/api/users", data=chunks(), headers={"Content-Type": "application/json", "X-CSRF-Token": csrf}
    )
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "too_large"


async def test_default_limit_is_one_mebibyte(web_app: Web) -> None:
    client = await web_app.client()
    response = await client.post(
        "/api/session", data=b"{" + b" " * (1024 * 1024) + b"}", headers={"Content-Type": "application/json"}
    )
    assert response.status == 413


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": 123, "password": PASSWORD}, "username"),
        ({"username": "quantri"}, "password"),
        ({"username": "quantri", "password": PASSWORD, "remember": True}, "remember"),
        ({"username": "quantri", "password": ["a"]}, "password"),
    ],
)
async def test_wrong_types_are_400_naming_the_field(
    web_app: Web, body: dict[str, object], field: str
) -> None:
    client = await web_app.client()
    response = await client.post("/api/session", json=body)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["field"] == field and error["code"] == "invalid"
    assert " / " in error["message"]  # Vietnamese first, then English


async def test_admin_api_validation_names_the_field(web_app: Web) -> None:
    client, csrf = await web_app.signed_in(Role.ADMIN)
    h = {"X-CSRF-Token": csrf}
    cases = [
        ({"username": "moi1", "password": PASSWORD, "role": "sep"}, "role"),
        ({"username": "moi1", "password": PASSWORD, "role": "admin", "active": "yes"}, "active"),
        ({"username": "moi1", "password": 12345678901, "role": "admin"}, "password"),
        ({"username": "moi1", "password": PASSWORD, "role": "supervisor"}, "province"),
        (
            {"username": "moi1", "password": PASSWORD, "role": "facility_officer", "facility_code": "NOPE"},
            "facility_code",
        ),
        ({"username": "a", "password": PASSWORD, "role": "admin"}, "username"),
        ({"username": "moi1", "password": "ngan", "role": "admin"}, "password"),
    ]
    for body, field in cases:
        response = await client.post("/api/users", json=body, headers=h)
        assert response.status == 400, (body, await response.text())
        assert (await response.json())["error"]["field"] == field, body
    bad_query = await client.get("/api/audit?limit=nhieu")
    assert bad_query.status == 400 and (await bad_query.json())["error"]["field"] == "limit"
    bad_id = await client.get("/api/users/999999")
    assert bad_id.status == 404 and (await bad_id.json())["error"]["field"] == "user_id"


async def test_non_json_body_is_415_and_bad_json_is_400(web_app: Web) -> None:
    client = await web_app.client()
    form = await client.post("/api/session", data={"username": "quantri", "password": PASSWORD})
    assert form.status == 415
    broken = await client.post("/api/session", data=b"{nope", headers={"Content-Type": "application/json"})
    assert broken.status == 400 and (await broken.json())["error"]["code"] == "invalid_json"


async def test_unknown_paths_and_methods(web_app: Web) -> None:
    client = await web_app.client()
    api = await client.get("/api/khong-co")
    assert api.status == 404 and (await api.json())["error"]["code"] == "not_found"
    page = await client.get("/khong-co")
    assert page.status == 404 and "text/html" in page.headers["Content-Type"]
    assert '<html lang="vi">' in await page.text()
    wrong = await client.put("/api/me")
    assert wrong.status == 405 and (await wrong.json())["error"]["code"] == "method_not_allowed"


async def test_openapi_lists_every_api_route_of_the_table(web_app: Web) -> None:
    client = await web_app.client()
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    doc = await response.json()
    assert doc["openapi"].startswith("3.1")
    listed = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    table = route_table()
    expected = {(r.method, template(r.path)) for r in table if r.kind is Kind.API}
    assert listed == expected
    assert not any(path.startswith("/dang-") for _, path in listed)  # pages are not the API
    for route in table:
        if route.kind is not Kind.API:
            continue
        op = doc["paths"][template(route.path)][route.method.lower()]
        assert op["operationId"] == route.name and op["summary"] == route.summary
        assert op["security"] == ([] if route.public else op["security"]) and (route.public or op["security"])
        if route.body is not None:
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.split("/")[-1] in doc["components"]["schemas"]
        if route.response is not None:
            assert "content" in op["responses"][str(route.status)]
    create = doc["paths"]["/api/users"]["post"]
    assert create["security"] == [{"session": [], "csrf": []}]
    assert create["x-roles"] == ["admin"]
    user_schema = doc["components"]["schemas"]["UserCreateIn"]
    assert {"username", "password", "role"} <= set(user_schema["required"])
    assert doc["paths"]["/api/users/{user_id}"]["get"]["parameters"][0]["schema"]["type"] == "integer"
    assert {p["name"] for p in doc["paths"]["/api/audit"]["get"]["parameters"]} >= {
        "action",
        "limit",
        "since",
    }
    assert "Error" in str(doc["components"]["schemas"])


async def _ok(request: object) -> object:
    raise AssertionError


def test_duplicates_in_the_table_raise() -> None:
    def route(method: str, path: str, name: str) -> Route:
        return Route(
            method=method, path=path, handler=_ok, name=name, roles=PUBLIC, kind=Kind.API, summary="x"
        )  # type: ignore[arg-type]

    with pytest.raises(DuplicateRoute):
        RouteTable([route("GET", "/api/a", "a"), route("GET", "/api/a", "b")])
    with pytest.raises(DuplicateRoute):
        RouteTable([route("GET", "/api/a", "a"), route("POST", "/api/b", "a")])
    with pytest.raises(DuplicateRoute):  # the same URL, whatever the parameter's pattern
        RouteTable([route("GET", r"/api/u/{id:\d+}", "a"), route("GET", "/api/u/{id}", "b")])
    RouteTable([route("GET", "/api/a", "a"), route("POST", "/api/a", "b")])  # methods differ: fine
    with pytest.raises(ValueError, match="roles"):
        RouteTable(
            [
                Route(
                    method="GET",
                    path="/x",
                    handler=_ok,
                    name="x",
                    roles=frozenset(),
                    kind=Kind.PAGE,  # type: ignore[arg-type]
                    summary="x",
                )
            ]
        )
    with pytest.raises(ValueError, match="summary"):
        RouteTable(
            [
                Route(
                    method="GET",
                    path="/x",
                    handler=_ok,
                    name="x",
                    roles=SIGNED_IN,
                    kind=Kind.PAGE,  # type: ignore[arg-type]
                    summary=" ",
                )
            ]
        )


async def test_each_request_logs_its_id_and_user(web_app: Web) -> None:
    client, _ = await web_app.signed_in(Role.FACILITY_OFFICER)
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        response = await client.get("/api/me")
        anonymous = await (await web_app.client()).get("/api/me")
    [line] = [e for e in logs if e["event"] == "http.request" and e["status"] == 200]
    assert line["user"] == "canbo" and line["path"] == "/api/me" and line["method"] == "GET"
    assert line["request_id"] == response.headers["X-Request-ID"]
    [denied] = [e for e in logs if e["event"] == "http.request" and e["status"] == 401]
    assert denied["user"] is None and denied["request_id"] == anonymous.headers["X-Request-ID"]
    # The context does not leak into the next request on the same connection.
    assert structlog.contextvars.get_contextvars() == {}
