"""Signing in and out: cookies, expiry, revocation, the sign-in rate limit (persisted in the audit log)."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from callcenter.domain.access import Role
from callcenter.services.sessions import SessionPolicy
from callcenter.storage.models import AuditRow, WebSessionRow
from callcenter.web.context import WebConfig
from tests.web.conftest import PASSWORD, PEOPLE, Web, WebFactory, login

ADMIN = PEOPLE[Role.ADMIN].username


async def _audit_rows(web: Web, action: str) -> list[AuditRow]:
    async with AsyncSession(web.app.engine) as session:
        rows = (await session.execute(select(AuditRow).where(AuditRow.action == action))).scalars()
        return list(rows)


async def test_api_login_sets_a_session_cookie_and_me_answers(web_app: Web) -> None:
    client = await web_app.client()
    response = await client.post("/api/session", json={"username": "QuanTri ", "password": PASSWORD})
    assert response.status == 201
    body = await response.json()
    assert body["user"]["username"] == ADMIN and body["user"]["role"] == "admin"
    assert "password_hash" not in body["user"]
    me = await client.get("/api/me")
    assert me.status == 200
    me_body = await me.json()
    assert me_body["user"]["role_label"] == "Quản trị"
    assert me_body["csrf_token"] == body["csrf_token"]
    [ok] = await _audit_rows(web_app, "login.ok")
    assert ok.username == ADMIN and ok.user_id == web_app.ids[Role.ADMIN] and ok.remote == "127.0.0.1"


async def test_only_the_token_hash_is_stored(web_app: Web) -> None:
    client = await web_app.client()
    await login(client, ADMIN)
    token = client.session.cookie_jar.filter_cookies(client.make_url("/"))["cc_session"].value
    assert len(token) >= 43  # 32 random bytes, base64url
    async with AsyncSession(web_app.app.engine) as session:
        rows = list((await session.execute(select(WebSessionRow))).scalars())
    assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]


async def test_wrong_password_and_unknown_user_fail_alike(web_app: Web) -> None:
    client = await web_app.client()
    wrong = await client.post("/api/session", json={"username": ADMIN, "password": "sai-mat-khau-roi"})
    unknown = await client.post("/api/session", json={"username": "khongco", "password": "sai-mat-khau-roi"})
    assert wrong.status == unknown.status == 401
    assert (await wrong.json()) == (await unknown.json())
    assert (await wrong.json())["error"]["code"] == "bad_credentials"
    assert "cc_session" not in wrong.cookies
    assert (await client.get("/api/me")).status == 401
    failed = await _audit_rows(web_app, "login.failed")
    # A name typed for nobody is kept only as a hash: it may be a password typed in the wrong box.
    assert sorted(r.username[:1] == "?" for r in failed) == [False, True]
    assert all("khongco" not in r.username for r in failed)


async def test_a_deactivated_user_cannot_sign_in(web_app: Web) -> None:
    await web_app.users.deactivate(web_app.ids[Role.AUDITOR], web_app.clock())
    client = await web_app.client()
    response = await client.post("/api/session", json={"username": "kiemtra", "password": PASSWORD})
    assert response.status == 401


async def test_form_login_redirects_to_next_and_logout_revokes(web_app: Web) -> None:
    client = await web_app.client()
    page = await client.get("/dang-nhap?next=/api/me")
    assert page.status == 200
    html = await page.text()
    token = re.search(r'name="login_token" value="([^"]+)"', html)
    assert token is not None
    response = await client.post(
        "/dang-nhap",
        data={"username": ADMIN, "password": PASSWORD, "login_token": token.group(1), "next": "/api/me"},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/api/me"
    me = await client.get("/api/me")
    csrf = (await me.json())["csrf_token"]
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["cc_session"].value

    out = await client.post("/dang-xuat", data={"csrf_token": csrf}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"].startswith("/dang-nhap")
    assert (await client.get("/api/me")).status == 401
    # The old cookie, replayed by someone who copied it, no longer works: the session row is gone.
    thief = await web_app.client()
    thief.session.cookie_jar.update_cookies({"cc_session": cookie}, client.make_url("/"))
    assert (await thief.get("/api/me")).status == 401
    assert [r.username for r in await _audit_rows(web_app, "logout")] == [ADMIN]


async def test_api_logout_revokes(web_app: Web) -> None:
    client, csrf = await web_app.signed_in(Role.SUPERVISOR)
    response = await client.delete("/api/session", headers={"X-CSRF-Token": csrf})
    assert response.status == 204
    assert (await client.get("/api/me")).status == 401


async def test_form_login_needs_its_form_token(web_app: Web) -> None:
    client = await web_app.client()
    await client.get("/dang-nhap")
    response = await client.post(
        "/dang-nhap", data={"username": ADMIN, "password": PASSWORD, "login_token": "forged"}
    )
    assert response.status == 403
    assert (await client.get("/api/me")).status == 401


async def test_form_login_never_redirects_off_site(web_app: Web) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "/dang-nhap"):
        client = await web_app.client()
        html = await (await client.get("/dang-nhap")).text()
        token = re.search(r'name="login_token" value="([^"]+)"', html)
        assert token is not None
        response = await client.post(
            "/dang-nhap",
            data={"username": ADMIN, "password": PASSWORD, "login_token": token.group(1), "next": target},
            allow_redirects=False,
        )
        assert response.status == 303 and response.headers["Location"] == "/", target


async def test_wrong_password_on_the_form_shows_a_vietnamese_error(web_app: Web) -> None:
    client = await web_app.client()
    html = await (await client.get("/dang-nhap")).text()
    token = re.search(r'name="login_token" value="([^"]+)"', html)
    assert token is not None
    response = await client.post(
        "/dang-nhap", data={"username": ADMIN, "password": "khong-dung-dau", "login_token": token.group(1)}
    )
    assert response.status == 401
    text = await response.text()
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in text and 'role="alert"' in text
    assert 'value="quantri"' in text  # the name stays typed


async def test_session_cookie_flags(web_app: Web) -> None:
    client = await web_app.client()
    response = await client.post("/api/session", json={"username": ADMIN, "password": PASSWORD})
    raw = response.headers.getall("Set-Cookie")
    [cookie] = [c for c in raw if c.startswith("cc_session=")]
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in flags
    assert flags["samesite"] == "SameSite=Strict"
    assert flags["path"] == "Path=/"
    assert "secure" not in flags  # plain HTTP, settings not asking
    assert int(flags["max-age"].split("=")[1]) == 12 * 3600


async def test_cookie_is_secure_when_settings_say_so_or_the_proxy_says_https(make_web: WebFactory) -> None:
    forced = await make_web(WebConfig(cookie_secure=True))
    client = await forced.client()
    response = await client.post("/api/session", json={"username": ADMIN, "password": PASSWORD})
    assert "Secure" in response.headers["Set-Cookie"]

    proxied = await make_web(WebConfig(trust_forwarded=True))
    client = await proxied.client()
    response = await client.post(
        "/api/session",
        json={"username": ADMIN, "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_idle_expiry_slides_with_use(web_app: Web) -> None:
    client, _ = await web_app.signed_in(Role.FACILITY_OFFICER)
    web_app.clock.advance(minutes=50)
    assert (await client.get("/api/me")).status == 200  # slides the idle expiry
    web_app.clock.advance(minutes=50)
    assert (await client.get("/api/me")).status == 200
    web_app.clock.advance(minutes=61)
    response = await client.get("/api/me")
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthenticated"


async def test_absolute_expiry_ends_even_a_busy_session(web_app: Web) -> None:
    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    for _ in range(14):  # 14 x 50 min = 11 h 40 min: always busy, never idle
        web_app.clock.advance(minutes=50)
        assert (await client.get("/api/me")).status == 200
    web_app.clock.advance(minutes=21)  # 12 h 01 min since signing in
    assert (await client.get("/api/me")).status == 401


async def test_expired_session_on_a_page_redirects_to_sign_in(web_app: Web) -> None:
    client, _ = await web_app.signed_in(Role.AUDITOR)
    assert (await client.get("/", allow_redirects=False)).status == 200
    web_app.clock.advance(minutes=120)
    response = await client.get("/?tab=1", allow_redirects=False)
    assert response.status == 303
    location = URL(response.headers["Location"])
    assert location.path == "/dang-nhap" and location.query["next"] == "/?tab=1"


async def test_rate_limit_per_username_with_retry_after(web_app: Web) -> None:
    client = await web_app.client()
    for _ in range(5):
        r = await client.post("/api/session", json={"username": "giamsat", "password": "sai-mat-khau-1"})
        assert r.status == 401
        web_app.clock.advance(minutes=1)
    # Even the right password is refused now, without being checked.
    blocked = await client.post("/api/session", json={"username": "giamsat", "password": PASSWORD})
    assert blocked.status == 429
    assert (await blocked.json())["error"]["code"] == "rate_limited"
    # The first failure (5 minutes ago) leaves the 15-minute window in 10 minutes.
    assert int(blocked.headers["Retry-After"]) == 10 * 60
    # Another user from the same address is not locked out by it.
    await login(await web_app.client(), ADMIN)
    web_app.clock.advance(minutes=10)
    await login(client, "giamsat")


async def test_rate_limit_survives_a_restart(make_web: WebFactory) -> None:
    first = await make_web()
    client = await first.client()
    for _ in range(5):
        await client.post("/api/session", json={"username": "canbo", "password": "sai-mat-khau-1"})
    restarted = await make_web()  # new services, new app, same database
    client = await restarted.client()
    response = await client.post("/api/session", json={"username": "canbo", "password": PASSWORD})
    assert response.status == 429


async def test_rate_limit_per_address(web_app: Web) -> None:
    client = await web_app.client()
    for i in range(8):  # eight different names, one address (the fixture's limit is 8)
        await client.post("/api/session", json={"username": f"doan{i}", "password": "sai-mat-khau-1"})
    response = await client.post("/api/session", json={"username": ADMIN, "password": PASSWORD})
    assert response.status == 429 and int(response.headers["Retry-After"]) > 0


async def test_a_successful_sign_in_forgives_earlier_failures_of_that_name(make_web: WebFactory) -> None:
    web_app = await make_web(policy=SessionPolicy(max_failures_per_user=5, max_failures_per_address=20))
    client = await web_app.client()
    for _ in range(4):
        await client.post("/api/session", json={"username": "kiemtra", "password": "sai-mat-khau-1"})
    await login(client, "kiemtra")
    for _ in range(4):
        r = await client.post("/api/session", json={"username": "kiemtra", "password": "sai-mat-khau-1"})
        assert r.status == 401
    await login(client, "kiemtra")


async def test_rate_limit_on_the_form_page(web_app: Web) -> None:
    client = await web_app.client()
    html = await (await client.get("/dang-nhap")).text()
    token = re.search(r'name="login_token" value="([^"]+)"', html)
    assert token is not None
    for _ in range(6):
        response = await client.post(
            "/dang-nhap",
            data={"username": ADMIN, "password": "sai-mat-khau-1", "login_token": token.group(1)},
        )
    assert response.status == 429
    assert "Retry-After" in response.headers
    assert "thử lại sau" in await response.text()
