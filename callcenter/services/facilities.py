"""The facility registry: CSV import (validated, all-or-nothing) and listing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from callcenter.domain.facility import Facility, FacilityKind, InvalidFacility, validate_facility
from callcenter.services.ports import UnitOfWorkFactory

log = structlog.get_logger(__name__)

FACILITY_COLUMNS = ("code", "keypad_code", "name", "kind", "province", "hotline", "authority_line")


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line number in the file, the header being line 1
    field: str
    reason: str


@dataclass
class FacilityImport:
    facilities: list[Facility] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_facilities_csv(text: str) -> FacilityImport:
    result = FacilityImport()
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    missing = [c for c in FACILITY_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append(RowError(1, ",".join(missing), "thiếu cột / missing column"))
        return result
    seen_codes: dict[str, int] = {}
    seen_keypad: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        try:
            kind = FacilityKind((row["kind"] or "other").strip())
        except ValueError:
            result.errors.append(
                RowError(line, "kind", f"loại cơ sở không hợp lệ / unknown kind: {row['kind']!r}")
            )
            continue
        try:
            facility = validate_facility(
                Facility(
                    code=row["code"] or "",
                    keypad_code=(row["keypad_code"] or "").strip(),
                    name=row["name"] or "",
                    kind=kind,
                    province=row["province"] or "",
                    hotline=row["hotline"] or "",
                    authority_line=(row["authority_line"] or "").strip() or None,
                )
            )
        except InvalidFacility as exc:
            field_name, _, reason = str(exc).partition(": ")
            result.errors.append(RowError(line, field_name, reason))
            continue
        for key, seen, name in (
            (facility.code, seen_codes, "code"),
            (facility.keypad_code, seen_keypad, "keypad_code"),
        ):
            if key in seen:
                result.errors.append(
                    RowError(line, name, f"trùng với dòng {seen[key]} / duplicate of line {seen[key]}")
                )
            seen[key] = line
        result.facilities.append(facility)
    return result


class FacilityService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def import_facilities(self, facilities: list[Facility], now: datetime) -> tuple[int, int]:
        """Upsert by code in one transaction; returns (created, updated)."""
        created = updated = 0
        async with self._uow() as uow:
            for facility in facilities:
                if await uow.facilities.upsert(facility, now):
                    created += 1
                else:
                    updated += 1
            await uow.commit()
        flagged = [f.code for f in facilities if f.hotline_flagged]
        log.info("facilities.imported", created=created, updated=updated, not_viettel=flagged)
        return created, updated

    async def list(self) -> list[Facility]:
        async with self._uow() as uow:
            return await uow.facilities.all()
