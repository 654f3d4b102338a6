"""The routing decision: which facility a call is for, and the chain of people to ring, in order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from callcenter.domain.roster import TIER_ORDER, Assignment, Tier


class TargetTier(StrEnum):
    DUTY_OFFICER = "duty_officer"
    BACKUP = "backup"
    LEADER = "leader"
    AUTHORITY = "authority"  # the provincial Health Department (Sở Y tế) line
    FALLBACK = "fallback"  # the dialplan's fixed duty number, used when this service gave no route


@dataclass(frozen=True)
class Target:
    tier: TargetTier
    number: str  # national form
    ring_timeout_s: int
    name: str = ""


class KeypadChoiceKind(StrEnum):
    FACILITY = "facility"
    DONT_KNOW = "dont_know"
    INVALID = "invalid"
    NOTHING = "nothing"


@dataclass(frozen=True)
class KeypadChoice:
    kind: KeypadChoiceKind
    code: str = ""


def interpret_keypad(digits: str, *, dont_know_key: str, is_known: Callable[[str], bool]) -> KeypadChoice:
    """What the caller's digits mean at the "enter the facility code" prompt."""
    digits = digits.strip()
    if not digits:
        return KeypadChoice(KeypadChoiceKind.NOTHING)
    if digits == dont_know_key:
        return KeypadChoice(KeypadChoiceKind.DONT_KNOW)
    if is_known(digits):
        return KeypadChoice(KeypadChoiceKind.FACILITY, digits)
    return KeypadChoice(KeypadChoiceKind.INVALID, digits)


def build_chain(
    on_duty: Mapping[Tier, Assignment],
    authority_line: str | None,
    ring_timeouts: Mapping[TargetTier, int],
) -> tuple[Target, ...]:
    """Duty officer, backup, leader on duty, then the Sở Y tế line; nobody rung twice.

    A person holding two tiers (a small commune station) is rung once, at the first of them: ringing the
    same phone again would only make the caller wait longer.
    """
    chain: list[Target] = []
    seen: set[str] = set()
    for tier in TIER_ORDER:
        assignment = on_duty.get(tier)
        if assignment is None or assignment.officer.phone in seen:
            continue
        target_tier = TargetTier(tier.value)
        chain.append(
            Target(target_tier, assignment.officer.phone, ring_timeouts[target_tier], assignment.officer.name)
        )
        seen.add(assignment.officer.phone)
    if authority_line and authority_line not in seen:
        chain.append(
            Target(TargetTier.AUTHORITY, authority_line, ring_timeouts[TargetTier.AUTHORITY], "Sở Y tế")
        )
    return tuple(chain)
