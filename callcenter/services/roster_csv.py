"""The roster as ONE CSV file that an operator edits in a spreadsheet, and back.

Columns (a header row, any order):
kind,facility,tier,name,recurrence,handoff,start,end,day_kinds,officers,reason

* kind=rotation: recurrence daily|weekly, handoff HH:MM, start/end dates YYYY-MM-DD (end optional,
  inclusive), day_kinds `workday;weekend;holiday` (empty = every day), officers `Name:phone;Name:phone`
  in turn order, reason empty.
* kind=override: start/end local date-times `YYYY-MM-DD HH:MM` in the roster's zone (or ISO 8601 with an
  offset), exactly one officer, optional reason; name/recurrence/handoff/day_kinds empty. Later rows beat
  earlier ones where they overlap (seq = order among the override rows, from 1).

Spreadsheets set in Vietnamese save dates as DD/MM/YYYY, times as H:MM:SS and cells separated by ';', so
those are accepted too. Rows that are empty or whose kind starts with '#' are skipped. Errors name the
spreadsheet row (header = row 1) and the column, in Vietnamese first.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from callcenter.domain import phone
from callcenter.domain.roster import ALL_DAY_KINDS, DayKind, Officer, Override, Recurrence, Rotation, Tier

COLUMNS: tuple[str, ...] = (
    "kind",
    "facility",
    "tier",
    "name",
    "recurrence",
    "handoff",
    "start",
    "end",
    "day_kinds",
    "officers",
    "reason",
)
_T = TypeVar("_T")

_REQUIRED_COLUMNS = ("kind", "facility", "tier", "start", "officers")
_ROTATION_ONLY = ("name", "recurrence", "handoff", "day_kinds")

# Keys are _token() forms, so "Trực chính" and "truc-chinh" match too.
_TIERS = {
    "duty_officer": Tier.DUTY_OFFICER,
    "truc_chinh": Tier.DUTY_OFFICER,
    "backup": Tier.BACKUP,
    "du_phong": Tier.BACKUP,
    "leader": Tier.LEADER,
    "lanh_dao": Tier.LEADER,
}
_RECURRENCES = {
    "daily": Recurrence.DAILY,
    "hang_ngay": Recurrence.DAILY,
    "weekly": Recurrence.WEEKLY,
    "hang_tuan": Recurrence.WEEKLY,
}
_DAY_KINDS = {
    "workday": DayKind.WORKDAY,
    "ngay_thuong": DayKind.WORKDAY,
    "weekend": DayKind.WEEKEND,
    "cuoi_tuan": DayKind.WEEKEND,
    "holiday": DayKind.HOLIDAY,
    "ngay_le": DayKind.HOLIDAY,
}

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_VN_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_LOCAL_DATETIME = re.compile(r"(\S+?)(?:\s+|T)(\d{1,2}:\d{2}(?::\d{2})?)")


class RosterError(NamedTuple):
    row: int  # spreadsheet row: the header is row 1; 0 means the file as a whole
    field: str
    reason: str


@dataclass(frozen=True)
class RosterImport:
    """What a file holds. With any error the caller should import nothing; both are returned to show."""

    rotations: tuple[Rotation, ...]
    overrides: tuple[Override, ...]
    errors: tuple[RosterError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def import_roster_csv(
    data: str | bytes, *, tz: ZoneInfo, facility_codes: Collection[str] | None = None
) -> RosterImport:
    """Parse a roster CSV; `facility_codes`, when given, is the set of codes a row may name."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return RosterImport((), (), (RosterError(0, "file", "tệp không phải UTF-8 / file is not UTF-8"),))
    text = data.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not records or not any(cell.strip() for cell in records[0]):
        return RosterImport((), (), (RosterError(0, "file", "tệp rỗng / empty file"),))

    errors: list[RosterError] = []
    header = [_token(cell) for cell in records[0]]
    for i, column in enumerate(header):
        if column not in COLUMNS:
            errors.append(RosterError(1, records[0][i].strip(), "cột không xác định / unknown column"))
        elif header.index(column) != i:
            errors.append(RosterError(1, column, "cột bị trùng / duplicate column"))
    errors.extend(
        RosterError(1, c, "thiếu cột bắt buộc / missing required column")
        for c in _REQUIRED_COLUMNS
        if c not in header
    )
    if errors:
        return RosterImport((), (), tuple(errors))

    rotations: list[Rotation] = []
    overrides: list[Override] = []
    names_seen: dict[tuple[str, str], int] = {}
    for number, cells in enumerate(records[1:], start=2):
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            errors.append(
                RosterError(number, "row", "thừa ô so với tiêu đề / more cells than header columns")
            )
            continue
        values = {column: (cells[i].strip() if i < len(cells) else "") for i, column in enumerate(header)}
        if not any(values.values()) or values["kind"].startswith("#"):
            continue  # blank spreadsheet rows and comment rows
        row = _Row(number, values, errors)
        kind = _token(values["kind"])
        if kind == "rotation":
            rotation = _parse_rotation(row, facility_codes)
            if rotation is not None:
                key = (rotation.facility_code, rotation.name)
                if key in names_seen:
                    row.error(
                        "name", f"tên lịch trực bị trùng (dòng {names_seen[key]}) / duplicate rotation name"
                    )
                else:
                    names_seen[key] = number
                    rotations.append(rotation)
        elif kind == "override":
            override = _parse_override(row, tz, facility_codes, seq=len(overrides) + 1)
            if override is not None:
                overrides.append(override)
        else:
            row.error("kind", "loại dòng không hợp lệ, cần rotation hoặc override / invalid row kind")
    return RosterImport(tuple(rotations), tuple(overrides), tuple(errors))


