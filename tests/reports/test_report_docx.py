"""The Báo cáo (.docx) of a period: seed 002's wording and figures, the header, the placeholders, the
hotline health and satisfaction parts; read back with python-docx, and rendered to PDF by LibreOffice."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from docx.shared import Pt

from callcenter.app import App
from callcenter.domain.hotline_health import CallCounts, HotlineHealth, assess
from callcenter.domain.report import Period, PeriodReport
from callcenter.domain.satisfaction import FacilityIndex, RatingCounts, facility_index
from callcenter.domain.ticket import Category, TicketScope
from callcenter.services.report_docx import PLACEHOLDER, ReportHeader, figure_lines, report_docx
from callcenter.services.reports import FacilityFigures, ReportBundle, ReportService
from tests.reports.test_seed_002 import FROM, TO, import_bytes, seed_002_rows, to_csv

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
REPO = Path(__file__).resolve().parents[2]

SEED_002_LINES = [
    "- Số phản ánh tồn đầu kỳ: 00.",
    "- Tiếp nhận trong kỳ: 43 phản ánh, giảm 10 phản ánh so với kỳ trước (23/12/2021 – 11/12/2022).",
    "- Số thông tin chuyển đến không đúng thẩm quyền: 00.",
    "- Phân loại phản ánh: thiếu thuốc: 18, quy trình khám bệnh: 07, quy tắc ứng xử: 06, chuyên môn: 03,"
    " BHYT: 04, quy chế kê đơn: 01, khác: 04.",
    "- Xử lý, giải quyết dứt điểm: 43.",
    "- Số phản ánh đang giải quyết: 00.",
]
SEED_002_CATEGORIES = {
    Category.THIEU_THUOC: 18,
    Category.QUY_TRINH_KHAM_BENH: 7,
    Category.QUY_TAC_UNG_XU: 6,
    Category.CHUYEN_MON: 3,
    Category.BHYT: 4,
    Category.QUY_CHE_KE_DON: 1,
    Category.KHAC: 4,
}


def seed_002_figures(facility_code: str | None = None, **changes: int) -> PeriodReport:
    values = {
        "carried_over": 0,
        "received": 43,
        "previous_received": 53,
        "outside_jurisdiction": 0,
        "resolved": 43,
        "still_open": 0,
    }
    values.update(changes)
    return PeriodReport(
        period=Period(FROM, TO),
        previous_period=Period(date(2021, 12, 23), date(2022, 12, 11)),
        by_category=dict(SEED_002_CATEGORIES),
        facility_code=facility_code,
        **values,
    )


def health(code: str, name: str, hotline: str, counts: CallCounts, **kw: object) -> HotlineHealth:
    gaps = kw.get("gaps", [])
    assert isinstance(gaps, list)
    return assess(code, name, hotline, counts, gaps=gaps, not_viettel=bool(kw.get("not_viettel", False)))


def seed_002_bundle(*, ratings: bool = True, failing: bool = True) -> ReportBundle:
    night = datetime(2023, 3, 4, 22, 0, tzinfo=TZ)
    good = CallCounts(
        calls=40,
        answered=38,
        answered_by_first=35,
        all_failed=2,
        mean_answer_wait_ms=12_400,
        answered_with_wait=38,
    )
    dead = CallCounts(calls=6, answered=0, all_failed=6)
    hotlines = [
        health("BVDK-KH", "Bệnh viện Đa khoa tỉnh Khánh Hòa", "0968115115", good),
        health(
            "TTYT-CR",
            "Trung tâm Y tế thành phố Cam Ranh",
            "0865203115",
            dead if failing else good,
            gaps=[(night, night + timedelta(hours=9, minutes=30))] if failing else [],
        ),
        health("TTYT-NH", "Trung tâm Y tế thị xã Ninh Hòa", "02583863115", CallCounts(), not_viettel=failing),
    ]
    indexes = [
        facility_index("BVDK-KH", RatingCounts(rated=30, satisfied=26, no_answer=5, invalid=1)),
        facility_index("TTYT-NH", RatingCounts(rated=0, no_answer=2)),
        facility_index(None, RatingCounts(rated=4, satisfied=2)),
    ]
    total = facility_index(None, RatingCounts(rated=34, satisfied=28, no_answer=7, invalid=1))
    return ReportBundle(
        figures=seed_002_figures(),
        scope_label="Tất cả cơ sở",
        by_month=[],
        facilities=[
            FacilityFigures(None, "Không rõ cơ sở", seed_002_figures(None, received=28, resolved=28)),
            FacilityFigures(
                "BVDK-KH",
                "Bệnh viện Đa khoa tỉnh Khánh Hòa",
                seed_002_figures("BVDK-KH", received=15, resolved=15, previous_received=0),
            ),
            FacilityFigures(
                "TTYT-NH",
                "Trung tâm Y tế thị xã Ninh Hòa",
                seed_002_figures("TTYT-NH", received=0, resolved=0),
            ),
        ],
        health=hotlines,
        satisfaction=indexes if ratings else [],
        satisfaction_total=total if ratings else FacilityIndex(None, 0, 0, 0, 0),
        generated_at=datetime(2023, 12, 12, 9, 0, tzinfo=TZ),
    )


def texts(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    """The document's body paragraphs and its tables (rows of cell texts)."""
    doc = Document(io.BytesIO(data))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    return [p.text for p in doc.paragraphs], tables


