"""Import of the previous system's tickets (CSV or XLSX): validated, all-or-nothing, idempotent.

Columns (header row, any order; docs/report.md describes them):

- ma: the previous system's reference (required, unique in the file, at most 64 characters). A ticket
  imported again under the same reference is updated, never doubled.
- ngay_tiep_nhan: when it was received, local time (Asia/Ho_Chi_Minh): YYYY-MM-DD, DD/MM/YYYY,
  optionally followed by HH:MM[:SS]; a date alone means 00:00 local (required).
- co_so: facility code (optional; must be in the facility registry).
- linh_vuc: category code (thieu_thuoc…khac) or its Vietnamese label ("thiếu thuốc", "BHYT"…; accents
  and case do not matter); empty: none (the report counts it as "khác").
- trang_thai: moi_tiep_nhan | dang_xu_ly | da_giai_quyet | chuyen, or the Vietnamese label ("Đã giải
  quyết", "Đang xử lý", "Mới tiếp nhận", "Không đúng thẩm quyền"/"Chuyển") (required).
- ngay_giai_quyet: when it was resolved (required with da_giai_quyet, not allowed otherwise); a date
  alone means 23:59:59 local of that day; not before ngay_tiep_nhan.
- khong_dung_tham_quyen: có/không (also x, 1/0, yes/no; empty: không). "có" goes with trang_thai chuyen,
  and chuyen implies it.
- noi_dung: the complaint's text (optional). ket_qua: the result told to the caller (optional).

Imported tickets have no call. Their status history gets one "status_changed" event (by "import") at the
resolution instant (or at receipt for other statuses) so the period report counts them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import structlog

from callcenter.domain.report import CATEGORY_LABELS_VI
from callcenter.domain.text import clean, fold, search_key
from callcenter.domain.ticket import STATUS_LABELS_VI, Category, TicketStatus
from callcenter.services.ports import ImportedTicket, UnitOfWorkFactory

log = structlog.get_logger(__name__)

REQUIRED_COLUMNS = ("ma", "ngay_tiep_nhan", "trang_thai")
COLUMNS = (
    "ma",
    "ngay_tiep_nhan",
    "co_so",
    "linh_vuc",
    "trang_thai",
    "ngay_giai_quyet",
    "khong_dung_tham_quyen",
    "noi_dung",
    "ket_qua",
)
TEXT_MAX_CHARS = 20000


@dataclass(frozen=True)
class RowError:
    row: int  # the line in a CSV, the row in a sheet; the header is 1
    field: str
    reason: str  # Vietnamese first, then English after " / "


@dataclass
class TicketImport:
    tickets: list[ImportedTicket] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # external reference -> its row


@dataclass(frozen=True)
class ImportOutcome:
    created: int
    updated: int
    unchanged: int


def _folded_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", fold(text)).strip()


_CATEGORY_NAMES: dict[str, Category] = {}
for _c in Category:
    _CATEGORY_NAMES[_c.value] = _c
    _CATEGORY_NAMES[_folded_key(_c.value)] = _c
    _label = CATEGORY_LABELS_VI[_c]
    _CATEGORY_NAMES[_folded_key(_label)] = _c
    _CATEGORY_NAMES[_folded_key(_label.split("(")[0])] = _c
_CATEGORY_NAMES.update(
    {
        "bao hiem y te": Category.BHYT,
        "thieu thuoc vac xin vat tu y te": Category.THIEU_THUOC,
        "thieu thuoc vac xin vtyt": Category.THIEU_THUOC,
        "khac": Category.KHAC,
    }
)

_STATUS_NAMES: dict[str, TicketStatus] = {}
for _s in TicketStatus:
    _STATUS_NAMES[_s.value] = _s
    _STATUS_NAMES[_folded_key(_s.value)] = _s
    _STATUS_NAMES[_folded_key(STATUS_LABELS_VI[_s])] = _s
_STATUS_NAMES.update(
    {
        "chuyen": TicketStatus.FORWARDED,
        "da chuyen": TicketStatus.FORWARDED,
        "khong dung tham quyen": TicketStatus.FORWARDED,
        "dang giai quyet": TicketStatus.IN_PROGRESS,
        "giai quyet xong": TicketStatus.RESOLVED,
        "moi": TicketStatus.NEW,
    }
)
_YES = {"co", "x", "1", "yes", "true"}
_NO = {"", "khong", "0", "no", "false"}
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y")
_TIME_FORMATS = ("", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S")


def _parse_instant(value: object, tz: ZoneInfo, *, end_of_day: bool) -> datetime | None:
    """A local date or date-time; None when it cannot be read."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59) if end_of_day else time(0, 0), tzinfo=tz)
    text = str(value).strip()
    for d in _DATE_FORMATS:
        for t in _TIME_FORMATS:
            try:
                parsed = datetime.strptime(text, d + t)
            except ValueError:
                continue
            if not t and end_of_day:
                parsed = datetime.combine(parsed.date(), time(23, 59, 59))
            return parsed.replace(tzinfo=tz)
    return None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean(str(value))


