"""Roster arithmetic: who holds each tier of one facility's call chain, at an instant or over a window.

The work is done on breakpoints, never by sampling: each rotation becomes a few segments (runs of duty
days with the same officer), each override one segment, and a sweep over their bounds picks the winner
of every elementary interval. A year of daily turns is a few thousand cheap steps.

Instants are handled in UTC inside: two aware datetimes that share a tzinfo compare by wall time with
`fold` ignored, which is wrong around a daylight-saving fall-back. Results are given in the roster's zone.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from callcenter.domain.roster import (
    TIER_ORDER,
    Assignment,
    DayKind,
    Gap,
    Officer,
    Override,
    Recurrence,
    Rotation,
    Tier,
)

# on_duty() reports the holder's interval up to this far either side of `at`: enough for "on duty until"
# displays and caches, while a single-officer rota does not make every call scan the whole roster.
ON_DUTY_HORIZON = timedelta(days=31)
OVERRIDE_SOURCE = "override"

_ONE_DAY = timedelta(days=1)
_FIRST_PROBE = timedelta(days=2)  # covers a daily turn either side of `at`, the common case


def day_kind(d: date, holidays: Collection[date]) -> DayKind:
    """A public holiday on a Saturday is a holiday: the holiday rota is the more specific one."""
    if d in holidays:
        return DayKind.HOLIDAY
    if d.weekday() >= 5:
        return DayKind.WEEKEND
    return DayKind.WORKDAY


def rotation_source(rotation: Rotation) -> str:
    return f"rotation:{rotation.name}"


def handoff_instant(rotation: Rotation, duty_day: date, tz: ZoneInfo) -> datetime:
    """When `duty_day` starts, in UTC.

    Built from local wall time so a handoff stays at 07:30 across a DST change; a wall time skipped by
    spring-forward resolves (fold=0) to the instant just after the jump, an ambiguous one to the first.
    """
    return datetime.combine(duty_day, rotation.handoff, tzinfo=tz).astimezone(UTC)


def duty_day_at(rotation: Rotation, at: datetime, tz: ZoneInfo) -> date:
    """The duty day of `rotation`'s handoff rhythm that contains `at` (whether or not it is covered)."""
    at_utc = _to_utc(at, "at")
    d = at_utc.astimezone(tz).date()
    # Loops rather than one step: correct even where a zone jumps by a whole day.
    while at_utc < handoff_instant(rotation, d, tz):
        d -= _ONE_DAY
    while at_utc >= handoff_instant(rotation, d + _ONE_DAY, tz):
        d += _ONE_DAY
    return d


def officer_for_day(rotation: Rotation, duty_day: date, holidays: Collection[date]) -> Officer | None:
    """Who `rotation` puts on `duty_day`, or None when the rotation does not cover that day.

    Turns count calendar time from `start` (turn k = k days or k weeks later), not covered days: a
    weekend-only weekly rota gives both days of one weekend to the same officer.
    """
    if not rotation.officers or duty_day < rotation.start:
        return None
    if rotation.end is not None and duty_day > rotation.end:
        return None
    if day_kind(duty_day, holidays) not in rotation.day_kinds:
        return None
    days = (duty_day - rotation.start).days
    turn = days if rotation.recurrence is Recurrence.DAILY else days // 7
    return rotation.officers[turn % len(rotation.officers)]


def on_duty(
    rotations: Sequence[Rotation],
    overrides: Sequence[Override],
    at: datetime,
    *,
    tz: ZoneInfo,
    holidays: Collection[date],
    horizon: timedelta = ON_DUTY_HORIZON,
) -> dict[Tier, Assignment]:
    """Who holds each tier at `at`; a tier nobody holds is absent from the result.

    Each Assignment spans the maximal interval around `at` in which the same officer holds the tier from
    the same source, clipped to `horizon` either side of `at`.
    """
    at_utc = _to_utc(at, "at")
    if horizon <= timedelta(0):
        raise ValueError("horizon must be positive")
    _check_one_facility(rotations, overrides)
    hols = _as_set(holidays)
    ranked = _Ranked.of(rotations, overrides)
    result: dict[Tier, Assignment] = {}
    for tier in TIER_ORDER:
        # Widen the window only while the holder's interval touches its edge: most calls need 4 days.
        span = min(_FIRST_PROBE, horizon)
        while True:
            lo, hi = at_utc - span, at_utc + span
            piece = next(p for p in _timeline(ranked, tier, lo, hi, tz, hols) if p.start <= at_utc < p.end)
            touches_edge = piece.start == lo or piece.end == hi
            if piece.officer is None or not touches_edge or span >= horizon:
                break
            span = min(span * 4, horizon)
        if piece.officer is not None and piece.source is not None:
            result[tier] = Assignment(
                tier, piece.officer, piece.start.astimezone(tz), piece.end.astimezone(tz), piece.source
            )
    return result


