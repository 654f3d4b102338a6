"""The period report's counting rules at the period's boundaries (pure: no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from callcenter.domain.report import Period, TicketFacts, history_from_events, period_report
from callcenter.domain.ticket import Category, TicketStatus

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
R, P, N, F = TicketStatus.RESOLVED, TicketStatus.IN_PROGRESS, TicketStatus.NEW, TicketStatus.FORWARDED
MARCH = Period(date(2023, 3, 1), date(2023, 3, 31))


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def report(*tickets: TicketFacts, period: Period = MARCH) -> dict[str, object]:
    return period_report(tickets, period, TZ).as_dict()


def test_received_before_and_resolved_inside() -> None:
    t = TicketFacts(local(2023, 2, 20), ((local(2023, 3, 5), R),), category="bhyt")
    r = report(t)
    assert (r["carried_over"], r["received"], r["resolved"], r["still_open"]) == (1, 0, 1, 0)
    assert r["by_category"] == dict.fromkeys([c.value for c in Category], 0)  # not received in March
    feb = report(t, period=Period(date(2023, 2, 1), date(2023, 2, 28)))
    assert (feb["received"], feb["resolved"], feb["still_open"]) == (1, 0, 1)


def test_received_inside_and_resolved_after() -> None:
    t = TicketFacts(local(2023, 3, 30), ((local(2023, 3, 31), P), (local(2023, 4, 2), R)))
    r = report(t)
    assert (r["carried_over"], r["received"], r["resolved"], r["still_open"]) == (0, 1, 0, 1)
    april = report(t, period=Period(date(2023, 4, 1), date(2023, 4, 30)))
    assert (april["carried_over"], april["received"], april["resolved"], april["still_open"]) == (1, 0, 1, 0)
    assert april["previous_received"] == 1 and april["change"] == -1


def test_a_ticket_settled_before_the_period_counts_nowhere() -> None:
    t = TicketFacts(local(2023, 1, 3), ((local(2023, 1, 4), R),))
    r = report(t)
    assert (r["carried_over"], r["received"], r["resolved"], r["still_open"]) == (0, 0, 0, 0)


def test_reopened_and_resolved_again_counts_once_in_the_period_of_its_last_resolution() -> None:
    # Resolved, reopened and re-resolved within March: once.
    twice = TicketFacts(
        local(2023, 3, 2), ((local(2023, 3, 3), R), (local(2023, 3, 10), P), (local(2023, 3, 12), R))
    )
    assert report(twice)["resolved"] == 1
    # Resolved in March, reopened in March, resolved in April: April's, not March's; open at March's end.
    late = TicketFacts(
        local(2023, 3, 2), ((local(2023, 3, 3), R), (local(2023, 3, 20), P), (local(2023, 4, 5), R))
    )
    r = report(late)
    assert (r["resolved"], r["still_open"]) == (0, 1)
    april = report(late, period=Period(date(2023, 4, 1), date(2023, 4, 30)))
    assert (april["carried_over"], april["resolved"], april["still_open"]) == (1, 1, 0)
    # The year counts it once.
    year = report(late, period=Period(date(2023, 1, 1), date(2023, 12, 31)))
    assert (year["received"], year["resolved"], year["still_open"]) == (1, 1, 0)


def test_a_reopening_after_the_period_does_not_change_its_report() -> None:
    t = TicketFacts(local(2023, 3, 2), ((local(2023, 3, 3), R), (local(2023, 5, 1), P)))
    assert report(t)["resolved"] == 1


def test_reclassified_ticket_counts_in_its_final_category() -> None:
    # The facts carry the final category (confirmed, else suggested): the report counts it there once.
    tickets = [
        TicketFacts(local(2023, 3, 5), category="quy_tac_ung_xu"),
        TicketFacts(local(2023, 3, 6), category=None),  # never classified: khác
        TicketFacts(local(2023, 3, 7), category="khong_dung_tham_quyen"),  # suggestion, not forwarded
    ]
    r = report(*tickets)
    by = r["by_category"]
    assert isinstance(by, dict)
    assert by["quy_tac_ung_xu"] == 1 and by["khac"] == 2
    assert sum(by.values()) == r["received"] == 3


def test_outside_jurisdiction_is_counted_apart_from_the_categories() -> None:
    forwarded = TicketFacts(local(2023, 3, 8), ((local(2023, 3, 8, 11), F),), True, "thieu_thuoc")
    inside = TicketFacts(local(2023, 3, 9), category="thieu_thuoc")
    r = report(forwarded, inside)
    by = r["by_category"]
    assert isinstance(by, dict)
    assert (r["received"], r["outside_jurisdiction"], by["thieu_thuoc"]) == (2, 1, 1)
    assert (r["resolved"], r["still_open"]) == (0, 1)  # forwarded is neither
    # Forwarded in the previous period: not carried over.
    assert report(forwarded, period=Period(date(2023, 4, 1), date(2023, 4, 30)))["carried_over"] == 0


@pytest.mark.parametrize(
    ("utc", "in_march"),
    [
        (datetime(2023, 2, 28, 16, 59, 59, tzinfo=UTC), False),  # 23:59:59 local on 28/02
        (datetime(2023, 2, 28, 17, 0, tzinfo=UTC), True),  # 00:00 local on 01/03 (still 28/02 in UTC)
        (datetime(2023, 3, 31, 16, 59, 59, tzinfo=UTC), True),  # 23:59:59 local on 31/03
        (datetime(2023, 3, 31, 17, 0, tzinfo=UTC), False),  # 00:00 local on 01/04 (still 31/03 in UTC)
    ],
)
def test_periods_are_local_days_not_utc_days(utc: datetime, in_march: bool) -> None:
    r = report(TicketFacts(utc))
    assert r["received"] == int(in_march)


def test_resolution_at_local_midnight_belongs_to_the_new_day() -> None:
    t = TicketFacts(local(2023, 3, 31, 9), ((datetime(2023, 3, 31, 17, 0, tzinfo=UTC), R),))
    r = report(t)
    assert (r["received"], r["resolved"], r["still_open"]) == (1, 0, 1)
    assert report(t, period=Period(date(2023, 4, 1), date(2023, 4, 1)))["resolved"] == 1


def test_previous_period_has_the_same_length_unless_given() -> None:
    p = Period(date(2022, 12, 12), date(2023, 11, 30))
    assert p.previous() == Period(date(2021, 12, 23), date(2022, 12, 11))
    explicit = Period(date(2021, 12, 12), date(2022, 11, 30))
    t = TicketFacts(local(2021, 12, 15))
    assert period_report([t], p, TZ).previous_received == 0
    assert period_report([t], p, TZ, previous=explicit).previous_received == 1


def test_history_from_events_falls_back_on_the_row() -> None:
    rec = local(2023, 3, 1)
    assert history_from_events([], current_status="moi_tiep_nhan", resolved_at=None, received_at=rec) == ()
    res = local(2023, 3, 2)
    assert history_from_events([], current_status="da_giai_quyet", resolved_at=res, received_at=rec) == (
        (res, R),
    )
    assert history_from_events(
        [(res, "da_giai_quyet"), (rec, "dang_xu_ly")], current_status="x", resolved_at=None, received_at=rec
    ) == ((rec, P), (res, R))
    assert N in TicketStatus


def test_received_by_month_uses_local_months_and_keeps_empty_ones() -> None:
    from callcenter.domain.report import received_by_month

    period = Period(date(2022, 12, 12), date(2023, 3, 10))
    tickets = [
        TicketFacts(local(2022, 12, 31, 23, 30)),  # 16:30 UTC: still December locally
        TicketFacts(local(2023, 1, 1, 0, 10)),  # 17:10 UTC on 31/12: January locally
        TicketFacts(local(2023, 3, 10, 23, 59)),
        TicketFacts(local(2023, 3, 11, 0, 0)),  # after the period
        TicketFacts(local(2022, 12, 11, 23, 59)),  # before it
    ]
    months = received_by_month(tickets, period, TZ)
    assert [(m.isoformat(), n) for m, n in months] == [
        ("2022-12-01", 1),
        ("2023-01-01", 1),
        ("2023-02-01", 0),
        ("2023-03-01", 1),
    ]


def test_by_facility_splits_the_figures_and_they_add_up() -> None:
    from callcenter.domain.report import by_facility

    tickets = [
        TicketFacts(local(2023, 3, 2), ((local(2023, 3, 3), R),), facility_code="A", category="bhyt"),
        TicketFacts(local(2023, 3, 4), facility_code="A"),
        TicketFacts(local(2023, 2, 4), facility_code="B"),  # carried over, still open
        TicketFacts(local(2023, 3, 5), facility_code=None, outside_jurisdiction=True),
    ]
    split = by_facility(tickets, MARCH, TZ)
    assert set(split) == {"A", "B", None}
    assert (split["A"].received, split["A"].resolved, split["A"].still_open) == (2, 1, 1)
    assert (split["B"].carried_over, split["B"].received, split["B"].still_open) == (1, 0, 1)
    assert split[None].outside_jurisdiction == 1 and split["A"].facility_code == "A"
    whole = period_report(tickets, MARCH, TZ)
    for name in ("carried_over", "received", "resolved", "still_open", "outside_jurisdiction"):
        assert sum(getattr(r, name) for r in split.values()) == getattr(whole, name)
