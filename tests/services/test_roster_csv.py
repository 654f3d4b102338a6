"""The roster CSV: round trip, spreadsheet quirks, every error with its row and column, the sample files."""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callcenter.domain import phone
from callcenter.domain.facility import Facility, FacilityKind, validate_facility
from callcenter.domain.roster import TIER_ORDER, DayKind, Officer, Override, Recurrence, Rotation, Tier
from callcenter.domain.schedule import find_gaps, on_duty
from callcenter.services.holidays_vn import vietnam_holidays
from callcenter.services.roster_csv import COLUMNS, RosterError, export_roster_csv, import_roster_csv

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SAMPLE = Path(__file__).resolve().parents[2] / "config" / "sample"
HEADER = ",".join(COLUMNS)
AN = Officer("Nguyễn Văn An", "0961000001")
BINH = Officer("Trần Thị Bình", "0912000002")
CUONG = Officer("Lê Văn Cường", "02373852516")

ROTATIONS = (
    Rotation(
        "truc-chinh",
        "BVDK-TH",
        Tier.DUTY_OFFICER,
        Recurrence.DAILY,
        time(7, 30),
        date(2026, 1, 5),
        (AN, BINH),
    ),
    Rotation(
        "truc-le",
        "BVDK-TH",
        Tier.DUTY_OFFICER,
        Recurrence.DAILY,
        time(7, 30),
        date(2026, 1, 5),
        (CUONG,),
        frozenset({DayKind.HOLIDAY, DayKind.WEEKEND}),
        end=date(2026, 12, 31),
    ),
    Rotation(
        "lanh-dao, khoi noi",
        "BVNHI-TH",
        Tier.LEADER,
        Recurrence.WEEKLY,
        time(8, 0, 15),
        date(2026, 1, 5),
        (BINH,),
    ),
)
OVERRIDES = (
    Override(
        "BVDK-TH",
        Tier.DUTY_OFFICER,
        datetime(2026, 2, 10, 7, 30, tzinfo=TZ),
        datetime(2026, 2, 11, 7, 30, tzinfo=TZ),
        BINH,
        seq=1,
        reason='Đổi ca, "tập huấn" tại Sở',
    ),
    Override(
        "BVNHI-TH",
        Tier.BACKUP,
        datetime(2026, 2, 12, 1, 0, tzinfo=ZoneInfo("UTC")),  # written back as local time
        datetime(2026, 2, 12, 13, 45, 30, tzinfo=TZ),
        AN,
        seq=2,
    ),
)


def rows(*lines: str) -> str:
    return "\n".join((HEADER, *lines)) + "\n"


# --- round trip -----------------------------------------------------------------------------------------


def test_export_then_import_gives_the_same_roster() -> None:
    text = export_roster_csv(ROTATIONS, OVERRIDES, tz=TZ)
    result = import_roster_csv(text, tz=TZ)
    assert result.errors == ()
    assert result.ok
    assert result.rotations == ROTATIONS
    assert result.overrides == OVERRIDES
    assert export_roster_csv(result.rotations, result.overrides, tz=TZ) == text
    assert "2026-02-12 08:00" in text  # 01:00 UTC shown as Vietnamese wall time


def test_override_order_survives_as_seq() -> None:
    late, early = (
        Override(
            "X", Tier.LEADER, datetime(2026, 1, 1, tzinfo=TZ), datetime(2026, 1, 2, tzinfo=TZ), AN, seq=40
        ),
        Override(
            "X", Tier.LEADER, datetime(2026, 1, 1, tzinfo=TZ), datetime(2026, 1, 2, tzinfo=TZ), BINH, seq=7
        ),
    )
    back = import_roster_csv(export_roster_csv([], [late, early], tz=TZ), tz=TZ).overrides
    assert [(o.officer, o.seq) for o in back] == [(BINH, 1), (AN, 2)]  # renumbered, order kept


def test_round_trip_through_an_ambiguous_dst_hour() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    second_0230 = datetime(2026, 10, 25, 1, 30, tzinfo=ZoneInfo("UTC"))  # 02:30 CET, the repeated hour
    o = Override("X", Tier.DUTY_OFFICER, second_0230, second_0230 + timedelta(hours=5), AN, seq=1)
    text = export_roster_csv([], [o], tz=berlin)
    assert "2026-10-25T02:30:00+01:00" in text  # local text would mean the first 02:30, so the offset is kept
    assert import_roster_csv(text, tz=berlin).overrides == (o,)


def test_export_refuses_what_it_cannot_write() -> None:
    bad_name = Rotation(
        "r", "X", Tier.BACKUP, Recurrence.DAILY, time(7), date(2026, 1, 1), (Officer("A;B", "0961000001"),)
    )
    with pytest.raises(ValueError, match="officer name"):
        export_roster_csv([bad_name], [], tz=TZ)
    no_kind = Rotation("r", "X", Tier.BACKUP, Recurrence.DAILY, time(7), date(2026, 1, 1), (AN,), frozenset())
    with pytest.raises(ValueError, match="no day kind"):
        export_roster_csv([no_kind], [], tz=TZ)


