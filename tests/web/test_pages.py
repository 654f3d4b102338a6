"""The pages: Vietnamese, accessible, no inline script or style (the CSP would block it)."""

from __future__ import annotations

import re

from callcenter.domain.access import Role
from tests.web.conftest import Web


def _no_inline_code(html: str) -> None:
    assert "<script" not in html
    assert "style=" not in html and "<style" not in html


async def test_the_sign_in_page(web_app: Web) -> None:
    client = await web_app.client()
    response = await client.get("/dang-nhap")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/html")
    html = await response.text()
    assert '<html lang="vi">' in html and 'name="viewport"' in html
    assert "<h1>Đăng nhập</h1>" in html
    for field in ("username", "password"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert 'autocomplete="current-password"' in html
    assert 'href="/static/style.css"' in html
    _no_inline_code(html)
    cookie = response.headers["Set-Cookie"]
    assert "cc_login=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/dang-nhap" in cookie


async def test_home_has_the_menu_and_a_sign_out_form(web_app: Web) -> None:
    client, csrf = await web_app.signed_in(Role.SUPERVISOR)
    html = await (await client.get("/")).text()
    assert '<a href="/" aria-current="page">Trang chủ</a>' in html
    assert "Giám sát (Sở Y tế)" in html and "Thanh Hóa" in html
    form = re.search(r'<form method="post" action="/dang-xuat".*?</form>', html, re.S)
    assert form is not None and f'value="{csrf}"' in form.group(0)
    _no_inline_code(html)
    # Already signed in: the sign-in page sends you on.
    again = await client.get("/dang-nhap", allow_redirects=False)
    assert again.status == 303 and again.headers["Location"] == "/"


async def test_after_signing_out_the_page_says_so(web_app: Web) -> None:
    client = await web_app.client()
    html = await (await client.get("/dang-nhap?da_dang_xuat=1")).text()
    assert "Bạn đã đăng xuất." in html and 'role="status"' in html


async def test_errors_on_pages_are_vietnamese_pages(web_app: Web) -> None:
    client, _ = await web_app.signed_in(Role.AUDITOR)
    response = await client.get("/khong-co-trang-nay")
    assert response.status == 404
    html = await response.text()
    assert "Không tìm thấy" in html and "Trang chủ" in html  # the menu is still there
    _no_inline_code(html)


async def test_static_files_only_by_name(web_app: Web) -> None:
    client = await web_app.client()
    css = await client.get("/static/style.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    for path in ("/static/..%2Frender.py", "/static/khong-co.css", "/static/%2E%2E%2Fserver.py"):
        assert (await client.get(path)).status == 404, path
