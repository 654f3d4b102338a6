"""Test calls ("cuộc gọi kiểm tra") as their own series of a hotline's health (issue 9 §2, seed 001).

A probe rings a facility's hotline and asks whoever answers to press 1. Its results are kept apart from
citizens' calls: they never enter `CallCounts`, and the pages label them "Cuộc gọi kiểm tra".

Over a period, per facility (by the probe's start, local time):

- every probe placed, by outcome; those still running have no outcome yet;
- the probes that *count*: answered by a human, answered without the key (a voicemail, or someone who did
  not understand), busy, no answer, unreachable. ``failed`` (Asterisk refused our originate, ARI away) and
  ``unknown`` (our service lost the call) are ours, not the hotline's: they never count against it;
- the human-answer rate over the probes that count, the mean ring time before a human answered, the
  last probe a human answered;
- the same rate by time of day (day 07:00–19:00, night) and by kind of day (working day, weekend or public
  holiday), since the 24/24 rule (Chỉ thị 09/CT-BYT) is broken at night and on holidays first.

A hotline *fails its test calls* when (each a `ProbeFailReason`):

- ``off_hours``: a probe that counts, placed at night or on a weekend/holiday, was not answered by a human;
- ``no_human``: probes counted and none was answered by a human;
- ``low_rate``: at least `MIN_PROBES_FOR_RATE` counted and under `MIN_HUMAN_RATE_PERCENT` % by a human.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from callcenter.domain.outbound import OUTCOME_LABELS_VI, Outcome
from callcenter.domain.roster import DayKind
from callcenter.domain.schedule import day_kind

DAY_START, DAY_END = time(7, 0), time(19, 0)  # "ban ngày" [07:00, 19:00), local; the rest is night
MIN_PROBES_FOR_RATE = 3
MIN_HUMAN_RATE_PERCENT = 80

SERIES_LABEL_VI = "Cuộc gọi kiểm tra"
PROBE_FLAG_VI = "Không có người nghe khi kiểm tra"

# The outcomes of a probe, in the order the pages show them.
PROBE_OUTCOMES: tuple[Outcome, ...] = (
    Outcome.HUMAN,
    Outcome.NO_KEY,
    Outcome.BUSY,
    Outcome.NO_ANSWER,
    Outcome.UNREACHABLE,
    Outcome.FAILED,
    Outcome.UNKNOWN,
)
# Ours, not the hotline's: never in the rate, never a failure.
NOT_COUNTED: frozenset[Outcome] = frozenset({Outcome.FAILED, Outcome.UNKNOWN})
# What the hotline did wrong (the CLI's exit 1).
HOTLINE_FAILURES: frozenset[Outcome] = frozenset(
    {Outcome.NO_KEY, Outcome.BUSY, Outcome.NO_ANSWER, Outcome.UNREACHABLE}
)


class ProbeFailReason(StrEnum):
    OFF_HOURS = "probe_off_hours"
    NO_HUMAN = "probe_no_human"
    LOW_RATE = "probe_low_rate"


PROBE_FAIL_LABELS_VI: dict[ProbeFailReason, str] = {
    ProbeFailReason.OFF_HOURS: f"{PROBE_FLAG_VI} vào ban đêm, cuối tuần hoặc ngày lễ",
    ProbeFailReason.NO_HUMAN: "Không cuộc gọi kiểm tra nào có người nghe (bấm 1)",
    ProbeFailReason.LOW_RATE: f"Tỷ lệ cuộc gọi kiểm tra có người nghe dưới {MIN_HUMAN_RATE_PERCENT}%",
}


@dataclass(frozen=True)
class ProbeFact:
    """One probe as stored: its outcome (None while it runs), when it was placed (aware), how long the
    line rang before it answered or gave up."""

    outcome: Outcome | None
    created_at: datetime
    ring_ms: int | None = None


@dataclass(frozen=True)
class ProbeBucket:
    """Counted probes and those a human answered, in one slice (day, night, working day, off day)."""

    counted: int = 0
    human: int = 0

    @property
    def rate_percent(self) -> float | None:
        return round(100 * self.human / self.counted, 1) if self.counted else None

    def add(self, human: bool) -> ProbeBucket:
        return ProbeBucket(self.counted + 1, self.human + (1 if human else 0))

    def as_dict(self) -> dict[str, object]:
        return {"counted": self.counted, "human": self.human, "rate_percent": self.rate_percent}


@dataclass(frozen=True)
class ProbeSeries:
    facility_code: str
    placed: int = 0
    running: int = 0  # placed, no outcome yet
    by_outcome: Mapping[Outcome, int] = field(default_factory=lambda: MappingProxyType({}))
    mean_ring_to_human_ms: float | None = None
    last_human_at: datetime | None = None
    day: ProbeBucket = ProbeBucket()
    night: ProbeBucket = ProbeBucket()
    workday: ProbeBucket = ProbeBucket()
    off_day: ProbeBucket = ProbeBucket()  # weekend or public holiday
    off_hours_unanswered: int = 0  # counted, at night or on an off day, no human
    reasons: tuple[ProbeFailReason, ...] = ()

    def count(self, outcome: Outcome) -> int:
        return self.by_outcome.get(outcome, 0)

    @property
    def counted(self) -> int:
        return sum(n for o, n in self.by_outcome.items() if o not in NOT_COUNTED)

    @property
    def human(self) -> int:
        return self.count(Outcome.HUMAN)

    @property
    def human_rate_percent(self) -> float | None:
        return round(100 * self.human / self.counted, 1) if self.counted else None

    @property
    def mean_ring_to_human_s(self) -> float | None:
        ms = self.mean_ring_to_human_ms
        return None if ms is None else round(ms / 1000, 1)

    @property
    def failing(self) -> bool:
        return bool(self.reasons)

    def as_dict(self) -> dict[str, object]:
        return {
            "label": SERIES_LABEL_VI,
            "placed": self.placed,
            "running": self.running,
            "counted": self.counted,
            **{o.value: self.count(o) for o in PROBE_OUTCOMES},
            "human_rate_percent": self.human_rate_percent,
            "mean_ring_to_human_s": self.mean_ring_to_human_s,
            "last_human_at": self.last_human_at.isoformat() if self.last_human_at else None,
            "day": self.day.as_dict(),
            "night": self.night.as_dict(),
            "workday": self.workday.as_dict(),
            "off_day": self.off_day.as_dict(),
            "off_hours_unanswered": self.off_hours_unanswered,
            "failing": self.failing,
            "reasons": [r.value for r in self.reasons],
        }


def is_daytime(local: datetime) -> bool:
    return DAY_START <= local.time() < DAY_END


def probe_series(
    facility_code: str, facts: Iterable[ProbeFact], *, tz: ZoneInfo, holidays: Collection[date]
) -> ProbeSeries:
    """One facility's test calls over a period, in the hotline's zone with Vietnam's holidays."""
    placed = running = off_unanswered = 0
    outcomes: dict[Outcome, int] = {}
    rings: list[int] = []
    last_human: datetime | None = None
    day = night = workday = off_day = ProbeBucket()
    for f in facts:
        placed += 1
        if f.outcome is None:
            running += 1
            continue
        outcomes[f.outcome] = outcomes.get(f.outcome, 0) + 1
        if f.outcome in NOT_COUNTED:
            continue
        human = f.outcome is Outcome.HUMAN
        local = f.created_at.astimezone(tz)
        daytime = is_daytime(local)
        working = day_kind(local.date(), holidays) is DayKind.WORKDAY
        if daytime:
            day = day.add(human)
        else:
            night = night.add(human)
        if working:
            workday = workday.add(human)
        else:
            off_day = off_day.add(human)
        if human:
            if f.ring_ms is not None:
                rings.append(f.ring_ms)
            if last_human is None or f.created_at > last_human:
                last_human = f.created_at
        elif not (daytime and working):
            off_unanswered += 1
    by_outcome = MappingProxyType({o: outcomes[o] for o in PROBE_OUTCOMES if o in outcomes})
    counted = sum(n for o, n in by_outcome.items() if o not in NOT_COUNTED)
    human_n = by_outcome.get(Outcome.HUMAN, 0)
    return ProbeSeries(
        facility_code=facility_code,
        placed=placed,
        running=running,
        by_outcome=by_outcome,
        mean_ring_to_human_ms=sum(rings) / len(rings) if rings else None,
        last_human_at=last_human,
        day=day,
        night=night,
        workday=workday,
        off_day=off_day,
        off_hours_unanswered=off_unanswered,
        reasons=probe_fail_reasons(counted, human_n, off_unanswered),
    )


def probe_fail_reasons(counted: int, human: int, off_hours_unanswered: int) -> tuple[ProbeFailReason, ...]:
    reasons: list[ProbeFailReason] = []
    if off_hours_unanswered > 0:
        reasons.append(ProbeFailReason.OFF_HOURS)
    if counted > 0 and human == 0:
        reasons.append(ProbeFailReason.NO_HUMAN)
    elif counted >= MIN_PROBES_FOR_RATE and human * 100 < MIN_HUMAN_RATE_PERCENT * counted:
        reasons.append(ProbeFailReason.LOW_RATE)
    return tuple(reasons)


def labelled_reasons(series: ProbeSeries | None) -> list[str]:
    """The series' failures, each prefixed "Cuộc gọi kiểm tra: " so a list of a hotline's failures never
    reads a test call as a citizen's call."""
    if series is None:
        return []
    return [f"{SERIES_LABEL_VI}: {PROBE_FAIL_LABELS_VI[r]}" for r in series.reasons]


def outcome_label(outcome: Outcome | None) -> str:
    return "Đang gọi" if outcome is None else OUTCOME_LABELS_VI[outcome]