def export_roster_csv(rotations: Sequence[Rotation], overrides: Sequence[Override], *, tz: ZoneInfo) -> str:
    """The CSV the importer reads back to the same roster (overrides ordered by seq, renumbered from 1).

    No BOM in the text: encode with "utf-8-sig" for a file that Excel opens with its diacritics intact.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for r in rotations:
        if not r.day_kinds:
            raise ValueError(f"rotation {r.name!r} covers no day kind; an empty cell would mean all")
        day_kinds = "" if r.day_kinds == ALL_DAY_KINDS else ";".join(k for k in DayKind if k in r.day_kinds)
        writer.writerow(
            (
                "rotation",
                r.facility_code,
                r.tier.value,
                r.name,
                r.recurrence.value,
                _time_text(r.handoff),
                r.start.isoformat(),
                r.end.isoformat() if r.end else "",
                day_kinds,
                _officers_text(r.officers),
                "",
            )
        )
    for o in sorted(overrides, key=lambda o: o.seq):
        writer.writerow(
            (
                "override",
                o.facility_code,
                o.tier.value,
                "",
                "",
                "",
                _datetime_text(o.start, tz),
                _datetime_text(o.end, tz),
                "",
                _officers_text((o.officer,)),
                o.reason,
            )
        )
    return out.getvalue()


# --- rows -----------------------------------------------------------------------------------------------


class _Row:
    """One data row: typed getters that record an error and return None instead of raising."""

    def __init__(self, number: int, values: dict[str, str], errors: list[RosterError]) -> None:
        self.number = number
        self.values = values
        self._errors = errors
        self.failed = False

    def error(self, field: str, reason: str) -> None:
        self.failed = True
        self._errors.append(RosterError(self.number, field, reason))

    def get(self, field: str) -> str:
        return self.values.get(field, "")

    def required(self, field: str) -> str | None:
        value = self.get(field)
        if not value:
            self.error(field, "thiếu giá trị / missing value")
            return None
        return value

    def must_be_empty(self, fields: Sequence[str], reason: str) -> None:
        for field in fields:
            if self.get(field):
                self.error(field, reason)

    def choice(self, field: str, table: dict[str, _T], reason: str) -> _T | None:
        text = self.required(field)
        if text is None:
            return None
        value = table.get(_token(text))
        if value is None:
            self.error(field, f"{reason}: {text!r}")
        return value

    def facility(self, known: Collection[str] | None) -> str | None:
        code = self.required("facility")
        if code is not None and known is not None and code not in known:
            self.error("facility", f"mã cơ sở không tồn tại / unknown facility: {code!r}")
            return None
        return code

    def officers(self) -> tuple[Officer, ...]:
        text = self.required("officers")
        result: list[Officer] = []
        items = [item for item in (text or "").split(";") if item.strip()]  # a trailing ';' is harmless
        if text is not None and not items:
            self.error("officers", "thiếu cán bộ / no officer")
        for item in items:
            name, sep, number = (part.strip() for part in item.rpartition(":"))
            if not sep:
                self.error(
                    "officers", f"cán bộ phải có dạng Tên:số điện thoại / expected Name:phone: {item!r}"
                )
            elif not name:
                self.error("officers", f"thiếu tên cán bộ / missing officer name: {item!r}")
            else:
                try:
                    result.append(Officer(name, phone.parse(number).national))
                except phone.InvalidPhoneNumber:
                    self.error("officers", f"số điện thoại không hợp lệ / invalid phone number: {number!r}")
        return tuple(result)


def _parse_rotation(row: _Row, facility_codes: Collection[str] | None) -> Rotation | None:
    facility = row.facility(facility_codes)
    tier = row.choice("tier", _TIERS, "cấp trực không hợp lệ / invalid tier (duty_officer|backup|leader)")
    name = row.required("name")
    recurrence = row.choice(
        "recurrence", _RECURRENCES, "chu kỳ không hợp lệ / invalid recurrence (daily|weekly)"
    )
    handoff = _field(row, "handoff", _parse_time, "giờ giao ca không hợp lệ / invalid handoff time (HH:MM)")
    start = _field(row, "start", _parse_date, "ngày không hợp lệ / invalid date (YYYY-MM-DD)")
    end = _field(row, "end", _parse_date, "ngày không hợp lệ / invalid date (YYYY-MM-DD)", optional=True)
    if start is not None and end is not None and end < start:
        row.error("end", "ngày kết thúc trước ngày bắt đầu / end date before start date")
    day_kinds: set[DayKind] = set()
    for item in filter(None, (part.strip() for part in row.get("day_kinds").split(";"))):
        kind = _DAY_KINDS.get(_token(item))
        if kind is None:
            row.error(
                "day_kinds", f"loại ngày không hợp lệ / invalid day kind (workday|weekend|holiday): {item!r}"
            )
        else:
            day_kinds.add(kind)
    officers = row.officers()
    row.must_be_empty(("reason",), "chỉ dùng cho dòng override / only for override rows")
    # A getter that returned None has set row.failed; the None checks are for the type checker.
    if row.failed or facility is None or tier is None or name is None:
        return None
    if recurrence is None or handoff is None or start is None:
        return None
    return Rotation(
        name=name,
        facility_code=facility,
        tier=tier,
        recurrence=recurrence,
        handoff=handoff,
        start=start,
        officers=officers,
        day_kinds=frozenset(day_kinds) or ALL_DAY_KINDS,
        end=end,
    )


def _parse_override(
    row: _Row, tz: ZoneInfo, facility_codes: Collection[str] | None, seq: int
) -> Override | None:
    facility = row.facility(facility_codes)
    tier = row.choice("tier", _TIERS, "cấp trực không hợp lệ / invalid tier (duty_officer|backup|leader)")
    bad = "thời điểm không hợp lệ / invalid date-time (YYYY-MM-DD HH:MM)"
    start = _field(row, "start", lambda t: _parse_datetime(t, tz), bad)
    end = _field(row, "end", lambda t: _parse_datetime(t, tz), bad)
    if start is not None and end is not None and end <= start:
        row.error("end", "thời điểm kết thúc phải sau thời điểm bắt đầu / end must be after start")
    officers = row.officers()
    if len(officers) > 1:
        row.error("officers", "dòng override cần đúng một cán bộ / an override needs exactly one officer")
    row.must_be_empty(_ROTATION_ONLY, "chỉ dùng cho dòng rotation / only for rotation rows")
    if row.failed or facility is None or tier is None or start is None or end is None:
        return None
    return Override(facility, tier, start, end, officers[0], seq=seq, reason=row.get("reason"))


def _field(
    row: _Row, field: str, parse: Callable[[str], _T | None], reason: str, *, optional: bool = False
) -> _T | None:
    text = row.get(field) if optional else row.required(field)
    if not text:
        return None
    value = parse(text)
    if value is None:
        row.error(field, f"{reason}: {text!r}")
    return value


# --- values ---------------------------------------------------------------------------------------------


def _token(text: str) -> str:
    """Lower case, no diacritics, '_' for spaces and dashes: how spreadsheet users spell our words."""
    stripped = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    bare = "".join(ch for ch in stripped if not unicodedata.combining(ch))
    return re.sub(r"[\s\-]+", "_", bare)


def _parse_date(text: str) -> date | None:
    if m := _ISO_DATE.fullmatch(text):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif m := _VN_DATE.fullmatch(text):
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
    else:
        return None
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def _parse_time(text: str) -> time | None:
    if not (m := _TIME.fullmatch(text)):
        return None
    try:
        return time(int(m[1]), int(m[2]), int(m[3] or 0))
    except ValueError:
        return None


def _parse_datetime(text: str, tz: ZoneInfo) -> datetime | None:
    """Local wall time in `tz`, or ISO 8601 with an explicit offset; a bare date is refused as ambiguous."""
    if m := _LOCAL_DATETIME.fullmatch(text):
        d, t = _parse_date(m[1]), _parse_time(m[2])
        return datetime.combine(d, t, tzinfo=tz) if d is not None and t is not None else None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _time_text(t: time) -> str:
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


def _datetime_text(dt: datetime, tz: ZoneInfo) -> str:
    """Local wall time when it names exactly this instant; with an offset when DST makes it ambiguous."""
    local = dt.astimezone(tz)
    if not local.microsecond:
        text = local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")
        back = _parse_datetime(text, tz)
        if back is not None and back.astimezone(UTC) == dt.astimezone(UTC):
            return text
    return local.isoformat()


def _officers_text(officers: Sequence[Officer]) -> str:
    for o in officers:
        if ";" in o.name or not o.name.strip() or o.name != o.name.strip():
            raise ValueError(f"officer name {o.name!r} cannot be written as a roster cell")
    return ";".join(f"{o.name}:{o.phone}" for o in officers)
