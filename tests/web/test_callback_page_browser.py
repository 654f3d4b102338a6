""" "Gọi lại" in a real Chromium against the fake Asterisk: an officer with a phone on their account opens a
ticket and presses the button; their phone rings first and they press 1, the citizen answers and hangs up
after a short talk; reloaded, the page says "Đã nói chuyện". No number on the page at any point."""

from __future__ import annotations

import dataclasses

import pytest

from callcenter.app import App
from callcenter.domain.access import Principal, Role
from callcenter.domain.phone import mask
from callcenter.services.calls import IncomingCall
from callcenter.services.users import UserInput
from tests.conftest import FakeClock
from tests.fakes.ari_server import Answer
from tests.web.test_browser import ARGS, CHROMIUM, PASSWORD, SHOTS, _missing, serving, sign_in, watch
from tests.web.test_callback_page import BVDK_HOTLINE, CITIZEN, DAYTIME, OFFICER_PHONE, telephone, until

pytestmark = [
    pytest.mark.skipif(_missing is not None, reason=f"browser test: {_missing}"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


async def test_an_officer_presses_goi_lai_and_sees_the_talk_on_the_ticket(
    sample_app: App, clock: FakeClock
) -> None:
    from playwright.async_api import async_playwright, expect

    clock.now = DAYTIME
    officer = await sample_app.users.create(
        UserInput(
            "canbo", Role.FACILITY_OFFICER, "Trần Cán Bộ", facility_code="BVDK-TH", phone=OFFICER_PHONE
        ),
        PASSWORD,
        clock(),
    )
    who = Principal(officer.id, "canbo", Role.FACILITY_OFFICER, facility_code="BVDK-TH")
    received = await sample_app.calls.receive(
        IncomingCall("1795380439.9", "PJSIP/trunk-9", CITIZEN, "", BVDK_HOTLINE), clock()
    )
    path = f"/phan-anh/{received.ticket_id}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with (
        telephone(sample_app, clock, accept_timeout_s=5.0) as (fake, service),
        serving(dataclasses.replace(sample_app, outbound=service)) as base,
        async_playwright() as pw,
    ):
        fake.script(OFFICER_PHONE, Answer(ring_s=0.3, dtmf="1", dtmf_after_s=0.3))
        fake.script(CITIZEN, Answer(ring_s=0.3, hangup_after_s=0.8))  # a short talk, then hangs up
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        problems: list[str] = []
        page = await (await browser.new_context(locale="vi-VN")).new_page()
        # The callback's recordings are listed on the ticket, but the fake Asterisk writes no audio files.
        watch(page, problems, lambda url: "/recordings/" in url)
        await sign_in(page, base, path, "canbo")
        await expect(page.locator("#so-nguoi-goi")).to_have_text(mask(CITIZEN))
        await expect(page.locator("#goi-lai")).to_contain_text("Chưa gọi lại lần nào")
        await page.get_by_role("button", name="Gọi lại", exact=True).click()
        await expect(page).to_have_url(f"{base}{path}?dang_goi=1")
        await expect(page.locator(".notice")).to_contain_text("Đang gọi máy của bạn…")
        await page.screenshot(path=str(SHOTS / "30-callback-calling.png"), full_page=True)

        def dialled() -> list[str]:
            return [p["endpoint"] for m, u, p, _ in fake.requests if (m, u) == ("POST", "/channels")]

        assert dialled()[:1] == [f"PJSIP/{OFFICER_PHONE}@hotline-trunk"]  # the officer's phone first
        found = await until(
            lambda: service.attempts(who, received.ticket_id), lambda f: not f[-1].state.active
        )
        assert found[-1].outcome is not None and found[-1].outcome.value == "talked"
        assert dialled() == [f"PJSIP/{OFFICER_PHONE}@hotline-trunk", f"PJSIP/{CITIZEN}@hotline-trunk"]

        await page.reload()
        await expect(page.locator(".notice")).to_have_count(0)  # no longer calling
        await expect(page.locator("#audio-callback_mix")).to_be_attached()
        await expect(page.locator(".call")).to_contain_text("Cuộc gọi lại (cả hai bên)")
        rows = page.locator(".callback-attempts tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows).to_contain_text("Đã nói chuyện")
        await expect(page.locator("ol.history")).to_contain_text("Kết thúc cuộc gọi lại: Đã nói chuyện")
        content = await page.content()
        assert CITIZEN not in content and OFFICER_PHONE not in content
        await page.screenshot(path=str(SHOTS / "31-callback-talked.png"), full_page=True)
        await browser.close()
        assert problems == []