def parse_rows(
    header: Iterable[object], rows: Iterable[tuple[int, Mapping[str, object]]], tz: ZoneInfo
) -> TicketImport:
    """Check every row; `rows` are (row number, column -> cell). Collects every error, row by row."""
    result = TicketImport()
    names = [_text(h).lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        result.errors.append(RowError(1, ",".join(missing), "thiếu cột / missing column"))
        return result
    seen: dict[str, int] = {}
    for line, row in rows:
        if all(_text(v) == "" for v in row.values()):
            continue  # a blank line
        errors: list[RowError] = []

        def bad(column: str, reason: str, line: int = line, errors: list[RowError] = errors) -> None:
            errors.append(RowError(line, column, reason))

        ref = _text(row.get("ma"))
        if not ref:
            bad("ma", "thiếu mã phản ánh / the reference is missing")
        elif len(ref) > 64:
            bad("ma", "mã dài quá 64 ký tự / at most 64 characters")
        elif ref in seen:
            bad("ma", f"mã {ref} trùng với dòng {seen[ref]} / duplicate of row {seen[ref]}")
        else:
            seen[ref] = line
        raw_received = row.get("ngay_tiep_nhan")
        received = None
        if _text(raw_received) == "":
            bad("ngay_tiep_nhan", "thiếu ngày tiếp nhận / the date received is missing")
        else:
            received = _parse_instant(raw_received, tz, end_of_day=False)
            if received is None:
                bad(
                    "ngay_tiep_nhan",
                    f"ngày không hợp lệ {_text(raw_received)!r}, dùng YYYY-MM-DD hoặc DD/MM/YYYY"
                    " / not a date",
                )
        facility = _text(row.get("co_so")) or None
        if facility is not None and len(facility) > 32:
            bad("co_so", "mã cơ sở dài quá 32 ký tự / at most 32 characters")
        raw_category = _text(row.get("linh_vuc"))
        category: Category | None = None
        if raw_category:
            category = _CATEGORY_NAMES.get(_folded_key(raw_category))
            if category is None:
                bad(
                    "linh_vuc",
                    f"lĩnh vực không hợp lệ {raw_category!r}, chọn một trong: "
                    + ", ".join(c.value for c in Category)
                    + " / unknown category",
                )
        raw_status = _text(row.get("trang_thai"))
        status = _STATUS_NAMES.get(_folded_key(raw_status)) if raw_status else None
        if status is None:
            bad(
                "trang_thai",
                f"trạng thái không hợp lệ {raw_status!r}, chọn một trong: "
                + ", ".join(s.value for s in TicketStatus)
                + " / unknown status",
            )
        raw_outside = _folded_key(_text(row.get("khong_dung_tham_quyen")))
        outside = raw_outside in _YES
        if not outside and raw_outside not in _NO:
            bad("khong_dung_tham_quyen", "ghi có hoặc không / write có or không")
        elif outside and status is not None and status is not TicketStatus.FORWARDED:
            bad(
                "khong_dung_tham_quyen",
                "phản ánh không đúng thẩm quyền phải có trạng thái chuyển"
                " / an out-of-jurisdiction ticket has the status chuyen",
            )
        outside = outside or status is TicketStatus.FORWARDED
        raw_resolved = row.get("ngay_giai_quyet")
        resolved = None
        if _text(raw_resolved):
            resolved = _parse_instant(raw_resolved, tz, end_of_day=True)
            if resolved is None:
                bad("ngay_giai_quyet", f"ngày không hợp lệ {_text(raw_resolved)!r} / not a date")
            elif status is not None and status is not TicketStatus.RESOLVED:
                bad(
                    "ngay_giai_quyet",
                    "chỉ ghi ngày giải quyết khi trạng thái là đã giải quyết"
                    " / a resolution date goes only with da_giai_quyet",
                )
            elif received is not None and resolved < received:
                bad(
                    "ngay_giai_quyet",
                    "ngày giải quyết trước ngày tiếp nhận / resolved before it was received",
                )
        elif status is TicketStatus.RESOLVED:
            bad("ngay_giai_quyet", "thiếu ngày giải quyết / the resolution date is missing")
        summary, told = _text(row.get("noi_dung")), _text(row.get("ket_qua"))
        for column, value in (("noi_dung", summary), ("ket_qua", told)):
            if len(value) > TEXT_MAX_CHARS:
                bad(column, f"dài quá {TEXT_MAX_CHARS} ký tự / at most {TEXT_MAX_CHARS} characters")
        if errors:
            result.errors.extend(errors)
            continue
        assert received is not None and status is not None
        result.lines[ref] = line
        result.tickets.append(
            ImportedTicket(
                external_ref=ref,
                received_at=received,
                facility_code=facility,
                category=category.value if category else None,
                status=status.value,
                resolved_at=resolved if status is TicketStatus.RESOLVED else None,
                outside_jurisdiction=outside,
                summary=summary,
                result_told=told,
            )
        )
    return result


def parse_csv(data: bytes, tz: ZoneInfo) -> TicketImport:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return TicketImport(errors=[RowError(1, "", "tệp không phải UTF-8 / the file is not UTF-8")])
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    reader.fieldnames = header
    rows = ((reader.line_num, dict(r)) for r in reader)
    return parse_rows(header, rows, tz)


def parse_xlsx(data: bytes, tz: ZoneInfo) -> TicketImport:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a file that is not a workbook
        return TicketImport(errors=[RowError(1, "", f"không đọc được tệp xlsx / not a workbook: {exc}")])
    try:
        sheet = book.worksheets[0]
        it = sheet.iter_rows(values_only=True)
        first = next(it, None)
        header = [_text(h).lower() for h in first or ()]
        rows = (
            (n, {h: v for h, v in zip(header, values, strict=False) if h})
            for n, values in enumerate(it, start=2)
        )
        return parse_rows(header, list(rows), tz)
    finally:
        book.close()


def parse_file(name: str, data: bytes, tz: ZoneInfo) -> TicketImport:
    if name.lower().endswith(".xlsx"):
        return parse_xlsx(data, tz)
    return parse_csv(data, tz)


class TicketImportService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def check_facilities(self, parsed: TicketImport) -> None:
        """Add an error for every facility code not in the registry."""
        async with self._uow() as uow:
            known = {f.code for f in await uow.facilities.all()}
        for t in parsed.tickets:
            if t.facility_code is not None and t.facility_code not in known:
                parsed.errors.append(
                    RowError(
                        parsed.lines.get(t.external_ref, 0),
                        "co_so",
                        f"không có cơ sở {t.facility_code} / unknown facility",
                    )
                )

    async def import_tickets(self, parsed: TicketImport, now: datetime) -> ImportOutcome:
        """Upsert by external reference in one transaction; a ticket equal to the stored one is left
        untouched (a second import of the same file changes nothing). Call only without errors."""
        if parsed.errors:
            raise ValueError("the import has errors: nothing may be imported")
        created = updated = unchanged = 0
        async with self._uow() as uow:
            stored = await uow.tickets.imported([t.external_ref for t in parsed.tickets])
            for t in parsed.tickets:
                old = stored.get(t.external_ref)
                if old is not None and _same(old, t):
                    unchanged += 1
                    continue
                ticket_id = await uow.tickets.save_imported(t, old.ticket_id if old else None, now)
                await uow.tickets.index_text(ticket_id, search_key(f"{t.summary} {t.result_told}"))
                if old is None:
                    created += 1
                else:
                    updated += 1
            await uow.commit()
        log.info("tickets.imported", created=created, updated=updated, unchanged=unchanged)
        return ImportOutcome(created, updated, unchanged)


def _same(old: ImportedTicket, new: ImportedTicket) -> bool:
    return (
        old.received_at == new.received_at
        and old.facility_code == new.facility_code
        and old.category == new.category
        and old.status == new.status
        and old.resolved_at == new.resolved_at
        and old.outside_jurisdiction == new.outside_jurisdiction
        and old.summary == new.summary
        and old.result_told == new.result_told
    )
