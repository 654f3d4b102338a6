"""/healthz (liveness: the process answers and its database does) and /readyz (readiness: database,
migrations, recordings directory, speech model), 200 or 503 with the reason, for Docker and monitoring."""

from __future__ import annotations

from aiohttp import web

from callcenter.web.context import services
from callcenter.web.io import json_response
from callcenter.web.schemas import HealthOut, ReadyOut


async def healthz(request: web.Request) -> web.StreamResponse:
    try:
        await services(request).ping()
    except Exception as exc:  # the endpoint's whole job is to say "not healthy" instead of raising
        return json_response(HealthOut(status="error", database=type(exc).__name__), status=503)
    return json_response(HealthOut(status="ok"))


async def readyz(request: web.Request) -> web.StreamResponse:
    check = services(request).readiness
    problems = dict(await check()) if check is not None else {}
    failing = {name: why for name, why in problems.items() if why is not None}
    body = ReadyOut(
        status="error" if failing else "ok",
        checks={name: why or "ok" for name, why in problems.items()},
    )
    return json_response(body, status=503 if failing else 200)
