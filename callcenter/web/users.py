"""The users admin API (admins only, by the route table): list, read, create, change, deactivate."""

from __future__ import annotations

from aiohttp import web

from callcenter.services.users import KEEP, UserInput, UserUpdate
from callcenter.web.context import client_address, now, principal, services
from callcenter.web.io import json_response, parse_body, parse_query
from callcenter.web.schemas import PasswordIn, UserCreateIn, UserOut, UserPatchIn, UsersOut, UsersQuery


def _user_id(request: web.Request) -> int:
    return int(request.match_info["user_id"])  # the route's pattern is \d+


async def list_users(request: web.Request) -> web.StreamResponse:
    query = parse_query(request, UsersQuery)
    users = await services(request).users.all()
    if query.active is not None:
        users = [u for u in users if u.active is query.active]
    return json_response(UsersOut(users=[UserOut.of(u) for u in users]))


async def get_user(request: web.Request) -> web.StreamResponse:
    return json_response(UserOut.of(await services(request).users.get(_user_id(request))))


async def create_user(request: web.Request) -> web.StreamResponse:
    body = await parse_body(request, UserCreateIn)
    user = await services(request).users.create(
        UserInput(
            username=body.username,
            role=body.role,
            full_name=body.full_name,
            province=body.province,
            facility_code=body.facility_code,
            phone=body.phone,
        ),
        body.password,
        now(request),
        actor=principal(request),
        remote=client_address(request),
    )
    return json_response(UserOut.of(user), status=201)


async def update_user(request: web.Request) -> web.StreamResponse:
    body = await parse_body(request, UserPatchIn)
    sent = body.model_fields_set
    # A field left out is kept; a field sent as null clears it (only the optional ones can be null).
    changes = UserUpdate(
        full_name=(body.full_name or "") if "full_name" in sent else KEEP,
        role=body.role if "role" in sent and body.role is not None else KEEP,
        province=body.province if "province" in sent else KEEP,
        facility_code=body.facility_code if "facility_code" in sent else KEEP,
        phone=body.phone if "phone" in sent else KEEP,
        active=body.active if "active" in sent and body.active is not None else KEEP,
    )
    user = await services(request).users.update(
        _user_id(request), changes, now(request), actor=principal(request), remote=client_address(request)
    )
    return json_response(UserOut.of(user))


async def deactivate_user(request: web.Request) -> web.StreamResponse:
    user = await services(request).users.deactivate(
        _user_id(request), now(request), actor=principal(request), remote=client_address(request)
    )
    return json_response(UserOut.of(user))


async def set_password(request: web.Request) -> web.StreamResponse:
    body = await parse_body(request, PasswordIn)
    await services(request).users.set_password(
        _user_id(request),
        body.password,
        now(request),
        actor=principal(request),
        remote=client_address(request),
    )
    return web.Response(status=204)
