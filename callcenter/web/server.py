"""`create_web_app`: the aiohttp application over the services it is given (wired in callcenter.app)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from callcenter.web.context import STATE, WebConfig, WebServices, WebState
from callcenter.web.middleware import middlewares, security_headers
from callcenter.web.openapi import build_openapi
from callcenter.web.pages import load_static
from callcenter.web.render import STATIC, template_environment
from callcenter.web.routes import route_table
from callcenter.web.routing import RouteTable

API_VERSION = "0.1.0"


def create_web_app(
    services: WebServices,
    clock: Callable[[], datetime],
    config: WebConfig | None = None,
    table: RouteTable | None = None,
) -> web.Application:
    config = config or WebConfig()
    table = table if table is not None else route_table()
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=middlewares())
    app[STATE] = WebState(
        services=services,
        config=config,
        clock=clock,
        table=table,
        templates=template_environment(),
        openapi=build_openapi(table, title=f"{config.title} — API", version=API_VERSION),
        static_files=load_static(STATIC),
    )
    # Only the table's routes: the authorisation middleware finds every route it lets through there.
    table.register(app.router)
    app.on_response_prepare.append(security_headers)
    return app