def test_seed_002_lines_word_for_word() -> None:
    paragraphs, _ = texts(report_docx(seed_002_bundle(), ReportHeader()))
    start = paragraphs.index(SEED_002_LINES[0])
    assert paragraphs[start : start + len(SEED_002_LINES)] == SEED_002_LINES
    assert (
        "2.2. Kết quả tiếp nhận, xử lý vận hành trên Đường dây nóng (số liệu từ ngày 12/12/2022 đến ngày"
        " 30/11/2023):" in paragraphs
    )


def test_change_wording_and_two_digit_numbers() -> None:
    up = figure_lines(seed_002_figures(received=60, previous_received=53, carried_over=7, still_open=12))
    assert up[0] == "Số phản ánh tồn đầu kỳ: 07."
    assert (
        up[1]
        == "Tiếp nhận trong kỳ: 60 phản ánh, tăng 07 phản ánh so với kỳ trước (23/12/2021 – 11/12/2022)."
    )
    assert up[-1] == "Số phản ánh đang giải quyết: 12."
    same = figure_lines(seed_002_figures(received=53))
    assert same[1] == "Tiếp nhận trong kỳ: 53 phản ánh, không đổi so với kỳ trước (23/12/2021 – 11/12/2022)."
    assert figure_lines(seed_002_figures(received=143, previous_received=0))[1].startswith(
        "Tiếp nhận trong kỳ: 143 phản ánh, tăng 143 phản ánh"
    )


def test_header_title_placeholders_and_signature() -> None:
    header = ReportHeader(signer_name="Nguyễn Văn A", other_recipients=("PGĐ Sở Y tế;",))
    data = report_docx(seed_002_bundle(), header)
    paragraphs, tables = texts(data)
    top = tables[0][0]
    assert top[0].split("\n") == ["UBND TỈNH KHÁNH HÒA", "SỞ Y TẾ", "", "Số: …/BC-SYT"]
    assert top[1].split("\n") == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "",
        "Khánh Hòa, ngày … tháng … năm 2023",
    ]
    doc = Document(io.BytesIO(data))
    left, right = doc.tables[0].rows[0].cells
    assert left.paragraphs[1].runs[0].bold and not left.paragraphs[0].runs[0].bold
    assert all(p.runs[0].bold for p in right.paragraphs[:2])
    assert right.paragraphs[3].runs[0].italic

    title = paragraphs.index("BÁO CÁO")
    assert paragraphs[title + 1 : title + 3] == [
        "Về việc quản lý, vận hành hệ thống Đường dây nóng",
        "từ ngày 12/12/2022 đến ngày 30/11/2023",
    ]
    assert doc.paragraphs[title].alignment == 1 and doc.paragraphs[title].runs[0].bold  # centred
    assert "Kính gửi: UBND tỉnh." in paragraphs

    for heading in ("1. Công tác triển khai:", "a) Mặt đạt được:", "b) Mặt tồn tại:", "4. Kiến nghị:"):
        assert paragraphs[paragraphs.index(heading) + 1] == PLACEHOLDER
    placeholder = doc.paragraphs[paragraphs.index("1. Công tác triển khai:") + 1].runs[0]
    assert placeholder.italic and placeholder.font.highlight_color is not None
    assert "2. Kết quả thực hiện:" in paragraphs and "3. Nhận xét:" in paragraphs
    assert (
        "Sở Y tế kính báo cáo kết quả quản lý, vận hành hệ thống Đường dây nóng từ ngày 12/12/2022 đến ngày"
        " 30/11/2023./." in paragraphs
    )

    bottom = tables[-1][0]
    assert bottom[0].split("\n") == ["Nơi nhận:", "- Như trên;", "- PGĐ Sở Y tế;", "- Lưu: VT, Ttra."]
    assert [line for line in bottom[1].split("\n") if line] == [
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        "Nguyễn Văn A",
    ]
    heading = doc.tables[-1].rows[0].cells[0].paragraphs[0].runs[0]
    assert heading.bold and heading.italic

    section = doc.sections[0]
    mm = [round(x.mm) for x in (section.page_width, section.page_height)]  # type: ignore[union-attr]
    assert mm == [210, 297]  # A4
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(x.mm) for x in margins] == [20, 20, 30, 15]  # type: ignore[union-attr]
    normal = doc.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size == Pt(13)
    fonts = normal.element.rPr.rFonts
    assert {fonts.get(f"{{{fonts.nsmap['w']}}}{k}") for k in ("ascii", "hAnsi", "eastAsia", "cs")} == {
        "Times New Roman"
    }


