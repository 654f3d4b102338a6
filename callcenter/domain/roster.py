"""The 24/7 duty roster: who answers a facility's hotline at any instant.

Data types only here; the schedule arithmetic lives below them. Pure stdlib. Times are aware datetimes;
rotations hand over at a local wall-clock time in the roster's time zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum


class Tier(StrEnum):
    """Tiers of the call chain, in the order they are rung."""

    DUTY_OFFICER = "duty_officer"  # cán bộ trực
    BACKUP = "backup"  # cán bộ trực dự phòng
    LEADER = "leader"  # trực lãnh đạo


TIER_ORDER: tuple[Tier, ...] = (Tier.DUTY_OFFICER, Tier.BACKUP, Tier.LEADER)


class Recurrence(StrEnum):
    """Length of one officer's turn in a rotation."""

    DAILY = "daily"
    WEEKLY = "weekly"


class DayKind(StrEnum):
    """What a duty day is; a rotation can cover only some kinds (e.g. a holiday rota)."""

    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


ALL_DAY_KINDS: frozenset[DayKind] = frozenset(DayKind)


@dataclass(frozen=True)
class Officer:
    name: str
    phone: str  # national form, see domain.phone


@dataclass(frozen=True)
class Rotation:
    """A recurring rota: officers take turns of one day or one week, handing over at `handoff`.

    Turn k (k >= 0) starts at `start` + k turns at `handoff` local time and goes to officers[k % len].
    A duty day runs from one handoff to the next and has the kind of the calendar date it starts on;
    the rotation covers only the duty days whose kind is in `day_kinds`. With several rotations of one
    tier covering an instant, the most specific (fewest day kinds) wins, then the lowest `name`.
    """

    name: str
    facility_code: str
    tier: Tier
    recurrence: Recurrence
    handoff: time
    start: date
    officers: tuple[Officer, ...]
    day_kinds: frozenset[DayKind] = field(default=ALL_DAY_KINDS)
    end: date | None = None  # last duty day covered (inclusive); None: for ever


@dataclass(frozen=True)
class Override:
    """A one-off: `officer` holds `tier` from `start` to `end` (half-open); it beats any rotation.

    Overlapping overrides of one tier: the one created last (highest `seq`) wins.
    """

    facility_code: str
    tier: Tier
    start: datetime
    end: datetime
    officer: Officer
    seq: int = 0
    reason: str = ""


@dataclass(frozen=True)
class Assignment:
    """Who holds a tier over an interval of the final schedule, and why."""

    tier: Tier
    officer: Officer
    start: datetime
    end: datetime
    source: str  # "rotation:<name>" or "override"


@dataclass(frozen=True)
class Gap:
    """An interval in which nobody holds `tier` (the 24/24 rule is broken for DUTY_OFFICER)."""

    facility_code: str
    tier: Tier
    start: datetime
    end: datetime


def by_facility(
    rotations: Iterable[Rotation], overrides: Iterable[Override]
) -> tuple[defaultdict[str, list[Rotation]], defaultdict[str, list[Override]]]:
    """The roster split per facility code (a facility with none gets empty lists)."""
    rot: defaultdict[str, list[Rotation]] = defaultdict(list)
    ovr: defaultdict[str, list[Override]] = defaultdict(list)
    for r in rotations:
        rot[r.facility_code].append(r)
    for o in overrides:
        ovr[o.facility_code].append(o)
    return rot, ovr
