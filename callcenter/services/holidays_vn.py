"""Vietnam's public holidays, for the roster's day kinds.

The `holidays` library knows the lunar ones (Tết, Giỗ Tổ Hùng Vương on 10/3 âm lịch), which move every
year, and the observed and substituted days off the government announces. It cannot express a Saturday
declared a working day in exchange: such a day stays a weekend for the roster.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def vietnam_holidays(first_year: int, last_year: int) -> frozenset[date]:
    """Every public holiday (including observed days) of the years first_year..last_year inclusive.

    Cached: building the calendar costs milliseconds and call routing asks for it on every call.
    """
    if first_year > last_year:
        raise ValueError(f"first_year {first_year} is after last_year {last_year}")
    calendar = holidays.country_holidays("VN", years=range(first_year, last_year + 1))
    return frozenset(calendar.keys())


def holidays_between(start: date, end: date) -> frozenset[date]:
    """The public holidays d with start <= d <= end (both inclusive, like a report period).

    For a schedule window, pass the day before its first instant: the duty day running at the window's
    start began the previous calendar day.
    """
    if end < start:
        return frozenset()
    return frozenset(d for d in vietnam_holidays(start.year, end.year) if start <= d <= end)
