"""The period report as a Vietnamese administrative document (Báo cáo, .docx), in the shape of seed 002.

`report_docx(bundle, header)` fills in the figures of a `ReportBundle`; the parts only a person can write
(what was done, the assessment, the recommendations, the number and the day of signing) are left as
visible placeholders ("[Đơn vị bổ sung nội dung]", italic, highlighted) or as dots.

Layout after Nghị định 30/2020/NĐ-CP: A4, margins 20/20/30/15 mm (top/bottom/left/right), Times New Roman
13 pt; the header as a borderless two-column table (the agency and "Số: …/BC-SYT" on the left, the
national title, the motto and "place, ngày … tháng … năm YYYY" on the right); the title "BÁO CÁO" and its
summary centred; "Nơi nhận" and the signature as another borderless two-column table at the end.
Numbers in the figures are written as the real report writes them: at least two digits (00, 07, 43).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from callcenter.domain.hotline_health import FAIL_REASON_LABELS_VI
from callcenter.domain.probe_health import labelled_reasons
from callcenter.domain.report import PeriodReport
from callcenter.domain.satisfaction import FINAL_TARGET_PERCENT, FIRST_TARGET_PERCENT, FacilityIndex
from callcenter.domain.ticket import Category
from callcenter.services.reports import ReportBundle

FONT = "Times New Roman"
BODY_PT = 13
TABLE_PT = 11
PLACEHOLDER = "[Đơn vị bổ sung nội dung]"
TEXT_WIDTH_CM = 16.5  # A4 210 mm - 30 mm - 15 mm

# The category names as the Báo cáo writes them in its one "Phân loại phản ánh" line (seed 002).
CATEGORY_SHORT_VI: dict[Category, str] = {
    Category.THIEU_THUOC: "thiếu thuốc",
    Category.QUY_TRINH_KHAM_BENH: "quy trình khám bệnh",
    Category.QUY_TAC_UNG_XU: "quy tắc ứng xử",
    Category.CHUYEN_MON: "chuyên môn",
    Category.BHYT: "BHYT",
    Category.QUY_CHE_KE_DON: "quy chế kê đơn",
    Category.KHAC: "khác",
}


@dataclass(frozen=True)
class ReportHeader:
    """What the document says about who sends it and to whom. Empty strings are left for a person to
    fill in on paper (the signer's name, for one)."""

    agency_parent: str = "UBND TỈNH KHÁNH HÒA"  # cơ quan chủ quản
    agency: str = "SỞ Y TẾ"  # cơ quan ban hành (bold)
    agency_in_text: str = "Sở Y tế"  # how the body of the text names it
    number_suffix: str = "BC-SYT"  # "Số: …/BC-SYT"
    place: str = "Khánh Hòa"
    recipient: str = "UBND tỉnh"
    hotline_name: str = "Đường dây nóng"  # e.g. "Đường dây nóng của Lãnh đạo tỉnh"
    signer_title: tuple[str, ...] = ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC")
    signer_name: str = ""
    other_recipients: tuple[str, ...] = field(default=())  # "Nơi nhận" lines between "Như trên" and "Lưu"
    archive: str = "Lưu: VT, Ttra."


def _lower_first(text: str) -> str:
    """ "Số đường dây nóng không phải di động Viettel" -> "số đường … Viettel" (names keep their capitals)."""
    return text[:1].lower() + text[1:]


def _duration_vi(seconds: float) -> str:
    """9.5 h -> "9,5 giờ"; from two days on, in days: "354 ngày"."""
    hours = seconds / 3600
    if hours >= 48:
        return f"{percent_vi(round(hours / 24, 1)).rstrip('%')} ngày"
    return f"{percent_vi(round(hours, 1)).rstrip('%')} giờ"


def n2(value: int) -> str:
    """A count as the Báo cáo writes it: 0 -> "00", 7 -> "07", 43 -> "43"."""
    return f"{value:02d}"


def figure_lines(r: PeriodReport) -> list[str]:
    """The bullet lines of "2.2 Kết quả tiếp nhận, xử lý", word for word as seed 002 writes them."""
    prev = f"{r.previous_period.date_from:%d/%m/%Y} – {r.previous_period.date_to:%d/%m/%Y}"
    if r.change > 0:
        change = f"tăng {n2(r.change)} phản ánh so với kỳ trước ({prev})"
    elif r.change < 0:
        change = f"giảm {n2(-r.change)} phản ánh so với kỳ trước ({prev})"
    else:
        change = f"không đổi so với kỳ trước ({prev})"
    categories = ", ".join(f"{CATEGORY_SHORT_VI[c]}: {n2(r.by_category.get(c, 0))}" for c in Category)
    return [
        f"Số phản ánh tồn đầu kỳ: {n2(r.carried_over)}.",
        f"Tiếp nhận trong kỳ: {n2(r.received)} phản ánh, {change}.",
        f"Số thông tin chuyển đến không đúng thẩm quyền: {n2(r.outside_jurisdiction)}.",
        f"Phân loại phản ánh: {categories}.",
        f"Xử lý, giải quyết dứt điểm: {n2(r.resolved)}.",
        f"Số phản ánh đang giải quyết: {n2(r.still_open)}.",
    ]


def percent_vi(value: float | None) -> str:
    """85.7 -> "85,7%" (Vietnamese decimal comma); None -> "–"."""
    if value is None:
        return "–"
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + "%"


def satisfaction_line(index: FacilityIndex) -> str:
    """The overall index against the targets; "chưa có đánh giá" when nobody rated (never 0 %)."""
    if index.rated == 0:
        return "Chỉ số hài lòng chung: chưa có đánh giá (không có cuộc gọi nào được người dân đánh giá)."
    targets = "; ".join(
        f"{'đạt' if met else 'chưa đạt'} mục tiêu {target}%"
        for target, met in (
            (FIRST_TARGET_PERCENT, index.meets_first_target),
            (FINAL_TARGET_PERCENT, index.meets_final_target),
        )
    )
    return (
        f"Chỉ số hài lòng chung: {percent_vi(index.index_percent)} ({n2(index.satisfied)}/{n2(index.rated)}"
        f" cuộc gọi được đánh giá hài lòng hoặc rất hài lòng); {targets}."
    )


def report_docx(bundle: ReportBundle, header: ReportHeader | None = None) -> bytes:
    """The Báo cáo of one period as a .docx file."""
    h = header or ReportHeader()
    r = bundle.figures
    doc = Document()
    _page_setup(doc)
    _styles(doc)
    span = f"từ ngày {r.period.date_from:%d/%m/%Y} đến ngày {r.period.date_to:%d/%m/%Y}"

    _national_header(doc, h, r.period.date_to.year)
    _para(doc, "BÁO CÁO", bold=True, align="center", size=14, before=12, after=0)
    _para(doc, f"Về việc quản lý, vận hành hệ thống {h.hotline_name}", bold=True, align="center", after=0)
    _para(doc, span, bold=True, align="center", after=0)
    _rule(doc.add_paragraph(), width_cm=4.0, total_cm=TEXT_WIDTH_CM)
    _para(doc, f"Kính gửi: {h.recipient}.", align="center", before=6, after=12)

    intro = _body(doc, "Thực hiện ")
    _placeholder_run(intro, "[văn bản chỉ đạo: số, ngày, cơ quan ban hành]")
    intro.add_run(
        f"; {h.agency_in_text} báo cáo kết quả quản lý, vận hành hệ thống {h.hotline_name} {span} như sau:"
    )

    _heading(doc, "1. Công tác triển khai:")
    _placeholder(doc)

    _heading(doc, "2. Kết quả thực hiện:")
    _heading(doc, f"2.1. Công khai {h.hotline_name}:")
    _placeholder(doc)
    _heading(
        doc,
        f"2.2. Kết quả tiếp nhận, xử lý vận hành trên {h.hotline_name} (số liệu từ ngày"
        f" {r.period.date_from:%d/%m/%Y} đến ngày {r.period.date_to:%d/%m/%Y}):",
    )
    if bundle.scope_label != "Tất cả cơ sở":
        _bullet(doc, f"Phạm vi số liệu: {bundle.scope_label}.")
    for line in figure_lines(r):
        _bullet(doc, line)
    _facility_table(doc, bundle)

    _heading(doc, "2.3. Hoạt động của đường dây nóng các đơn vị:")
    _health_table(doc, bundle)
    _para(doc, "Đường dây nóng chưa đạt yêu cầu:", italic=True, before=6, indent=True)
    if bundle.failing:
        for f in bundle.failing:
            labels = [FAIL_REASON_LABELS_VI[reason] for reason in f.reasons] + labelled_reasons(f.probes)
            reasons = "; ".join(_lower_first(label) for label in labels)
            _bullet(doc, f"{f.facility_name} ({f.hotline}): {reasons}.")
    else:
        _bullet(doc, "Không có đơn vị nào.")

    _heading(doc, "2.4. Chỉ số hài lòng của người dân:")
    _bullet(doc, satisfaction_line(bundle.satisfaction_total))
    _satisfaction_table(doc, bundle)

    _heading(doc, "3. Nhận xét:")
    _heading(doc, "a) Mặt đạt được:", bold=False, italic=True)
    _placeholder(doc)
    _heading(doc, "b) Mặt tồn tại:", bold=False, italic=True)
    _placeholder(doc)
    _heading(doc, "4. Kiến nghị:")
    _placeholder(doc)
    closing = _body(
        doc,
        f"{h.agency_in_text} kính báo cáo kết quả quản lý, vận hành hệ thống {h.hotline_name} {span}./.",
    )
    closing.paragraph_format.space_before = Pt(6)
    closing.paragraph_format.keep_with_next = True  # never a signature alone on the last page

    _signature(doc, h)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# -- page and styles -------------------------------------------------------------------------------------


def _page_setup(doc: DocumentObject) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = section.footer_distance = Mm(10)
    # Page numbers at the top centre, from the second page on (Nghị định 30).
    section.different_first_page_header_footer = True
    number = section.header.paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    simple = OxmlElement("w:fldSimple")
    simple.set(qn("w:instr"), "PAGE")
    simple.append(OxmlElement("w:r"))
    number._p.append(simple)


def _fonts(rpr: object, size_pt: int) -> None:
    """Times New Roman for every script (ASCII, Vietnamese diacritics, east-asian and complex slots), the
    size for complex scripts too, Vietnamese as the language."""
    element = rpr  # an lxml element (w:rPr)
    fonts = element.find(qn("w:rFonts"))  # type: ignore[attr-defined]
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        element.insert(0, fonts)  # type: ignore[attr-defined]
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if fonts.get(qn(theme)) is not None:
            del fonts.attrib[qn(theme)]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    for tag in ("w:sz", "w:szCs"):
        size = element.find(qn(tag))  # type: ignore[attr-defined]
        if size is None:
            size = OxmlElement(tag)
            element.append(size)  # type: ignore[attr-defined]
        size.set(qn("w:val"), str(size_pt * 2))
    lang = element.find(qn("w:lang"))  # type: ignore[attr-defined]
    if lang is None:
        lang = OxmlElement("w:lang")
        element.append(lang)  # type: ignore[attr-defined]
    lang.set(qn("w:val"), "vi-VN")
    lang.set(qn("w:eastAsia"), "vi-VN")


def _styles(doc: DocumentObject) -> None:
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            _fonts(rpr, BODY_PT)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    _fonts(normal.element.get_or_add_rPr(), BODY_PT)
    fmt = normal.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(4)
    fmt.line_spacing = 1.1
    fmt.widow_control = True


# -- paragraphs ------------------------------------------------------------------------------------------


def _para(
    where: DocumentObject | _Cell,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    align: str = "justify",
    size: int | None = None,
    before: float | None = None,
    after: float | None = None,
    indent: bool = False,
) -> Paragraph:
    p = where.add_paragraph()
    if text:
        run = p.add_run(text)
        run.bold = bold or None
        run.italic = italic or None
        if size is not None:
            run.font.size = Pt(size)
            _size_cs(run, size)
    p.alignment = {
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
    }.get(align, WD_ALIGN_PARAGRAPH.JUSTIFY)
    if before is not None:
        p.paragraph_format.space_before = Pt(before)
    if after is not None:
        p.paragraph_format.space_after = Pt(after)
    if indent:
        p.paragraph_format.first_line_indent = Cm(1)
    return p


def _size_cs(run: object, size: int) -> None:
    rpr = run._element.get_or_add_rPr()  # type: ignore[attr-defined]
    cs = rpr.find(qn("w:szCs"))
    if cs is None:
        cs = OxmlElement("w:szCs")
        rpr.append(cs)
    cs.set(qn("w:val"), str(size * 2))


def _body(doc: DocumentObject, text: str) -> Paragraph:
    return _para(doc, text, indent=True)


def _heading(doc: DocumentObject, text: str, *, bold: bool = True, italic: bool = False) -> Paragraph:
    p = _para(doc, text, bold=bold, italic=italic, indent=True, before=4)
    p.paragraph_format.keep_with_next = True
    return p


def _bullet(doc: DocumentObject, text: str) -> Paragraph:
    """A "- " line as Vietnamese documents type them (not a Word list, so it survives any editor)."""
    return _para(doc, f"- {text}", indent=True)


def _placeholder_run(p: Paragraph, text: str) -> None:
    run = p.add_run(text)
    run.italic = True
    run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _placeholder(doc: DocumentObject) -> Paragraph:
    p = _para(doc, "", indent=True)
    _placeholder_run(p, PLACEHOLDER)
    return p


def _rule(p: Paragraph, *, width_cm: float, total_cm: float) -> None:
    """A thin horizontal line `width_cm` long, centred in `total_cm`: the top border of an empty, tiny
    paragraph indented from both sides (the line under the agency's name and under the motto)."""
    side = max(0.0, (total_cm - width_cm) / 2)
    fmt = p.paragraph_format
    fmt.left_indent = fmt.right_indent = Cm(side)
    fmt.first_line_indent = Cm(0)
    fmt.space_before = Pt(1)
    fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(2)
    ppr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        top.set(qn(key), value)
    borders.append(top)
    ppr.append(borders)
    # pPr children have a fixed order: pBdr goes before spacing/ind/jc.
    for tag in ("w:spacing", "w:ind", "w:jc"):
        child = ppr.find(qn(tag))
        if child is not None:
            ppr.remove(child)
            ppr.append(child)


# -- tables ----------------------------------------------------------------------------------------------


def _plain_table(doc: DocumentObject, widths_cm: Sequence[float]) -> Table:
    """A borderless one-row table (the header, the signature)."""
    table: Table = doc.add_table(rows=1, cols=len(widths_cm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _no_borders(table)
    _widths(table, widths_cm)
    return table


def _no_borders(table: Table) -> None:
    tblpr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        e = OxmlElement(f"w:{edge}")
        e.set(qn("w:val"), "nil")
        borders.append(e)
    _insert_before(tblpr, borders, ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook"))


def _insert_before(parent: object, child: object, later: Sequence[str]) -> None:
    """Insert `child` before the first of the `later` elements present (the schema's order), else last."""
    for tag in later:
        found = parent.find(qn(tag))  # type: ignore[attr-defined]
        if found is not None:
            found.addprevious(child)
            return
    parent.append(child)  # type: ignore[attr-defined]


def _widths(table: Table, widths_cm: Sequence[float]) -> None:
    for col, width in zip(table.columns, widths_cm, strict=True):
        col.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def _cell_text(cell: _Cell, lines: Sequence[tuple[str, bool, bool]], *, size: int, align: str) -> None:
    """Fill a cell with (text, bold, italic) lines, the first in the cell's own paragraph."""
    for i, (text, bold, italic) in enumerate(lines):
        p = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        run = p.add_run(text)
        run.bold = bold or None
        run.italic = italic or None
        run.font.size = Pt(size)
        _size_cs(run, size)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER if align == "center" else WD_ALIGN_PARAGRAPH.LEFT
        p.paragraph_format.space_after = Pt(0)
        p.paragraph_format.space_before = Pt(0)
        p.paragraph_format.line_spacing = 1.0
        p.paragraph_format.first_line_indent = Cm(0)


def _national_header(doc: DocumentObject, h: ReportHeader, year: int) -> None:
    left_w, right_w = 6.5, 10.0
    table = _plain_table(doc, (left_w, right_w))
    left, right = table.rows[0].cells
    _cell_text(left, [(h.agency_parent, False, False), (h.agency, True, False)], size=13, align="center")
    _rule(left.add_paragraph(), width_cm=2.5, total_cm=left_w - 0.4)
    number = left.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number.paragraph_format.space_before = Pt(6)
    number.add_run(f"Số: …/{h.number_suffix}").font.size = Pt(13)
    _cell_text(
        right,
        [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True, False), ("Độc lập - Tự do - Hạnh phúc", True, False)],
        size=13,
        align="center",
    )
    _rule(right.add_paragraph(), width_cm=5.6, total_cm=right_w - 0.4)
    place = right.add_paragraph()
    place.alignment = WD_ALIGN_PARAGRAPH.CENTER
    place.paragraph_format.space_before = Pt(6)
    run = place.add_run(f"{h.place}, ngày … tháng … năm {year}")
    run.italic = True
    run.font.size = Pt(14)
    for p in (number, place):
        p.paragraph_format.first_line_indent = Cm(0)
        p.paragraph_format.space_after = Pt(0)


def _signature(doc: DocumentObject, h: ReportHeader) -> None:
    spacer = doc.add_paragraph().paragraph_format
    spacer.space_after = Pt(0)
    spacer.keep_with_next = True
    table = _plain_table(doc, (8.0, 8.5))
    # The block stays in one piece: "Nơi nhận" and the signature never split over two pages.
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    left, right = table.rows[0].cells
    recipients = ["Như trên;", *h.other_recipients, h.archive]
    _cell_text(left, [("Nơi nhận:", True, True)], size=12, align="left")
    for line in recipients:
        p = left.add_paragraph()
        run = p.add_run(f"- {line}")
        run.font.size = Pt(11)
        _size_cs(run, 11)
        p.paragraph_format.space_after = Pt(0)
        p.paragraph_format.first_line_indent = Cm(0)
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    lines = [(t, True, False) for t in h.signer_title] + [("", False, False)] * 4
    if h.signer_name:
        lines.append((h.signer_name, True, False))
    _cell_text(right, lines, size=13, align="center")


def _grid(
    doc: DocumentObject, head: Sequence[str], rows: Sequence[Sequence[str]], widths_cm: Sequence[float]
) -> Table:
    """A bordered figure table: bold header row (repeated on a new page), numbers centred."""
    table: Table = doc.add_table(rows=1 + len(rows), cols=len(head))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _widths(table, widths_cm)
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        _cell_text(cell, [(text, True, False)], size=TABLE_PT, align="center")
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    trpr = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    trpr.append(repeat)
    for row, values in zip(table.rows[1:], rows, strict=True):
        for i, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            _cell_text(cell, [(text, False, False)], size=TABLE_PT, align="left" if i == 1 else "center")
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    after = doc.add_paragraph()
    after.paragraph_format.space_after = Pt(0)
    after.paragraph_format.line_spacing = Pt(6)
    return table


def _bold_last_row(table: Table) -> None:
    for cell in table.rows[-1].cells:
        for p in cell.paragraphs:
            for run in p.runs:
                run.bold = True


def _facility_table(doc: DocumentObject, bundle: ReportBundle) -> None:
    rows = [
        f
        for f in bundle.facilities
        if f.figures.received or f.figures.resolved or f.figures.still_open or f.figures.carried_over
    ]
    if not rows:
        return
    caption = _para(doc, "Số liệu theo đơn vị:", italic=True, indent=True, before=4)
    caption.paragraph_format.keep_with_next = True
    body = [
        [
            str(i),
            f.facility_name,
            n2(f.figures.carried_over),
            n2(f.figures.received),
            n2(f.figures.resolved),
            n2(f.figures.still_open),
        ]
        for i, f in enumerate(rows, 1)
    ]
    r = bundle.figures
    body.append(["", "Tổng cộng", n2(r.carried_over), n2(r.received), n2(r.resolved), n2(r.still_open)])
    table = _grid(
        doc,
        ["STT", "Đơn vị", "Tồn đầu kỳ", "Tiếp nhận", "Giải quyết dứt điểm", "Đang giải quyết"],
        body,
        (1.3, 6.4, 2.0, 2.0, 2.6, 2.2),
    )
    _bold_last_row(table)


def _health_table(doc: DocumentObject, bundle: ReportBundle) -> None:
    if not bundle.health:
        _bullet(doc, "Không có đơn vị nào trong phạm vi báo cáo.")
        return
    body = []
    for i, x in enumerate(bundle.health, 1):
        wait = x.mean_answer_wait_s
        gaps = "0"
        if x.roster_gaps:
            gaps = f"{x.roster_gaps} ({_duration_vi(x.roster_gap_time.total_seconds())})"
        body.append(
            [
                str(i),
                f"{x.facility_name}\n{x.hotline}",
                str(x.calls),
                percent_vi(x.answer_rate_percent),
                percent_vi(x.first_answer_rate_percent),
                "–" if wait is None else f"{wait:.1f}".replace(".", ","),
                str(x.all_failed),
                gaps,
            ]
        )
    _grid(
        doc,
        [
            "STT",
            "Đơn vị (số đường dây nóng)",
            "Cuộc gọi",
            "Nghe máy",
            "Trực chính nghe máy",
            "Chờ TB (giây)",
            "Không ai nghe",
            "Khoảng trống lịch trực",
        ],
        body,
        (1.3, 4.9, 1.5, 1.6, 1.9, 1.6, 1.7, 2.0),
    )


def _satisfaction_table(doc: DocumentObject, bundle: ReportBundle) -> None:
    if not bundle.satisfaction:
        return
    names = {x.facility_code: x.facility_name for x in bundle.health}
    names.update({f.facility_code: f.facility_name for f in bundle.facilities if f.facility_code})

    def met(value: bool | None) -> str:
        return "–" if value is None else "Đạt" if value else "Chưa đạt"

    body = [
        [
            str(i),
            names.get(x.facility_code, x.facility_code) if x.facility_code else "Không rõ cơ sở",
            str(x.rated),
            str(x.satisfied),
            percent_vi(x.index_percent) if x.rated else "chưa có đánh giá",
            met(x.meets_first_target),
            met(x.meets_final_target),
        ]
        for i, x in enumerate(bundle.satisfaction, 1)
    ]
    _grid(
        doc,
        [
            "STT",
            "Đơn vị",
            "Lượt đánh giá",
            "Hài lòng",
            "Chỉ số hài lòng",
            f"Mục tiêu {FIRST_TARGET_PERCENT}%",
            f"Mục tiêu {FINAL_TARGET_PERCENT}%",
        ],
        body,
        (1.3, 5.4, 1.9, 1.7, 2.3, 1.9, 2.0),
    )
