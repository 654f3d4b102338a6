"""The facilities and the roster held in memory for route_call: read once, and never older than the
database's routing version (SQLite and PostgreSQL).

A roster or registry edit, from this node's pages, another node or the command line, must reach the very
next call; and a call that follows another must not read the roster tables again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from callcenter.app import App, build_app
from callcenter.domain.roster import Tier
from callcenter.domain.routing import TargetTier
from callcenter.services.calls import IncomingCall, ReceivedCall
from callcenter.settings import Settings
from tests.conftest import FakeClock

BVDK_HOTLINE = "0968115115"  # BVDK-TH in config/sample/facilities.csv


def _seq() -> Iterator[int]:
    n = 0
    while True:
        n += 1
        yield n


_n = _seq()


async def _call(app: App, clock: FakeClock, dialled: str = BVDK_HOTLINE) -> ReceivedCall:
    n = next(_n)
    return await app.calls.receive(
        IncomingCall(f"1795380439.{n}", f"PJSIP/trunk-{n:08x}", "0912345678", "", dialled), clock()
    )


def _first_number(received: ReceivedCall) -> str:
    assert received.route is not None, "a call to a facility's own number is routed as it is received"
    first = received.route.targets[0]
    assert first.tier is TargetTier.DUTY_OFFICER
    return first.number


async def _on_duty(app: App, clock: FakeClock) -> str:
    """The duty officer as the roster pages compute it (on_duty over the tables, no directory)."""
    duty = await app.roster.on_duty_at(clock(), "BVDK-TH")
    return duty["BVDK-TH"][Tier.DUTY_OFFICER].officer.phone


async def _override_now(app: App, clock: FakeClock, phone: str) -> None:
    await app.roster.add_override(
        "BVDK-TH",
        "duty_officer",
        "Trần Thị Thay",
        phone,
        clock() - timedelta(hours=1),
        clock() + timedelta(hours=3),
        "trực thay",
        clock(),
    )


async def test_an_override_reaches_the_next_call(sample_app: App, clock: FakeClock) -> None:
    night_officer = await _on_duty(sample_app, clock)
    assert _first_number(await _call(sample_app, clock)) == night_officer
    await _override_now(sample_app, clock, "0987000111")
    clock.advance(seconds=5)
    assert _first_number(await _call(sample_app, clock)) == "0987000111"
    # and deleting it gives the night back to the rotation
    schedule = await sample_app.roster.schedule("BVDK-TH", clock(), clock() + timedelta(minutes=1))
    override_id = next(o.seq for o in schedule.overrides if o.officer.phone == "0987000111")
    await sample_app.roster.delete_override(override_id)
    assert _first_number(await _call(sample_app, clock)) == night_officer


async def test_an_edit_made_on_another_node_reaches_the_next_call(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    assert _first_number(await _call(sample_app, clock)) == await _on_duty(sample_app, clock)
    other = build_app(settings, clock)  # a second `serve`, or the command line, on the same database
    try:
        await _override_now(other, clock, "0987000222")
        facility = next(f for f in await other.facilities.list() if f.code == "BVDK-TH")
        await other.facilities.import_facilities(
            [dataclasses.replace(facility, hotline="0968999111")], clock()
        )
    finally:
        await other.close()
    moved = await _call(sample_app, clock, dialled="0968999111")
    assert moved.facility is not None and moved.facility.code == "BVDK-TH"
    assert _first_number(moved) == "0987000222"
    old_number = await _call(sample_app, clock)  # nobody has that number now: the switchboard's prompts
    assert old_number.facility is None and old_number.route is None


async def test_calls_after_the_first_read_no_roster_or_facility_table(
    sample_app: App, clock: FakeClock
) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lower())

    night_officer = await _on_duty(sample_app, clock)
    await _call(sample_app, clock)  # loads the directory and tonight's schedule
    event.listen(sample_app.engine.sync_engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            clock.advance(minutes=2)
            assert _first_number(await _call(sample_app, clock)) == night_officer
    finally:
        event.remove(sample_app.engine.sync_engine, "before_cursor_execute", seen)
    read = [s for s in statements if any(t in s for t in ("rotations", "overrides", "from facilities"))]
    assert read == []


async def test_a_schedule_is_reloaded_when_the_clock_leaves_its_window(
    sample_app: App, clock: FakeClock
) -> None:
    night_officer = await _on_duty(sample_app, clock)
    assert _first_number(await _call(sample_app, clock)) == night_officer
    clock.advance(hours=8)  # 07:40 the next morning: past the 07:30 hand-over, past the window
    day_officer = await _on_duty(sample_app, clock)
    assert day_officer != night_officer
    assert _first_number(await _call(sample_app, clock)) == day_officer
