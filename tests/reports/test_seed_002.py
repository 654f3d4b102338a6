"""Seed 002: the previous system's tickets imported, and the period report over them (both databases)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook

from callcenter.app import App
from callcenter.domain.access import Principal, Role
from callcenter.domain.report import PeriodReport
from callcenter.domain.ticket import TicketScope
from callcenter.services.reports import ReportService, report_xlsx
from callcenter.services.ticket_import import COLUMNS, TicketImportService, parse_file

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
EVERYTHING = TicketScope(everything=True)
FROM, TO = date(2022, 12, 12), date(2023, 11, 30)
CATEGORIES = {
    "thieu_thuoc": 18,
    "quy_trinh_kham_benh": 7,
    "quy_tac_ung_xu": 6,
    "chuyen_mon": 3,
    "bhyt": 4,
    "quy_che_ke_don": 1,
    "khac": 4,
}
# Some rows give the category as the previous system wrote it: its Vietnamese label.
LABELS = {"thieu_thuoc": "Thiếu thuốc", "bhyt": "BHYT", "khac": "Khác", "chuyen_mon": "chuyên môn"}


def seed_002_rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    cats = [c for c, n in CATEGORIES.items() for _ in range(n)]
    assert len(cats) == 43
    for i, cat in enumerate(cats):
        if i == 0:  # the period's first minutes, still 11/12 in UTC
            received, resolved = "12/12/2022 00:05", "2022-12-12 16:00"
        elif i == 1:  # its last minutes, resolved before midnight
            received, resolved = "2023-11-30 23:40", "30/11/2023 23:55"
        else:
            day = FROM + timedelta(days=8 * i)
            received, resolved = day.isoformat(), (day + timedelta(days=3)).isoformat()
        rows.append(
            {
                "ma": f"DDN-2023-{i + 1:03d}",
                "ngay_tiep_nhan": received,
                "co_so": "BVDK-TH" if i % 3 == 0 else "",
                "linh_vuc": LABELS.get(cat, cat) if i % 2 else cat,
                "trang_thai": "Đã giải quyết" if i % 2 else "da_giai_quyet",
                "ngay_giai_quyet": resolved,
                "khong_dung_tham_quyen": "không",
                "noi_dung": f"Phản ánh số {i + 1}",
                "ket_qua": "Đã trả lời người phản ánh",
            }
        )
    prev_start = FROM - timedelta(days=(TO - FROM).days + 1)
    for j in range(53):
        if j == 52:  # the previous period's last minutes, resolved before the period starts
            received, resolved = "2022-12-11 23:30", "2022-12-11 23:45"
        else:
            day = prev_start + timedelta(days=6 * j)
            received, resolved = day.isoformat(), (day + timedelta(days=2)).isoformat()
        rows.append(
            {
                "ma": f"DDN-2022-{j + 1:03d}",
                "ngay_tiep_nhan": received,
                "co_so": "",
                "linh_vuc": "quy_trinh_kham_benh",
                "trang_thai": "da_giai_quyet",
                "ngay_giai_quyet": resolved,
                "khong_dung_tham_quyen": "",
                "noi_dung": "",
                "ket_qua": "",
            }
        )
    return rows


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def to_xlsx(rows: list[dict[str, str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    for r in rows:
        sheet.append([r[c] for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def import_bytes(app: App, name: str, data: bytes, now: datetime) -> tuple[int, int, int]:
    parsed = parse_file(name, data, TZ)
    service = TicketImportService(app.uow)
    await service.check_facilities(parsed)
    assert parsed.errors == []
    outcome = await service.import_tickets(parsed, now)
    return outcome.created, outcome.updated, outcome.unchanged


def figures(r: PeriodReport) -> dict[str, object]:
    return r.as_dict()


async def test_seed_002_figures_from_an_imported_csv(sample_app: App, clock: object) -> None:
    now = datetime(2024, 1, 5, 9, 0, tzinfo=TZ)
    assert await import_bytes(sample_app, "cu.csv", to_csv(seed_002_rows()), now) == (96, 0, 0)
    reports = ReportService(sample_app.uow, TZ)
    r = await reports.period(EVERYTHING, FROM, TO)
    assert r.previous_period.date_from == date(2021, 12, 23)
    assert (r.carried_over, r.received, r.previous_received, r.change) == (0, 43, 53, -10)
    assert r.outside_jurisdiction == 0
    assert {c.value: n for c, n in r.by_category.items()} == CATEGORIES
    assert (r.resolved, r.still_open) == (43, 0)
    before = figures(r)

    # Re-importing the same file changes nothing: no new ticket, no new event, same figures.
    async with sample_app.uow() as uow:
        count = await uow.tickets.count()
        some = await uow.tickets.imported(["DDN-2023-001"])
        events = await uow.tickets.events(some["DDN-2023-001"].ticket_id or 0)
    assert await import_bytes(sample_app, "cu.csv", to_csv(seed_002_rows()), now) == (0, 0, 96)
    async with sample_app.uow() as uow:
        assert await uow.tickets.count() == count == 96
        assert await uow.tickets.events(some["DDN-2023-001"].ticket_id or 0) == events
    assert figures(await reports.period(EVERYTHING, FROM, TO)) == before

    # The same data as a workbook: nothing changes either.
    assert await import_bytes(sample_app, "cu.xlsx", to_xlsx(seed_002_rows()), now) == (0, 0, 96)
    assert figures(await reports.period(EVERYTHING, FROM, TO)) == before

    # One facility's share, and a facility officer's scope.
    mine = await reports.period(EVERYTHING, FROM, TO, facility_code="BVDK-TH")
    assert (mine.received, mine.resolved, mine.previous_received) == (15, 15, 0)
    officer = Principal(1, "officer", Role.FACILITY_OFFICER, facility_code="BVDK-TH")
    assert figures(await reports.period(officer, FROM, TO)) == {**figures(mine), "facility_code": None}

    # The year before, explicitly.
    explicit = await reports.period(EVERYTHING, FROM, TO, previous=(date(2021, 12, 12), date(2022, 11, 30)))
    assert explicit.previous_received == 52

    # The whole report: the same figures, split by month and by facility, which add up.
    bundle = await reports.bundle(EVERYTHING, FROM, TO, now)
    assert figures(bundle.figures) == before
    assert [m.strftime("%Y-%m") for m, _ in bundle.by_month][:2] == ["2022-12", "2023-01"]
    assert len(bundle.by_month) == 12 and sum(n for _, n in bundle.by_month) == 43
    assert sum(f.figures.received for f in bundle.facilities) == 43
    assert sum(f.figures.resolved for f in bundle.facilities) == 43
    by_code = {f.facility_code: f for f in bundle.facilities}
    assert figures(by_code["BVDK-TH"].figures) == {**figures(mine), "facility_code": "BVDK-TH"}
    assert bundle.facilities[0].figures.received == max(f.figures.received for f in bundle.facilities)

    book = load_workbook(io.BytesIO(report_xlsx(bundle)))
    assert book.sheetnames == [
        "Báo cáo",
        "Theo tháng",
        "Theo cơ sở",
        "Đường dây nóng",
        "Cuộc gọi kiểm tra",  # the test calls, apart from citizens' calls
        "Hài lòng",
        "Gọi lại",  # callbacks and what the citizens answered
    ]
    values = {row[0]: row[1] for row in book["Báo cáo"].iter_rows(values_only=True)}
    assert values["Tiếp nhận trong kỳ"] == 43
    assert values["Phân loại: Thiếu thuốc (thuốc, vắc xin, vật tư y tế)"] == 18
    assert values["So với kỳ trước"] == "giảm 10"
    months = list(book["Theo tháng"].iter_rows(values_only=True))
    assert months[1] == ("12/2022", bundle.by_month[0][1])
    per_facility = {row[0]: row[2] for row in book["Theo cơ sở"].iter_rows(min_row=2, values_only=True)}
    assert per_facility["BVDK-TH"] == 15


async def test_a_changed_row_updates_the_ticket_and_its_history(sample_app: App) -> None:
    now = datetime(2024, 1, 5, 9, 0, tzinfo=TZ)
    rows = seed_002_rows()
    await import_bytes(sample_app, "cu.csv", to_csv(rows), now)
    rows[5] = {**rows[5], "trang_thai": "dang_xu_ly", "ngay_giai_quyet": "", "linh_vuc": "bhyt"}
    rows[6] = {
        **rows[6],
        "trang_thai": "chuyen",
        "ngay_giai_quyet": "",
        "khong_dung_tham_quyen": "có",
    }
    assert await import_bytes(sample_app, "cu.csv", to_csv(rows), now) == (0, 2, 94)
    r = await ReportService(sample_app.uow, TZ).period(EVERYTHING, FROM, TO)
    assert (r.received, r.outside_jurisdiction, r.resolved, r.still_open) == (43, 1, 41, 1)
    assert sum(r.by_category.values()) == 42


def test_validation_reports_every_bad_row_and_imports_nothing() -> None:
    rows = seed_002_rows()[:3]
    rows[0] = {**rows[0], "ngay_tiep_nhan": "31/02/2023"}
    rows[1] = {**rows[1], "linh_vuc": "thuốc giả", "ngay_giai_quyet": ""}
    rows[2] = {**rows[2], "ma": rows[0]["ma"], "khong_dung_tham_quyen": "có"}
    parsed = parse_file("cu.csv", to_csv(rows), TZ)
    found = {(e.row, e.field) for e in parsed.errors}
    assert found == {
        (2, "ngay_tiep_nhan"),
        (3, "linh_vuc"),
        (3, "ngay_giai_quyet"),
        (4, "ma"),
        (4, "khong_dung_tham_quyen"),
    }
    assert all(" / " in e.reason for e in parsed.errors)  # Vietnamese first, then English
    missing = parse_file("cu.csv", b"ma,co_so\nX,\n", TZ)
    assert [(e.row, e.field) for e in missing.errors] == [(1, "ngay_tiep_nhan,trang_thai")]


async def test_unknown_facility_is_an_error(sample_app: App) -> None:
    rows = seed_002_rows()[:2]
    rows[1] = {**rows[1], "co_so": "KHONG-CO"}
    parsed = parse_file("cu.csv", to_csv(rows), TZ)
    await TicketImportService(sample_app.uow).check_facilities(parsed)
    assert [(e.row, e.field) for e in parsed.errors] == [(3, "co_so")]