def final_schedule(
    rotations: Sequence[Rotation],
    overrides: Sequence[Override],
    start: datetime,
    end: datetime,
    *,
    tz: ZoneInfo,
    holidays: Collection[date],
    tiers: Sequence[Tier] = TIER_ORDER,
) -> list[Assignment]:
    """The final schedule over [start, end), tier by tier (in `tiers` order), each tier sorted by start.

    Within a tier the intervals never overlap; adjacent ones with the same officer and source are merged.
    """
    lo, hi = _window(start, end)
    _check_one_facility(rotations, overrides)
    hols = _as_set(holidays)
    ranked = _Ranked.of(rotations, overrides)
    return [
        Assignment(tier, p.officer, p.start.astimezone(tz), p.end.astimezone(tz), p.source)
        for tier in tiers
        for p in _timeline(ranked, tier, lo, hi, tz, hols)
        if p.officer is not None and p.source is not None
    ]


def holders_at(schedule: Sequence[Assignment], at: datetime) -> dict[Tier, Assignment]:
    """Who holds each tier at `at`, read from a `final_schedule` whose window contains `at`: the same
    officers `on_duty` gives (each Assignment is clipped to the schedule's window instead)."""
    at_utc = _to_utc(at, "at")
    return {a.tier: a for a in schedule if a.start <= at_utc < a.end}


def find_gaps(
    facility_code: str,
    rotations: Sequence[Rotation],
    overrides: Sequence[Override],
    start: datetime,
    end: datetime,
    *,
    tz: ZoneInfo,
    holidays: Collection[date],
    tiers: Sequence[Tier] = (Tier.DUTY_OFFICER,),
) -> list[Gap]:
    """The intervals of [start, end) in which nobody holds a tier, tier by tier, each sorted by start."""
    lo, hi = _window(start, end)
    _check_one_facility(rotations, overrides, facility_code)
    hols = _as_set(holidays)
    ranked = _Ranked.of(rotations, overrides)
    return [
        Gap(facility_code, tier, p.start.astimezone(tz), p.end.astimezone(tz))
        for tier in tiers
        for p in _timeline(ranked, tier, lo, hi, tz, hols)
        if p.officer is None
    ]


# --- internals ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Segment:
    """A candidate holder over [start, end) in UTC; lower rank wins."""

    start: datetime
    end: datetime
    rank: int
    officer: Officer
    source: str


@dataclass(frozen=True, slots=True)
class _Piece:
    """One merged interval of the final timeline in UTC; officer None means nobody holds the tier."""

    start: datetime
    end: datetime
    officer: Officer | None
    source: str | None


@dataclass(frozen=True, slots=True)
class _Ranked:
    """Rotations and overrides with their precedence as one integer rank (0 = strongest)."""

    rotations: tuple[tuple[int, Rotation], ...]
    overrides: tuple[tuple[int, Override, datetime, datetime], ...]

    @staticmethod
    def of(rotations: Sequence[Rotation], overrides: Sequence[Override]) -> _Ranked:
        # Overrides beat rotations. Equal seq: the later one in the input wins (it was entered later).
        by_seq = sorted(enumerate(overrides), key=lambda io: (-io[1].seq, -io[0]))
        # Most specific rota first, then lowest name; input order settles exact ties deterministically.
        by_spec = sorted(enumerate(rotations), key=lambda ir: (len(ir[1].day_kinds), ir[1].name, ir[0]))
        ranked_overrides = tuple(
            (rank, o, _to_utc(o.start, "override start"), _to_utc(o.end, "override end"))
            for rank, (_, o) in enumerate(by_seq)
        )
        first = len(ranked_overrides)
        return _Ranked(tuple((first + i, r) for i, (_, r) in enumerate(by_spec)), ranked_overrides)


