"""The registry page in a real Chromium: a hotline whose night test call found nobody is flagged
"Không có người nghe khi kiểm tra" in its own "Cuộc gọi kiểm tra" column (issue 9 §2, seed 001)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from callcenter.app import App
from callcenter.domain.outbound import Outcome
from tests.conftest import FakeClock
from tests.fakes.probes import add_probe
from tests.web.test_browser import ARGS, CHROMIUM, PASSWORD, PEOPLE, _missing, serving, sign_in, watch

pytestmark = [
    pytest.mark.skipif(_missing is not None, reason=f"browser test: {_missing}"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
async def site(sample_app: App, clock: FakeClock) -> AsyncIterator[str]:
    for user in PEOPLE.values():
        await sample_app.users.create(user, PASSWORD, clock())
    now = clock()  # Monday 23:40 local
    await add_probe(sample_app, "BVDK-TH", now - timedelta(hours=14), Outcome.HUMAN, 5000)  # 09:40
    await add_probe(sample_app, "BVNHI-TH", now - timedelta(hours=2), Outcome.NO_ANSWER, 30000)  # 21:40
    clock.advance(minutes=5)
    async with serving(sample_app) as base:
        yield base


async def test_the_registry_flags_a_hotline_nobody_answered_at_night(site: str) -> None:
    from playwright.async_api import async_playwright, expect

    problems: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = await (await browser.new_context(locale="vi-VN")).new_page()
        watch(page, problems)
        await sign_in(page, site, "/co-so", "giamsat")
        await expect(page.get_by_role("columnheader", name="Cuộc gọi kiểm tra")).to_be_visible()
        nhi = page.locator("tr", has_text="Bệnh viện Nhi Thanh Hóa")
        flag = nhi.locator(".probe-flag")
        await expect(flag).to_be_visible()
        await expect(flag).to_have_text("Không có người nghe khi kiểm tra")
        await expect(nhi.locator("td.probes")).to_contain_text("ban đêm 0/1")
        bvdk = page.locator("tr", has_text="BVDK-TH")
        await expect(bvdk.locator(".probe-flag")).to_have_count(0)
        await expect(bvdk.locator("td.probes")).to_contain_text("có người nghe (bấm 1) 1/1")
        await expect(page.locator(".probe-flagged")).to_contain_text(
            "1 cơ sở không có người nghe khi kiểm tra"
        )
        await browser.close()
    assert problems == []
