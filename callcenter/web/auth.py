"""Signing in and out (the page and the API), the signed-in person (/api/me), the home page.

The sign-in form is public, so there is no session CSRF token yet; it carries its own: a random value in
a SameSite=Strict cookie scoped to the form's path that must come back in a hidden field (a cross-site
form can neither read the cookie nor, being cross-site, get it sent). The JSON sign-in needs
Content-Type application/json, which a cross-site form cannot send without a preflight we never grant.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from callcenter.services.errors import BadCredentials, RateLimited
from callcenter.services.sessions import ActiveSession, SignedIn
from callcenter.web.context import (
    client_address,
    is_secure,
    now,
    optional_session,
    services,
    session,
    state,
)
from callcenter.web.io import json_response, parse_body
from callcenter.web.middleware import LOGIN_PATH
from callcenter.web.render import render
from callcenter.web.schemas import LoginIn, SessionOut, UserOut

FORM_TOKEN_FIELD = "login_token"
_MAX_USERNAME_INPUT = 256


def safe_next(value: object) -> str:
    """Only a path on this site: "//evil.example" or "https://…" would make the form an open redirect."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(c in value for c in "\r\n\\") or value.startswith(LOGIN_PATH):
        return "/"
    return value


def _set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, *, max_age: int, path: str
) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it), Secure on HTTPS
    or when the settings say HTTPS ends at a proxy in front of us."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=state(request).config.cookie_secure or is_secure(request),
        httponly=True,
        samesite="Strict",
    )


def set_session_cookie(request: web.Request, response: web.StreamResponse, signed: SignedIn) -> None:
    # The cookie lives no longer than the session could (the server decides expiry either way).
    max_age = int(services(request).sessions.policy.absolute.total_seconds())
    _set_cookie(request, response, state(request).config.cookie_name, signed.token, max_age=max_age, path="/")


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    _set_cookie(request, response, state(request).config.cookie_name, "", max_age=0, path="/")


def _login_form(
    request: web.Request,
    *,
    next_path: str,
    username: str = "",
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    cfg = state(request).config
    token = request.cookies.get(cfg.login_cookie_name, "")
    if not 20 <= len(token) <= 64:
        token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {
            "form_token": token,
            "form_token_field": FORM_TOKEN_FIELD,
            "next": next_path,
            "username": username,
            "error": error,
            "notice": notice,
        },
        title="Đăng nhập",
        status=status,
        headers=headers,
    )
    _set_cookie(request, response, cfg.login_cookie_name, token, max_age=24 * 3600, path=LOGIN_PATH)
    return response


async def login_page(request: web.Request) -> web.StreamResponse:
    next_path = safe_next(request.query.get("next"))
    if await optional_session(request) is not None:
        raise web.HTTPSeeOther(next_path)
    notice = "Bạn đã đăng xuất." if "da_dang_xuat" in request.query else None
    return _login_form(request, next_path=next_path, notice=notice)


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = form.get("username")
    password = form.get("password")
    username = username[:_MAX_USERNAME_INPUT] if isinstance(username, str) else ""
    password = password if isinstance(password, str) else ""
    next_path = safe_next(form.get("next"))
    sent = form.get(FORM_TOKEN_FIELD)
    expected = request.cookies.get(state(request).config.login_cookie_name)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_form(
            request,
            next_path=next_path,
            username=username,
            status=403,
            error="Trang đăng nhập đã hết hạn; vui lòng nhập lại / the form expired, please try again",
        )
    try:
        signed = await services(request).sessions.login(
            username, password, client_address(request), now(request)
        )
    except RateLimited as exc:
        return _login_form(
            request,
            next_path=next_path,
            username=username,
            status=429,
            error=exc.message,
            headers={"Retry-After": str(exc.retry_after_s)},
        )
    except BadCredentials as exc:
        return _login_form(request, next_path=next_path, username=username, status=401, error=exc.message)
    response = web.Response(status=303, headers={"Location": next_path})
    set_session_cookie(request, response, signed)
    response.del_cookie(state(request).config.login_cookie_name, path=LOGIN_PATH)
    return response


async def logout_submit(request: web.Request) -> web.StreamResponse:
    await services(request).sessions.logout(session(request), now(request), client_address(request))
    response = web.Response(status=303, headers={"Location": f"{LOGIN_PATH}?da_dang_xuat=1"})
    clear_session_cookie(request, response)
    return response


def _session_out(found: ActiveSession | SignedIn) -> SessionOut:
    return SessionOut(user=UserOut.of(found.user), csrf_token=found.csrf_token, expires_at=found.expires_at)


async def api_login(request: web.Request) -> web.StreamResponse:
    body = await parse_body(request, LoginIn)
    signed = await services(request).sessions.login(
        body.username, body.password, client_address(request), now(request)
    )
    response = json_response(_session_out(signed), status=201)
    set_session_cookie(request, response, signed)
    return response


async def api_logout(request: web.Request) -> web.StreamResponse:
    await services(request).sessions.logout(session(request), now(request), client_address(request))
    response = web.Response(status=204)
    clear_session_cookie(request, response)
    return response


async def api_me(request: web.Request) -> web.StreamResponse:
    return json_response(_session_out(session(request)))


async def home_page(request: web.Request) -> web.StreamResponse:
    return render(request, "home.html", title="Trang chủ")
