"""/api/openapi.json: OpenAPI 3.1, generated from the route table (its API entries) and their models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from callcenter.web.context import state
from callcenter.web.io import json_response
from callcenter.web.routing import Kind, Route, RouteTable, template
from callcenter.web.schemas import ErrorOut

_ERROR_TEXT = {
    400: "Dữ liệu không hợp lệ; `field` chỉ ra trường sai / invalid input, `field` names it",
    401: "Chưa đăng nhập / not signed in",
    403: "Vai trò không được phép, hoặc thiếu mã CSRF / role not allowed, or CSRF token missing",
    404: "Không tìm thấy / not found",
    409: "Xung đột với dữ liệu hiện có / conflicts with the stored state",
    413: "Dữ liệu quá lớn / body too large",
    415: "Không phải JSON / body is not JSON",
    429: "Quá nhiều lần đăng nhập sai; xem Retry-After / too many failures, see Retry-After",
}


def build_openapi(table: RouteTable, *, title: str, version: str) -> dict[str, Any]:
    api = [r for r in table if r.kind is Kind.API]
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorOut, "serialization")]
    for r in api:
        if r.body is not None:
            wanted.append((r.body, "validation"))
        if r.response is not None:
            wanted.append((r.response, "serialization"))
    refs, top = models_json_schema(list(dict.fromkeys(wanted)), ref_template="#/components/schemas/{model}")
    error_ref = refs[(ErrorOut, "serialization")]

    paths: dict[str, dict[str, Any]] = {}
    for r in api:
        paths.setdefault(template(r.path), {})[r.method.lower()] = _operation(r, refs, error_ref)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "Đăng nhập bằng POST /api/session (cookie phiên, HttpOnly); mọi yêu cầu "
                "POST/PUT/PATCH/DELETE gửi kèm header X-CSRF-Token lấy từ /api/me. "
                "/ Sign in with POST /api/session; send the "
                "X-CSRF-Token from /api/me with every state-changing request."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "cc_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
        },
    }


def _operation(
    r: Route, refs: Mapping[tuple[Any, JsonSchemaMode], Any], error_ref: dict[str, Any]
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": r.name,
        "summary": r.summary,
        "tags": [_tag(r.path)],
        "x-roles": sorted(role.value for role in r.roles) if isinstance(r.roles, frozenset) else "public",
    }
    if r.public:
        op["security"] = []
    else:
        op["security"] = [{"session": [], "csrf": []}] if r.state_changing else [{"session": []}]
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1} if is_int else {"type": "string"},
        }
        for name, is_int in r.path_params()
    ]
    if r.query is not None:
        schema = r.query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            param: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": prop,
            }
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    if params:
        op["parameters"] = params
    if r.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(r.body, "validation")]}},
        }
    success: dict[str, Any] = {"description": "OK"}
    if r.response is not None:
        success["content"] = {"application/json": {"schema": refs[(r.response, "serialization")]}}
    responses: dict[str, Any] = {str(r.status): success}
    for status in _error_statuses(r):
        responses[str(status)] = {
            "description": _ERROR_TEXT.get(status, "Lỗi / error"),
            "content": {"application/json": {"schema": error_ref}},
        }
    op["responses"] = responses
    return op


def _error_statuses(r: Route) -> list[int]:
    statuses: set[int] = set()
    if r.body is not None or r.query is not None:
        statuses.add(400)
    if r.body is not None:
        statuses |= {413, 415}
    if not r.public:
        statuses |= {401, 403}
    if r.path_params():
        statuses.add(404)
    statuses |= set(r.errors)
    return sorted(statuses)


def _tag(path: str) -> str:
    parts = [p for p in path.split("/") if p and p != "api"]
    return parts[0] if parts else "core"


async def openapi_json(request: web.Request) -> web.StreamResponse:
    return json_response(dict(state(request).openapi))
