"""What route_call needs from the registry and the roster, held in memory by each service node.

A call must not wait for the roster tables: the facilities (by dialled number, keypad code and code)
and, per facility, the final schedule of the next hours are loaded once and kept until the routing
version changes. That version is bumped by database triggers on every write to the facilities,
rotations or overrides (migration 0007), and the call path reads it inside the transaction that routes
the call, so a roster edit made on another node or from the command line reaches the very next call.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from callcenter.domain.facility import Facility
from callcenter.domain.roster import Assignment, Tier
from callcenter.domain.schedule import final_schedule, holders_at
from callcenter.services.ports import UnitOfWorkFactory

log = structlog.get_logger(__name__)

# A schedule covers [now - BEHIND, now + AHEAD): a few hours of calls between two loads, and an
# override entered for tonight is still seen at once (the version changes, everything is reloaded).
BEHIND = timedelta(minutes=10)
AHEAD = timedelta(hours=6)


@dataclass(frozen=True)
class _Window:
    version: int
    start: datetime
    end: datetime
    assignments: tuple[Assignment, ...]


class RoutingDirectory:
    def __init__(
        self, uow: UnitOfWorkFactory, tz: ZoneInfo, holidays: Callable[[int, int], Collection[date]]
    ) -> None:
        self._uow = uow
        self._tz = tz
        self._holidays = holidays
        self.version: int | None = None  # of what is loaded; None: nothing yet
        self._by_hotline: dict[str, Facility] = {}
        self._by_keypad: dict[str, Facility] = {}
        self._by_code: dict[str, Facility] = {}
        self._windows: dict[str, _Window] = {}

    async def reload(self) -> None:
        """Facilities anew, schedules dropped (they are loaded again when a call needs them)."""
        async with self._uow() as uow:
            # The version first: a change committed between the two reads makes the next call's check
            # fail once more and reload again, never keep data older than its version.
            version = await uow.facilities.routing_version()
            facilities = await uow.facilities.all()
        self._by_code = {f.code: f for f in facilities}
        self._by_keypad = {f.keypad_code: f for f in facilities}
        self._by_hotline = {}
        for f in facilities:  # ordered by code: one hotline shared by two records resolves the same way
            self._by_hotline.setdefault(f.hotline, f)
        self._windows.clear()
        self.version = version
        log.info("routing.directory_loaded", version=version, facilities=len(facilities))

    async def ensure_loaded(self) -> None:
        """Load it if nothing is loaded yet (a later change is caught by the routing version check)."""
        if self.version is None:
            await self.reload()

    def by_hotline(self, number: str) -> Facility | None:
        return self._by_hotline.get(number)

    def by_keypad(self, code: str) -> Facility | None:
        return self._by_keypad.get(code)

    def by_code(self, code: str) -> Facility | None:
        return self._by_code.get(code)

    def holders(self, facility_code: str, at: datetime) -> dict[Tier, Assignment] | None:
        """Who is on duty at `at`, or None when that part of the schedule is not loaded."""
        window = self._windows.get(facility_code)
        if window is None or window.version != self.version or not window.start <= at < window.end:
            return None
        return holders_at(window.assignments, at)

    async def load_schedule(self, facility_code: str, at: datetime) -> None:
        start, end = at - BEHIND, at + AHEAD
        async with self._uow() as uow:
            version = await uow.facilities.routing_version()
            rotations = await uow.roster.rotations(facility_code)
            overrides = await uow.roster.overrides(facility_code, start, end)
        local_year = at.astimezone(self._tz).year
        assignments = final_schedule(
            rotations,
            overrides,
            start,
            end,
            tz=self._tz,
            holidays=self._holidays(local_year - 1, local_year + 1),
        )
        if version != self.version:
            # The roster moved on since the directory was loaded: the call path will notice and reload.
            return
        self._windows[facility_code] = _Window(version, start, end, tuple(assignments))
