"""What a handler reaches through the request: the services, the clock, the signed-in person.

Everything is put on the application by `create_web_app` (no module globals), under one key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from callcenter.domain.access import Principal
from callcenter.services.audit import AuditService
from callcenter.services.board import BoardService
from callcenter.services.facilities import FacilityService
from callcenter.services.outbound import OutboundService
from callcenter.services.report_docx import ReportHeader
from callcenter.services.reports import ReportService
from callcenter.services.roster import RosterService
from callcenter.services.sessions import ActiveSession, SessionService
from callcenter.services.tickets import TicketService
from callcenter.services.users import UserService
from callcenter.web.errors import ApiError
from callcenter.web.routing import Route, RouteTable

if TYPE_CHECKING:  # web.metrics reads the services from here
    from callcenter.web.metrics import MetricsSources

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class WebConfig:
    max_body_bytes: int = 1024 * 1024
    # Mark the session cookie Secure even on plain HTTP requests (HTTPS ends at a proxy in front).
    cookie_secure: bool = False
    # Believe X-Forwarded-For / X-Forwarded-Proto: only when a proxy we run sets them, or anyone could
    # pick the address the sign-in limit counts.
    trust_forwarded: bool = False
    cookie_name: str = "cc_session"
    login_cookie_name: str = "cc_login"
    title: str = "Đường dây nóng ngành Y tế"
    tz: ZoneInfo = VIETNAM  # the pages show local time
    # The Báo cáo's sender and signature ([report] settings).
    report_header: ReportHeader = field(default_factory=ReportHeader)
    # The live board's event stream: a comment this often keeps proxies from closing it; it ends after
    # the second figure and the browser connects again (through the session check).
    board_heartbeat_s: float = 15.0
    board_stream_max_s: float = 300.0


@dataclass(frozen=True)
class WebServices:
    users: UserService
    sessions: SessionService
    audit: AuditService
    ping: Callable[[], Awaitable[None]]  # raises if the database is unreachable (/healthz)
    tickets: TicketService
    facilities: FacilityService
    roster: RosterService
    recordings_dir: Path  # recordings are served by id only, from under this directory
    reports: ReportService  # the period report page (/bao-cao) and its downloads
    metrics: MetricsSources | None = None  # /metrics; None: not exposed (404)
    # /readyz: each check's problem, None when it passes (database, migrations, recordings, speech)
    readiness: Callable[[], Awaitable[Mapping[str, str | None]]] | None = None
    board: BoardService | None = None  # the live board (/bang-truc); None: not offered (404)
    # Callbacks from a ticket over ARI; None when [ari] is not enabled (the API answers 503).
    outbound: OutboundService | None = None


@dataclass(frozen=True)
class WebState:
    services: WebServices
    config: WebConfig
    clock: Callable[[], datetime]
    table: RouteTable
    templates: jinja2.Environment
    openapi: Mapping[str, Any]
    static_files: Mapping[str, tuple[bytes, str]]  # name -> (content, content type), read at start-up


STATE = web.AppKey("callcenter_web", WebState)
REQUEST_ID = web.RequestKey("request_id", str)
ROUTE = web.RequestKey("route", Route)  # the table entry matched; absent on 404/405
SESSION = web.RequestKey("session", ActiveSession)  # present once a valid session is found
_RESOLVED = web.RequestKey("session_resolved", bool)


def state(request: web.Request) -> WebState:
    return request.app[STATE]


def services(request: web.Request) -> WebServices:
    return request.app[STATE].services


def now(request: web.Request) -> datetime:
    return request.app[STATE].clock()


def route_of(request: web.Request) -> Route | None:
    return request.get(ROUTE)


async def optional_session(request: web.Request) -> ActiveSession | None:
    """The request's session, looked up once. Routes that are not public have it already; a public
    handler that cares (the sign-in page) calls this."""
    if not request.get(_RESOLVED):
        request[_RESOLVED] = True
        token = request.cookies.get(state(request).config.cookie_name)
        found = await services(request).sessions.resolve(token, now(request))
        if found is not None:
            request[SESSION] = found
    return request.get(SESSION)


def session(request: web.Request) -> ActiveSession:
    if SESSION not in request:
        raise ApiError(401, "unauthenticated", "Bạn chưa đăng nhập / not signed in")
    return request[SESSION]


def principal(request: web.Request) -> Principal:
    """The signed-in person. On a route that is not public the middleware has made sure there is one."""
    return session(request).principal


def client_address(request: web.Request) -> str:
    if state(request).config.trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "")
        # The last entry is the one our own proxy added; earlier ones are whatever the client claimed.
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last[:64]
    return (request.remote or "")[:64]


def is_secure(request: web.Request) -> bool:
    if request.secure:
        return True
    if state(request).config.trust_forwarded:
        return request.headers.get("X-Forwarded-Proto", "").lower() == "https"
    return False


async def audit(
    request: web.Request,
    action: str,
    *,
    ticket_id: int | None = None,
    recording_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Record `action` by the signed-in person, from this request's address, in its own transaction."""
    await services(request).audit.record(
        principal(request),
        action,
        ticket_id=ticket_id,
        recording_id=recording_id,
        detail=detail,
        remote=client_address(request),
    )
