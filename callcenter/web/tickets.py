"""The ticket API: list, read, change, and stream a recording. The service decides who sees what (a
ticket outside one's scope is a 404); every view, change and listen is written to the audit log."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from callcenter.services.audit import AuditAction
from callcenter.services.errors import NotFound
from callcenter.services.tickets import TicketDetail, TicketFilter
from callcenter.web.context import audit, now, principal, services
from callcenter.web.io import json_response, parse_body, parse_query
from callcenter.web.ticket_schemas import (
    AssignIn,
    CategoryIn,
    DeadlineIn,
    HoldIn,
    NoteIn,
    ResultIn,
    StatusIn,
    TicketDetailOut,
    TicketOut,
    TicketsOut,
    TicketsQuery,
)

_RANGE_START = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-")


def ticket_id(request: web.Request) -> int:
    return int(request.match_info["ticket_id"])  # the route's pattern is \d+


def ticket_filter(q: TicketsQuery) -> TicketFilter:
    return TicketFilter(
        status=q.status.value if q.status else None,
        category=q.category,
        facility_code=q.facility_code,
        date_from=q.date_from,
        date_to=q.date_to,
        overdue=q.overdue,
        incident=q.incident,
        needs_callback=q.needs_callback,
        assignee_id=q.assignee_id,
        text=q.text,
    )


async def list_tickets(request: web.Request) -> web.StreamResponse:
    q = parse_query(request, TicketsQuery)
    page = await services(request).tickets.list(
        principal(request), ticket_filter(q), now(request), page=q.page, page_size=q.page_size
    )
    return json_response(
        TicketsOut(
            items=[TicketOut.of(i) for i in page.items],
            total=page.total,
            page=page.page,
            page_size=page.page_size,
            pages=page.pages,
        )
    )


async def get_ticket(request: web.Request) -> web.StreamResponse:
    tid = ticket_id(request)
    detail = await services(request).tickets.get(principal(request), tid, now(request))
    await audit(request, AuditAction.TICKET_VIEW, ticket_id=tid)
    return json_response(TicketDetailOut.of(detail))


Change = Callable[[web.Request, int], Awaitable[TicketDetail]]


def _change(field: str, apply: Change) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        tid = ticket_id(request)
        detail = await apply(request, tid)
        await audit(request, AuditAction.TICKET_UPDATE, ticket_id=tid, detail={"field": field})
        return json_response(TicketDetailOut.of(detail))

    return handler


async def _status(request: web.Request, tid: int) -> TicketDetail:
    body = await parse_body(request, StatusIn)
    return await services(request).tickets.change_status(
        principal(request),
        tid,
        body.status,
        now(request),
        forwarded_to=body.forwarded_to,
        result_told=body.result_told,
    )


async def _assign(request: web.Request, tid: int) -> TicketDetail:
    body = await parse_body(request, AssignIn)
    return await services(request).tickets.assign(principal(request), tid, body.assignee_id, now(request))


async def _deadline(request: web.Request, tid: int) -> TicketDetail:
    body = await parse_body(request, DeadlineIn)
    return await services(request).tickets.set_deadline(principal(request), tid, body.deadline, now(request))


async def _note(request: web.Request, tid: int) -> TicketDetail:
    body = await parse_body(request, NoteIn)
    return await services(request).tickets.add_note(principal(request), tid, body.text, now(request))


async def _result(request: web.Request, tid: int) -> TicketDetail:
    body = await parse_body(request, ResultIn)
    return await services(request).tickets.set_result_told(principal(request), tid, body.text, now(request))


async def _category(request: web.Request, tid: int) -> TicketDetail:
    body = await parse_body(request, CategoryIn)
    return await services(request).tickets.confirm_category(
        principal(request), tid, body.category, now(request)
    )


async def _hold(request: web.Request, tid: int) -> TicketDetail:
    body = await parse_body(request, HoldIn)
    return await services(request).tickets.set_hold(principal(request), tid, body.hold, now(request))


change_status = _change("status", _status)
set_hold = _change("hold", _hold)
assign = _change("assignee", _assign)
set_deadline = _change("deadline", _deadline)
add_note = _change("note", _note)
set_result = _change("result_told", _result)
confirm_category = _change("category", _category)


# --- recordings ------------------------------------------------------------------------------------------


def recording_path(directory: Path, file_name: str) -> Path:
    """The file under `directory`, or NotFound for a name that would leave it (or is not a file)."""
    root = directory.resolve()
    path = (root / file_name).resolve()
    if not path.is_relative_to(root) or path == root or not path.is_file():
        raise NotFound("không tìm thấy bản ghi âm / recording not found")
    return path


def starts_listening(range_header: str | None) -> bool:
    """A request without Range, or with one starting at byte 0: someone pressed play (a player's later
    range requests for the same listening are not counted again)."""
    if not range_header:
        return True
    m = _RANGE_START.match(range_header)
    return m is not None and m.group(1) != "" and int(m.group(1)) == 0


async def stream_recording(request: web.Request) -> web.StreamResponse:
    tid = ticket_id(request)
    rid = int(request.match_info["recording_id"])
    found = await services(request).tickets.recording_for(principal(request), tid, rid, now(request))
    path = recording_path(services(request).recordings_dir, found.file_name)
    if request.method == "GET" and starts_listening(request.headers.get("Range")):
        await audit(
            request,
            AuditAction.RECORDING_LISTEN,
            ticket_id=tid,
            recording_id=rid,
            detail={"kind": found.kind},
        )
    response = web.FileResponse(path, headers={"Cache-Control": "private, no-store"})
    response.content_type = "audio/wav" if path.suffix.lower() == ".wav" else "application/octet-stream"
    return response