def test_defaults_leave_the_signer_blank_and_other_agencies_work() -> None:
    paragraphs, tables = texts(report_docx(seed_002_bundle()))
    assert [line for line in tables[-1][0][1].split("\n") if line] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]
    other = ReportHeader(
        agency_parent="UBND TỈNH BÀ RỊA - VŨNG TÀU",
        place="Bà Rịa - Vũng Tàu",
        hotline_name="Đường dây nóng của Lãnh đạo tỉnh",
    )
    paragraphs, tables = texts(report_docx(seed_002_bundle(), other))
    assert tables[0][0][1].endswith("Bà Rịa - Vũng Tàu, ngày … tháng … năm 2023")
    assert "Về việc quản lý, vận hành hệ thống Đường dây nóng của Lãnh đạo tỉnh" in paragraphs


def test_facilities_health_failing_and_satisfaction() -> None:
    paragraphs, tables = texts(report_docx(seed_002_bundle()))
    by_facility = tables[1]
    assert by_facility[0] == [
        "STT",
        "Đơn vị",
        "Tồn đầu kỳ",
        "Tiếp nhận",
        "Giải quyết dứt điểm",
        "Đang giải quyết",
    ]
    assert by_facility[1:] == [  # a facility with nothing in the period is left out
        ["1", "Không rõ cơ sở", "00", "28", "28", "00"],
        ["2", "Bệnh viện Đa khoa tỉnh Khánh Hòa", "00", "15", "15", "00"],
        ["", "Tổng cộng", "00", "43", "43", "00"],
    ]
    hotlines = tables[2]
    assert hotlines[1] == [
        "1",
        "Bệnh viện Đa khoa tỉnh Khánh Hòa\n0968115115",
        "40",
        "95%",
        "87,5%",
        "12,4",
        "2",
        "0",
    ]
    assert hotlines[2][2:] == ["6", "0%", "0%", "–", "6", "1 (9,5 giờ)"]
    assert hotlines[3][2:] == ["0", "–", "–", "–", "0", "0"]
    failing = paragraphs.index("Đường dây nóng chưa đạt yêu cầu:")
    assert paragraphs[failing + 1 : failing + 3] == [
        "- Trung tâm Y tế thành phố Cam Ranh (0865203115): có cuộc gọi nhưng không ai nghe máy;"
        " lịch trực có khoảng trống (không trực 24/24).",
        "- Trung tâm Y tế thị xã Ninh Hòa (02583863115): số đường dây nóng không phải di động Viettel.",
    ]
    assert (
        "- Chỉ số hài lòng chung: 82,4% (28/34 cuộc gọi được đánh giá hài lòng hoặc rất hài lòng);"
        " đạt mục tiêu 77%; chưa đạt mục tiêu 90%." in paragraphs
    )
    assert tables[3][1:] == [
        ["1", "Bệnh viện Đa khoa tỉnh Khánh Hòa", "30", "26", "86,7%", "Đạt", "Chưa đạt"],
        ["2", "Trung tâm Y tế thị xã Ninh Hòa", "0", "0", "chưa có đánh giá", "–", "–"],
        ["3", "Không rõ cơ sở", "4", "2", "50%", "Chưa đạt", "Chưa đạt"],
    ]


def test_nobody_failing_and_nobody_rated() -> None:
    paragraphs, tables = texts(report_docx(seed_002_bundle(ratings=False, failing=False)))
    failing = paragraphs.index("Đường dây nóng chưa đạt yêu cầu:")
    assert paragraphs[failing + 1] == "- Không có đơn vị nào."
    total = [p for p in paragraphs if p.startswith("- Chỉ số hài lòng chung:")]
    assert total == [
        "- Chỉ số hài lòng chung: chưa có đánh giá (không có cuộc gọi nào được người dân đánh giá)."
    ]
    assert not any("0%" in p for p in total)
    assert len(tables) == 4  # header, facilities, hotlines, signature: no satisfaction table without ratings


