"""Roster use-cases: import/export the CSV, who is on duty at an instant, and 24/24 gaps ahead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog

from callcenter.domain import phone
from callcenter.domain.roster import (
    TIER_ORDER,
    Assignment,
    Gap,
    Officer,
    Override,
    Rotation,
    Tier,
    by_facility,
)
from callcenter.domain.schedule import final_schedule, find_gaps, on_duty
from callcenter.services.errors import InvalidInput, NotFound
from callcenter.services.holidays_vn import vietnam_holidays
from callcenter.services.ports import UnitOfWorkFactory
from callcenter.services.roster_csv import RosterError, export_roster_csv, import_roster_csv

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Schedule:
    """A facility's final schedule over a window: every tier's holders, every gap, and the one-offs
    (overrides, with their ids as `seq`) that touch the window."""

    facility_code: str
    start: datetime
    end: datetime
    duties: list[Assignment]
    gaps: list[Gap]
    overrides: list[Override]


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

    async def schedule(self, facility_code: str, start: datetime, end: datetime) -> Schedule:
        """One load of the facility's rotations and overrides, then the schedule arithmetic over it."""
        async with self._uow() as uow:
            rotations = await uow.roster.rotations(facility_code)
            overrides = await uow.roster.overrides(facility_code, start, end)
        years = (start.astimezone(self._tz).year - 1, end.astimezone(self._tz).year + 1)
        hols = vietnam_holidays(*years)
        duties = final_schedule(rotations, overrides, start, end, tz=self._tz, holidays=hols)
        duties.sort(key=lambda a: (a.start, TIER_ORDER.index(a.tier)))
        gaps = find_gaps(
            facility_code, rotations, overrides, start, end, tz=self._tz, holidays=hols, tiers=TIER_ORDER
        )
        return Schedule(facility_code, start, end, duties, gaps, overrides)

    async def week(self, facility_code: str, start_date: date) -> Schedule:
        """Seven local days from midnight of `start_date`."""
        lo = datetime.combine(start_date, time(0), tzinfo=self._tz)
        hi = datetime.combine(start_date + timedelta(days=7), time(0), tzinfo=self._tz)
        return await self.schedule(facility_code, lo, hi)

    async def add_override(
        self,
        facility_code: str,
        tier: str,
        officer_name: str,
        officer_phone: str,
        start: datetime,
        end: datetime,
        reason: str,
        now: datetime,
    ) -> Override:
        """A one-off that beats the rotations (and earlier one-offs) from `start` to `end`."""
        try:
            tier_value = Tier(tier)
        except ValueError:
            raise InvalidInput("cấp trực không hợp lệ / unknown tier", field="tier") from None
        name = " ".join(officer_name.split())
        if not name or len(name) > 200:
            raise InvalidInput("thiếu tên cán bộ (tối đa 200 ký tự) / officer name needed", field="officer")
        try:
            number = phone.parse(officer_phone).national
        except phone.InvalidPhoneNumber:
            raise InvalidInput("số điện thoại không hợp lệ / invalid phone number", field="phone") from None
        for value, field in ((start, "start"), (end, "end")):
            if value.tzinfo is None or value.utcoffset() is None:
                raise InvalidInput("thời điểm phải có múi giờ / time needs a zone", field=field)
        if end <= start:
            raise InvalidInput("giờ kết thúc phải sau giờ bắt đầu / end must be after start", field="end")
        if len(reason) > 1000:
            raise InvalidInput("lý do quá dài (tối đa 1000 ký tự) / reason too long", field="reason")
        async with self._uow() as uow:
            if await uow.facilities.by_code(facility_code) is None:
                raise NotFound("không tìm thấy cơ sở / facility not found")
            draft = Override(facility_code, tier_value, start, end, Officer(name, number), 0, reason.strip())
            new_id = await uow.roster.add_override(draft, now)
            await uow.commit()
        log.info("roster.override_added", facility=facility_code, tier=tier_value.value, id=new_id)
        return Override(
            facility_code,
            tier_value,
            start.astimezone(self._tz),
            end.astimezone(self._tz),
            draft.officer,
            new_id,
            draft.reason,
        )

    async def override_facility(self, override_id: int) -> str:
        async with self._uow() as uow:
            found = await uow.roster.override_facility(override_id)
        if found is None:
            raise NotFound("không tìm thấy lịch trực đột xuất / override not found")
        return found

    async def delete_override(self, override_id: int) -> None:
        async with self._uow() as uow:
            if not await uow.roster.delete_override(override_id):
                raise NotFound("không tìm thấy lịch trực đột xuất / override not found")
            await uow.commit()
        log.info("roster.override_deleted", id=override_id)

    async def export_csv(self) -> str:
        async with self._uow() as uow:
            return export_roster_csv(await uow.roster.rotations(), await uow.roster.overrides(), tz=self._tz)

    async def _by_facility(self) -> tuple[list[str], dict[str, list[Rotation]], dict[str, list[Override]]]:
        async with self._uow() as uow:
            codes = [f.code for f in await uow.facilities.all()]
            rotations, overrides = await uow.roster.rotations(), await uow.roster.overrides()
        return (codes, *by_facility(rotations, overrides))

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
