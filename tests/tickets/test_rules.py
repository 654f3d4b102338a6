"""The pure rules behind the workflow: scope, default deadline, repeat-caller numbers, masking decision."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.domain.access import Principal, Role
from callcenter.domain.ticket import (
    DeadlineRule,
    TicketStatus,
    next_statuses,
    personal_data_visible,
    repeat_caller_numbers,
    ticket_scope,
)
from tests.conftest import TZ
from tests.tickets.conftest import HOLIDAYS

RULE = DeadlineRule(TZ, working_days=5)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=TZ)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Monday 23:40: Tue, Wed, Thu (26/11 is a holiday here, skipped), Fri, Mon, Tue -> Tuesday 1/12.
        (local(2026, 11, 23, 23, 40), date(2026, 12, 1)),
        # Friday morning: the weekend does not count; Thu 26/11 is before it.
        (local(2026, 11, 27, 8, 0), date(2026, 12, 4)),
        # Saturday: counting starts on Monday.
        (local(2026, 11, 28, 10, 0), date(2026, 12, 4)),
        # Tết 2027 (5-10/2) skipped: Wednesday 3/2 -> Thu 4, Thu 11, Fri 12, Mon 15, Tue 16.
        (local(2027, 2, 3, 9, 0), date(2027, 2, 16)),
    ],
)
def test_default_deadline_counts_working_days_after_the_day_of_receipt(received: datetime, due: date) -> None:
    deadline = RULE.deadline(received, HOLIDAYS)
    assert deadline == local(due.year, due.month, due.day, 23, 59, 59)


def test_the_day_of_receipt_is_the_local_one() -> None:
    # 17:30 UTC on Sunday is 00:30 local on Monday: counting starts on Tuesday.
    received = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
    assert RULE.deadline(received, frozenset()).date() == date(2026, 11, 30)


def test_working_days_must_be_positive() -> None:
    with pytest.raises(ValueError, match="working_days"):
        DeadlineRule(TZ, working_days=0).deadline(local(2026, 11, 23, 9, 0), frozenset())


instants = st.datetimes(
    min_value=datetime(2026, 10, 1), max_value=datetime(2027, 3, 31), timezones=st.just(TZ)
)


@settings(max_examples=300, deadline=None)
@given(created=instants, now=instants)
def test_overdue_before_agrees_with_the_deadline_of_every_ticket(created: datetime, now: datetime) -> None:
    # The SQL filter uses created_at < overdue_before(now); the page shows deadline(created_at) < now.
    cutoff = RULE.overdue_before(now, HOLIDAYS)
    assert (created < cutoff) == (RULE.deadline(created, HOLIDAYS) < now)


PRINCIPALS = [
    Principal(1, "admin", Role.ADMIN),
    Principal(2, "auditor", Role.AUDITOR),
    Principal(3, "sup", Role.SUPERVISOR, province="Thanh Hóa"),
    Principal(4, "off", Role.FACILITY_OFFICER, facility_code="BVDK-TH"),
]
TICKETS = [
    ("BVDK-TH", "Thanh Hóa"),
    ("BVNHI-TH", "Thanh Hóa"),
    ("BVDK-NA", "Nghệ An"),
    (None, None),
]


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: p.username)
@pytest.mark.parametrize(("facility", "province"), TICKETS)
def test_scope_agrees_with_the_role_rule(
    principal: Principal, facility: str | None, province: str | None
) -> None:
    assert ticket_scope(principal).allows(facility, province) == principal.can_see_ticket(facility, province)


@pytest.mark.parametrize(
    "principal",
    [
        Principal(5, "sup-nowhere", Role.SUPERVISOR),
        Principal(6, "off-nowhere", Role.FACILITY_OFFICER),
    ],
    ids=lambda p: p.username,
)
def test_a_principal_without_province_or_facility_sees_nothing(principal: Principal) -> None:
    scope = ticket_scope(principal)
    assert scope.empty
    assert not any(scope.allows(f, p) for f, p in TICKETS)


def test_next_statuses_follow_the_transitions_in_workflow_order() -> None:
    assert next_statuses(TicketStatus.NEW) == (
        TicketStatus.IN_PROGRESS,
        TicketStatus.RESOLVED,
        TicketStatus.FORWARDED,
    )
    assert next_statuses(TicketStatus.RESOLVED) == (TicketStatus.IN_PROGRESS,)


@pytest.mark.parametrize(
    ("role", "needs_callback", "visible"),
    [
        (Role.ADMIN, False, True),
        (Role.SUPERVISOR, False, True),
        (Role.FACILITY_OFFICER, False, False),
        (Role.FACILITY_OFFICER, True, True),
        (Role.AUDITOR, False, False),
        (Role.AUDITOR, True, False),
    ],
)
def test_who_sees_personal_data(role: Role, needs_callback: bool, visible: bool) -> None:
    assert personal_data_visible(Principal(1, "u", role, "Thanh Hóa", "BVDK-TH"), needs_callback) is visible


@pytest.mark.parametrize(
    ("number", "forms"),
    [
        ("0912345678", ("0912345678", "84912345678", "+84912345678", "0084912345678")),
        ("+84912345678", ("+84912345678", "0912345678", "84912345678", "0084912345678")),
        ("0084912345678", ("0084912345678", "0912345678", "84912345678", "+84912345678")),
        ("", ()),
        ("anonymous", ()),
        ("1001", ()),  # an internal extension says nothing about who called
    ],
)
def test_repeat_caller_numbers(number: str, forms: tuple[str, ...]) -> None:
    assert repeat_caller_numbers(number) == forms


def test_overdue_before_is_a_local_midnight() -> None:
    cutoff = RULE.overdue_before(local(2026, 12, 2, 10, 0), HOLIDAYS)
    assert cutoff.astimezone(TZ).time().isoformat() == "00:00:00"
    # Tickets of Monday 23/11 were due Tuesday 1/12 23:59:59 (26/11 a holiday): overdue on 2/12.
    assert cutoff == local(2026, 11, 24, 0, 0)
    assert RULE.deadline(cutoff - timedelta(seconds=1), HOLIDAYS) < local(2026, 12, 2, 10, 0)
