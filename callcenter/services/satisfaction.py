"""The satisfaction index per facility and period, from the post-call ratings (seed 003).

Definition (see `callcenter.domain.satisfaction`): share of rated calls rated 4 or 5 ("hài lòng"), over the
calls that STARTED in the period, local dates `date_from`..`date_to` inclusive; calls with no answer or an
invalid key are counted beside it, not in it. Targets: 77 %, then 90 %.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from callcenter.domain.satisfaction import FacilityIndex, facility_index
from callcenter.services.ports import UnitOfWorkFactory


def period_bounds(date_from: date, date_to: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[first local midnight, the midnight after the last day) as aware datetimes."""
    if date_to < date_from:
        raise ValueError(f"the period ends ({date_to}) before it starts ({date_from})")
    start = datetime.combine(date_from, time(0), tzinfo=tz)
    end = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


class SatisfactionService:
    def __init__(self, uow: UnitOfWorkFactory, tz: ZoneInfo) -> None:
        self._uow = uow
        self._tz = tz

    async def index(
        self, date_from: date, date_to: date, facility_code: str | None = None
    ) -> list[FacilityIndex]:
        """One entry per facility with at least one call asked to rate; calls of no facility come last
        (facility_code None). Sorted by facility code."""
        since, until = period_bounds(date_from, date_to, self._tz)
        async with self._uow() as uow:
            counts = await uow.calls.rating_counts(since, until, facility_code)
        ordered = sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        return [facility_index(code, c) for code, c in ordered]