async def test_end_to_end_from_imported_tickets(sample_app: App) -> None:
    """Seed 002's tickets imported as the previous system's export, the bundle read from the database."""
    now = datetime(2024, 1, 5, 9, 0, tzinfo=TZ)
    assert await import_bytes(sample_app, "cu.csv", to_csv(seed_002_rows()), now) == (96, 0, 0)
    bundle = await ReportService(sample_app.uow, TZ).bundle(TicketScope(everything=True), FROM, TO, now=now)
    paragraphs, tables = texts(report_docx(bundle, ReportHeader()))
    start = paragraphs.index(SEED_002_LINES[0])
    assert paragraphs[start : start + len(SEED_002_LINES)] == SEED_002_LINES
    assert ["", "Tổng cộng", "00", "43", "43", "00"] in tables[1]
    assert ["1", "Không rõ cơ sở", "00", "28", "28", "00"] in tables[1]
    assert ["2", "Bệnh viện Đa khoa tỉnh Thanh Hóa", "00", "15", "15", "00"] in tables[1]
    # Imported tickets have no calls: every hotline shows 0 calls, and nobody rated.
    assert {row[2] for row in tables[2][1:]} == {"0"}
    assert len(tables[2]) - 1 == len(bundle.health) > 0
    failing = paragraphs.index("Đường dây nóng chưa đạt yêu cầu:")
    expected = [f"- {h.facility_name} ({h.hotline}): " for h in bundle.failing] or ["- Không có đơn vị nào."]
    listed = paragraphs[failing + 1 : failing + 1 + len(expected)]
    assert all(line.startswith(start) for line, start in zip(listed, expected, strict=True)), listed
    assert any(p.startswith("- Chỉ số hài lòng chung: chưa có đánh giá") for p in paragraphs), (
        "nobody rated: never 0 %"
    )


# -- rendering -------------------------------------------------------------------------------------------


def artifact_dir(tmp_path: Path, name: str) -> Path:
    """tests/artifacts/NAME when CALLCENTER_TEST_ARTIFACTS is set (to look at), else the test's tmp_path."""
    if os.environ.get("CALLCENTER_TEST_ARTIFACTS"):
        out = REPO / "tests" / "artifacts" / name
        out.mkdir(parents=True, exist_ok=True)
        return out
    return tmp_path


def to_pdf(docx: Path, out: Path) -> tuple[Path, float]:
    profile = Path(f"/tmp/lo-profile-{os.getpid()}")
    started = time.monotonic()
    try:
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out),
                str(docx),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)  # a private LibreOffice profile per run
    return out / (docx.stem + ".pdf"), time.monotonic() - started


@pytest.mark.slow
def test_renders_to_a_pdf_with_vietnamese_intact(tmp_path: Path) -> None:
    missing = [tool for tool in ("soffice", "pdftotext", "pdfinfo", "pdftoppm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"not installed: {', '.join(missing)} (apt-get install libreoffice-writer-nogui poppler-utils)"
        )
    out = artifact_dir(tmp_path, "report_docx")
    docx = out / "bao_cao.docx"
    docx.write_bytes(report_docx(seed_002_bundle(), ReportHeader(signer_name="Nguyễn Văn A")))
    pdf, seconds = to_pdf(docx, out)
    print(f"soffice rendered the Báo cáo in {seconds:.1f} s")

    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    flat = " ".join(text.split())
    for line in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND TỈNH KHÁNH HÒA",
        "SỞ Y TẾ",
        "Số: …/BC-SYT",
        "Khánh Hòa, ngày … tháng … năm 2023",
        "BÁO CÁO",
        "Về việc quản lý, vận hành hệ thống Đường dây nóng",
        "Kính gửi: UBND tỉnh.",
        "Số phản ánh tồn đầu kỳ: 00.",
        "Tiếp nhận trong kỳ: 43 phản ánh, giảm 10 phản ánh so với kỳ trước",
        "Số thông tin chuyển đến không đúng thẩm quyền: 00.",
        "thiếu thuốc: 18, quy trình khám bệnh: 07, quy tắc ứng xử: 06",
        "Xử lý, giải quyết dứt điểm: 43.",
        "Số phản ánh đang giải quyết: 00.",
        "Chỉ số hài lòng chung: 82,4%",
        "Mặt tồn tại:",
        "Nơi nhận:",
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        "Nguyễn Văn A",
    ):
        assert line in flat, line
    # The two header columns sit side by side on one line, as in a real document.
    assert any("SỞ Y TẾ" in row and "Độc lập - Tự do - Hạnh phúc" in row for row in text.splitlines())

    info = subprocess.run(
        ["pdfinfo", str(pdf)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    pages = int(next(row.split()[-1] for row in info.splitlines() if row.startswith("Pages:")))
    assert 1 <= pages <= 4
    assert "595.3" in info or "595.27" in info or "595" in info  # A4: 595 x 842 pt
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(pdf), str(out / "page")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert sorted(p.name for p in out.glob("page*.png"))