# --- what spreadsheets do to a file ---------------------------------------------------------------------


def test_bom_crlf_and_bytes_are_accepted() -> None:
    text = export_roster_csv(ROTATIONS, OVERRIDES, tz=TZ)
    for data in (
        ("\ufeff" + text).encode(),
        text.encode("utf-8-sig"),
        "\ufeff" + text,
        text.replace("\r\n", "\n"),
    ):
        result = import_roster_csv(data, tz=TZ)
        assert result.errors == ()
        assert result.rotations == ROTATIONS


def test_vietnamese_spreadsheet_habits() -> None:
    # ';' between cells, DD/MM/YYYY dates, H:MM:SS times, columns reordered, Vietnamese words for values
    text = (
        "Kind;Facility;Tier;Name;Officers;Recurrence;Handoff;Start;End;Day_Kinds;Reason\n"
        'rotation;BVDK-TH;Trực chính;a;"Nguyễn Văn An:+84 96 100 0001";hang_ngay;7:30:00;05/01/2026;;'
        "cuối tuần;\n"
        "rotation;BVDK-TH;du_phong;b;Trần Thị Bình:0912000002;Hằng tuần;07:30;5/1/2026;31/12/2026;;\n"
        "override;BVDK-TH;LANH-DAO;;Lê Văn Cường:02373852516;;;10/02/2026 07:30;2026-02-11 07:30;;\n"
    )
    result = import_roster_csv(text, tz=TZ)
    assert result.errors == ()
    a, b = result.rotations
    assert (a.tier, a.recurrence, a.handoff, a.start, a.day_kinds) == (
        Tier.DUTY_OFFICER,
        Recurrence.DAILY,
        time(7, 30),
        date(2026, 1, 5),
        frozenset({DayKind.WEEKEND}),
    )
    assert a.officers == (AN,)  # phone normalised to national form
    assert (b.tier, b.recurrence, b.end, b.day_kinds) == (
        Tier.BACKUP,
        Recurrence.WEEKLY,
        date(2026, 12, 31),
        frozenset(DayKind),
    )
    (o,) = result.overrides
    assert (o.tier, o.start, o.officer) == (Tier.LEADER, datetime(2026, 2, 10, 7, 30, tzinfo=TZ), CUONG)


def test_blank_and_comment_rows_are_skipped_but_counted() -> None:
    text = rows(
        "# ghi chú: lịch tháng 2,,,,,,,,,,",
        ",,,,,,,,,,",
        "",
        "rotation,BVDK-TH,backup,a,daily,07:30,2026-01-05,,,An:0961000001,",
        "rotation,BVDK-TH,backup,b,daily,7h30,2026-01-05,,,An:0961000001,",
    )
    result = import_roster_csv(text, tz=TZ)
    assert [r.name for r in result.rotations] == ["a"]
    assert [(e.row, e.field) for e in result.errors] == [(6, "handoff")]


def test_trailing_empty_cells_and_short_rows() -> None:
    short = "rotation,BVDK-TH,backup,a,daily,07:30,2026-01-05,,,An:0961000001"  # no reason cell at all
    long = "rotation,BVDK-TH,backup,b,daily,07:30,2026-01-05,,,An:0961000001,,,"  # Excel's trailing commas
    result = import_roster_csv(rows(short, long), tz=TZ)
    assert result.errors == ()
    assert len(result.rotations) == 2


# --- errors ---------------------------------------------------------------------------------------------

ROTATION_ROW = dict(
    kind="rotation",
    facility="BVDK-TH",
    tier="duty_officer",
    name="truc-chinh",
    recurrence="daily",
    handoff="07:30",
    start="2026-01-05",
    end="",
    day_kinds="",
    officers="Nguyễn Văn An:0961000001;Trần Thị Bình:0912000002",
    reason="",
)
OVERRIDE_ROW = dict(
    ROTATION_ROW,
    kind="override",
    name="",
    recurrence="",
    handoff="",
    start="2026-02-10 07:30",
    end="2026-02-11 07:30",
    officers="Trần Thị Bình:0912000002",
    reason="đổi ca",
)


def line(values: dict[str, str]) -> str:
    return ",".join(f'"{values[c]}"' for c in COLUMNS)


