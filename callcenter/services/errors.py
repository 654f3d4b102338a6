"""Errors the services raise for the adapters to translate (the web into 4xx, the CLI into exit 2).

Messages are Vietnamese first, then English after " / ": they reach supervisors and operators as is.
"""

from __future__ import annotations


class ServiceError(Exception):
    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(ServiceError):
    """A value the caller gave is wrong; `field` names it."""

    code = "invalid"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    """The request is well formed but clashes with the stored state (a taken username, the last admin)."""

    code = "conflict"


class PermissionDenied(ServiceError):
    code = "forbidden"


class BadCredentials(ServiceError):
    code = "bad_credentials"


class RateLimited(ServiceError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
