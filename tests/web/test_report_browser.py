"""The report page in a real browser (Chromium through Playwright): a supervisor asks for this year's
report, reads the charts and a figure, and prints it (print media: no menu, no form, no buttons).

Screenshots and the printed PDF go to the test's tmp_path. Skipped when Chromium or Playwright is missing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.services.ticket_import import COLUMNS, TicketImportService, parse_file
from tests.conftest import TZ, FakeClock
from tests.web.test_browser import ARGS, CHROMIUM, PASSWORD, PEOPLE, _missing, serving, sign_in, watch
from tests.web.test_report_page import rated_ticket

pytestmark = [
    pytest.mark.skipif(_missing is not None, reason=f"browser test: {_missing}"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
FACILITIES = ["BVDK-TH", "BVNHI-TH", "TTYT-QX", "TTYT-HH", ""]
CATEGORIES = ["thieu_thuoc", "quy_trinh_kham_benh", "quy_tac_ung_xu", "chuyen_mon", "bhyt", "khac"]


def _year_of_tickets() -> bytes:
    """About 60 tickets of 2026 in the previous system's format: several facilities, categories, months."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    for i in range(60):
        day = date(2026, 1, 3) + timedelta(days=(i * 97) % 320)
        resolved = i % 3 != 0
        writer.writerow(
            {
                "ma": f"DDN-2026-{i + 1:03d}",
                "ngay_tiep_nhan": day.isoformat(),
                "co_so": FACILITIES[(i * i) % len(FACILITIES)],
                "linh_vuc": CATEGORIES[(i * 7) % len(CATEGORIES)],
                "trang_thai": "da_giai_quyet" if resolved else "dang_xu_ly",
                "ngay_giai_quyet": (day + timedelta(days=4)).isoformat() if resolved else "",
                "khong_dung_tham_quyen": "không",
                "noi_dung": f"Phản ánh số {i + 1}",
                "ket_qua": "",
            }
        )
    return out.getvalue().encode("utf-8")


@pytest.fixture
async def site(sample_app: App, clock: FakeClock) -> AsyncIterator[str]:
    for user in PEOPLE.values():
        await sample_app.users.create(user, PASSWORD, clock())
    parsed = parse_file("cu.csv", _year_of_tickets(), TZ)
    importer = TicketImportService(sample_app.uow)
    await importer.check_facilities(parsed)
    assert parsed.errors == []
    await importer.import_tickets(parsed, clock())
    # Calls this month, answered, and what the callers said to the survey (None: hung up).
    for dialled, rating in (("0968115115", 5), ("0968115115", 4), ("0968115115", None), ("0912115224", 2)):
        await rated_ticket(sample_app, clock, dialled, rating)
    async with serving(sample_app) as base:
        yield base


async def test_a_supervisor_reads_and_prints_the_report(site: str, tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    base = site
    problems: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        page = await context.new_page()
        watch(page, problems)  # the favicon is not asked for: any failed request is a problem
        await sign_in(page, base, "/bao-cao", "giamsat")
        await expect(page.get_by_label("Từ ngày")).to_have_value("2026-11-01")  # this month so far

        await page.get_by_label("Từ ngày").fill("2026-01-01")
        await page.get_by_label("Đến ngày").fill("2026-11-23")
        await page.get_by_role("button", name="Xem báo cáo").click()
        await expect(page).to_have_url(f"{base}/bao-cao?from=2026-01-01&to=2026-11-23&facility=")
        for title in (
            "Phản ánh trong thẩm quyền theo phân loại",
            "Phản ánh tiếp nhận theo tháng",
            "So sánh các cơ sở: tiếp nhận và giải quyết dứt điểm",
        ):
            await expect(page.locator("figcaption", has_text=title)).to_be_visible()
        assert await page.locator("svg[role=img]").count() == 3
        received = page.locator("table.figures tr", has_text="Tiếp nhận trong kỳ").first.locator("td")
        await expect(received).to_have_text("64")
        await expect(page.locator("table.figures .change")).to_have_text(
            "tăng 64 so với kỳ trước (08/02/2025 – 31/12/2025)"
        )
        await expect(page.locator(".satisfaction-total .index")).to_have_text("66,7\u00a0%")
        await expect(page.get_by_role("link", name="Báo cáo", exact=True)).to_be_visible()  # the menu
        await page.screenshot(path=str(tmp_path / "bao-cao-man-hinh.png"), full_page=True)

        # Printing: A4 width, print media; the menu, the form and the buttons are gone.
        await page.set_viewport_size({"width": 794, "height": 1123})
        await page.emulate_media(media="print")
        await expect(page.locator("form.report-form")).to_be_hidden()
        await expect(page.locator(".site-header")).to_be_hidden()
        await expect(page.get_by_role("button", name="In báo cáo")).to_be_hidden()
        await expect(page.locator("figcaption", has_text="theo tháng")).to_be_visible()
        widest = await page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('main table, main svg')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= 794, f"something is wider than the A4 page: {widest}px"
        await page.screenshot(path=str(tmp_path / "bao-cao-in.png"), full_page=True)
        await page.pdf(path=str(tmp_path / "bao-cao.pdf"), format="A4", print_background=True)
        await context.close()
        await browser.close()
    assert not problems, problems  # no script errors, no CSP violations, no failed request