@pytest.mark.parametrize(
    ("base", "changes", "field", "reason"),
    [
        (ROTATION_ROW, {"kind": "lich"}, "kind", "loại dòng không hợp lệ"),
        (ROTATION_ROW, {"facility": ""}, "facility", "thiếu giá trị / missing value"),
        (ROTATION_ROW, {"facility": "BV-KHONG-CO"}, "facility", "mã cơ sở không tồn tại / unknown facility"),
        (ROTATION_ROW, {"tier": "giam_doc"}, "tier", "cấp trực không hợp lệ / invalid tier"),
        (ROTATION_ROW, {"name": ""}, "name", "thiếu giá trị"),
        (ROTATION_ROW, {"recurrence": "monthly"}, "recurrence", "chu kỳ không hợp lệ / invalid recurrence"),
        (ROTATION_ROW, {"recurrence": ""}, "recurrence", "thiếu giá trị"),
        (ROTATION_ROW, {"handoff": "25:00"}, "handoff", "giờ giao ca không hợp lệ / invalid handoff time"),
        (ROTATION_ROW, {"handoff": ""}, "handoff", "thiếu giá trị"),
        (ROTATION_ROW, {"start": "2026-02-30"}, "start", "ngày không hợp lệ / invalid date"),
        (ROTATION_ROW, {"start": ""}, "start", "thiếu giá trị"),
        (ROTATION_ROW, {"end": "mai"}, "end", "ngày không hợp lệ / invalid date"),
        (
            ROTATION_ROW,
            {"end": "2026-01-04"},
            "end",
            "ngày kết thúc trước ngày bắt đầu / end date before start",
        ),
        (
            ROTATION_ROW,
            {"day_kinds": "workday;weekday"},
            "day_kinds",
            "loại ngày không hợp lệ / invalid day kind",
        ),
        (ROTATION_ROW, {"officers": ""}, "officers", "thiếu giá trị"),
        (ROTATION_ROW, {"officers": ";"}, "officers", "thiếu cán bộ / no officer"),
        (ROTATION_ROW, {"officers": "Nguyễn Văn An"}, "officers", "cán bộ phải có dạng Tên:số điện thoại"),
        (ROTATION_ROW, {"officers": ":0961000001"}, "officers", "thiếu tên cán bộ / missing officer name"),
        (
            ROTATION_ROW,
            {"officers": "An:0961000001;Bình:12345"},
            "officers",
            "số điện thoại không hợp lệ / invalid phone",
        ),
        (
            ROTATION_ROW,
            {"reason": "ghi chú"},
            "reason",
            "chỉ dùng cho dòng override / only for override rows",
        ),
        (OVERRIDE_ROW, {"start": "2026-02-10"}, "start", "thời điểm không hợp lệ / invalid date-time"),
        (OVERRIDE_ROW, {"end": "2026-02-10 25:00"}, "end", "thời điểm không hợp lệ"),
        (OVERRIDE_ROW, {"end": ""}, "end", "thiếu giá trị"),
        (
            OVERRIDE_ROW,
            {"end": "2026-02-10 07:30"},
            "end",
            "kết thúc phải sau thời điểm bắt đầu / end must be after",
        ),
        (OVERRIDE_ROW, {"officers": "An:0961000001;Bình:0912000002"}, "officers", "cần đúng một cán bộ"),
        (OVERRIDE_ROW, {"tier": "x"}, "tier", "cấp trực không hợp lệ"),
        (
            OVERRIDE_ROW,
            {"handoff": "07:30"},
            "handoff",
            "chỉ dùng cho dòng rotation / only for rotation rows",
        ),
        (OVERRIDE_ROW, {"day_kinds": "holiday"}, "day_kinds", "chỉ dùng cho dòng rotation"),
    ],
)
def test_each_error_names_row_and_field(
    base: dict[str, str], changes: dict[str, str], field: str, reason: str
) -> None:
    good = line(ROTATION_ROW | {"name": "khac"})
    result = import_roster_csv(rows(good, line(base | changes)), tz=TZ, facility_codes={"BVDK-TH"})
    assert not result.ok
    assert [(e.row, e.field) for e in result.errors] == [(3, field)]
    assert reason in result.errors[0].reason
    # the good row is still parsed: importing nothing on error is the caller's decision
    assert [r.name for r in result.rotations] == ["khac"]
    assert import_roster_csv(rows(line(base)), tz=TZ, facility_codes={"BVDK-TH"}).errors == ()


def test_every_error_of_a_row_is_reported() -> None:
    bad = line(ROTATION_ROW | {"tier": "?", "handoff": "x", "officers": "An:1"})
    result = import_roster_csv(rows(bad), tz=TZ)
    assert [(e.row, e.field) for e in result.errors] == [(2, "tier"), (2, "handoff"), (2, "officers")]
    assert result.rotations == ()


def test_duplicate_rotation_name_in_one_facility() -> None:
    text = rows(
        line(ROTATION_ROW),
        line(ROTATION_ROW | {"tier": "backup"}),
        line(ROTATION_ROW | {"facility": "BVNHI-TH"}),
    )
    result = import_roster_csv(text, tz=TZ)
    assert result.errors == (
        RosterError(3, "name", "tên lịch trực bị trùng (dòng 2) / duplicate rotation name"),
    )
    assert len(result.rotations) == 2


