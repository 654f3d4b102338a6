"""The report page (/bao-cao), its JSON and its downloads, through the real app on both databases.

Tickets are made the way calls make them (FastAGI handlers over a memory channel, `make_ticket`); the
clock is Monday 23/11/2026 23:40 local, so the default period is 01/11/2026 – 23/11/2026 and the previous
one 09/10/2026 – 31/10/2026.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook

from callcenter.app import App
from callcenter.domain.access import Principal, Role
from callcenter.domain.satisfaction import RatingStatus
from callcenter.services.reports import MAX_PERIOD_DAYS, ReportService
from tests.conftest import FakeClock
from tests.web.conftest import PEOPLE, Web
from tests.web.tickets_data import make_ticket

BVDK = "0968115115"  # BVDK-TH's hotline
BVNHI = "0912115224"  # BVNHI-TH's hotline
PERIOD = "from=2026-11-01&to=2026-11-23"


async def _tickets(web_app: Web, bvdk: int = 2, bvnhi: int = 1) -> None:
    for dialled, n in ((BVDK, bvdk), (BVNHI, bvnhi)):
        for _ in range(n):
            await make_ticket(web_app.app, web_app.clock, dialled=dialled, transcribe=False, copy=False)


async def rated_ticket(app: App, clock: FakeClock, dialled: str, rating: int | None) -> None:
    """An answered call that became a ticket, then the caller's answer to the survey (None: hung up)."""
    tid = await make_ticket(app, clock, dialled=dialled, transcribe=False, copy=False)
    detail = await app.tickets.get(Principal(0, "test", Role.ADMIN), tid, clock())
    assert detail.call is not None
    status = RatingStatus.RATED if rating is not None else RatingStatus.NO_ANSWER
    assert await app.calls.record_rating(detail.call.call_id, rating, status, clock())


def _principal(web_app: Web, role: Role) -> Principal:
    p = PEOPLE[role]
    return Principal(web_app.ids[role], p.username, role, province=p.province, facility_code=p.facility_code)


def _figure(html: str, label: str) -> str:
    """The value cell of a figures row."""
    m = re.search(
        rf'<th scope="row">{re.escape(label)}(?:<span class="change">([^<]*)</span>)?</th>'
        r'<td class="num">([^<]*)</td>',
        html,
    )
    assert m, f"no row {label!r}"
    return m.group(2) + (f" — {m.group(1)}" if m.group(1) else "")


async def test_a_supervisor_sees_the_figures_charts_health_and_satisfaction(web_app: Web) -> None:
    await _tickets(web_app)
    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    r = await client.get("/bao-cao")
    html = await r.text()
    assert r.status == 200, html
    # The form, filled with the current month so far (local dates), and the province's facilities.
    assert 'name="from" type="date" value="2026-11-01"' in html
    assert 'name="to" type="date" value="2026-11-23"' in html
    assert "Bệnh viện Nhi Thanh Hóa</option>" in html and "Tất cả cơ sở trong phạm vi" in html
    # The seed-002 figures, in Vietnamese, with the change against the previous period.
    assert _figure(html, "Tiếp nhận trong kỳ") == "3 — tăng 3 so với kỳ trước (09/10/2026 – 31/10/2026)"
    assert _figure(html, "Số phản ánh tồn đầu kỳ") == "0"
    assert _figure(html, "Khác") == "3"  # not transcribed: no suggestion, so "khác"
    assert _figure(html, "Số phản ánh đang giải quyết") == "3"
    # Three charts, drawn inline, each an image with a title, the numbers written as text.
    assert html.count('role="img"') == 3
    for title in (
        "Phản ánh trong thẩm quyền theo phân loại",
        "Phản ánh tiếp nhận theo tháng",
        "So sánh các cơ sở: tiếp nhận và giải quyết dứt điểm",
    ):
        assert f'<figcaption class="chart-title">{title}</figcaption>' in html
    assert '<rect class="bar" x="0" y="' in html and 'data-value="2"' in html
    assert re.findall(r'<script[^>]*src="([^"]+)"', html) == ["/static/report.js"]  # no chart library
    # Each hotline's health, the failing ones listed with their reasons, or "Không có".
    assert "Tình trạng đường dây nóng" in html and "Đường dây nóng không đạt" in html
    section = html.split('id="khong-dat"', 1)[1].split("</section>", 1)[0]
    assert "Không có" in section or '<ul class="failing">' in section
    # Nobody rated a call: no index, never 0 %.
    assert 'Chỉ số hài lòng chung: <strong class="index">Chưa có đánh giá</strong>' in html
    # Downloads, and the print button (its script is a static file: the CSP forbids inline ones).
    for href in ("/api/reports?", "/bao-cao.xlsx?", "/bao-cao.docx?"):
        assert f'href="{href}from=2026-11-01&amp;to=2026-11-23"' in html
    assert 'id="in-bao-cao"' in html and "In báo cáo" in html


