"""Vietnamese phone numbers: normalisation, validation, carrier flag, masking.

Numbers are kept in national form ("0961234567"). Seed 001: each facility's hotline must be ONE Viettel
mobile; a landline or another carrier's mobile is accepted but flagged so supervisors can chase it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# Viettel mobile prefixes (DOMAIN.md): 086, 096, 097, 098, 032-039.
VIETTEL_PREFIXES = frozenset({"086", "096", "097", "098", *(f"03{d}" for d in range(2, 10))})
# Other carriers' mobile prefixes after the 2018 renumbering (Vinaphone, MobiFone, Vietnamobile, Gmobile,
# Itelecom, Reddi): 08x, 07x, 05x, 09x not Viettel.
_MOBILE_PREFIX = re.compile(r"^0(3[2-9]|5[2689]|7[06-9]|8[1-9]|9[0-9])")
# Landlines: 02 + area code, 10 or 11 digits in all.
_LANDLINE = re.compile(r"^02\d{8,9}$")
_MOBILE = re.compile(r"^0\d{9}$")
# Service numbers such as the 1900-9095 switchboard or 1800 free lines.
_SERVICE = re.compile(r"^1[89]00\d{4,6}$")


class PhoneKind(StrEnum):
    VIETTEL_MOBILE = "viettel_mobile"
    OTHER_MOBILE = "other_mobile"
    LANDLINE = "landline"
    SERVICE = "service"


class InvalidPhoneNumber(ValueError):
    """The text is not a Vietnamese phone number."""


@dataclass(frozen=True)
class PhoneNumber:
    national: str
    kind: PhoneKind

    @property
    def is_viettel_mobile(self) -> bool:
        return self.kind is PhoneKind.VIETTEL_MOBILE


def normalise(text: str) -> str:
    """Strip separators and the country code: "+84 96-123 4567" -> "0961234567". No validation."""
    digits = re.sub(r"[\s.\-()]", "", text.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def parse(text: str) -> PhoneNumber:
    """Validate a Vietnamese number and say what kind it is; raise `InvalidPhoneNumber` with the reason."""
    national = normalise(text)
    if not national.isdigit():
        raise InvalidPhoneNumber(f"số điện thoại không hợp lệ (chỉ được chứa chữ số): {text!r}")
    if _SERVICE.match(national):
        return PhoneNumber(national, PhoneKind.SERVICE)
    if _LANDLINE.match(national):
        return PhoneNumber(national, PhoneKind.LANDLINE)
    if _MOBILE.match(national) and _MOBILE_PREFIX.match(national):
        kind = PhoneKind.VIETTEL_MOBILE if national[:3] in VIETTEL_PREFIXES else PhoneKind.OTHER_MOBILE
        return PhoneNumber(national, kind)
    raise InvalidPhoneNumber(f"số điện thoại không hợp lệ: {text!r}")


def mask(number: str | None) -> str:
    """Keep only the last 3 digits, for logs and roles that must not see callers: "*******678"."""
    if not number:
        return ""
    if len(number) <= 3:
        return "*" * len(number)
    return "*" * (len(number) - 3) + number[-3:]
