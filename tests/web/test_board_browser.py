"""The live board in a real Chromium: a call received through the app's CallService appears on the open
page without a reload, and leaves it when CallService.end records its end. Prints how long each took
(from the service call returning to the row being on the page, or gone)."""

from __future__ import annotations

import time

import pytest

from callcenter.app import App
from tests.conftest import FakeClock
from tests.web.test_board import BVDK_HOTLINE, call_in, hang_up
from tests.web.test_browser import ARGS, CHROMIUM, PASSWORD, PEOPLE, SHOTS, _missing, serving, sign_in, watch

pytestmark = [
    pytest.mark.skipif(_missing is not None, reason=f"browser test: {_missing}"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


async def test_a_call_appears_on_the_open_board_and_leaves_it(sample_app: App, clock: FakeClock) -> None:
    from playwright.async_api import async_playwright, expect

    await sample_app.users.create(PEOPLE["giamsat"], PASSWORD, clock())
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with serving(sample_app) as base, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        problems: list[str] = []
        page = await (await browser.new_context(locale="vi-VN")).new_page()
        watch(page, problems)
        await sign_in(page, base, "/bang-truc", "giamsat")
        await expect(page.get_by_role("link", name="Bảng trực", exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        await expect(page.locator("#board-calls-empty")).to_be_visible()
        await expect(page.locator("#board-status")).to_contain_text("cập nhật trực tiếp")
        await page.evaluate("() => { window.sameDocument = true; }")  # gone if the page reloads

        rows = page.locator("#board-calls tbody tr")
        started = time.perf_counter()
        received = await call_in(sample_app, clock, BVDK_HOTLINE)
        await expect(rows).to_have_count(1, timeout=5000)
        appeared = time.perf_counter() - started
        row = rows.first
        await expect(row).to_contain_text("Bệnh viện Đa khoa tỉnh Thanh Hóa")
        await expect(row.locator(".phase")).to_have_text("Đang nối máy tới người trực")
        await expect(row.locator(".target")).to_contain_text("Dự kiến đang đổ chuông: Cán bộ trực")
        await expect(row.get_by_role("link", name=received.ticket_ref)).to_have_attribute(
            "href", f"/phan-anh/{received.ticket_id}"
        )
        await expect(row.locator("time")).to_have_text("23:40:00")
        await expect(page.locator("#board-calls-empty")).to_be_hidden()
        await expect(page.locator("#board-today tbody tr").first).to_contain_text("Bệnh viện Đa khoa")
        assert "0912345678" not in await page.content()
        await page.screenshot(path=str(SHOTS / "20-board-call-in-progress.png"), full_page=True)

        clock.advance(seconds=30)
        started = time.perf_counter()
        await hang_up(sample_app, clock, received, answered=True)
        await expect(rows).to_have_count(0, timeout=5000)
        left = time.perf_counter() - started
        await expect(page.locator("#board-calls-empty")).to_be_visible()
        today = page.locator("#board-today tbody tr").first
        await expect(today.locator("td").nth(2)).to_have_text("1")  # answered
        assert await page.evaluate("() => window.sameDocument === true"), "the page was reloaded"
        await page.screenshot(path=str(SHOTS / "21-board-call-ended.png"), full_page=True)
        await browser.close()
    print(
        f"board: call on the page {appeared * 1000:.0f} ms after receive; gone {left * 1000:.0f} ms after end"
    )
    assert not problems, problems
    assert appeared < 3 and left < 3
