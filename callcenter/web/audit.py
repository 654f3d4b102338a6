"""Reading the audit log (admins and auditors, by the route table; the service checks again)."""

from __future__ import annotations

from aiohttp import web

from callcenter.services.ports_people import AuditFilter
from callcenter.web.context import principal, services
from callcenter.web.io import json_response, parse_query
from callcenter.web.schemas import AuditEntryOut, AuditOut, AuditQuery


async def query_audit(request: web.Request) -> web.StreamResponse:
    q = parse_query(request, AuditQuery)
    entries = await services(request).audit.query(
        principal(request),
        AuditFilter(
            username=q.username,
            action=q.action,
            ticket_id=q.ticket_id,
            since=q.since,
            until=q.until,
            before_id=q.before_id,
            limit=q.limit,
        ),
    )
    next_before = entries[-1].id if len(entries) == q.limit else None
    return json_response(AuditOut(entries=[AuditEntryOut.of(e) for e in entries], next_before_id=next_before))
