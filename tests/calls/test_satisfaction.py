"""The satisfaction index: rating rules, the 77/90 % arithmetic, the service over the database, the CLI."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from fractions import Fraction

import pytest

from callcenter.app import App, build_app
from callcenter.asterisk import variables as v
from callcenter.asterisk.channel import DigitsResult
from callcenter.cli import main
from callcenter.domain.satisfaction import (
    FacilityIndex,
    RatingAnswer,
    RatingCounts,
    RatingStatus,
    check_rating,
    conclude_rating,
    facility_index,
    parse_rating,
)
from callcenter.services.satisfaction import SatisfactionService, period_bounds
from callcenter.settings import load_settings
from tests.conftest import TZ, FakeClock
from tests.fakes.memory_channel import MemoryChannel

BVDK_HOTLINE = "0968115115"
DAY = date(2026, 11, 23)  # the FakeClock's local day (23:40 in Hà Nội)


# --- the rules --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "expected"),
    [("1", 1), ("5", 5), (" 3 ", 3), ("0", None), ("6", None), ("9", None), ("", None), ("45", None)],
)
def test_parse_rating(digits: str, expected: int | None) -> None:
    assert parse_rating(digits) == expected


@pytest.mark.parametrize(
    ("entries", "hung_up", "expected"),
    [
        (["5"], False, RatingAnswer(5, RatingStatus.RATED)),
        (["9", "", "2"], False, RatingAnswer(2, RatingStatus.RATED)),
        (["9", "9", "9"], False, RatingAnswer(None, RatingStatus.INVALID)),
        (["", "", ""], False, RatingAnswer(None, RatingStatus.NO_ANSWER)),
        ([], True, RatingAnswer(None, RatingStatus.NO_ANSWER)),  # hung up at the first question
        (["", ""], True, RatingAnswer(None, RatingStatus.NO_ANSWER)),
        (["7"], True, RatingAnswer(None, RatingStatus.INVALID)),  # a wrong key, then gone
    ],
)
def test_conclude_rating(entries: list[str], hung_up: bool, expected: RatingAnswer) -> None:
    assert conclude_rating(entries, hung_up=hung_up) == expected


def test_a_rating_goes_with_rated_only() -> None:
    check_rating(4, RatingStatus.RATED)
    check_rating(None, RatingStatus.NO_ANSWER)
    for rating, status in ((None, RatingStatus.RATED), (6, RatingStatus.RATED), (3, RatingStatus.INVALID)):
        with pytest.raises(ValueError, match="rating"):
            check_rating(rating, status)


# --- the arithmetic ---------------------------------------------------------------------------------------


def idx(rated: int, satisfied: int, no_answer: int = 0, invalid: int = 0) -> FacilityIndex:
    return facility_index("X", RatingCounts(rated, satisfied, no_answer, invalid))


@pytest.mark.parametrize(
    ("rated", "satisfied", "percent", "meets_77", "meets_90"),
    [
        (100, 77, 77.0, True, False),  # exactly the first target: reached (>=)
        (100, 76, 76.0, False, False),
        (100, 90, 90.0, True, True),  # exactly the final target
        (100, 89, 89.0, True, False),
        (9, 7, 77.8, True, False),
        (13, 10, 76.9, False, False),
        (10, 9, 90.0, True, True),
        (3, 3, 100.0, True, True),
        (4, 0, 0.0, False, False),
    ],
)
def test_index_and_targets(
    rated: int, satisfied: int, percent: float, meets_77: bool, meets_90: bool
) -> None:
    i = idx(rated, satisfied)
    assert i.index_percent == percent
    assert (i.meets_first_target, i.meets_final_target) == (meets_77, meets_90)


def test_no_answer_and_invalid_are_not_in_the_denominator() -> None:
    i = idx(rated=4, satisfied=3, no_answer=10, invalid=5)
    assert i.ratio == Fraction(3, 4) and i.asked == 19
    assert i.meets_first_target is False  # 75 %


def test_nobody_rated_is_no_index_not_zero() -> None:
    i = idx(rated=0, satisfied=0, no_answer=3)
    assert i.ratio is None and i.index_percent is None
    assert i.meets_first_target is None and i.meets_final_target is None


def test_counts_must_be_consistent() -> None:
    with pytest.raises(ValueError, match="satisfied"):
        idx(rated=2, satisfied=3)


def test_period_bounds_are_local_days() -> None:
    from zoneinfo import ZoneInfo

    start, end = period_bounds(date(2026, 1, 1), date(2026, 3, 31), ZoneInfo("Asia/Ho_Chi_Minh"))
    assert start.isoformat() == "2026-01-01T00:00:00+07:00"
    assert end.isoformat() == "2026-04-01T00:00:00+07:00"
    with pytest.raises(ValueError, match="before it starts"):
        period_bounds(date(2026, 2, 1), date(2026, 1, 1), ZoneInfo("UTC"))


# --- over the database ------------------------------------------------------------------------------------


async def _rated_call(
    app: App, n: int, *answers: DigitsResult | None, dnid: str = BVDK_HOTLINE, code_digits: str = ""
) -> None:
    channel = MemoryChannel()
    channel.values.update(uniqueid=f"1795380439.{n}", dnid=dnid, extension=dnid)
    if code_digits:
        channel.digits.append(DigitsResult(code_digits, False))
    await app.handlers[v.ROUTE_CALL](channel)
    channel.digits.clear()
    channel.digits.extend(answers)
    await app.handlers[v.RATE_CALL](channel)
    channel.hang_up_for_call_ended()
    channel.variables.update(HOTLINE_IDX="1", DIALSTATUS="ANSWER", ANSWEREDTIME_MS="30000")
    await app.handlers[v.CALL_ENDED](channel)


def press(d: str) -> DigitsResult:
    return DigitsResult(d, False)


async def test_index_per_facility_over_the_database(sample_app: App, clock: FakeClock) -> None:
    for n, digit in enumerate(["5", "4", "4", "2"], 1):
        await _rated_call(sample_app, n, press(digit))
    await _rated_call(sample_app, 5, None)  # hung up: no_answer
    await _rated_call(sample_app, 6, press("9"), press("9"), press("9"))  # invalid
    # No facility: the switchboard number and "don't know" (0) at the code prompt.
    await _rated_call(sample_app, 7, press("1"), dnid="19009095", code_digits="0")

    service = SatisfactionService(sample_app.uow, sample_app.settings.tz)
    rows = await service.index(DAY, DAY)
    assert [r.facility_code for r in rows] == ["BVDK-TH", None]
    bvdk, none = rows
    assert (bvdk.rated, bvdk.satisfied, bvdk.no_answer, bvdk.invalid) == (4, 3, 1, 1)
    assert bvdk.index_percent == 75.0 and bvdk.meets_first_target is False
    assert (none.rated, none.satisfied, none.index_percent) == (1, 0, 0.0)

    only = await service.index(DAY, DAY, "BVDK-TH")
    assert [r.facility_code for r in only] == ["BVDK-TH"]
    assert await service.index(date(2026, 11, 24), date(2026, 11, 30)) == []
    assert await service.index(date(2026, 11, 1), DAY, "NOPE") == []


def test_cli_satisfaction(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", config, "db", "upgrade"]) == 0

    async def calls() -> None:
        app = build_app(load_settings(config), FakeClock(datetime(2026, 11, 23, 23, 40, tzinfo=TZ)))
        try:
            for n, digit in enumerate(["5", "5", "4", "3"], 1):
                await _rated_call(app, n, press(digit))
        finally:
            await app.close()

    asyncio.run(calls())
    capsys.readouterr()
    assert (
        main(["--config", config, "satisfaction", "--from", "2026-11-01", "--to", "2026-11-30", "--json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["targets_percent"] == [77, 90]
    [row] = out["facilities"]
    assert row["facility_code"] == "BVDK-TH"
    assert (row["rated"], row["satisfied"], row["index_percent"]) == (4, 3, 75.0)
    assert (row["meets_77"], row["meets_90"]) == (False, False)
    assert main(["--config", config, "satisfaction", "--from", "2026-11-01", "--to", "2026-11-30"]) == 0
    text = capsys.readouterr().out
    assert "BVDK-TH" in text and "75.0%" in text and "chưa" in text
    assert main(["--config", config, "satisfaction", "--from", "2026-11-30", "--to", "2026-11-01"]) == 2
