"""Reading requests and writing JSON: bodies and queries through pydantic models, errors naming fields."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from callcenter.web.errors import ApiError, from_validation

M = TypeVar("M", bound=BaseModel)


class StrictBody(BaseModel):
    """Base for JSON request bodies: a string where a number belongs (or the reverse) is a 400, not a
    silent conversion, and an unknown field is a 400 rather than ignored (a typo must not vanish)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QueryParams(BaseModel):
    """Base for query strings: values arrive as text, so they are converted; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


async def parse_body(request: web.Request, model: type[M]) -> M:
    # A JSON content type is what keeps a cross-site HTML form from posting here at all (it would need
    # a CORS preflight we never grant), on top of the CSRF token.
    if request.content_type != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            "Dữ liệu phải là JSON (Content-Type: application/json) / body must be JSON",
        )
    raw = await request.read()  # raises 413 past client_max_size
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise from_validation(exc) from None


def parse_query(request: web.Request, model: type[M]) -> M:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise from_validation(exc) from None


def json_response(data: BaseModel | dict[str, Any] | list[Any], *, status: int = 200) -> web.Response:
    if isinstance(data, BaseModel):
        text = data.model_dump_json()
    else:
        text = json.dumps(data, ensure_ascii=False, default=str)
    return web.Response(text=text, status=status, content_type="application/json", charset="utf-8")


def error_json(error: ApiError) -> web.Response:
    response = json_response(error.body(), status=error.status)
    response.headers.update(error.headers)
    return response
