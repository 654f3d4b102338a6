"""The post-call satisfaction question and the satisfaction index (seed 003, "chỉ số hài lòng").

After the officer hangs up, the caller is asked to rate the call 1 to 5 on the keypad. Each answered call
then carries one of three statuses:

- ``rated``: a digit 1..5 was pressed (the rating is kept);
- ``no_answer``: the caller hung up, or stayed silent through every attempt: NOT a low score;
- ``invalid``: only keys outside 1..5 were pressed, through every attempt.

The satisfaction index of a facility over a period is the share of RATED calls rated 4 or 5
("hài lòng" / "rất hài lòng") among all rated calls: ``satisfied / rated``. Calls with no answer or an
invalid key are counted and shown but are not in the denominator. With no rated call the index is
undefined (None), never 0 %. The Sở Y tế Khánh Hoà targets (TB 1883/TB-SYT, 2017): above 77 %, then 90 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

MIN_RATING = 1
MAX_RATING = 5
SATISFIED_FROM = 4  # 4 = hài lòng, 5 = rất hài lòng
FIRST_TARGET_PERCENT = 77
FINAL_TARGET_PERCENT = 90


class RatingStatus(StrEnum):
    RATED = "rated"
    NO_ANSWER = "no_answer"
    INVALID = "invalid"


def parse_rating(digits: str) -> int | None:
    """The rating a keypad entry gives: one digit 1..5, else None."""
    d = digits.strip()
    if len(d) == 1 and d.isdigit() and MIN_RATING <= int(d) <= MAX_RATING:
        return int(d)
    return None


@dataclass(frozen=True)
class RatingAnswer:
    rating: int | None
    status: RatingStatus


def conclude_rating(entries: list[str], *, hung_up: bool) -> RatingAnswer:
    """What a sequence of keypad entries (one per attempt, "" = nothing) means.

    The first valid digit wins. Without one: any key pressed -> invalid; nothing pressed or the caller
    hung up before pressing anything -> no_answer. A hang-up after invalid keys stays invalid.
    """
    for entry in entries:
        rating = parse_rating(entry)
        if rating is not None:
            return RatingAnswer(rating, RatingStatus.RATED)
    if any(e.strip() for e in entries):
        return RatingAnswer(None, RatingStatus.INVALID)
    return RatingAnswer(None, RatingStatus.NO_ANSWER)


def check_rating(rating: int | None, status: RatingStatus) -> None:
    """A rating goes with status rated and only with it."""
    if status is RatingStatus.RATED:
        if rating is None or not MIN_RATING <= rating <= MAX_RATING:
            raise ValueError(f"a rated call needs a rating {MIN_RATING}..{MAX_RATING}, got {rating!r}")
    elif rating is not None:
        raise ValueError(f"status {status.value} carries no rating, got {rating!r}")


@dataclass(frozen=True)
class RatingCounts:
    """The ratings of one facility's calls over a period, as counted by the database."""

    rated: int = 0
    satisfied: int = 0  # rated >= SATISFIED_FROM
    no_answer: int = 0
    invalid: int = 0


@dataclass(frozen=True)
class FacilityIndex:
    """The satisfaction index of one facility (None: calls routed to no facility) over a period."""

    facility_code: str | None
    rated: int
    satisfied: int
    no_answer: int
    invalid: int

    @property
    def asked(self) -> int:
        return self.rated + self.no_answer + self.invalid

    @property
    def ratio(self) -> Fraction | None:
        """satisfied / rated exactly; None when nobody rated."""
        return Fraction(self.satisfied, self.rated) if self.rated else None

    @property
    def index_percent(self) -> float | None:
        ratio = self.ratio
        return None if ratio is None else round(float(ratio * 100), 1)

    def meets(self, target_percent: int) -> bool | None:
        """Reaches the target (>=, exact arithmetic: 77 of 100 meets 77 %); None when nobody rated."""
        ratio = self.ratio
        return None if ratio is None else ratio * 100 >= target_percent

    @property
    def meets_first_target(self) -> bool | None:
        return self.meets(FIRST_TARGET_PERCENT)

    @property
    def meets_final_target(self) -> bool | None:
        return self.meets(FINAL_TARGET_PERCENT)


def facility_index(facility_code: str | None, counts: RatingCounts) -> FacilityIndex:
    if not 0 <= counts.satisfied <= counts.rated:
        raise ValueError(f"satisfied {counts.satisfied} must be within 0..rated {counts.rated}")
    return FacilityIndex(facility_code, counts.rated, counts.satisfied, counts.no_answer, counts.invalid)
