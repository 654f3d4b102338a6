"""Vietnam's holidays, lunar ones included, and a holiday rota taking over on Tết."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from callcenter.domain.roster import DayKind, Officer, Recurrence, Rotation, Tier
from callcenter.domain.schedule import on_duty
from callcenter.services.holidays_vn import holidays_between, vietnam_holidays

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def test_tet_and_hung_kings_2026() -> None:
    h2026 = vietnam_holidays(2026, 2026)
    assert date(2026, 2, 17) in h2026  # Mùng 1 Tết Bính Ngọ
    assert date(2026, 4, 26) in h2026  # Giỗ Tổ Hùng Vương, 10/3 âm lịch
    assert date(2026, 9, 2) in h2026  # Quốc khánh
    assert date(2026, 1, 1) in h2026
    assert date(2026, 2, 24) not in h2026


def test_lunar_holidays_move_between_years() -> None:
    h2027 = vietnam_holidays(2027, 2027)
    assert date(2027, 2, 17) not in h2027
    assert date(2027, 2, 6) in h2027  # Mùng 1 Tết Đinh Mùi
    assert date(2027, 4, 26) not in h2027
    assert date(2027, 4, 16) in h2027
    # the solar ones stay put
    assert date(2027, 4, 30) in h2027
    assert date(2027, 9, 2) in h2027


def test_several_years_and_bounds() -> None:
    both = vietnam_holidays(2026, 2027)
    assert both == vietnam_holidays(2026, 2026) | vietnam_holidays(2027, 2027)
    assert all(d.year in (2026, 2027) for d in both)
    with pytest.raises(ValueError, match="after"):
        vietnam_holidays(2027, 2026)


def test_holidays_between_is_inclusive_and_spans_years() -> None:
    assert holidays_between(date(2026, 2, 17), date(2026, 2, 17)) == {date(2026, 2, 17)}
    span = holidays_between(date(2026, 12, 31), date(2027, 1, 1))
    assert span == {date(2027, 1, 1)}
    tet = holidays_between(date(2026, 2, 1), date(2026, 2, 28))
    assert date(2026, 2, 17) in tet
    assert all(date(2026, 2, 1) <= d <= date(2026, 2, 28) for d in tet)
    assert holidays_between(date(2026, 3, 1), date(2026, 2, 1)) == frozenset()


def test_holiday_rota_takes_over_on_tet() -> None:
    regular = Officer("Lê Thị Hương", "0983214567")
    tet_officer = Officer("Phạm Thị Lan", "0912345781")

    def rotation(name: str, officer: Officer, kinds: frozenset[DayKind]) -> Rotation:
        return Rotation(
            name,
            "BVDK-TH",
            Tier.DUTY_OFFICER,
            Recurrence.DAILY,
            time(7, 30),
            date(2026, 1, 5),
            (officer,),
            kinds,
        )

    rotations = [
        rotation("thuong", regular, frozenset(DayKind)),
        rotation("le", tet_officer, frozenset({DayKind.HOLIDAY})),
    ]
    hols = vietnam_holidays(2026, 2026)

    def who(day: int, hh: int, mm: int = 0) -> str:
        at = datetime(2026, 2, day, hh, mm, tzinfo=TZ)
        return on_duty(rotations, [], at, tz=TZ, holidays=hols)[Tier.DUTY_OFFICER].source

    assert who(13, 12) == "rotation:thuong"  # Friday before Tết
    # Tết holidays 16..20 Feb: the holiday rota from the 16th's handoff to the 21st's
    assert who(16, 7, 29) == "rotation:thuong"
    assert who(16, 7, 30) == "rotation:le"
    assert who(17, 12) == "rotation:le"
    assert who(21, 7, 29) == "rotation:le"
    assert who(21, 7, 30) == "rotation:thuong"  # Saturday after Tết: an ordinary weekend
    duty = on_duty(rotations, [], datetime(2026, 2, 17, 12, tzinfo=TZ), tz=TZ, holidays=hols)[
        Tier.DUTY_OFFICER
    ]
    assert (duty.start, duty.end) == (
        datetime(2026, 2, 16, 7, 30, tzinfo=TZ),
        datetime(2026, 2, 21, 7, 30, tzinfo=TZ),
    )
