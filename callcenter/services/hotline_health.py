"""Each facility's hotline over a period (seed 001): calls counted in SQL, roster gaps from the roster,
and its test calls as their own series (`domain.probe_health`).

The rules deciding that a hotline is failing are in `callcenter.domain.hotline_health`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from callcenter.domain.hotline_health import CallCounts, HotlineHealth, assess
from callcenter.domain.probe_health import ProbeFact, probe_series
from callcenter.domain.roster import Tier, by_facility
from callcenter.domain.schedule import find_gaps
from callcenter.domain.ticket import TicketScope
from callcenter.services.holidays_vn import vietnam_holidays
from callcenter.services.ports import UnitOfWorkFactory


class HotlineHealthService:
    def __init__(self, uow: UnitOfWorkFactory, tz: ZoneInfo) -> None:
        self._uow = uow
        self._tz = tz

    async def between(
        self,
        start: datetime,
        end: datetime,
        *,
        scope: TicketScope | None = None,
        facility_code: str | None = None,
    ) -> list[HotlineHealth]:
        """Every facility `scope` allows (all when None), or only `facility_code`, over [start, end); by code.

        The failing ones first would hide the order a reader looks things up in: callers filter."""
        async with self._uow() as uow:
            facilities = [
                f
                for f in await uow.facilities.all()
                if (facility_code is None or f.code == facility_code)
                and (scope is None or scope.allows(f.code, f.province))
            ]
            stats = await uow.calls.hotline_stats(start, end, facility_code)
            rotations, overrides = await uow.roster.rotations(), await uow.roster.overrides()
            probes = await uow.outbound.probes(start, end, facility_code)
        facts: dict[str, list[ProbeFact]] = {}
        for p in probes:
            if p.facility_code is not None:
                facts.setdefault(p.facility_code, []).append(ProbeFact(p.outcome, p.created_at, p.ring_ms))
        rot, ovr = by_facility(rotations, overrides)
        years = (start.astimezone(self._tz).year, end.astimezone(self._tz).year)
        hols = vietnam_holidays(years[0], years[1])
        out: list[HotlineHealth] = []
        for f in sorted(facilities, key=lambda f: f.code):
            gaps = find_gaps(
                f.code,
                rot[f.code],
                ovr[f.code],
                start,
                end,
                tz=self._tz,
                holidays=hols,
                tiers=(Tier.DUTY_OFFICER,),
            )
            out.append(
                assess(
                    f.code,
                    f.name,
                    f.hotline,
                    stats.get(f.code, CallCounts()),
                    gaps=[(g.start, g.end) for g in gaps],
                    not_viettel=f.hotline_flagged,
                    probes=probe_series(f.code, facts.get(f.code, ()), tz=self._tz, holidays=hols),
                )
            )
        return out
