"""Calls we place (over ARI): a callback to a citizen from a ticket, and a test call ("cuộc gọi kiểm tra")
to a facility's hotline. Pure rules: what an attempt's outcome is, when a callback may be placed.

A callback rings the officer first; only when the officer accepts (presses 1, so a voicemail never
"answers") is the citizen rung, then both are bridged. A probe rings the hotline, plays an announcement
and asks the answerer to press 1.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum


class OutboundKind(StrEnum):
    CALLBACK = "callback"
    PROBE = "probe"


class Leg(StrEnum):
    OFFICER = "officer"  # a callback's first leg
    CITIZEN = "citizen"  # a callback's second leg
    HOTLINE = "hotline"  # a probe's only leg


class OutboundState(StrEnum):
    PENDING = "pending"  # row written, the originate not yet confirmed by Asterisk
    RINGING = "ringing"  # a leg is being rung
    ACCEPTING = "accepting"  # a leg answered; waiting for its key 1
    TALKING = "talking"  # officer and citizen bridged
    SURVEY = "survey"  # the citizen is asked whether the complaint was resolved
    DONE = "done"

    @property
    def active(self) -> bool:
        return self is not OutboundState.DONE


class Outcome(StrEnum):
    TALKED = "talked"  # a callback: the citizen and the officer talked
    HUMAN = "human"  # a probe: answered and 1 pressed
    NO_KEY = "no_key"  # answered but 1 never pressed (a voicemail, or someone who did not understand)
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    UNREACHABLE = "unreachable"
    FAILED = "failed"  # Asterisk refused the originate, or ARI was unreachable
    UNKNOWN = "unknown"  # our service lost track of it (a crash): not counted as the hotline's failure

    @property
    def reached_human(self) -> bool:
        return self in (Outcome.TALKED, Outcome.HUMAN)


OUTCOME_LABELS_VI: dict[Outcome, str] = {
    Outcome.TALKED: "Đã nói chuyện",
    Outcome.HUMAN: "Có người nghe (đã bấm 1)",
    Outcome.NO_KEY: "Nghe máy nhưng không bấm 1 (hộp thư thoại?)",
    Outcome.BUSY: "Máy bận",
    Outcome.NO_ANSWER: "Không nghe máy",
    Outcome.UNREACHABLE: "Không liên lạc được",
    Outcome.FAILED: "Không gọi được (lỗi tổng đài)",
    Outcome.UNKNOWN: "Không rõ (dịch vụ khởi động lại)",
}

# Q.850 causes Asterisk gives a leg that never answered (shared/asterisk/scenarios: 486 -> 17,
# 503 -> 34, no contact -> 3, Timer B -> 18). A ring that times out ends with 0, 16 or 19.
_BUSY_CAUSES = frozenset({17})
_UNREACHABLE_CAUSES = frozenset({1, 2, 3, 18, 20, 22, 27, 28, 31, 34, 38, 41, 42, 44, 47, 58, 88})


# Asterisk's DIALSTATUS of a leg that was not answered (the ARI Dial event), when it came.
_DIALSTATUS_OUTCOMES = {
    "BUSY": Outcome.BUSY,
    "NOANSWER": Outcome.NO_ANSWER,
    "CHANUNAVAIL": Outcome.UNREACHABLE,
    "CONGESTION": Outcome.UNREACHABLE,
}


def unanswered_outcome(cause: int | None, dialstatus: str = "") -> Outcome:
    """What a leg that ended before it was answered means: Asterisk's DIALSTATUS when known (a Local
    or SIP leg alike), else the hang-up cause."""
    if dialstatus in _DIALSTATUS_OUTCOMES:
        return _DIALSTATUS_OUTCOMES[dialstatus]
    if cause in _BUSY_CAUSES:
        return Outcome.BUSY
    if cause in _UNREACHABLE_CAUSES:
        return Outcome.UNREACHABLE
    return Outcome.NO_ANSWER


# A callback's recordings, on its ticket beside the incoming call's: MixMonitor on the citizen's leg
# writes <base>.wav, <base>-rx.wav (the citizen) and <base>-tx.wav (what the citizen heard: the officer).
CALLBACK_RECORDINGS: dict[str, str] = {
    "callback_mix": "",
    "callback_caller": "-rx",
    "callback_officer": "-tx",
}


def callback_recording_files(base: str) -> list[tuple[str, str]]:
    """(kind, file name) of a callback's recordings."""
    return [(kind, f"{base}{suffix}.wav") for kind, suffix in CALLBACK_RECORDINGS.items()]


class SurveyAnswer(StrEnum):
    RESOLVED = "resolved"  # pressed 1
    NOT_RESOLVED = "not_resolved"  # pressed 2


def survey_answer(digit: str) -> SurveyAnswer | None:
    return {"1": SurveyAnswer.RESOLVED, "2": SurveyAnswer.NOT_RESOLVED}.get(digit)


SURVEY_LABELS_VI: dict[SurveyAnswer, str] = {
    SurveyAnswer.RESOLVED: "Người phản ánh xác nhận đã được giải quyết",
    SurveyAnswer.NOT_RESOLVED: "Người phản ánh cho biết chưa được giải quyết",
}


@dataclass(frozen=True)
class CallbackRules:
    """When callbacks may be placed: local hours [start, end) and attempts per ticket per local day."""

    start: time = time(7, 0)
    end: time = time(21, 0)
    max_per_day: int = 3


class CallbackRefused(StrEnum):
    NIGHT = "night"
    TOO_MANY = "too_many"
    NO_NUMBER = "no_number"  # the ticket has no caller number (withheld, or removed by retention)
    NO_OFFICER_PHONE = "no_officer_phone"  # the officer asking has no phone on their account
    IN_PROGRESS = "in_progress"  # a callback for this ticket is being placed now


