"""Roster arithmetic on hand-checked examples: handoffs, precedence, merging, gaps, DST, speed."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from callcenter.domain.roster import (
    TIER_ORDER,
    DayKind,
    Gap,
    Officer,
    Override,
    Recurrence,
    Rotation,
    Tier,
)
from callcenter.domain.schedule import (
    ON_DUTY_HORIZON,
    day_kind,
    final_schedule,
    find_gaps,
    on_duty,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NO_HOLIDAYS: frozenset[date] = frozenset()
AN = Officer("Nguyễn Văn An", "0961000001")
BINH = Officer("Trần Thị Bình", "0971000002")
CUONG = Officer("Lê Văn Cường", "0981000003")
DUNG = Officer("Phạm Thị Dung", "0351000004")
# 2026-03-02 is a Monday; 2026-03-07/08 the weekend after.
MON = date(2026, 3, 2)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TZ)


def rota(
    name: str,
    officers: tuple[Officer, ...],
    *,
    tier: Tier = Tier.DUTY_OFFICER,
    recurrence: Recurrence = Recurrence.DAILY,
    handoff: time = time(7, 30),
    start: date = MON,
    end: date | None = None,
    kinds: frozenset[DayKind] | None = None,
) -> Rotation:
    return Rotation(
        name=name,
        facility_code="BVDK-TH",
        tier=tier,
        recurrence=recurrence,
        handoff=handoff,
        start=start,
        officers=officers,
        day_kinds=kinds if kinds is not None else frozenset(DayKind),
        end=end,
    )


def override(
    start: datetime, end: datetime, officer: Officer, seq: int = 0, tier: Tier = Tier.DUTY_OFFICER
) -> Override:
    return Override("BVDK-TH", tier, start, end, officer, seq=seq)


def holder(
    rotations: list[Rotation],
    overrides: list[Override],
    when: datetime,
    tier: Tier = Tier.DUTY_OFFICER,
    holidays: frozenset[date] = NO_HOLIDAYS,
) -> tuple[Officer, str, datetime, datetime] | None:
    a = on_duty(rotations, overrides, when, tz=TZ, holidays=holidays).get(tier)
    return None if a is None else (a.officer, a.source, a.start, a.end)


def who(
    rotations: list[Rotation],
    overrides: list[Override],
    when: datetime,
    tier: Tier = Tier.DUTY_OFFICER,
    holidays: frozenset[date] = NO_HOLIDAYS,
) -> Officer | None:
    got = holder(rotations, overrides, when, tier, holidays)
    return None if got is None else got[0]


def source(rotations: list[Rotation], overrides: list[Override], when: datetime) -> str | None:
    got = holder(rotations, overrides, when)
    return None if got is None else got[1]


# --- day kinds ------------------------------------------------------------------------------------------


def test_day_kind_weekday_weekend_and_holiday_beats_weekend() -> None:
    hols = {date(2026, 3, 7), date(2026, 3, 4)}
    assert day_kind(MON, hols) is DayKind.WORKDAY
    assert day_kind(date(2026, 3, 8), hols) is DayKind.WEEKEND  # Sunday
    assert day_kind(date(2026, 3, 7), hols) is DayKind.HOLIDAY  # a holiday on a Saturday
    assert day_kind(date(2026, 3, 4), hols) is DayKind.HOLIDAY  # a holiday on a Wednesday


# --- turns and handoffs ---------------------------------------------------------------------------------


def test_daily_turns_change_exactly_at_handoff() -> None:
    r = [rota("chinh", (AN, BINH, CUONG))]
    assert holder(r, [], at(MON, 7, 30)) == (
        AN,
        "rotation:chinh",
        at(MON, 7, 30),
        at(MON + timedelta(1), 7, 30),
    )
    # 07:29 the next morning still belongs to Monday's duty day
    assert who(r, [], at(MON + timedelta(1), 7, 29)) == AN
    assert who(r, [], at(MON + timedelta(1), 7, 30)) == BINH
    assert who(r, [], at(MON + timedelta(2), 12)) == CUONG
    assert who(r, [], at(MON + timedelta(3), 12)) == AN  # wraps round


def test_weekly_turn_is_seven_duty_days() -> None:
    r = [rota("tuan", (AN, BINH), recurrence=Recurrence.WEEKLY, tier=Tier.BACKUP)]
    got = holder(r, [], at(MON + timedelta(3), 3), tier=Tier.BACKUP)
    assert got == (AN, "rotation:tuan", at(MON, 7, 30), at(MON + timedelta(7), 7, 30))
    assert who(r, [], at(MON + timedelta(7), 7, 29), tier=Tier.BACKUP) == AN
    assert who(r, [], at(MON + timedelta(7), 7, 30), tier=Tier.BACKUP) == BINH
    assert who(r, [], at(MON + timedelta(14), 8), tier=Tier.BACKUP) == AN


def test_nobody_before_start_and_after_the_last_duty_day() -> None:
    r = [rota("chinh", (AN, BINH), end=MON + timedelta(2))]
    assert holder(r, [], at(MON, 7, 29)) is None
    last = holder(r, [], at(MON + timedelta(3), 7, 29))  # the end date's duty day runs to the next handoff
    assert last is not None
    assert last[0] == AN
    assert holder(r, [], at(MON + timedelta(3), 7, 30)) is None


def test_naive_datetimes_are_refused() -> None:
    r = [rota("chinh", (AN,))]
    with pytest.raises(ValueError, match="aware"):
        on_duty(r, [], datetime(2026, 3, 2, 12), tz=TZ, holidays=NO_HOLIDAYS)
    with pytest.raises(ValueError, match="aware"):
        final_schedule(r, [], datetime(2026, 3, 2), at(MON, 12), tz=TZ, holidays=NO_HOLIDAYS)
    with pytest.raises(ValueError, match="aware"):
        on_duty(
            r, [override(datetime(2026, 3, 2, 8), at(MON, 9), BINH)], at(MON, 12), tz=TZ, holidays=NO_HOLIDAYS
        )


def test_several_facilities_at_once_are_refused() -> None:
    other = Rotation("x", "BVNHI-TH", Tier.DUTY_OFFICER, Recurrence.DAILY, time(7, 30), MON, (AN,))
    with pytest.raises(ValueError, match="several facilities"):
        on_duty([rota("chinh", (AN,)), other], [], at(MON, 12), tz=TZ, holidays=NO_HOLIDAYS)
    with pytest.raises(ValueError, match="several facilities"):
        find_gaps(
            "BVNHI-TH", [rota("chinh", (AN,))], [], at(MON, 0), at(MON, 12), tz=TZ, holidays=NO_HOLIDAYS
        )


# --- precedence -----------------------------------------------------------------------------------------


def test_duty_day_takes_the_kind_of_the_date_it_starts_on() -> None:
    all_days = rota("chinh", (AN,))
    weekend = rota("cuoi-tuan", (BINH,), kinds=frozenset({DayKind.WEEKEND}))
    sat = date(2026, 3, 7)
    # Saturday 06:00 is still Friday's (workday) duty day; from 07:30 it is Saturday's, a weekend day.
    assert who([all_days, weekend], [], at(sat, 6)) == AN
    got = holder([all_days, weekend], [], at(sat, 8))
    assert got == (BINH, "rotation:cuoi-tuan", at(sat, 7, 30), at(date(2026, 3, 9), 7, 30))
    # Monday's duty day starts on a workday again
    assert who([all_days, weekend], [], at(date(2026, 3, 9), 8)) == AN


def test_holiday_rota_beats_weekend_rota_on_a_saturday_holiday() -> None:
    sat = date(2026, 3, 7)
    rotations = [
        rota("a-chinh", (AN,)),
        rota("b-cuoi-tuan", (BINH,), kinds=frozenset({DayKind.WEEKEND})),
        rota("c-le", (CUONG,), kinds=frozenset({DayKind.HOLIDAY})),
    ]
    assert who(rotations, [], at(sat, 12), holidays=frozenset({sat})) == CUONG
    assert who(rotations, [], at(sat, 12)) == BINH


def test_equally_specific_rotas_lowest_name_wins() -> None:
    zeta, alpha = rota("zeta", (AN,)), rota("alpha", (BINH,))
    assert source([zeta, alpha], [], at(MON, 12)) == "rotation:alpha"
    assert source([alpha, zeta], [], at(MON, 12)) == "rotation:alpha"


def test_override_beats_rotation_and_has_its_own_bounds() -> None:
    r = [rota("chinh", (AN,))]
    o = [override(at(MON, 10), at(MON, 14), DUNG)]
    assert holder(r, o, at(MON, 12)) == (DUNG, "override", at(MON, 10), at(MON, 14))
    # around it the rotation resumes, split by the override although the officer is the same
    assert holder(r, o, at(MON, 9)) == (AN, "rotation:chinh", at(MON, 7, 30), at(MON, 10))
    after = holder(r, o, at(MON, 14))
    assert after is not None
    assert after[2] == at(MON, 14)


def test_overlapping_overrides_highest_seq_wins_then_later_entry() -> None:
    r = [rota("chinh", (AN,))]
    first = override(at(MON, 10), at(MON, 16), BINH, seq=2)
    second = override(at(MON, 12), at(MON, 14), CUONG, seq=1)
    assert holder(r, [first, second], at(MON, 13)) == (BINH, "override", at(MON, 10), at(MON, 16))
    newer = override(at(MON, 12), at(MON, 14), CUONG, seq=3)
    assert holder(r, [first, newer], at(MON, 13)) == (CUONG, "override", at(MON, 12), at(MON, 14))
    assert holder(r, [first, newer], at(MON, 15)) == (BINH, "override", at(MON, 14), at(MON, 16))
    tie = override(at(MON, 12), at(MON, 14), CUONG, seq=2)
    assert who(r, [first, tie], at(MON, 13)) == CUONG
    assert who(r, [tie, first], at(MON, 13)) == BINH


def test_override_fills_a_tier_with_no_rotation() -> None:
    o = [override(at(MON, 10), at(MON, 14), DUNG, tier=Tier.LEADER)]
    duty = on_duty([], o, at(MON, 11), tz=TZ, holidays=NO_HOLIDAYS)
    assert set(duty) == {Tier.LEADER}
    assert on_duty([], o, at(MON, 14), tz=TZ, holidays=NO_HOLIDAYS) == {}


# --- final schedule and gaps ----------------------------------------------------------------------------


def test_final_schedule_clips_merges_and_orders_by_tier() -> None:
    rotations = [
        rota("chinh", (AN, BINH)),
        rota("lanh-dao", (CUONG,), tier=Tier.LEADER, recurrence=Recurrence.WEEKLY),
    ]
    sched = final_schedule(
        rotations, [], at(MON, 12), at(MON + timedelta(3), 12), tz=TZ, holidays=NO_HOLIDAYS
    )
    summary = [(a.tier, a.officer.name, a.start, a.end, a.source) for a in sched]
    assert summary == [
        (Tier.DUTY_OFFICER, AN.name, at(MON, 12), at(MON + timedelta(1), 7, 30), "rotation:chinh"),
        (
            Tier.DUTY_OFFICER,
            BINH.name,
            at(MON + timedelta(1), 7, 30),
            at(MON + timedelta(2), 7, 30),
            "rotation:chinh",
        ),
        (
            Tier.DUTY_OFFICER,
            AN.name,
            at(MON + timedelta(2), 7, 30),
            at(MON + timedelta(3), 7, 30),
            "rotation:chinh",
        ),
        (
            Tier.DUTY_OFFICER,
            BINH.name,
            at(MON + timedelta(3), 7, 30),
            at(MON + timedelta(3), 12),
            "rotation:chinh",
        ),
        # one officer every week: merged into a single interval, not one per handoff
        (Tier.LEADER, CUONG.name, at(MON, 12), at(MON + timedelta(3), 12), "rotation:lanh-dao"),
    ]
    assert all(a.start.tzinfo is TZ for a in sched)
    only_leader = final_schedule(
        rotations, [], at(MON, 12), at(MON, 13), tz=TZ, holidays=NO_HOLIDAYS, tiers=(Tier.LEADER,)
    )
    assert [a.tier for a in only_leader] == [Tier.LEADER]
    assert final_schedule(rotations, [], at(MON, 12), at(MON, 12), tz=TZ, holidays=NO_HOLIDAYS) == []
    with pytest.raises(ValueError, match="ends before"):
        final_schedule(rotations, [], at(MON, 12), at(MON, 11), tz=TZ, holidays=NO_HOLIDAYS)


def test_gaps_of_a_weekend_only_rota() -> None:
    weekend = [rota("cuoi-tuan", (AN,), kinds=frozenset({DayKind.WEEKEND}))]
    gaps = find_gaps(
        "BVDK-TH", weekend, [], at(MON, 0), at(MON + timedelta(14), 12), tz=TZ, holidays=NO_HOLIDAYS
    )
    assert gaps == [
        Gap("BVDK-TH", Tier.DUTY_OFFICER, at(MON, 0), at(date(2026, 3, 7), 7, 30)),
        Gap("BVDK-TH", Tier.DUTY_OFFICER, at(date(2026, 3, 9), 7, 30), at(date(2026, 3, 14), 7, 30)),
        Gap("BVDK-TH", Tier.DUTY_OFFICER, at(date(2026, 3, 16), 7, 30), at(date(2026, 3, 16), 12)),
    ]


def test_gaps_when_an_override_leaves_and_other_tiers_on_request() -> None:
    o = [override(at(MON, 10), at(MON, 14), DUNG)]
    r = [rota("chinh", (AN,), end=MON), rota("du-phong", (BINH,), tier=Tier.BACKUP, start=MON + timedelta(1))]
    gaps = find_gaps(
        "BVDK-TH", r, o, at(MON, 0), at(MON + timedelta(1), 12), tz=TZ, holidays=NO_HOLIDAYS, tiers=TIER_ORDER
    )
    assert [(g.tier, g.start, g.end) for g in gaps] == [
        (Tier.DUTY_OFFICER, at(MON, 0), at(MON, 7, 30)),
        (Tier.DUTY_OFFICER, at(MON + timedelta(1), 7, 30), at(MON + timedelta(1), 12)),
        (Tier.BACKUP, at(MON, 0), at(MON + timedelta(1), 7, 30)),
        (Tier.LEADER, at(MON, 0), at(MON + timedelta(1), 12)),
    ]
    # by default only the 24/24 tier is checked
    assert {
        g.tier for g in find_gaps("BVDK-TH", r, o, at(MON, 0), at(MON, 12), tz=TZ, holidays=NO_HOLIDAYS)
    } == {Tier.DUTY_OFFICER}


def test_rotation_without_officers_leaves_a_gap() -> None:
    gaps = find_gaps("BVDK-TH", [rota("rong", ())], [], at(MON, 0), at(MON, 12), tz=TZ, holidays=NO_HOLIDAYS)
    assert [(g.start, g.end) for g in gaps] == [(at(MON, 0), at(MON, 12))]


# --- on_duty's interval ---------------------------------------------------------------------------------


def test_on_duty_interval_is_clipped_to_the_horizon() -> None:
    forever = [rota("mot-nguoi", (AN,), start=date(2025, 1, 1))]
    got = on_duty(forever, [], at(MON, 12), tz=TZ, holidays=NO_HOLIDAYS)[Tier.DUTY_OFFICER]
    assert (got.start, got.end) == (at(MON, 12) - ON_DUTY_HORIZON, at(MON, 12) + ON_DUTY_HORIZON)
    short = on_duty(forever, [], at(MON, 12), tz=TZ, holidays=NO_HOLIDAYS, horizon=timedelta(hours=3))
    assert short[Tier.DUTY_OFFICER].end == at(MON, 15)


def test_on_duty_interval_reaches_beyond_the_first_probe() -> None:
    # A weekly turn of 7 days is longer than the 2 days first looked at either side.
    r = [rota("tuan", (AN, BINH), recurrence=Recurrence.WEEKLY)]
    got = on_duty(r, [], at(MON + timedelta(6), 23), tz=TZ, holidays=NO_HOLIDAYS)[Tier.DUTY_OFFICER]
    assert (got.start, got.end) == (at(MON, 7, 30), at(MON + timedelta(7), 7, 30))


# --- daylight saving ------------------------------------------------------------------------------------


def test_handoffs_follow_local_wall_time_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 2026-03-29 02:00 -> 03:00 (spring forward); 2026-10-25 03:00 -> 02:00 (fall back)
    r = [rota("nacht", (AN, BINH), handoff=time(2, 30), start=date(2026, 3, 1))]
    spring = final_schedule(
        r,
        [],
        datetime(2026, 3, 28, 12, tzinfo=berlin),
        datetime(2026, 3, 30, 12, tzinfo=berlin),
        tz=berlin,
        holidays=NO_HOLIDAYS,
    )
    bounds = [a.start.astimezone(UTC) for a in spring[1:]]
    # 02:30 on the 29th does not exist: fold=0 reads it with the winter offset, 01:30 UTC (03:30 CEST, just
    # after the jump); the next one is 02:30 CEST = 00:30 UTC, a 23-hour duty day.
    assert bounds == [datetime(2026, 3, 29, 1, 30, tzinfo=UTC), datetime(2026, 3, 30, 0, 30, tzinfo=UTC)]
    autumn = final_schedule(
        r,
        [],
        datetime(2026, 10, 24, 12, tzinfo=berlin),
        datetime(2026, 10, 26, 12, tzinfo=berlin),
        tz=berlin,
        holidays=NO_HOLIDAYS,
    )
    # 02:30 on the 25th happens twice: the first (CEST, 00:30 UTC) is the handoff; that duty day lasts 25 h.
    starts = [a.start.astimezone(UTC) for a in autumn[1:]]
    assert starts == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 26, 1, 30, tzinfo=UTC)]
    # on_duty agrees during the repeated hour, where same-zone datetimes compare by wall time only
    second_0230 = datetime(2026, 10, 25, 1, 30, tzinfo=UTC).astimezone(berlin)
    assert second_0230.fold == 1
    duty = on_duty(r, [], second_0230, tz=berlin, holidays=NO_HOLIDAYS)[Tier.DUTY_OFFICER]
    assert duty.start.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


# --- speed ----------------------------------------------------------------------------------------------


def test_a_year_of_daily_turns_is_fast() -> None:
    people = (AN, BINH, CUONG, DUNG)
    rotations = [
        rota("chinh", people[:3], start=date(2026, 1, 1)),
        rota("cuoi-tuan", people[1:], start=date(2026, 1, 1), kinds=frozenset({DayKind.WEEKEND})),
        rota("le", people[3:], start=date(2026, 1, 1), kinds=frozenset({DayKind.HOLIDAY})),
        rota("du-phong", people[:2], tier=Tier.BACKUP, recurrence=Recurrence.WEEKLY, start=date(2026, 1, 1)),
        rota("lanh-dao", people[2:], tier=Tier.LEADER, recurrence=Recurrence.WEEKLY, start=date(2026, 1, 1)),
    ]
    overrides = [
        override(
            at(date(2026, 1, 1) + timedelta(d * 7), 9),
            at(date(2026, 1, 1) + timedelta(d * 7), 17),
            DUNG,
            seq=d,
        )
        for d in range(50)
    ]
    hols = frozenset({date(2026, 1, 1), date(2026, 2, 17), date(2026, 4, 30), date(2026, 9, 2)})
    began = clock.perf_counter()
    sched = final_schedule(
        rotations, overrides, at(date(2026, 1, 1), 0), at(date(2027, 1, 1), 0), tz=TZ, holidays=hols
    )
    gaps = find_gaps(
        "BVDK-TH",
        rotations,
        overrides,
        at(date(2026, 1, 1), 7, 30),
        at(date(2027, 1, 1), 0),
        tz=TZ,
        holidays=hols,
    )
    elapsed = clock.perf_counter() - began
    assert gaps == []
    assert len(sched) > 365
    assert elapsed < 0.5, f"a year took {elapsed:.3f}s"
