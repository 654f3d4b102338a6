"""What a route is: method, path, handler, name, who may call it, page or API, summary, schemas.

The entries themselves live in ONE explicit table (`routes.py`); the middleware reads the entry of the
matched route to decide access, and the OpenAPI document is generated from the same entries, so the
three can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from callcenter.domain.access import Role

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Public = Literal["public"]
PUBLIC: Public = "public"
Access = frozenset[Role] | Public

# Role sets the table uses; name a new one here rather than spelling a set inline in many entries.
SIGNED_IN: frozenset[Role] = frozenset(Role)
ADMINS: frozenset[Role] = frozenset({Role.ADMIN})
AUDIT_READERS: frozenset[Role] = frozenset({Role.ADMIN, Role.AUDITOR})
TICKET_EDITORS: frozenset[Role] = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.FACILITY_OFFICER})
SUPERVISORS: frozenset[Role] = frozenset({Role.ADMIN, Role.SUPERVISOR})

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_METHODS = frozenset({"GET", *STATE_CHANGING})
_PARAM = re.compile(r"\{(\w+)(?::([^{}]+))?\}")


class Kind(StrEnum):
    PAGE = "page"  # HTML; not signed in -> redirect to the sign-in page
    API = "api"  # JSON; not signed in -> 401 JSON; listed in /api/openapi.json


class DuplicateRoute(ValueError):
    pass


@dataclass(frozen=True, kw_only=True)
class Route:
    method: str
    path: str  # aiohttp syntax; "{id:\d+}" is an integer parameter in the OpenAPI document
    handler: Handler
    name: str  # unique; the operationId
    roles: Access
    kind: Kind
    summary: str  # Vietnamese first
    body: type[BaseModel] | None = None  # JSON request body, validated by `web.io.parse_body`
    query: type[BaseModel] | None = None  # query string, validated by `web.io.parse_query`
    response: type[BaseModel] | None = None
    status: int = 200  # of a success
    errors: tuple[int, ...] = ()  # error statuses to document beyond those the entry implies (401, 403…)
    nav: str | None = None  # a page with a label here appears in the layout's menu for its roles

    @property
    def public(self) -> bool:
        return self.roles == PUBLIC

    def allows(self, role: Role) -> bool:
        return self.roles == PUBLIC or role in self.roles

    @property
    def state_changing(self) -> bool:
        return self.method in STATE_CHANGING

    @property
    def key(self) -> tuple[str, str]:
        """(method, path with parameter patterns dropped): what aiohttp would match."""
        return self.method, template(self.path)

    def path_params(self) -> list[tuple[str, bool]]:
        """(name, is an integer) of each path parameter."""
        return [(m.group(1), m.group(2) == r"\d+") for m in _PARAM.finditer(self.path)]


def template(path: str) -> str:
    """ "/api/users/{user_id:\\d+}" -> "/api/users/{user_id}" (aiohttp's canonical form, OpenAPI's too)."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", path)


class RouteTable:
    """An ordered, validated set of routes: a duplicate method+path or name raises at start-up."""

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self._routes: list[Route] = []
        self._by_key: dict[tuple[str, str], Route] = {}
        self._names: set[str] = set()
        for route in routes:
            self.add(route)

    def add(self, route: Route) -> None:
        if route.method not in _METHODS:
            raise ValueError(f"{route.name}: method {route.method!r} is not one of {sorted(_METHODS)}")
        if route.key in self._by_key:
            raise DuplicateRoute(f"{route.method} {route.path} is in the table twice")
        if route.name in self._names:
            raise DuplicateRoute(f"route name {route.name!r} is in the table twice")
        if route.roles != PUBLIC and not route.roles:
            raise ValueError(f"{route.name}: give the roles, or PUBLIC; an empty set would lock everyone out")
        if not route.summary.strip():
            raise ValueError(f"{route.name}: every route needs a summary (it is the API documentation)")
        if route.kind is Kind.API and route.query is not None and route.state_changing:
            raise ValueError(f"{route.name}: state-changing API routes take a JSON body, not a query")
        self._routes.append(route)
        self._by_key[route.key] = route
        self._names.add(route.name)

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)

    def __len__(self) -> int:
        return len(self._routes)

    def find(self, method: str, canonical_path: str) -> Route | None:
        if method == "HEAD":
            method = "GET"
        return self._by_key.get((method, canonical_path))

    def by_name(self, name: str) -> Route:
        for route in self._routes:
            if route.name == name:
                return route
        raise KeyError(name)

    def register(self, router: web.UrlDispatcher) -> None:
        # In table order, but a path's methods next to each other: aiohttp then keeps one resource per
        # path, which is what makes a wrong method answer 405 (not 404).
        first = {r.path: i for i, r in reversed(list(enumerate(self._routes)))}
        for route in sorted(self._routes, key=lambda r: first[r.path]):
            if route.method == "GET":
                router.add_get(route.path, route.handler, allow_head=True)
            else:
                router.add_route(route.method, route.path, route.handler)