REFUSAL_MESSAGES_VI: dict[CallbackRefused, str] = {
    CallbackRefused.NIGHT: "Không gọi lại ngoài giờ cho phép",
    CallbackRefused.TOO_MANY: "Đã gọi lại đủ số lần cho phép trong ngày",
    CallbackRefused.NO_NUMBER: "Phản ánh không có số điện thoại người gọi",
    CallbackRefused.NO_OFFICER_PHONE: "Tài khoản của bạn chưa có số điện thoại để nhận cuộc gọi",
    CallbackRefused.IN_PROGRESS: "Đang có một cuộc gọi lại cho phản ánh này",
}


def callback_refusal(
    rules: CallbackRules,
    local_now: datetime,
    attempts_today: int,
    *,
    has_number: bool,
    has_officer_phone: bool,
    in_progress: bool,
) -> CallbackRefused | None:
    """Why a callback may not be placed now (None: it may). `local_now` is in the hotline's zone."""
    if not has_number:
        return CallbackRefused.NO_NUMBER
    if not has_officer_phone:
        return CallbackRefused.NO_OFFICER_PHONE
    if in_progress:
        return CallbackRefused.IN_PROGRESS
    if not within_hours(rules.start, rules.end, local_now.time()):
        return CallbackRefused.NIGHT
    if attempts_today >= rules.max_per_day:
        return CallbackRefused.TOO_MANY
    return None


def dialable(number: str) -> bool:
    """A number we can ring: digits (a leading + allowed), not withheld, not masked by retention."""
    digits = number.removeprefix("+")
    return len(digits) >= 3 and digits.isdigit()


def within_hours(start: time, end: time, at: time) -> bool:
    """[start, end) of a day; a window that wraps midnight (22:00-06:00) works too."""
    if start <= end:
        return start <= at < end
    return at >= start or at < end


def local_day_start(local_now: datetime) -> datetime:
    """Midnight of `local_now`'s day, in its zone (for "attempts today")."""
    day: date = local_now.date()
    return datetime.combine(day, time(0, 0), tzinfo=local_now.tzinfo)


def probe_due(code: str, last: datetime | None, now: datetime, every: timedelta) -> bool:
    """Whether a facility's test call is due: `every` after its last one, give or take a quarter
    (a per-facility, per-round offset), so the hotlines are not all rung at once and each one's test
    times drift across day, night and holidays instead of falling at the same hour."""
    if last is None:
        return True
    seed = zlib.crc32(f"{code}|{last.isoformat()}".encode())
    factor = 0.75 + (seed % 1000) / 2000  # 0.75 .. 1.25
    return now >= last + every * factor


def channel_id(outbound_id: int, leg: Leg, created_at: datetime) -> str:
    """The channel id we give Asterisk for a leg (ARI lets the originator choose it): a restart finds
    the leg from the row alone, and a retried originate cannot place a second call (409). The row's
    creation time (ms, base 36) keeps ids apart when row ids repeat (a database restored or reset while
    Asterisk still holds old legs)."""
    stamp = _base36(int(created_at.timestamp() * 1000))
    return f"{_PREFIX}{outbound_id}-{stamp}-{leg.value}"


def parse_channel_id(value: str) -> tuple[int, Leg] | None:
    """(row id, leg) of one of our legs' channel ids; None for any other channel."""
    if not value.startswith(_PREFIX):
        return None
    number, _, rest = value[len(_PREFIX) :].partition("-")
    stamp, _, leg = rest.partition("-")
    if not number.isdigit() or not stamp.isalnum():
        return None
    try:
        return int(number), Leg(leg)
    except ValueError:
        return None


_PREFIX = "hotline-out-"


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


@dataclass(frozen=True)
class CallbackFigures:
    """The period report's callbacks: placed, reached the citizen, and what the citizen answered at the
    survey ("kết quả đã báo cho người phản ánh": 1 resolved, 2 not)."""

    placed: int = 0
    talked: int = 0
    resolved: int = 0
    not_resolved: int = 0
    tickets: int = 0  # tickets called back at least once

    @property
    def no_survey(self) -> int:
        """Talked, but the citizen pressed neither 1 nor 2."""
        return self.talked - self.resolved - self.not_resolved

    @property
    def resolved_percent(self) -> float | None:
        """Of the citizens who answered the survey, those who said resolved (None: nobody answered)."""
        answered = self.resolved + self.not_resolved
        return None if answered == 0 else round(100 * self.resolved / answered, 1)

    def as_dict(self) -> dict[str, object]:
        return {
            "placed": self.placed,
            "talked": self.talked,
            "resolved": self.resolved,
            "not_resolved": self.not_resolved,
            "no_survey": self.no_survey,
            "tickets": self.tickets,
            "resolved_percent": self.resolved_percent,
        }


def callback_figures(
    rows: Iterable[tuple[int | None, Outcome | None, SurveyAnswer | None]],
) -> CallbackFigures:
    """From (ticket id, outcome, survey answer) of each callback of the period."""
    placed = talked = resolved = not_resolved = 0
    tickets: set[int] = set()
    for ticket_id, outcome, answer in rows:
        placed += 1
        if ticket_id is not None:
            tickets.add(ticket_id)
        if outcome is Outcome.TALKED:
            talked += 1
            resolved += answer is SurveyAnswer.RESOLVED
            not_resolved += answer is SurveyAnswer.NOT_RESOLVED
    return CallbackFigures(placed, talked, resolved, not_resolved, len(tickets))
