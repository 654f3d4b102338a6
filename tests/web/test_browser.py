"""A real browser (Chromium through Playwright) against the real web app on 127.0.0.1, as people use it:
the supervisor searches without accents, opens the ticket, plays the call, jumps to a turn of the
transcript and moves the ticket on; officers and the auditor see only what they may.

Screenshots go to artifacts/screenshots/ (git-ignored). Skipped when Chromium or Playwright is missing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from callcenter.app import App, build_web
from callcenter.domain.access import Role
from callcenter.services.users import UserInput
from tests.conftest import REPO, FakeClock
from tests.web.tickets_data import make_ticket

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = REPO / "artifacts" / "screenshots"
PASSWORD = "mat-khau-trinh-duyet-9"
PEOPLE = {
    "giamsat": UserInput("giamsat", Role.SUPERVISOR, "Lê Giám Sát", province="Thanh Hóa"),
    "canbo": UserInput("canbo", Role.FACILITY_OFFICER, "Trần Cán Bộ", facility_code="BVDK-TH"),
    "canbonhi": UserInput("canbonhi", Role.FACILITY_OFFICER, "Ngô Cán Bộ Nhi", facility_code="BVNHI-TH"),
    "kiemtra": UserInput("kiemtra", Role.AUDITOR, "Phạm Kiểm Tra"),
}

_missing = (
    f"{CHROMIUM} is not installed"
    if not CHROMIUM.exists()
    else "playwright for Python is not installed"
    if importlib.util.find_spec("playwright") is None
    else None
)
pytestmark = [
    pytest.mark.skipif(_missing is not None, reason=f"browser test: {_missing}"),
    # One database is enough for the browser; the API tests cover both.
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@contextlib.asynccontextmanager
async def serving(app: App) -> AsyncIterator[str]:
    """The real web app (as `callcenter serve` builds it) on 127.0.0.1, a free port: its base URL."""
    runner = web.AppRunner(build_web(app), access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    server: Any = tcp._server
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        await runner.cleanup()


def watch(
    page: Any, problems: list[str], expected_failure: Callable[[str], bool] = lambda url: False
) -> None:
    """Collect `page`'s script errors, CSP violations and failed requests (said with their address: the
    console message has none), except the failures `expected_failure(url)` says were meant."""
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not expected_failure(r.url)
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))


async def sign_in(page: Any, base: str, path: str, username: str) -> None:
    """Open `path`, be sent to the sign-in page, sign in as `username`, land back on `path`."""
    from playwright.async_api import expect

    await page.goto(f"{base}{path}")
    await expect(page).to_have_url(f"{base}/dang-nhap?next={path}")
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page).to_have_url(f"{base}{path}")


@pytest.fixture
async def site(sample_app: App, clock: FakeClock) -> AsyncIterator[tuple[str, int]]:
    """The real web app (as `callcenter serve` builds it) on 127.0.0.1, a free port; and a ticket."""
    for user in PEOPLE.values():
        await sample_app.users.create(user, PASSWORD, clock())
    ticket_id = await make_ticket(sample_app, clock)
    async with serving(sample_app) as base:
        yield base, ticket_id


async def test_people_work_a_ticket_in_a_real_browser(site: tuple[str, int]) -> None:
    from playwright.async_api import async_playwright, expect

    base, ticket_id = site
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    ticket_url = f"{base}/phan-anh/{ticket_id}"

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        problems: list[str] = []

        async def signed_in(username: str) -> Any:
            context = await browser.new_context(viewport={"width": 412, "height": 915}, locale="vi-VN")
            page = await context.new_page()
            watch(page, problems, lambda url: url == ticket_url)  # the other officer's 404 is meant
            await sign_in(page, base, "/phan-anh", username)
            return context, page

        # ---- the supervisor
        context, page = await signed_in("giamsat")
        await page.get_by_label("Tìm trong nội dung", exact=False).fill("tieu duong")
        await page.get_by_role("button", name="Tìm", exact=True).click()
        await expect(page.locator(".count")).to_contain_text("Tìm thấy 1 phản ánh")
        await page.screenshot(path=str(SHOTS / "01-supervisor-search.png"), full_page=True)
        await page.locator(f'a[href="/phan-anh/{ticket_id}"]').click()
        await expect(page).to_have_url(ticket_url)
        await expect(page.locator("#so-nguoi-goi")).to_have_text("0912345678")

        mix = page.locator("#audio-mix")
        await mix.scroll_into_view_if_needed()
        box = await mix.bounding_box()
        assert box is not None
        await page.mouse.click(box["x"] + 20, box["y"] + box["height"] / 2)  # the player's play button
        try:
            await page.wait_for_function(
                "() => document.getElementById('audio-mix').currentTime > 0", timeout=5000
            )
        except Exception:
            await mix.evaluate("a => a.play()")
            await page.wait_for_function(
                "() => document.getElementById('audio-mix').currentTime > 0", timeout=5000
            )
        assert await mix.evaluate("a => a.readyState") >= 2
        await page.screenshot(path=str(SHOTS / "02-supervisor-ticket-playing.png"), full_page=True)

        officer_turn = page.locator(".turn-officer .turn-button")
        await officer_turn.click()
        await page.wait_for_function(
            "() => document.getElementById('audio-mix').currentTime >= 8.9", timeout=5000
        )

        await page.locator('button[data-status="dang_xu_ly"]').click()
        await expect(page.locator("#trang-thai")).to_have_text("Đang xử lý")
        await expect(page.locator(".notice")).to_contain_text("Đã lưu")
        await page.goto(ticket_url)  # again from the server: it was stored
        await expect(page.locator("#trang-thai")).to_have_text("Đang xử lý")
        await page.screenshot(path=str(SHOTS / "03-supervisor-status-changed.png"), full_page=True)
        await page.get_by_role("link", name="Cơ sở", exact=True).click()
        await expect(page.locator("tr.flagged")).to_have_count(2)
        await page.screenshot(path=str(SHOTS / "07-facilities.png"), full_page=True)
        await page.get_by_role("link", name="7 ngày", exact=True).click()
        await expect(page.locator("main")).to_contain_text("Số liệu cuộc gọi trong 7 ngày qua")
        await expect(page.locator('strong[aria-current="true"]')).to_have_text("7 ngày")
        await page.locator('a[href="/lich-truc/BVDK-TH"]').click()
        await expect(page.locator(".roster-day")).to_have_count(7)
        await page.screenshot(path=str(SHOTS / "08-roster-week.png"), full_page=True)
        await context.close()

        # ---- an officer of another facility: nothing to see
        context, page = await signed_in("canbonhi")
        await expect(page.locator(".count")).to_contain_text("Tìm thấy 0 phản ánh")
        response = await page.goto(ticket_url)
        assert response is not None and response.status == 404
        await page.screenshot(path=str(SHOTS / "04-other-officer-404.png"), full_page=True)
        await context.close()

        # ---- the facility's own officer: the caller's number masked
        context, page = await signed_in("canbo")
        await page.goto(ticket_url)
        await expect(page.locator("#so-nguoi-goi")).to_have_text("*******678")
        assert "0912345678" not in await page.content()
        await page.screenshot(path=str(SHOTS / "05-officer-masked.png"), full_page=True)
        await context.close()

        # ---- the auditor: reads, changes nothing
        context, page = await signed_in("kiemtra")
        await page.goto(ticket_url)
        await expect(page.locator("#trang-thai")).to_have_text("Đang xử lý")
        assert await page.locator("button[data-status]").count() == 0
        assert await page.locator(f'form[method="post"][action="/phan-anh/{ticket_id}"]').count() == 0
        await expect(page.locator("#audio-mix")).to_be_visible()
        await page.screenshot(path=str(SHOTS / "06-auditor-read-only.png"), full_page=True)
        await context.close()
        await browser.close()
    assert not problems, problems  # no script errors, no CSP violations
