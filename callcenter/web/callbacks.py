"""Callbacks from a ticket ("Gọi lại") over the API: place one, list a ticket's attempts.

The server dials: the browser never sends or receives the citizen's number, so a masked number stays
masked. Each request is role-checked by the route table and again by the service, and audited.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel

from callcenter.domain.outbound import OUTCOME_LABELS_VI, SURVEY_LABELS_VI
from callcenter.services.audit import AuditAction
from callcenter.services.outbound import OutboundService
from callcenter.services.ports_outbound import OutboundRecord
from callcenter.web.context import audit, now, principal, services
from callcenter.web.errors import ApiError
from callcenter.web.io import json_response
from callcenter.web.tickets import ticket_id


class CallbackOut(BaseModel):
    id: int
    state: str
    outcome: str | None
    outcome_vi: str | None
    created_at: datetime
    ended_at: datetime | None
    talk_s: int | None
    survey: str | None
    survey_vi: str | None

    @classmethod
    def of(cls, r: OutboundRecord) -> CallbackOut:
        return cls(
            id=r.id,
            state=r.state.value,
            outcome=None if r.outcome is None else r.outcome.value,
            outcome_vi=None if r.outcome is None else OUTCOME_LABELS_VI[r.outcome],
            created_at=r.created_at,
            ended_at=r.ended_at,
            talk_s=r.talk_s,
            survey=None if r.survey is None else r.survey.value,
            survey_vi=None if r.survey is None else SURVEY_LABELS_VI[r.survey],
        )


class CallbacksOut(BaseModel):
    callbacks: list[CallbackOut]


class CallbackStartedOut(BaseModel):
    callback: CallbackOut


def outbound(request: web.Request) -> OutboundService:
    found = services(request).outbound
    if found is None:
        raise ApiError(
            503,
            "telephony_disabled",
            "Chức năng gọi lại chưa được bật (cấu hình [ari]) / callbacks are not configured ([ari])",
        )
    return found


async def place_callback(request: web.Request) -> web.StreamResponse:
    tid = ticket_id(request)
    service = outbound(request)
    outbound_id = await service.request_callback(tid, principal(request), now(request))
    await audit(request, AuditAction.CALLBACK, ticket_id=tid, detail={"outbound_id": outbound_id})
    placed = next(r for r in await service.attempts(principal(request), tid) if r.id == outbound_id)
    return json_response(CallbackStartedOut(callback=CallbackOut.of(placed)), status=202)


async def list_callbacks(request: web.Request) -> web.StreamResponse:
    found = await outbound(request).attempts(principal(request), ticket_id(request))
    return json_response(CallbacksOut(callbacks=[CallbackOut.of(r) for r in found]))
