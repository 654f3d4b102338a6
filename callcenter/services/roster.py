"""Roster use-cases: import/export the CSV, who is on duty at an instant, and 24/24 gaps ahead."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from callcenter.domain.roster import Assignment, Gap, Override, Rotation, Tier
from callcenter.domain.schedule import find_gaps, on_duty
from callcenter.services.holidays_vn import vietnam_holidays
from callcenter.services.ports import UnitOfWorkFactory
from callcenter.services.roster_csv import RosterError, export_roster_csv, import_roster_csv

log = structlog.get_logger(__name__)


class RosterService:
    def __init__(self, uow: UnitOfWorkFactory, tz: ZoneInfo) -> None:
        self._uow = uow
        self._tz = tz

    async def import_csv(self, data: str | bytes, now: datetime) -> list[RosterError]:
        """Replace the roster of every facility named in the file; all or nothing."""
        async with self._uow() as uow:
            codes = {f.code for f in await uow.facilities.all()}
            parsed = import_roster_csv(data, tz=self._tz, facility_codes=codes)
            if not parsed.ok:
                return list(parsed.errors)
            named = sorted(
                {r.facility_code for r in parsed.rotations} | {o.facility_code for o in parsed.overrides}
            )
            await uow.roster.replace(named, parsed.rotations, parsed.overrides, now)
            await uow.commit()
        log.info(
            "roster.imported",
            facilities=len(named),
            rotations=len(parsed.rotations),
            overrides=len(parsed.overrides),
        )
        return []

    async def export_csv(self) -> str:
        async with self._uow() as uow:
            return export_roster_csv(await uow.roster.rotations(), await uow.roster.overrides(), tz=self._tz)

    async def _by_facility(self) -> tuple[list[str], dict[str, list[Rotation]], dict[str, list[Override]]]:
        async with self._uow() as uow:
            codes = [f.code for f in await uow.facilities.all()]
            rotations, overrides = await uow.roster.rotations(), await uow.roster.overrides()
        rot: dict[str, list[Rotation]] = defaultdict(list)
        ovr: dict[str, list[Override]] = defaultdict(list)
        for r in rotations:
            rot[r.facility_code].append(r)
        for o in overrides:
            ovr[o.facility_code].append(o)
        return codes, rot, ovr

    async def on_duty_at(
        self, at: datetime, facility_code: str | None = None
    ) -> dict[str, dict[Tier, Assignment]]:
        codes, rot, ovr = await self._by_facility()
        year = at.astimezone(self._tz).year
        hols = vietnam_holidays(year - 1, year + 1)
        return {
            code: on_duty(rot[code], ovr[code], at, tz=self._tz, holidays=hols)
            for code in codes
            if facility_code in (None, code)
        }

    async def gaps(
        self, start: datetime, days: int, tiers: tuple[Tier, ...] = (Tier.DUTY_OFFICER,)
    ) -> list[Gap]:
        """Every interval in the next `days` days where a tier has nobody (24/24 rule: the duty officer)."""
        codes, rot, ovr = await self._by_facility()
        end = start + timedelta(days=days)
        local = (start.astimezone(self._tz).year, end.astimezone(self._tz).year)
        hols = vietnam_holidays(local[0], local[1])
        found: list[Gap] = []
        for code in codes:
            found.extend(
                find_gaps(code, rot[code], ovr[code], start, end, tz=self._tz, holidays=hols, tiers=tiers)
            )
        return found
