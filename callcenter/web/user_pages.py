"""The users page for admins (/nguoi-dung): the list, and forms to add a user, change a role, reset a
password and deactivate an account. No script: every form posts back here and redirects.

Every change goes through `UserService`, as the JSON API's do, so the same rules apply (username,
password length, a supervisor's province, a facility officer's facility, never the last admin) and the
same audit entries are written (user.create, user.update, user.password, user.deactivate), with the
admin and their address. Deactivating asks first: the list's button brings the page back with the person
named and a second button that locks the account, so one slip locks nobody out.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from callcenter.domain.access import ROLE_LABELS_VI
from callcenter.services.errors import InvalidInput, ServiceError
from callcenter.services.ports_people import User
from callcenter.services.users import MIN_PASSWORD, UserInput, UserUpdate
from callcenter.web.context import client_address, now, principal, services
from callcenter.web.errors import ApiError, from_service
from callcenter.web.render import render
from callcenter.web.ticket_pages import _form_text

PATH = "/nguoi-dung"
# The add form's fields kept when the page comes back with an error (never the password).
_KEPT = ("username", "full_name", "role", "province", "facility_code", "phone")
NOTICES = {
    "create": "Đã thêm người dùng.",
    "role": "Đã đổi vai trò.",
    "password": "Đã đặt lại mật khẩu; người này phải đăng nhập lại bằng mật khẩu mới.",
    "deactivate": "Đã khoá tài khoản; người này đã bị đăng xuất ở mọi nơi.",
    "reactivate": "Đã mở lại tài khoản; người này đăng nhập bằng mật khẩu cũ (hoặc đặt lại mật khẩu).",
}


def _optional(form: Any, name: str) -> str | None:
    return _form_text(form, name).strip() or None


def _user_id(form: Any) -> int:
    raw = _form_text(form, "user_id").strip()
    if not raw.isdigit():
        raise InvalidInput("Không tìm thấy người dùng / no such user", field="user_id")
    return int(raw)


async def _render(
    request: web.Request,
    *,
    error: ApiError | None = None,
    notice: str | None = None,
    confirm: User | None = None,
    form: dict[str, str] | None = None,
    open_id: int | None = None,
) -> web.Response:
    users = sorted(await services(request).users.all(), key=lambda u: (not u.active, u.username))
    facilities = await services(request).facilities.list()
    return render(
        request,
        "users.html",
        {
            "users": users,
            "roles": list(ROLE_LABELS_VI.items()),
            "role_label": lambda role: ROLE_LABELS_VI[role],
            "provinces": sorted({f.province for f in facilities}),
            "facilities": sorted(facilities, key=lambda f: f.code),
            "error": error,
            "notice": notice,
            "confirm": confirm,
            "new": form or {},
            "open_id": open_id,
            "min_password": MIN_PASSWORD,
            "path": PATH,
        },
        title="Người dùng",
        status=error.status if error else 200,
    )


async def users_page(request: web.Request) -> web.StreamResponse:
    return await _render(request, notice=NOTICES.get(request.query.get("da_luu", "")))


async def users_submit(request: web.Request) -> web.StreamResponse:
    """The page's forms; `action` says which. A refused change leaves everything as it was."""
    form = await request.post()
    action = _form_text(form, "action")
    svc, at, who, remote = services(request).users, now(request), principal(request), client_address(request)
    open_id: int | None = None
    try:
        match action:
            case "create":
                await svc.create(
                    UserInput(
                        username=_form_text(form, "username"),
                        role=_form_text(form, "role"),
                        full_name=_form_text(form, "full_name"),
                        province=_optional(form, "province"),
                        facility_code=_optional(form, "facility_code"),
                        phone=_optional(form, "phone"),
                    ),
                    _form_text(form, "password"),
                    at,
                    actor=who,
                    remote=remote,
                )
            case "role":
                open_id = _user_id(form)
                # The scope fields go with the role: the service clears or checks them for it.
                changes = UserUpdate(
                    role=_form_text(form, "role"),
                    province=_optional(form, "province"),
                    facility_code=_optional(form, "facility_code"),
                )
                await svc.update(open_id, changes, at, actor=who, remote=remote)
            case "password":
                open_id = _user_id(form)
                await svc.set_password(open_id, _form_text(form, "password"), at, actor=who, remote=remote)
            case "confirm_deactivate":
                # Only asks: the page comes back naming the person, with the button that locks.
                target = await svc.get(_user_id(form))
                if not target.active:
                    raise InvalidInput("Tài khoản này đã bị khoá / already deactivated", field="user_id")
                return await _render(request, confirm=target)
            case "deactivate":
                await svc.deactivate(_user_id(form), at, actor=who, remote=remote)
            case "reactivate":
                # Reopening is not destructive: no confirmation step (the UserService audits it).
                await svc.update(_user_id(form), UserUpdate(active=True), at, actor=who, remote=remote)
            case _:
                raise InvalidInput("Thao tác không hợp lệ / unknown action", field="action")
    except ServiceError as exc:
        kept = {k: _form_text(form, k) for k in _KEPT} if action == "create" else None
        return await _render(request, error=from_service(exc), form=kept, open_id=open_id)
    # Their own account locked or its password reset: the session has ended, and the page sends them
    # to sign in again.
    raise web.HTTPSeeOther(f"{PATH}?da_luu={action}")
