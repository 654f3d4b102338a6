"""Every request passes, outermost first: request context -> errors -> authentication -> CSRF.

Security headers are added in `on_response_prepare`, so they reach every response, including redirects
and the errors aiohttp itself raises.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
import time
from urllib.parse import quote

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from callcenter.services.errors import ServiceError
from callcenter.web.context import REQUEST_ID, ROUTE, SESSION, is_secure, optional_session, state
from callcenter.web.errors import ApiError, from_http, from_service
from callcenter.web.io import error_json
from callcenter.web.render import render
from callcenter.web.routing import Kind

log = structlog.get_logger(__name__)

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LOGIN_PATH = "/dang-nhap"
# No inline script or style anywhere: the pages load /static files only, so 'self' is the whole policy.
CSP = (
    "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'; "
    "img-src 'self' data:; media-src 'self'"
)
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


def middlewares() -> list[Middleware]:
    return [request_context, errors, authenticate, csrf]


def kind_of(request: web.Request) -> Kind:
    if ROUTE in request:
        return request[ROUTE].kind
    return Kind.API if request.path.startswith("/api/") or request.path in _PROBES else Kind.PAGE


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request id on the log context (and the response), and one log line per request."""
    request_id = secrets.token_hex(8)
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    status = 500
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:  # redirects raised by handlers and middleware
            status = exc.status
            raise
        finally:
            sources = state(request).services.metrics
            if sources is not None:
                # The route's name, not the path: ids in paths would make a label value per ticket.
                sources.metrics.http_request(request[ROUTE].name if ROUTE in request else "unmatched", status)
            found = request.get(SESSION)
            # The path only: query strings may carry search words typed from a complaint.
            log.info(
                "http.request",
                method=request.method,
                path=request.path,
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
                user=found.user.username if found else None,
            )


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes the JSON error shape (API) or the error page (pages)."""
    try:
        limit = state(request).config.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            # Refused before anything reads it; aiohttp's own limit covers bodies sent without a length.
            raise ApiError(
                413, "too_large", f"Dữ liệu gửi lên quá lớn (tối đa {limit} byte) / body too large"
            )
        return await handler(request)
    except ApiError as exc:
        return await error_response(request, exc)
    except ServiceError as exc:
        return await error_response(request, from_service(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return await error_response(request, from_http(exc))
    except Exception:
        log.exception("http.unhandled", path=request.path)
        return await error_response(
            request,
            ApiError(
                500,
                "internal",
                f"Lỗi hệ thống; mã yêu cầu {request.get(REQUEST_ID, '')} / internal error",
            ),
        )


async def error_response(request: web.Request, error: ApiError) -> web.StreamResponse:
    if kind_of(request) is Kind.API:
        return error_json(error)
    if error.status < 500:
        # So a signed-in person's 404 page still has the menu; the menu is not worth a second failure.
        with contextlib.suppress(Exception):
            await optional_session(request)
    return render(
        request,
        "error.html",
        {"status": error.status, "message": error.message},
        title=f"Lỗi {error.status}",
        status=error.status,
        headers=error.headers,
    )


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find the table entry of the matched route, and enforce its roles against the session's user."""
    match = request.match_info
    route = None
    if match.http_exception is None and match.route.resource is not None:
        route = state(request).table.find(match.route.method, match.route.resource.canonical)
    if route is None:
        # 404/405: the handler raises. (`create_web_app` registers the table's routes only, so there
        # is no route that matched here without an entry.)
        return await handler(request)
    request[ROUTE] = route
    if route.public:
        return await handler(request)
    found = await optional_session(request)
    if found is None:
        if route.kind is Kind.PAGE:
            raise web.HTTPSeeOther(login_url(request))
        raise ApiError(401, "unauthenticated", "Bạn chưa đăng nhập hoặc phiên đã hết hạn / not signed in")
    if not route.allows(found.user.role):
        raise ApiError(403, "forbidden", "Bạn không có quyền truy cập / your role may not do this")
    with structlog.contextvars.bound_contextvars(user=found.user.username):
        return await handler(request)


def login_url(request: web.Request) -> str:
    target = request.path_qs if request.method == "GET" else "/"
    return f"{LOGIN_PATH}?next={quote(target, safe='/')}"


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A state-changing request on a signed-in route must carry its session's CSRF token, as the
    X-CSRF-Token header (scripts, fetch) or the csrf_token form field (HTML forms). Public
    state-changing routes (sign-in) carry their own check."""
    route = request.get(ROUTE)
    if route is None or route.public or not route.state_changing:
        return await handler(request)
    found = request[SESSION]  # authenticate() let a non-public route through only with one
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in _FORM_TYPES:
        value = (await request.post()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), found.csrf_token.encode()):
        raise ApiError(
            403,
            "csrf",
            "Thiếu hoặc sai mã chống giả mạo (CSRF); hãy tải lại trang / missing or wrong CSRF token",
            field=CSRF_FIELD,
        )
    return await handler(request)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    h = response.headers
    h["Content-Security-Policy"] = CSP
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    # Pages and answers carry personal data: no cache keeps them, unless a handler said otherwise.
    h.setdefault("Cache-Control", "no-store")
    if request.get(REQUEST_ID):
        h["X-Request-ID"] = request[REQUEST_ID]
    if is_secure(request):
        h["Strict-Transport-Security"] = "max-age=31536000"
