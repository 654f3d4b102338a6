"""Facilities (with hotline health) and the duty roster: a week per facility, CSV export/import (admins),
and an iCal feed of the duty assignments.

The iCal feed needs a signed-in session (the same cookie as the pages): a per-facility secret token in the
URL would need its own storage and rotation. A calendar app that cannot sign in can import a downloaded
file instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from callcenter.domain.access import Principal
from callcenter.domain.facility import Facility
from callcenter.domain.roster import TIER_ORDER, Assignment, Gap, Tier
from callcenter.services.errors import NotFound
from callcenter.services.roster import RosterService
from callcenter.web.context import now, principal, services, state
from callcenter.web.errors import ApiError
from callcenter.web.io import json_response, parse_query
from callcenter.web.ticket_schemas import (
    DutyOut,
    FacilitiesOut,
    FacilityOut,
    GapOut,
    RosterDayOut,
    RosterImportOut,
    RosterImportRowError,
    RosterWeekOut,
    RosterWeekQuery,
)

TIER_LABELS_VI: dict[str, str] = {
    Tier.DUTY_OFFICER.value: "Cán bộ trực",
    Tier.BACKUP.value: "Trực dự phòng",
    Tier.LEADER.value: "Trực lãnh đạo",
    "authority": "Sở Y tế",
}
ICAL_WEEKS = 8
_MAX_STEPS = 5000


def facility_out(f: Facility) -> FacilityOut:
    return FacilityOut(
        code=f.code,
        keypad_code=f.keypad_code,
        name=f.name,
        kind=f.kind.value,
        province=f.province,
        hotline=f.hotline,
        hotline_kind=f.hotline_kind.value,
        not_viettel=f.hotline_flagged,
        authority_line=f.authority_line,
    )


async def visible_facilities(request: web.Request) -> list[Facility]:
    who = principal(request)
    return [f for f in await services(request).facilities.list() if who.can_see_ticket(f.code, f.province)]


async def facility_for(request: web.Request, who: Principal, code: str) -> Facility:
    """A facility the principal may see (the ticket scope rule); another one does not exist for them."""
    for f in await services(request).facilities.list():
        if f.code == code and who.can_see_ticket(f.code, f.province):
            return f
    raise NotFound("không tìm thấy cơ sở / facility not found")


@dataclass(frozen=True)
class Schedule:
    duties: list[Assignment]
    gaps: list[Gap]


async def schedule(roster: RosterService, code: str, start: datetime, end: datetime) -> Schedule:
    """Every assignment of every tier and every gap between `start` and `end`, by walking the schedule
    from one change (a hand-over, the end of a gap) to the next."""
    gaps = [
        g
        for g in await roster.gaps(start, max(1, -(-(end - start) // timedelta(days=1))), tiers=TIER_ORDER)
        if g.facility_code == code and g.start < end
    ]
    seen: dict[tuple[str, datetime, str], Assignment] = {}
    t = start
    for _ in range(_MAX_STEPS):
        if t >= end:
            break
        on = (await roster.on_duty_at(t, code)).get(code, {})
        for a in on.values():
            seen.setdefault((a.tier.value, a.start, a.officer.name), a)
        candidates = [a.end for a in on.values() if a.end > t]
        candidates += [g.end for g in gaps if g.start <= t < g.end]
        candidates += [g.start for g in gaps if g.start > t]
        t = min([c for c in candidates if c > t] or [end])
    duties = sorted(seen.values(), key=lambda a: (a.start, TIER_ORDER.index(a.tier)))
    return Schedule(duties, gaps)


def _local_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def _week(facility: Facility, start: date, sched: Schedule, tz: ZoneInfo) -> RosterWeekOut:
    days: list[RosterDayOut] = []
    for i in range(7):
        day = start + timedelta(days=i)
        lo, hi = _local_start(day, tz), _local_start(day + timedelta(days=1), tz)
        days.append(
            RosterDayOut(
                date=day,
                duties=[
                    DutyOut(
                        tier=a.tier.value,
                        officer=a.officer.name,
                        phone=a.officer.phone,
                        start=a.start,
                        end=a.end,
                        source=a.source,
                    )
                    for a in sched.duties
                    if a.start < hi and a.end > lo
                ],
                gaps=[
                    GapOut(tier=g.tier.value, start=max(g.start, lo), end=min(g.end, hi))
                    for g in sched.gaps
                    if g.start < hi and g.end > lo
                ],
            )
        )
    return RosterWeekOut(
        facility_code=facility.code,
        facility_name=facility.name,
        start=start,
        days=days,
        gaps=[GapOut(tier=g.tier.value, start=g.start, end=g.end) for g in sched.gaps],
    )


async def roster_week(request: web.Request) -> RosterWeekOut:
    q = parse_query(request, RosterWeekQuery)
    tz = state(request).config.tz
    facility = await facility_for(request, principal(request), request.match_info["facility_code"])
    start = q.start or now(request).astimezone(tz).date()
    lo = _local_start(start, tz)
    sched = await schedule(services(request).roster, facility.code, lo, lo + timedelta(days=7))
    return _week(facility, start, sched, tz)


# --- API -------------------------------------------------------------------------------------------------


async def list_facilities(request: web.Request) -> web.StreamResponse:
    return json_response(
        FacilitiesOut(facilities=[facility_out(f) for f in await visible_facilities(request)])
    )


async def roster_week_api(request: web.Request) -> web.StreamResponse:
    return json_response(await roster_week(request))


async def roster_export(request: web.Request) -> web.StreamResponse:
    text = await services(request).roster.export_csv()
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="roster.csv"'},
    )


async def roster_import(request: web.Request) -> web.StreamResponse:
    if request.content_type not in ("text/csv", "text/plain", "application/octet-stream"):
        raise ApiError(
            415, "unsupported_media_type", "Dữ liệu phải là CSV (Content-Type: text/csv) / body must be CSV"
        )
    raw = await request.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(
            400, "invalid", "Tệp phải mã hoá UTF-8 / the file must be UTF-8", field="body"
        ) from None
    if not text.strip():
        raise ApiError(400, "invalid", "Tệp trống / the file is empty", field="body")
    errors = await services(request).roster.import_csv(text, now(request))
    if errors:
        report = RosterImportOut(
            ok=False, errors=[RosterImportRowError(row=e.row, field=e.field, reason=e.reason) for e in errors]
        )
        first, n = errors[0], len(errors)
        body = {
            "error": {
                "code": "invalid",
                "message": f"Lịch trực có {n} lỗi, chưa nhập gì / {n} errors, nothing imported",
                "field": first.field,
            },
            **report.model_dump(),
        }
        return json_response(body, status=400)
    return json_response(RosterImportOut(ok=True, errors=[]))


# --- iCal ------------------------------------------------------------------------------------------------


def _ics_escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r", "")
        .replace("\n", "\\n")
    )


def _ics_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """RFC 5545: lines of at most 75 octets, continued with a leading space."""
    out: list[str] = []
    data = line.encode("utf-8")
    while len(data) > 75:
        cut = 75 if not out else 74
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # never split a UTF-8 character
            cut -= 1
        out.append(data[:cut].decode("utf-8"))
        data = data[cut:]
    out.append(data.decode("utf-8"))
    return "\r\n ".join(out)


def ical(facility: Facility, duties: list[Assignment], stamp: datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//callcenter//lich truc//VI",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_ics_escape('Lịch trực ' + facility.name)}",
    ]
    for a in duties:
        uid = f"{facility.code}-{a.tier.value}-{_ics_time(a.start)}"  # one holder of a tier at a time
        label = TIER_LABELS_VI.get(a.tier.value, a.tier.value)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}@callcenter",
            f"DTSTAMP:{_ics_time(stamp)}",
            f"DTSTART:{_ics_time(a.start)}",
            f"DTEND:{_ics_time(a.end)}",
            f"SUMMARY:{_ics_escape(f'{label}: {a.officer.name}')}",
            f"DESCRIPTION:{_ics_escape(f'{facility.name} · {label} · {a.officer.name} · {a.officer.phone}')}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


async def ical_feed(request: web.Request) -> web.StreamResponse:
    facility = await facility_for(request, principal(request), request.match_info["facility_code"])
    start = now(request)
    sched = await schedule(
        services(request).roster, facility.code, start, start + timedelta(weeks=ICAL_WEEKS)
    )
    return web.Response(
        text=ical(facility, sched.duties, start),
        content_type="text/calendar",
        charset="utf-8",
        headers={"Content-Disposition": f'inline; filename="{facility.code}.ics"'},
    )
