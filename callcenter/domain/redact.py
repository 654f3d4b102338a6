"""Mask personal identifiers in complaint text before it is shown to roles that do not need them.

Callers read out their ID card, health-insurance card and phone numbers; operators type them into the
note and the recogniser transcribes them, as digits or as words ("không chín một hai ..."). These are
personal data under Vietnam's personal-data rules (DOMAIN.md): a summary, a report or a log line must
not carry them. Ordinary numbers (ages, dates, money, room and bed numbers, the 1900-9095 switchboard)
must survive, or the complaint stops making sense.

Recognised:
- CCCD (citizen ID): 12 digits, always starting with 0 (the first three are the province code).
- CMND (old ID): 9 digits (unless followed by a money unit or written with thousands dots).
- BHYT card: 2 letters + 1 benefit digit + 2 province digits + 10 digits (15 characters, e.g.
  DN4797912345678), with or without separators; also a bare 10- or 13-digit number when an insurance
  word stands just before it (the card code since 2021 is the 10-digit social-insurance number alone).
- Phone: 0 + 9 digits (mobile), 02x + 8 digits (landline, 11 in all), +84 / 0084 / 84 + 9 digits.
- Any of those spoken digit by digit (>= 9 Vietnamese digit words, short digit groups mixed in).

Digit groups joined by single spaces, dots or dashes are read as one number, split left to right
into the longest identifiers they contain. Limits: short numbers that only spaces separate
("115 115 115") can add up to an identifier's length and be masked; an amount without a unit or
thousands separators ("150000000") is masked as a CMND. Both err on the side of hiding.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from callcenter.domain.text import fold, fold_with_offsets


class PersonalData(StrEnum):
    PHONE = "SĐT"
    CCCD = "CCCD"
    CMND = "CMND"
    BHYT = "BHYT"
    NUMBER = "SỐ"  # a long number spoken digit by digit that fits none of the above


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    kind: PersonalData
    digits: str


_SEP = r"[ .\-]"
# BHYT card: letters must stand alone (not the end of a word), digits may be grouped with separators.
_BHYT = re.compile(rf"(?<![^\W\d_])[A-Za-z]{{2}}{_SEP}?\d{_SEP}?\d\d{_SEP}?(?:\d{_SEP}?){{9}}\d(?!\d)")
# A run of digit groups joined by single separators, with an optional international prefix.
_DIGIT_RUN = re.compile(r"(?<![\d+])(?:(?:\(\+84\)|\+84|0084)[ .\-]?)?\d+(?:(?:[ .\-]|\. )\d+)*(?!\d)")
_GROUP = re.compile(r"\d+")
_INTL_PREFIX = re.compile(r"^(?:\(\+84\)|\+84|0084)")
# A number that does not start with 0 and is followed by one of these is an amount, whatever its length.
# ("đồng" must not be the start of "đồng thời" / "đồng ý".)
_MONEY_AFTER = re.compile(
    r"^\s*(?:đ|đồng|dong|vnđ|vnd|nghìn|nghin|ngàn|ngan|triệu|trieu|tỷ|tỉ|ty|k)(?!\w)"
    r"(?!\s+(?:thời|ý|chí|hồ|nghiệp|bào)(?!\w))",  # "đồng thời", "đồng ý" are not money
    re.I,
)
# A 10- or 13-digit number shortly after one of these (folded) words is an insurance number.
_INSURANCE_CUE = re.compile(r"(bao hiem|bhyt|bhxh|ma the|ma so|so the)\W*(?:\w+\W*){0,3}$")

# Vietnamese digit words as a recogniser writes them, folded ("bảy"/"bẩy" -> "bay", "mốt" -> "mot",
# "tư" -> "tu", "lăm" -> "lam"). Folding makes some collide with ordinary words (sau, nam, tu, bay), which
# is why only long unbroken runs count.
_DIGIT_WORDS: dict[str, str] = {
    "khong": "0",
    "mot": "1",
    "hai": "2",
    "ba": "3",
    "bon": "4",
    "tu": "4",
    "nam": "5",
    "lam": "5",
    "sau": "6",
    "bay": "7",
    "tam": "8",
    "chin": "9",
}
_WORD = re.compile(r"[^\W_]+")
_MIN_SPOKEN_DIGITS = 9  # fewer than this is ordinary speech ("hai ba lần", "năm hai nghìn")
_MAX_DIGITS_IN_SPOKEN = 3  # a 4-digit token ("năm 2023") is a year, not part of a read-out number


def mask_personal_data(text: str, *, keep_last: int = 0) -> str:
    """`text` with ID, insurance-card and phone numbers replaced by "[CCCD]", "[BHYT]", "[SĐT]"...

    `keep_last` > 0 keeps that many final digits for call-backs and matching: "[SĐT …678]".
    Everything outside the masked spans is returned unchanged.
    """
    found = _find_bhyt(text)
    found += _find_digit_runs(text, taken=found)
    found += _find_spoken(text, taken=found)
    out: list[str] = []
    pos = 0
    for f in sorted(found, key=lambda f: f.start):
        out.append(text[pos : f.start])
        out.append(_placeholder(f, keep_last))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def _placeholder(f: _Found, keep_last: int) -> str:
    if keep_last <= 0 or len(f.digits) <= keep_last:
        return f"[{f.kind.value}]"
    return f"[{f.kind.value} …{f.digits[-keep_last:]}]"


def _overlaps(start: int, end: int, taken: list[_Found]) -> bool:
    return any(start < t.end and t.start < end for t in taken)


def _find_bhyt(text: str) -> list[_Found]:
    return [
        _Found(m.start(), m.end(), PersonalData.BHYT, re.sub(r"\D", "", m.group()))
        for m in _BHYT.finditer(text)
    ]


def _find_digit_runs(text: str, taken: list[_Found]) -> list[_Found]:
    found: list[_Found] = []
    for run in _DIGIT_RUN.finditer(text):
        if _overlaps(run.start(), run.end(), taken):
            continue
        found.extend(_classify_run(text, run.start(), run.group()))
    return found


def _classify_run(text: str, offset: int, run: str) -> list[_Found]:
    """Identifiers in a run of digit groups.

    "0084" is the international prefix only if a phone number follows: a CCCD of province 084
    (Trà Vinh) begins with the same four digits, so otherwise the run is read as plain digits.
    """
    prefix = _INTL_PREFIX.match(run)
    if prefix is not None and prefix.group() == "0084":
        found = _split_run(text, offset, run, prefix)
        if found and found[0].start == offset and found[0].kind is PersonalData.PHONE:
            return found
        return _split_run(text, offset, run, None)
    return _split_run(text, offset, run, prefix)


def _split_run(text: str, offset: int, run: str, prefix: re.Match[str] | None) -> list[_Found]:
    """Split a run into identifiers, longest first from the left; what fits none stays as it is."""
    body = prefix.end() if prefix else 0
    groups = [(g.start(), g.end(), g.group()) for g in _GROUP.finditer(run, body)]
    found: list[_Found] = []
    i = 0
    while i < len(groups):
        for j in range(len(groups), i, -1):
            digits = "".join(g[2] for g in groups[i:j])
            international = i == 0 and prefix is not None
            start, end = (0 if international else groups[i][0]), groups[j - 1][1]
            kind = _kind(digits, international, run[groups[i][0] : end], text, offset + start, offset + end)
            if kind is not None:
                found.append(_Found(offset + start, offset + end, kind, digits))
                i = j
                break
        else:
            i += 1
    return found


def _kind(
    digits: str, international: bool, written: str, text: str, start: int, end: int
) -> PersonalData | None:
    n = len(digits)
    if international:
        return PersonalData.PHONE if n == 9 and digits[0] != "0" else None
    if digits[0] == "0":
        # Amounts, ages and room numbers never start with 0; these shapes are identifiers.
        if n == 12:
            return PersonalData.CCCD
        if n == 10 or (n == 11 and digits.startswith("02")):
            return PersonalData.PHONE
        if n == 9:
            return PersonalData.CMND  # old IDs of Hà Nội and others begin with 0
        return None
    if _MONEY_AFTER.match(text[end:]) or re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", written):
        return None  # "150000000 đồng", "120.000.000": an amount
    if n == 11 and digits.startswith("84") and digits[2] in "35789":
        return PersonalData.PHONE
    if n == 9:
        return PersonalData.CMND
    if n in (10, 13) and _INSURANCE_CUE.search(fold(text[max(0, start - 40) : start])):
        return PersonalData.BHYT
    return None


def _find_spoken(text: str, taken: list[_Found]) -> list[_Found]:
    """Runs of >= 9 digits said as words ("không chín một hai ba bốn năm sáu bảy tám"), digits allowed."""
    folded, origin = fold_with_offsets(text)
    found: list[_Found] = []
    run: list[tuple[int, int, str]] = []  # (start, end) in `folded`, digit value

    def flush() -> None:
        words = sum(1 for start, end, _ in run if not folded[start:end].isdigit())
        if sum(len(v) for *_, v in run) >= _MIN_SPOKEN_DIGITS and words > 0:
            start = origin[run[0][0]]
            end = origin[run[-1][1] - 1] + 1
            while end < len(text) and unicodedata.combining(text[end]):
                end += 1  # a decomposed last letter keeps its marks inside the masked span
            if not _overlaps(start, end, taken):
                number = "".join(v for *_, v in run)
                found.append(_Found(start, end, _spoken_kind(number), number))
        run.clear()

    for m in _WORD.finditer(folded):
        word = m.group()
        if word.isdigit():
            value: str | None = word if len(word) <= _MAX_DIGITS_IN_SPOKEN else None
        else:
            value = _DIGIT_WORDS.get(word)
        # Only spaces and light punctuation may stand between the digits of one number.
        if run and re.fullmatch(r"[\s,.\-]*", folded[run[-1][1] : m.start()]) is None:
            flush()
        if value is None:
            flush()
        else:
            run.append((m.start(), m.end(), value))
    flush()
    return found


def _spoken_kind(number: str) -> PersonalData:
    if len(number) == 12 and number[0] == "0":
        return PersonalData.CCCD
    if len(number) in (10, 11) and number[0] == "0":
        return PersonalData.PHONE
    if len(number) == 9:
        return PersonalData.CMND
    return PersonalData.NUMBER
