"""Properties of the roster arithmetic over random rotations, overrides, holidays and windows.

A brute-force oracle (scan the calendar days around an instant, apply the precedence rules literally)
checks on_duty; final_schedule and find_gaps are checked to partition the window and to agree with it.
Windows are drawn around both DST changes of Europe/Berlin as well as in Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.domain.roster import TIER_ORDER, DayKind, Officer, Override, Recurrence, Rotation, Tier
from callcenter.domain.schedule import final_schedule, find_gaps, holders_at, on_duty

FACILITY = "TTYT-QX"
ZONES = (ZoneInfo("Asia/Ho_Chi_Minh"), ZoneInfo("Europe/Berlin"))
# Ordinary days, then the weeks around Berlin's spring-forward (29 Mar) and fall-back (25 Oct) in 2026.
BASES = (date(2026, 2, 10), date(2026, 3, 25), date(2026, 10, 21))
POOL = tuple(Officer(f"Cán bộ {i}", f"09610000{i:02d}") for i in range(4))


@dataclass(frozen=True)
class Case:
    tz: ZoneInfo
    rotations: list[Rotation]
    overrides: list[Override]
    holidays: frozenset[date]
    start: datetime
    end: datetime


@st.composite
def cases(draw: st.DrawFn) -> Case:
    tz = draw(st.sampled_from(ZONES))
    base = draw(st.sampled_from(BASES))
    holidays = frozenset(
        draw(st.sets(st.integers(-3, 16).map(lambda k: base + timedelta(days=k)), max_size=6))
    )
    names = draw(st.permutations(["a", "b", "c", "d"]))
    rotations = []
    for name in names[: draw(st.integers(0, 4))]:
        start = base + timedelta(days=draw(st.integers(-12, 8)))
        kinds = draw(st.sets(st.sampled_from(list(DayKind)), min_size=1))
        rotations.append(
            Rotation(
                name=name,
                facility_code=FACILITY,
                tier=draw(st.sampled_from(TIER_ORDER)),
                recurrence=draw(st.sampled_from(list(Recurrence))),
                # 02:30 is skipped or repeated in Berlin on the DST days; 00:00 and 23:59 sit on date edges
                handoff=draw(
                    st.sampled_from([time(0, 0), time(2, 30), time(7, 30), time(7, 30), time(23, 59)])
                ),
                start=start,
                officers=tuple(draw(st.lists(st.sampled_from(POOL), min_size=0, max_size=3))),
                day_kinds=frozenset(kinds),
                end=None
                if (length := draw(st.none() | st.integers(0, 15))) is None
                else start + timedelta(length),
            )
        )
    window_start = datetime.combine(base, time(0, 0), tzinfo=tz) + timedelta(
        minutes=draw(st.integers(0, 3000))
    )
    window_end = window_start + timedelta(minutes=draw(st.integers(1, 14 * 24 * 60)))
    overrides = []
    for _ in range(draw(st.integers(0, 4))):
        o_start = window_start + timedelta(minutes=draw(st.integers(-2000, 14 * 24 * 60)))
        overrides.append(
            Override(
                facility_code=FACILITY,
                tier=draw(st.sampled_from(TIER_ORDER)),
                start=o_start,
                end=o_start + timedelta(minutes=draw(st.integers(1, 4000))),
                officer=draw(st.sampled_from(POOL)),
                seq=draw(st.integers(0, 3)),
            )
        )
    return Case(tz, rotations, overrides, holidays, window_start, window_end)


def oracle(case: Case, tier: Tier, t: datetime) -> tuple[Officer, str] | None:
    """Who holds `tier` at `t`, by the rules read literally and a scan of nearby calendar days."""
    t = t.astimezone(UTC)
    covering = [
        (o.seq, i, o)
        for i, o in enumerate(case.overrides)
        if o.tier is tier and o.start.astimezone(UTC) <= t < o.end.astimezone(UTC)
    ]
    if covering:
        return max(covering, key=lambda c: (c[0], c[1]))[2].officer, "override"
    candidates = []
    for i, r in enumerate(case.rotations):
        if r.tier is not tier or not r.officers:
            continue
        local_day = t.astimezone(case.tz).date()
        for d in (local_day + timedelta(days=k) for k in range(-2, 2)):
            begins = datetime.combine(d, r.handoff, tzinfo=case.tz).astimezone(UTC)
            ends = datetime.combine(d + timedelta(days=1), r.handoff, tzinfo=case.tz).astimezone(UTC)
            if begins <= t < ends:
                break
        else:
            raise AssertionError("no duty day found")
        weekend = DayKind.WEEKEND if d.isoweekday() in (6, 7) else DayKind.WORKDAY
        kind = DayKind.HOLIDAY if d in case.holidays else weekend
        if d < r.start or (r.end is not None and d > r.end) or kind not in r.day_kinds:
            continue
        days = (d - r.start).days
        turn = days if r.recurrence is Recurrence.DAILY else days // 7
        candidates.append(((len(r.day_kinds), r.name, i), r.officers[turn % len(r.officers)], r.name))
    if not candidates:
        return None
    _, officer, name = min(candidates, key=lambda c: c[0])
    return officer, f"rotation:{name}"


Piece = tuple[datetime, datetime, Officer | None, str | None]


def pieces_by_tier(case: Case) -> dict[Tier, list[Piece]]:
    """Final schedule and gaps of every tier together, sorted, in UTC."""
    rotations, overrides, tz, hols = case.rotations, case.overrides, case.tz, case.holidays
    sched = final_schedule(rotations, overrides, case.start, case.end, tz=tz, holidays=hols)
    gaps = find_gaps(
        FACILITY, rotations, overrides, case.start, case.end, tz=tz, holidays=hols, tiers=TIER_ORDER
    )
    result: dict[Tier, list[Piece]] = {tier: [] for tier in TIER_ORDER}
    for a in sched:
        result[a.tier].append((a.start.astimezone(UTC), a.end.astimezone(UTC), a.officer, a.source))
    for g in gaps:
        assert g.facility_code == FACILITY
        result[g.tier].append((g.start.astimezone(UTC), g.end.astimezone(UTC), None, None))
    for pieces in result.values():
        pieces.sort(key=lambda p: p[0])
    return result


@settings(max_examples=300, deadline=None)
@given(cases())
def test_schedule_and_gaps_partition_the_window(case: Case) -> None:
    lo, hi = case.start.astimezone(UTC), case.end.astimezone(UTC)
    for tier, pieces in pieces_by_tier(case).items():
        assert pieces, tier
        assert pieces[0][0] == lo
        assert pieces[-1][1] == hi
        for (s1, e1, o1, src1), (s2, _, o2, src2) in itertools.pairwise(pieces):
            assert s1 < e1
            assert e1 == s2, "pieces overlap or leave a hole"
            assert (o1, src1) != (o2, src2), "adjacent pieces with one holder were not merged"
        assert pieces[-1][0] < pieces[-1][1]


@settings(max_examples=300, deadline=None)
@given(cases(), st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=5))
def test_on_duty_agrees_with_final_schedule_and_oracle(case: Case, fractions: list[float]) -> None:
    lo, hi = case.start.astimezone(UTC), case.end.astimezone(UTC)
    by_tier = pieces_by_tier(case)
    # random instants, plus every boundary and the microsecond before it: where off-by-ones live
    span_us = (hi - lo) // timedelta(microseconds=1)
    instants = {lo + timedelta(microseconds=min(int(f * span_us), span_us - 1)) for f in fractions}
    for pieces in by_tier.values():
        for start, *_ in pieces:
            instants.add(start)
            if start > lo:
                instants.add(start - timedelta(microseconds=1))
    for t in sorted(instants):
        duty = on_duty(
            case.rotations, case.overrides, t.astimezone(case.tz), tz=case.tz, holidays=case.holidays
        )
        for tier, pieces in by_tier.items():
            start, end, officer, source = next(p for p in pieces if p[0] <= t < p[1])
            expected = oracle(case, tier, t)
            if officer is None:
                assert tier not in duty
                assert expected is None
                continue
            got = duty[tier]
            assert (got.officer, got.source) == (officer, source) == expected
            # on_duty's interval, clipped to the window, is the schedule's interval
            assert max(got.start.astimezone(UTC), lo) == start
            assert min(got.end.astimezone(UTC), hi) == end
            assert got.start.astimezone(UTC) <= t < got.end.astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(cases(), st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=5))
def test_holders_at_reads_from_the_schedule_who_on_duty_computes(case: Case, fractions: list[float]) -> None:
    """The call path asks the schedule held in memory (holders_at); it must name whom on_duty names."""
    lo, hi = case.start.astimezone(UTC), case.end.astimezone(UTC)
    sched = final_schedule(
        case.rotations, case.overrides, case.start, case.end, tz=case.tz, holidays=case.holidays
    )
    span_us = (hi - lo) // timedelta(microseconds=1)
    instants = {lo + timedelta(microseconds=min(int(f * span_us), span_us - 1)) for f in fractions}
    instants |= {a.start.astimezone(UTC) for a in sched} | {
        a.end.astimezone(UTC) - timedelta(microseconds=1) for a in sched
    }
    for t in sorted(instants):
        local = t.astimezone(case.tz)
        duty = on_duty(case.rotations, case.overrides, local, tz=case.tz, holidays=case.holidays)
        held = holders_at(sched, local)
        assert held.keys() == duty.keys(), t
        for tier, a in held.items():
            assert (a.officer, a.source) == (duty[tier].officer, duty[tier].source), (t, tier)
            assert a.start.astimezone(UTC) <= t < a.end.astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_overrides_win_wherever_they_apply(case: Case) -> None:
    lo, hi = case.start.astimezone(UTC), case.end.astimezone(UTC)
    by_tier = pieces_by_tier(case)
    for o in case.overrides:
        s, e = max(o.start.astimezone(UTC), lo), min(o.end.astimezone(UTC), hi)
        if s >= e:
            continue
        # over its whole span within the window, the tier is held from an override, never a rotation or nobody
        for p_start, p_end, officer, source in by_tier[o.tier]:
            if p_start < e and s < p_end:
                assert source == "override"
                assert officer is not None
        for t in (s, s + (e - s) / 2, e - timedelta(microseconds=1)):
            got = on_duty(case.rotations, case.overrides, t, tz=case.tz, holidays=case.holidays)[o.tier]
            assert got.source == "override"
            winner = max(
                (x for x in enumerate(case.overrides) if x[1].tier is o.tier and x[1].start <= t < x[1].end),
                key=lambda x: (x[1].seq, x[0]),
            )
            assert got.officer == winner[1].officer
