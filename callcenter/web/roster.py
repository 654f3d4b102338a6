"""Facilities (with hotline health) and the duty roster: a week per facility, CSV export/import (admins),
and an iCal feed of the duty assignments.

The iCal feed needs a signed-in session (the same cookie as the pages): a per-facility secret token in the
URL would need its own storage and rotation. A calendar app that cannot sign in can import a downloaded
file instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import ValidationError

from callcenter.domain.access import Principal
from callcenter.domain.facility import Facility
from callcenter.domain.hotline_health import FAIL_REASON_LABELS_VI, RECENT, HotlineHealth
from callcenter.domain.roster import Assignment, Override, Tier
from callcenter.services.audit import AuditAction
from callcenter.services.errors import InvalidInput, NotFound
from callcenter.services.roster import Schedule
from callcenter.web.context import audit, now, principal, services, state
from callcenter.web.errors import ApiError, from_validation
from callcenter.web.io import json_response, parse_body
from callcenter.web.probe_schemas import probe_series_out
from callcenter.web.ticket_schemas import (
    DutyOut,
    FacilitiesOut,
    FacilityHealthOut,
    FacilityOut,
    GapOut,
    OverrideIn,
    OverrideOut,
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


def health_out(h: HotlineHealth, since: datetime, at: datetime) -> FacilityHealthOut:
    rate = h.answer_rate
    return FacilityHealthOut(
        calls=h.calls,
        answered=h.answered,
        answered_by_first=h.answered_by_first,
        all_failed=h.all_failed,
        abandoned=h.abandoned,
        answer_rate=None if rate is None else float(rate),
        mean_answer_wait_s=h.mean_answer_wait_s,
        last_answered_at=h.last_answered_at,
        silent=h.silent(at),
        failing=h.failing,
        reasons=[r.value for r in h.reasons],
        reasons_vi=[FAIL_REASON_LABELS_VI[r] for r in h.reasons],
        since=since,
        probes=None if h.probes is None else probe_series_out(h.probes),
    )


HEALTH_PERIODS = (7, 30, 90)  # days a hotline's record is shown over (?days=)


def health_days(request: web.Request) -> int:
    """The period asked for with ?days=, 30 by default (RECENT); anything else is a clear 400."""
    raw = request.query.get("days", str(RECENT.days))
    if not raw.isdigit() or int(raw) not in HEALTH_PERIODS:
        raise InvalidInput("kỳ phải là 7, 30 hoặc 90 ngày / days must be 7, 30 or 90", field="days")
    return int(raw)


async def facilities_with_health(request: web.Request) -> list[FacilityOut]:
    """The facilities the signed-in person may see, each with its hotline's last ?days= days."""
    at = now(request)
    since = at - timedelta(days=health_days(request))
    found = await services(request).reports.hotline_health(principal(request), since, at)
    health = {h.facility_code: h for h in found}
    out = []
    for f in await visible_facilities(request):
        h = health.get(f.code)
        out.append(facility_out(f, None if h is None else health_out(h, since, at)))
    return out


def facility_out(f: Facility, health: FacilityHealthOut | None = None) -> FacilityOut:
    return FacilityOut(
        health=health,
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
        overrides=[override_out(o, tz) for o in sched.overrides],
    )


def override_out(o: Override, tz: ZoneInfo) -> OverrideOut:
    return OverrideOut(
        id=o.seq,
        facility_code=o.facility_code,
        tier=o.tier.value,
        officer=o.officer.name,
        phone=o.officer.phone,
        start=o.start.astimezone(tz),
        end=o.end.astimezone(tz),
        reason=o.reason,
    )


async def roster_week(request: web.Request) -> RosterWeekOut:
    try:  # without the page's "saved" marker (da_luu), put there after a form
        q = RosterWeekQuery.model_validate({k: v for k, v in request.query.items() if k != "da_luu"})
    except ValidationError as exc:
        raise from_validation(exc) from None
    tz = state(request).config.tz
    facility = await facility_for(request, principal(request), request.match_info["facility_code"])
    start = q.start or now(request).astimezone(tz).date()
    return _week(facility, start, await services(request).roster.week(facility.code, start), tz)


# --- audit -----------------------------------------------------------------------------------------------


async def audit_override(
    request: web.Request, action: str, facility_code: str, override_id: int, o: Override | None = None
) -> None:
    """A roster edit in the audit log: which facility, tier and hours (no names or numbers)."""
    detail: dict[str, Any] = {"facility": facility_code, "override_id": override_id}
    if o is not None:
        detail |= {"tier": o.tier.value, "start": o.start.isoformat(), "end": o.end.isoformat()}
    await audit(request, action, detail=detail)


# --- API -------------------------------------------------------------------------------------------------


async def list_facilities(request: web.Request) -> web.StreamResponse:
    return json_response(FacilitiesOut(facilities=await facilities_with_health(request)))


async def roster_week_api(request: web.Request) -> web.StreamResponse:
    return json_response(await roster_week(request))


async def override_add_api(request: web.Request) -> web.StreamResponse:
    facility = await facility_for(request, principal(request), request.match_info["facility_code"])
    body = await parse_body(request, OverrideIn)
    added = await services(request).roster.add_override(
        facility.code, body.tier, body.officer, body.phone, body.start, body.end, body.reason, now(request)
    )
    await audit_override(request, AuditAction.OVERRIDE_ADD, facility.code, added.seq, added)
    return json_response(override_out(added, state(request).config.tz), status=201)


async def override_delete_api(request: web.Request) -> web.StreamResponse:
    override_id = int(request.match_info["override_id"])
    roster = services(request).roster
    facility = await facility_for(request, principal(request), await roster.override_facility(override_id))
    await roster.delete_override(override_id)
    await audit(
        request, AuditAction.OVERRIDE_DELETE, detail={"facility": facility.code, "override_id": override_id}
    )
    return web.Response(status=204)


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
    await audit(request, AuditAction.ROSTER_IMPORT, detail={"lines": text.count("\n")})
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
    sched = await services(request).roster.schedule(facility.code, start, start + timedelta(weeks=ICAL_WEEKS))
    return web.Response(
        text=ical(facility, sched.duties, start),
        content_type="text/calendar",
        charset="utf-8",
        headers={"Content-Disposition": f'inline; filename="{facility.code}.ics"'},
    )