def test_more_cells_than_columns() -> None:
    result = import_roster_csv(rows(line(ROTATION_ROW) + ',"thừa"'), tz=TZ)
    assert [(e.row, e.field) for e in result.errors] == [(2, "row")]
    assert "thừa ô" in result.errors[0].reason


@pytest.mark.parametrize(
    ("header", "field", "reason"),
    [
        (HEADER.replace(",officers", ""), "officers", "thiếu cột bắt buộc / missing required column"),
        (HEADER + ",ghi_chu", "ghi_chu", "cột không xác định / unknown column"),
        (HEADER + ",tier", "tier", "cột bị trùng / duplicate column"),
    ],
)
def test_header_errors(header: str, field: str, reason: str) -> None:
    result = import_roster_csv(header + "\n" + line(ROTATION_ROW) + "\n", tz=TZ)
    assert result.errors == (RosterError(1, field, reason),)
    assert result.rotations == ()


def test_not_utf8_and_empty_files() -> None:
    utf16 = import_roster_csv(rows(line(ROTATION_ROW)).encode("utf-16"), tz=TZ)
    assert [(e.row, e.field) for e in utf16.errors] == [(0, "file")]
    assert "UTF-8" in utf16.errors[0].reason
    for empty in ("", b"", "\ufeff", "\n"):
        assert [(e.row, e.field) for e in import_roster_csv(empty, tz=TZ).errors] == [(0, "file")]


# --- the sample files -----------------------------------------------------------------------------------


def sample_facilities() -> list[Facility]:
    with (SAMPLE / "facilities.csv").open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == [
            "code",
            "keypad_code",
            "name",
            "kind",
            "province",
            "hotline",
            "authority_line",
        ]
        return [
            validate_facility(Facility(**{**row, "kind": FacilityKind(row["kind"])}))  # type: ignore[arg-type]
            for row in reader
        ]


def test_sample_facilities_are_valid_and_show_the_not_viettel_flag() -> None:
    facilities = sample_facilities()
    assert 4 <= len(facilities) <= 5
    assert len({f.code for f in facilities}) == len({f.keypad_code for f in facilities}) == len(facilities)
    assert {f.keypad_code for f in facilities} >= {"1001", "1002", "2001", "3001"}
    assert all(f.province == "Thanh Hóa" for f in facilities)
    kinds = [f.hotline_kind for f in facilities]
    assert kinds.count(phone.PhoneKind.LANDLINE) == 1
    assert kinds.count(phone.PhoneKind.OTHER_MOBILE) == 1
    assert kinds.count(phone.PhoneKind.VIETTEL_MOBILE) == len(facilities) - 2
    assert len({f.authority_line for f in facilities}) == 1
    assert {f.kind for f in facilities} >= set(FacilityKind) - {FacilityKind.OTHER}


def test_sample_roster_covers_every_facility_without_gaps() -> None:
    codes = {f.code for f in sample_facilities()}
    result = import_roster_csv((SAMPLE / "roster.csv").read_bytes(), tz=TZ, facility_codes=codes)
    assert result.errors == ()
    assert {r.facility_code for r in result.rotations} == codes
    assert any(r.day_kinds == {DayKind.HOLIDAY} for r in result.rotations)
    assert result.overrides
    start = datetime(2026, 2, 1, tzinfo=TZ)
    end = start + timedelta(days=60)
    hols = vietnam_holidays(2026, 2026)
    for code in sorted(codes):
        rotations = [r for r in result.rotations if r.facility_code == code]
        overrides = [o for o in result.overrides if o.facility_code == code]
        assert (
            find_gaps(code, rotations, overrides, start, end, tz=TZ, holidays=hols, tiers=TIER_ORDER) == []
        ), code
    # on Tết the provincial hospital's holiday rota answers; the override replaces a day of BVNHI-TH's rota
    tet = datetime(2026, 2, 17, 12, tzinfo=TZ)
    bvdk = [r for r in result.rotations if r.facility_code == "BVDK-TH"]
    assert on_duty(bvdk, [], tet, tz=TZ, holidays=hols)[Tier.DUTY_OFFICER].source == "rotation:bvdk-truc-le"
    (o,) = result.overrides
    same = [r for r in result.rotations if r.facility_code == o.facility_code]
    duty = on_duty(same, [o], o.start + timedelta(hours=4), tz=TZ, holidays=hols)[o.tier]
    assert (duty.source, duty.officer) == ("override", o.officer)
    assert on_duty(same, [], o.start + timedelta(hours=4), tz=TZ, holidays=hols)[o.tier].officer != o.officer
