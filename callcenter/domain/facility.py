"""Health facilities (cơ sở khám bệnh, chữa bệnh) and their ONE registered hotline number."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from callcenter.domain import phone


class FacilityKind(StrEnum):
    PROVINCIAL_HOSPITAL = "provincial_hospital"  # bệnh viện tỉnh
    SPECIALISED_HOSPITAL = "specialised_hospital"  # bệnh viện chuyên khoa
    DISTRICT_HEALTH_CENTRE = "district_health_centre"  # trung tâm y tế huyện
    COMMUNE_HEALTH_STATION = "commune_health_station"  # trạm y tế xã
    OTHER = "other"


@dataclass(frozen=True)
class Facility:
    code: str
    keypad_code: str  # digits the caller types at the switchboard prompt
    name: str
    kind: FacilityKind
    province: str
    hotline: str  # national form
    authority_line: str | None = None  # the supervising Sở Y tế line

    @property
    def hotline_kind(self) -> phone.PhoneKind:
        return phone.parse(self.hotline).kind

    @property
    def hotline_flagged(self) -> bool:
        """Seed 001: a hotline that is not a Viettel mobile must be moved to Viettel and reported."""
        return self.hotline_kind is not phone.PhoneKind.VIETTEL_MOBILE


class InvalidFacility(ValueError):
    """A facility record that cannot be accepted; the message names the field."""


def validate_facility(facility: Facility) -> Facility:
    """Normalise the numbers and check the fields; raise `InvalidFacility` naming the field."""
    if not facility.code.strip():
        raise InvalidFacility("code: mã cơ sở không được để trống / code is required")
    if not facility.keypad_code.isdigit():
        raise InvalidFacility(f"keypad_code: phải là chữ số / digits only: {facility.keypad_code!r}")
    if not facility.name.strip():
        raise InvalidFacility("name: tên cơ sở không được để trống / name is required")
    try:
        hotline = phone.parse(facility.hotline).national
    except phone.InvalidPhoneNumber as exc:
        raise InvalidFacility(f"hotline: {exc}") from exc
    authority: str | None = None
    if facility.authority_line:
        try:
            authority = phone.parse(facility.authority_line).national
        except phone.InvalidPhoneNumber as exc:
            raise InvalidFacility(f"authority_line: {exc}") from exc
    return Facility(
        code=facility.code.strip(),
        keypad_code=facility.keypad_code,
        name=facility.name.strip(),
        kind=facility.kind,
        province=facility.province.strip(),
        hotline=hotline,
        authority_line=authority,
    )
