"""The admins' pages in a real browser (Chromium through Playwright): an admin adds a user on the users
page and then deactivates them through the confirmation; an auditor filters the audit log by action.

Screenshots go to the test's tmp_path. Skipped when Chromium or Playwright is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from callcenter.app import App
from callcenter.domain.access import Role
from callcenter.services.users import UserInput
from tests.conftest import FakeClock
from tests.web.test_browser import ARGS, CHROMIUM, PASSWORD, PEOPLE, _missing, serving, sign_in, watch
from tests.web.tickets_data import make_ticket

pytestmark = [
    pytest.mark.skipif(_missing is not None, reason=f"browser test: {_missing}"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
ADMIN = UserInput("quantri", Role.ADMIN, "Quản Trị Viên")


@pytest.fixture
async def site(sample_app: App, clock: FakeClock) -> AsyncIterator[str]:
    """The real web app on 127.0.0.1 with an admin and the people of the ticket test; a ticket viewed."""
    for user in (ADMIN, *PEOPLE.values()):
        await sample_app.users.create(user, PASSWORD, clock())
    await make_ticket(sample_app, clock)
    async with serving(sample_app) as base:
        yield base


async def _browse(site: str, username: str, path: str, work: Any) -> list[str]:
    """Sign in as `username` at `path` in a fresh browser, run `work(page)`; the problems seen."""
    from playwright.async_api import async_playwright

    problems: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        page = await context.new_page()
        watch(page, problems)
        await sign_in(page, site, path, username)
        await work(page)
        await browser.close()
    return problems


async def test_an_admin_adds_a_user_then_deactivates_them_after_confirming(site: str, tmp_path: Path) -> None:
    from playwright.async_api import expect

    async def work(page: Any) -> None:
        form = page.locator("#them-nguoi-dung")
        await form.get_by_label("Tên đăng nhập").fill("nguyenvana")
        await form.get_by_label("Họ tên").fill("Nguyễn Văn A")
        await form.get_by_label("Vai trò").select_option("supervisor")
        await form.get_by_label("Tỉnh/thành").select_option("Thanh Hóa")
        await form.get_by_label("Số điện thoại").fill("0983 111 222")
        await form.get_by_label("Mật khẩu ban đầu").fill("mat-khau-moi-12345")
        await form.get_by_role("button", name="Thêm người dùng").click()
        await expect(page.locator(".notice")).to_have_text("Đã thêm người dùng.")
        row = page.locator("#nguoi-dung-nguyenvana")
        await expect(row).to_contain_text("Giám sát (Sở Y tế)")
        await expect(row).to_contain_text("0983111222")
        await expect(row.locator(".trang-thai")).to_have_text("Đang hoạt động")
        await page.screenshot(path=str(tmp_path / "nguoi-dung-them.png"), full_page=True)

        await row.get_by_text("Sửa…").click()
        await row.get_by_role("button", name="Khoá tài khoản…").click()
        dialog = page.get_by_role("alertdialog")
        await expect(dialog).to_contain_text("Khoá tài khoản «nguyenvana»?")
        # Asked, not done: the list still shows the account active.
        await expect(page.locator("#nguoi-dung-nguyenvana .trang-thai")).to_have_text("Đang hoạt động")
        await page.screenshot(path=str(tmp_path / "nguoi-dung-hoi-lai.png"), full_page=True)
        await dialog.get_by_role("button", name="Khoá hẳn").click()
        await expect(page.locator(".notice")).to_contain_text("Đã khoá tài khoản")
        await expect(page.locator("#nguoi-dung-nguyenvana .trang-thai")).to_have_text("Đã khoá")
        await expect(page.get_by_role("alertdialog")).to_have_count(0)

    assert not await _browse(site, "quantri", "/nguoi-dung", work)


async def test_an_auditor_filters_the_audit_log_by_action(site: str, tmp_path: Path) -> None:
    from playwright.async_api import expect

    async def work(page: Any) -> None:
        rows = page.locator("tr.audit-entry")
        await expect(rows.first).to_be_visible()
        actions = set(await rows.evaluate_all("rs => rs.map(r => r.dataset.action)"))
        assert {"login.ok", "user.create"} <= actions  # more than one kind before filtering
        await page.get_by_label("Thao tác").select_option(label="Đăng nhập")
        await page.get_by_role("button", name="Lọc").click()
        await expect(page).to_have_url(
            f"{page.url.split('?')[0]}?username=&action=login.ok&date_from=&date_to="
        )
        await expect(rows).not_to_have_count(0)
        assert set(await rows.evaluate_all("rs => rs.map(r => r.dataset.action)")) == {"login.ok"}
        await expect(page.locator("tr.audit-entry td:nth-child(3)").first).to_have_text("Đăng nhập")
        await expect(page.get_by_label("Thao tác")).to_have_value("login.ok")
        await page.screenshot(path=str(tmp_path / "nhat-ky-loc.png"), full_page=True)

    assert not await _browse(site, "kiemtra", "/nhat-ky", work)