async def test_the_satisfaction_index_against_the_targets(web_app: Web) -> None:
    for dialled, rating in ((BVDK, 5), (BVDK, 4), (BVDK, 4), (BVDK, 2), (BVDK, None), (BVNHI, 5)):
        await rated_ticket(web_app.app, web_app.clock, dialled, rating)
    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    html = await (await client.get("/bao-cao")).text()
    section = html.split('id="hai-long"', 1)[1].split("</section>", 1)[0]
    # 4 of the 5 rated calls: 80 %, above 77 %, below 90 %; the caller who hung up is not a low score.
    assert '<strong class="index">80,0\u00a0%</strong>' in section
    assert "mục tiêu 77&nbsp;%: <strong>đạt</strong>" in section
    assert "mục tiêu 90&nbsp;%: <strong>chưa đạt</strong>" in section
    assert "Đã đánh giá: 5 · Không trả lời: 1" in section
    rows = re.findall(r'<tr class="sat-([\w-]+)">\s*<th scope="row">([^<]+)</th>(.*?)</tr>', section, re.S)
    by_name = {name: (status, re.findall(r">([^<>]+)</td>", cells)) for status, name, cells in rows}
    assert by_name["Bệnh viện Đa khoa tỉnh Thanh Hóa"] == (
        "chua-dat",
        ["4", "3", "1", "0", "75,0\u00a0%", "Chưa đạt", "Chưa đạt"],
    )
    assert by_name["Bệnh viện Nhi Thanh Hóa"][0] == "dat"
    assert by_name["Bệnh viện Nhi Thanh Hóa"][1][4:] == ["100,0\u00a0%", "Đạt", "Đạt"]


async def test_the_json_is_the_bundle_of_what_the_person_may_see(web_app: Web) -> None:
    await _tickets(web_app)
    for role, received in ((Role.SUPERVISOR, 3), (Role.FACILITY_OFFICER, 2), (Role.AUDITOR, 3)):
        client, _ = await web_app.signed_in(role)
        r = await client.get(f"/api/reports?{PERIOD}")
        assert r.status == 200, await r.text()
        body: dict[str, Any] = await r.json()
        assert body == await _bundle(web_app, role), role
        assert body["received"] == received


async def _bundle(web_app: Web, role: Role, facility: str | None = None) -> dict[str, object]:
    who = _principal(web_app, role)
    code = facility or (who.facility_code if role is Role.FACILITY_OFFICER else None)
    service = ReportService(web_app.app.uow, web_app.app.settings.tz)
    bundle = await service.bundle(who, date(2026, 11, 1), date(2026, 11, 23), web_app.clock(), code)
    result: dict[str, object] = json.loads(json.dumps(bundle.as_dict(), default=str))
    return result


