"""HTTP errors as one JSON shape: {"error": {"code", "message", "field"}} (messages Vietnamese first)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from callcenter.services.errors import (
    BadCredentials,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceError,
)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


_SERVICE_STATUS: dict[type[ServiceError], int] = {
    InvalidInput: 400,
    BadCredentials: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
}

_HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Yêu cầu không hợp lệ / bad request"),
    401: ("unauthenticated", "Bạn chưa đăng nhập hoặc phiên đã hết hạn / not signed in"),
    403: ("forbidden", "Bạn không có quyền truy cập trang này / not allowed"),
    404: ("not_found", "Không tìm thấy / not found"),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ / method not allowed"),
    413: ("too_large", "Dữ liệu gửi lên quá lớn / request body too large"),
    415: ("unsupported_media_type", "Kiểu dữ liệu không được hỗ trợ / unsupported media type"),
}


def from_service(exc: ServiceError) -> ApiError:
    status = next((s for cls, s in _SERVICE_STATUS.items() if isinstance(exc, cls)), 400)
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, RateLimited) else None
    return ApiError(status, exc.code, exc.message, field=exc.field, headers=headers)


def from_http(exc: web.HTTPException) -> ApiError:
    code, message = _HTTP_MESSAGES.get(exc.status, ("http_error", exc.reason))
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    return ApiError(exc.status, code, message, headers=headers)


# pydantic error type -> Vietnamese / English, formatted with the error's ctx.
_PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": "Thiếu trường bắt buộc / field required",
    "extra_forbidden": "Trường không được chấp nhận / unknown field",
    "string_type": "Phải là chuỗi ký tự / must be a string",
    "int_type": "Phải là số nguyên / must be an integer",
    "int_parsing": "Phải là số nguyên / must be an integer",
    "int_from_float": "Phải là số nguyên / must be an integer",
    "bool_type": "Phải là true hoặc false / must be a boolean",
    "bool_parsing": "Phải là true hoặc false / must be a boolean",
    "enum": "Giá trị không hợp lệ; chấp nhận: {expected} / must be one of {expected}",
    "literal_error": "Giá trị không hợp lệ; chấp nhận: {expected} / must be one of {expected}",
    "string_too_short": "Phải có ít nhất {min_length} ký tự / at least {min_length} characters",
    "string_too_long": "Tối đa {max_length} ký tự / at most {max_length} characters",
    "greater_than_equal": "Phải lớn hơn hoặc bằng {ge} / must be >= {ge}",
    "less_than_equal": "Phải nhỏ hơn hoặc bằng {le} / must be <= {le}",
    "datetime_type": "Phải là thời điểm ISO 8601 / must be an ISO 8601 date-time",
    "datetime_parsing": "Phải là thời điểm ISO 8601 / must be an ISO 8601 date-time",
    "datetime_from_date_parsing": "Phải là thời điểm ISO 8601 / must be an ISO 8601 date-time",
    "timezone_aware": "Thời điểm phải có múi giờ, ví dụ +07:00 / must carry a UTC offset",
    "json_invalid": "JSON không hợp lệ / invalid JSON",
    "model_type": "Phải là một đối tượng JSON / must be a JSON object",
    "model_attributes_type": "Phải là một đối tượng JSON / must be a JSON object",
    "dict_type": "Phải là một đối tượng JSON / must be a JSON object",
}


def from_validation(exc: ValidationError) -> ApiError:
    """The first problem, naming its field ("role", "items.0.name"); enough to fix a form field by field."""
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    template = _PYDANTIC_MESSAGES.get(first["type"])
    try:
        message = template.format(**first.get("ctx", {})) if template else None
    except (KeyError, IndexError):
        message = None
    if message is None:
        message = f"Giá trị không hợp lệ / invalid value: {first['msg']}"
    code = "invalid_json" if first["type"] == "json_invalid" else "invalid"
    return ApiError(400, code, message, field=field)
