"""Callbacks on the pages ("Gọi lại"): the button of the ticket page (a form posted to the ticket page with
action=callback, no script), the attempts listed there, and the queue of tickets that need a callback
(/goi-lai), scoped like the ticket list.

The server dials: neither the form nor the page carries the citizen's number beyond what the ticket list
already shows the role (masked numbers stay masked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from callcenter.domain.outbound import (
    OUTCOME_LABELS_VI,
    SURVEY_LABELS_VI,
    OutboundState,
    Outcome,
    SurveyAnswer,
    local_day_start,
)
from callcenter.domain.ticket import TicketStatus
from callcenter.services.audit import AuditAction
from callcenter.services.ports_outbound import OutboundRecord
from callcenter.services.tickets import TicketFilter, TicketListItem
from callcenter.web.context import audit, now, principal, services, state
from callcenter.web.render import render

# A callback still under way, said as the officer sees it.
STATE_LABELS_VI: dict[OutboundState, str] = {
    OutboundState.PENDING: "Đang chuẩn bị gọi",
    OutboundState.RINGING: "Đang đổ chuông",
    OutboundState.ACCEPTING: "Chờ cán bộ bấm phím 1",
    OutboundState.TALKING: "Đang nói chuyện",
    OutboundState.SURVEY: "Đang hỏi ý kiến người phản ánh",
    OutboundState.DONE: "Đã kết thúc",
}
LEG_LABELS_VI = {"officer": "máy cán bộ", "citizen": "máy người phản ánh"}
CALLING_NOTICE = "Đang gọi máy của bạn… Bấm phím 1 khi nghe máy để nối máy tới người phản ánh."
QUEUE_PAGE_SIZE = 100  # per open status; the page says when there are more
_QUEUE_STATUSES = (TicketStatus.NEW, TicketStatus.IN_PROGRESS)  # the open ones, in workflow order


@dataclass(frozen=True)
class AttemptRow:
    """One callback as a page lists it (no number: a callback's row has none)."""

    id: int
    created_at: datetime
    ended_at: datetime | None
    label: str  # the outcome once done, else the state
    done: bool
    talk_s: int | None
    survey: str | None  # Vietnamese


def state_or_outcome(state_: OutboundState, outcome: Outcome | None) -> str:
    if outcome is not None:
        return OUTCOME_LABELS_VI[outcome]
    return STATE_LABELS_VI[state_]


def attempt_row(r: OutboundRecord) -> AttemptRow:
    return AttemptRow(
        id=r.id,
        created_at=r.created_at,
        ended_at=r.ended_at,
        label=state_or_outcome(r.state, r.outcome),
        done=not r.state.active,
        talk_s=r.talk_s,
        survey=None if r.survey is None else SURVEY_LABELS_VI[r.survey],
    )


async def ticket_attempts(request: web.Request, ticket_id: int) -> list[AttemptRow] | None:
    """The ticket's callbacks, oldest first; None when callbacks are not configured."""
    service = services(request).outbound
    if service is None:
        return None
    return [attempt_row(r) for r in await service.attempts(principal(request), ticket_id)]


def event_detail(kind: str, detail: dict[str, Any]) -> str:
    """What the ticket's history adds after a callback event's label ("" for other events)."""
    if kind != "callback.ended":
        return ""
    parts: list[str] = []
    try:
        parts.append(OUTCOME_LABELS_VI[Outcome(str(detail.get("outcome")))])
    except ValueError:
        parts.append(str(detail.get("outcome", "")))
    leg = LEG_LABELS_VI.get(str(detail.get("leg", "")))
    if leg and detail.get("outcome") != Outcome.TALKED.value:
        parts.append(f"({leg})")
    talk_s = detail.get("talk_s")
    if isinstance(talk_s, int):
        parts.append(f"· nói chuyện {talk_s} giây")
    try:
        survey = SURVEY_LABELS_VI[SurveyAnswer(str(detail.get("survey")))]
        parts.append(f"· {survey}")
    except ValueError:
        pass
    return " ".join(p for p in parts if p)


async def audit_callback(request: web.Request, ticket_id: int, outbound_id: int) -> None:
    """The placement, audited as the API does (POST /api/tickets/{id}/callback)."""
    await audit(request, AuditAction.CALLBACK, ticket_id=ticket_id, detail={"outbound_id": outbound_id})


# --- the queue ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    item: TicketListItem
    attempts_today: int | None  # None: callbacks not configured
    last: str | None  # the last attempt's state or outcome, Vietnamese


async def callback_queue_page(request: web.Request) -> web.StreamResponse:
    """Open tickets marked "needs a callback" in the person's scope, newest first."""
    who, at = principal(request), now(request)
    tickets = services(request).tickets
    items: list[TicketListItem] = []
    more = False
    for status in _QUEUE_STATUSES:
        page = await tickets.list(
            who, TicketFilter(status=status.value, needs_callback=True), at, page_size=QUEUE_PAGE_SIZE
        )
        items.extend(page.items)
        more = more or page.total > len(page.items)
    items.sort(key=lambda i: i.created_at, reverse=True)
    outbound = services(request).outbound
    tz = state(request).config.tz
    day_start = local_day_start(at.astimezone(tz))
    rows: list[QueueRow] = []
    attempts = (
        {}
        if outbound is None
        else await outbound.attempts_of(who, [(i.id, i.facility_code, i.province) for i in items])
    )
    for item in items:
        if outbound is None:
            rows.append(QueueRow(item, None, None))
            continue
        found = attempts.get(item.id, [])
        today = sum(1 for r in found if r.created_at >= day_start)
        last = state_or_outcome(found[-1].state, found[-1].outcome) if found else None
        rows.append(QueueRow(item, today, last))
    return render(
        request,
        "callbacks.html",
        {
            "rows": rows,
            "more": more,
            "callbacks_on": outbound is not None,
            "can_call": who.can_edit_tickets(),
            "local": lambda instant: instant.astimezone(tz).strftime("%d/%m/%Y %H:%M"),
        },
        title="Cần gọi lại",
    )