async def test_a_facility_officer_sees_only_their_facility(web_app: Web) -> None:
    await _tickets(web_app)
    client, _ = await web_app.signed_in(Role.FACILITY_OFFICER)
    html = await (await client.get("/bao-cao")).text()
    assert _figure(html, "Tiếp nhận trong kỳ").startswith("2 — tăng 2")
    assert "Bệnh viện Nhi Thanh Hóa" not in html  # not in the select, the health table or the charts
    assert "Tất cả cơ sở trong phạm vi" not in html
    assert '<option value="BVDK-TH" selected>' in html
    # Another facility's report: refused, on the page, the JSON and the downloads.
    for url in (
        f"/bao-cao?{PERIOD}&facility=BVNHI-TH",
        f"/api/reports?{PERIOD}&facility=BVNHI-TH",
        f"/bao-cao.xlsx?{PERIOD}&facility=BVNHI-TH",
    ):
        r = await client.get(url)
        assert r.status == 403, url
        assert "không được xem báo cáo của cơ sở BVNHI-TH" in await r.text()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-11-30&to=2026-11-01", "to", "Đến ngày (01/11/2026) trước Từ ngày (30/11/2026)"),
        ("from=30-11-2026&to=2026-11-01", "from", "Từ ngày không hợp lệ: '30-11-2026'"),
        ("from=2026-02-30&to=2026-03-01", "from", "Từ ngày không hợp lệ"),
        ("from=2020-01-01&to=2026-11-23", "to", f"Kỳ báo cáo dài quá {MAX_PERIOD_DAYS} ngày"),
        (f"{PERIOD}&facility=KHONG-CO", "facility", "Không có cơ sở mã 'KHONG-CO'"),
    ],
)
async def test_bad_input_is_a_vietnamese_error_next_to_the_form(
    web_app: Web, query: str, field: str, message: str
) -> None:
    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    r = await client.get(f"/bao-cao?{query}")
    html = await r.text()
    assert r.status == 400
    assert '<form method="get" action="/bao-cao"' in html  # the form is still there, to fix
    error = html.split('id="loi-bao-cao">', 1)[1].split("</p>", 1)[0]
    assert message in error.replace("&#39;", "'")
    assert f'id="{field}"' in html and 'aria-invalid="true"' in html
    assert 'role="img"' not in html  # no half report
    api = await client.get(f"/api/reports?{query}")
    assert api.status == 400
    problem = (await api.json())["error"]
    assert problem["code"] == "invalid" and problem["field"] == field and message in problem["message"]
    assert (await client.get(f"/bao-cao.xlsx?{query}")).status == 400


async def test_the_api_refuses_an_unknown_key(web_app: Web) -> None:
    client, _ = await web_app.signed_in(Role.AUDITOR)
    r = await client.get(f"/api/reports?{PERIOD}&facility_code=BVDK-TH")
    assert r.status == 400
    assert (await r.json())["error"]["field"] == "facility_code"
    doc = await (await client.get("/api/openapi.json")).json()
    params = {p["name"] for p in doc["paths"]["/api/reports"]["get"]["parameters"]}
    assert params == {"from", "to", "facility"}


async def test_an_empty_period_draws_no_bars(web_app: Web) -> None:
    client, _ = await web_app.signed_in(Role.ADMIN)
    html = await (await client.get("/bao-cao?from=2025-01-01&to=2025-01-31")).text()
    assert _figure(html, "Tiếp nhận trong kỳ") == "0 — không đổi so với kỳ trước (01/12/2024 – 31/12/2024)"
    assert html.count("Không có số liệu trong kỳ này.") == 3
    assert 'role="img"' not in html


def _sheet(data: bytes) -> dict[object, tuple[object, ...]]:
    book = load_workbook(io.BytesIO(data))
    return {row[0]: row[1:] for row in book["Báo cáo"].iter_rows(values_only=True) if row and row[0]}


async def test_the_xlsx_download_has_the_figures(web_app: Web) -> None:
    await _tickets(web_app)
    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    r = await client.get(f"/bao-cao.xlsx?{PERIOD}")
    assert r.status == 200, await r.text()
    assert r.headers["Content-Disposition"] == 'attachment; filename="bao-cao-2026-11-01_2026-11-23.xlsx"'
    assert r.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = _sheet(await r.read())
    assert rows["Tiếp nhận trong kỳ"][0] == 3
    one = await client.get(f"/bao-cao.xlsx?{PERIOD}&facility=BVDK-TH")
    assert one.headers["Content-Disposition"].endswith('bao-cao-2026-11-01_2026-11-23_BVDK-TH.xlsx"')
    rows = _sheet(await one.read())
    assert rows["Tiếp nhận trong kỳ"][0] == 2


async def test_the_docx_download(web_app: Web) -> None:
    pytest.importorskip("callcenter.services.report_docx")
    await _tickets(web_app, bvdk=1, bvnhi=0)
    client, _ = await web_app.signed_in(Role.AUDITOR)
    r = await client.get(f"/bao-cao.docx?{PERIOD}")
    assert r.status == 200, await r.text()
    assert r.headers["Content-Disposition"] == 'attachment; filename="bao-cao-2026-11-01_2026-11-23.docx"'
    with zipfile.ZipFile(io.BytesIO(await r.read())) as docx:
        assert "word/document.xml" in docx.namelist()


async def test_the_menu_and_the_registry_link_to_the_report(web_app: Web) -> None:
    for role in Role:
        client, _ = await web_app.signed_in(role)
        home = await (await client.get("/")).text()
        assert '<a href="/bao-cao">Báo cáo</a>' in home, role
    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    registry = await (await client.get("/co-so")).text()
    assert 'href="/bao-cao#duong-day-nong"' in registry
