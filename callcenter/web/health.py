"""/healthz for Docker and monitoring: 200 when the database answers, 503 (and why) when not."""

from __future__ import annotations

from aiohttp import web

from callcenter.web.context import services
from callcenter.web.io import json_response
from callcenter.web.schemas import HealthOut


async def healthz(request: web.Request) -> web.StreamResponse:
    try:
        await services(request).ping()
    except Exception as exc:  # the endpoint's whole job is to say "not healthy" instead of raising
        return json_response(HealthOut(status="error", database=type(exc).__name__), status=503)
    return json_response(HealthOut(status="ok"))