def _timeline(
    ranked: _Ranked, tier: Tier, lo: datetime, hi: datetime, tz: ZoneInfo, holidays: Collection[date]
) -> list[_Piece]:
    """[lo, hi) cut into merged pieces, each with its winner (or nobody). Pieces cover [lo, hi) exactly."""
    segments: list[_Segment] = []
    for rank, rotation in ranked.rotations:
        if rotation.tier is tier:
            segments.extend(_rotation_segments(rotation, rank, lo, hi, tz, holidays))
    for rank, override, o_start, o_end in ranked.overrides:
        s, e = max(o_start, lo), min(o_end, hi)
        if override.tier is tier and s < e:
            segments.append(_Segment(s, e, rank, override.officer, OVERRIDE_SOURCE))
    segments.sort(key=lambda s: s.start)
    points = sorted({lo, hi, *(s.start for s in segments), *(s.end for s in segments)})

    pieces: list[_Piece] = []
    active: list[tuple[int, int]] = []  # heap of (rank, index into segments); expired ones leave lazily
    nxt = 0
    for a, b in itertools.pairwise(points):
        while nxt < len(segments) and segments[nxt].start <= a:
            heapq.heappush(active, (segments[nxt].rank, nxt))
            nxt += 1
        while active and segments[active[0][1]].end <= a:
            heapq.heappop(active)
        win = segments[active[0][1]] if active else None
        officer, source = (win.officer, win.source) if win else (None, None)
        last = pieces[-1] if pieces else None
        if last is not None and last.officer == officer and last.source == source:
            pieces[-1] = _Piece(last.start, b, officer, source)
        else:
            pieces.append(_Piece(a, b, officer, source))
    return pieces


def _rotation_segments(
    rotation: Rotation, rank: int, lo: datetime, hi: datetime, tz: ZoneInfo, holidays: Collection[date]
) -> Iterator[_Segment]:
    """Runs of consecutive duty days with the same officer, clipped to [lo, hi)."""
    if not rotation.officers:
        return  # nobody to put on duty; find_gaps makes that visible
    source = rotation_source(rotation)
    d = max(duty_day_at(rotation, lo, tz), rotation.start)
    begin = handoff_instant(rotation, d, tz)
    run_start, run_officer = begin, None
    while begin < hi and (rotation.end is None or d <= rotation.end):
        officer = officer_for_day(rotation, d, holidays)
        if officer != run_officer:
            if run_officer is not None:
                yield _Segment(max(run_start, lo), begin, rank, run_officer, source)
            run_start, run_officer = begin, officer
        d += _ONE_DAY
        begin = handoff_instant(rotation, d, tz)
    if run_officer is not None:
        end = min(begin, hi)
        if max(run_start, lo) < end:
            yield _Segment(max(run_start, lo), end, rank, run_officer, source)


def _to_utc(dt: datetime, what: str) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got naive {dt.isoformat()}")
    return dt.astimezone(UTC)


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    lo, hi = _to_utc(start, "start"), _to_utc(end, "end")
    if hi < lo:
        raise ValueError(f"window ends before it starts: {start.isoformat()} > {end.isoformat()}")
    return lo, hi


def _as_set(holidays: Collection[date]) -> Collection[date]:
    # Membership is tested once per duty day; a list would make that linear.
    return holidays if isinstance(holidays, set | frozenset) else frozenset(holidays)


def _check_one_facility(
    rotations: Sequence[Rotation], overrides: Sequence[Override], expected: str | None = None
) -> None:
    """The caller filters by facility; mixing two would silently merge their rosters, so refuse it."""
    codes = {r.facility_code for r in rotations} | {o.facility_code for o in overrides}
    if expected is not None:
        codes.add(expected)
    if len(codes) > 1:
        raise ValueError(f"rotations and overrides of several facilities: {sorted(codes)}")
