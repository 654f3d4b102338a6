"""HTML pages: Jinja2 templates (autoescaped) under web/templates, every page inside layout.html."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
from aiohttp import web

from callcenter.web.context import REQUEST_ID, SESSION, state
from callcenter.web.routing import Kind, RouteTable

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def template_environment(directory: Path = TEMPLATES) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=jinja2.select_autoescape(["html"]),
        # A misspelt variable fails the page (and its test) instead of rendering as nothing.
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    current: bool


def nav_items(table: RouteTable, request: web.Request) -> list[NavItem]:
    """The menu: GET pages with a `nav` label that the signed-in person's role may open."""
    found = request.get(SESSION)
    if found is None:
        return []
    return [
        NavItem(r.nav, r.path, r.path == request.path)
        for r in table
        if r.nav and r.kind is Kind.PAGE and r.method == "GET" and r.allows(found.user.role)
    ]


def csrf_field(token: str, name: str = "csrf_token") -> markupsafe.Markup:
    """The hidden input every state-changing form carries."""
    return markupsafe.Markup('<input type="hidden" name="{}" value="{}">').format(name, token)


def render(
    request: web.Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    title: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A page in the layout. The template gets `context` plus: title, user (or None), principal,
    csrf_token (for forms: `{{ csrf_field() }}`), nav, app_title, request_id."""
    st = state(request)
    found = request.get(SESSION)
    csrf_token = found.csrf_token if found else ""
    values: dict[str, Any] = {
        "title": title,
        "app_title": st.config.title,
        "user": found.user if found else None,
        "principal": found.principal if found else None,
        "csrf_token": csrf_token,
        "nav": nav_items(st.table, request),
        "request_id": request.get(REQUEST_ID, ""),
        "csrf_field": lambda: csrf_field(csrf_token),
    }
    values.update(context or {})
    html = st.templates.get_template(template).render(values)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    if headers:
        response.headers.update(headers)
    return response
