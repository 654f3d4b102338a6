"""THE route table: every URL this service answers, who may call it, and what it is.

To add a route, add one `Route(...)` here (a duplicate method+path or name raises at start-up), write its
handler in a module of this package, and give it an expectation in tests/web/test_authorisation.py (the
test fails for a route that has none). Pages take `nav="…"` to appear in the menu.
"""

from __future__ import annotations

from callcenter.web import audit, auth, health, openapi, pages, users
from callcenter.web.routing import (
    ADMINS,
    AUDIT_READERS,
    PUBLIC,
    SIGNED_IN,
    Kind,
    Route,
    RouteTable,
)
from callcenter.web.schemas import (
    AuditOut,
    AuditQuery,
    HealthOut,
    LoginIn,
    PasswordIn,
    SessionOut,
    UserCreateIn,
    UserOut,
    UserPatchIn,
    UsersOut,
    UsersQuery,
)

PAGE, API = Kind.PAGE, Kind.API
USER = r"/api/users/{user_id:\d+}"


def route_table() -> RouteTable:
    return RouteTable(
        [
            # ---- pages
            Route(
                method="GET",
                path="/",
                handler=auth.home_page,
                name="home",
                roles=SIGNED_IN,
                kind=PAGE,
                summary="Trang chủ / home",
                nav="Trang chủ",
            ),
            Route(
                method="GET",
                path="/dang-nhap",
                handler=auth.login_page,
                name="login_page",
                roles=PUBLIC,
                kind=PAGE,
                summary="Trang đăng nhập / sign-in page",
            ),
            Route(
                method="POST",
                path="/dang-nhap",
                handler=auth.login_submit,
                name="login_submit",
                roles=PUBLIC,
                kind=PAGE,
                summary="Gửi biểu mẫu đăng nhập / sign-in form",
            ),
            Route(
                method="POST",
                path="/dang-xuat",
                handler=auth.logout_submit,
                name="logout_submit",
                roles=SIGNED_IN,
                kind=PAGE,
                summary="Đăng xuất / sign out",
            ),
            Route(
                method="GET",
                path="/static/{name}",
                handler=pages.static_file,
                name="static",
                roles=PUBLIC,
                kind=PAGE,
                summary="Tệp tĩnh (CSS) / static files",
            ),
            # ---- API: service
            Route(
                method="GET",
                path="/healthz",
                handler=health.healthz,
                name="healthz",
                roles=PUBLIC,
                kind=API,
                summary="Tình trạng dịch vụ và cơ sở dữ liệu / health",
                response=HealthOut,
                errors=(503,),
            ),
            Route(
                method="GET",
                path="/api/openapi.json",
                handler=openapi.openapi_json,
                name="openapi",
                roles=PUBLIC,
                kind=API,
                summary="Tài liệu API (OpenAPI 3.1) / this document",
            ),
            # ---- API: session
            Route(
                method="POST",
                path="/api/session",
                handler=auth.api_login,
                name="session_create",
                roles=PUBLIC,
                kind=API,
                summary="Đăng nhập; đặt cookie phiên / sign in, sets the session cookie",
                body=LoginIn,
                response=SessionOut,
                status=201,
                errors=(401, 429),
            ),
            Route(
                method="DELETE",
                path="/api/session",
                handler=auth.api_logout,
                name="session_delete",
                roles=SIGNED_IN,
                kind=API,
                summary="Đăng xuất / sign out",
                status=204,
            ),
            Route(
                method="GET",
                path="/api/me",
                handler=auth.api_me,
                name="me",
                roles=SIGNED_IN,
                kind=API,
                summary="Người đang đăng nhập và mã CSRF / the signed-in user and CSRF token",
                response=SessionOut,
            ),
            # ---- API: users (admins)
            Route(
                method="GET",
                path="/api/users",
                handler=users.list_users,
                name="users_list",
                roles=ADMINS,
                kind=API,
                summary="Danh sách người dùng / list users",
                query=UsersQuery,
                response=UsersOut,
            ),
            Route(
                method="POST",
                path="/api/users",
                handler=users.create_user,
                name="users_create",
                roles=ADMINS,
                kind=API,
                summary="Tạo người dùng / create a user",
                body=UserCreateIn,
                response=UserOut,
                status=201,
                errors=(409,),
            ),
            Route(
                method="GET",
                path=USER,
                handler=users.get_user,
                name="users_get",
                roles=ADMINS,
                kind=API,
                summary="Một người dùng / one user",
                response=UserOut,
            ),
            Route(
                method="PATCH",
                path=USER,
                handler=users.update_user,
                name="users_update",
                roles=ADMINS,
                kind=API,
                summary="Sửa vai trò, phạm vi, họ tên / change role, scope, name",
                body=UserPatchIn,
                response=UserOut,
                errors=(409,),
            ),
            Route(
                method="POST",
                path=USER + "/deactivate",
                handler=users.deactivate_user,
                name="users_deactivate",
                roles=ADMINS,
                kind=API,
                summary="Khóa tài khoản (đăng xuất mọi nơi) / deactivate, ending their sessions",
                response=UserOut,
                errors=(409,),
            ),
            Route(
                method="PUT",
                path=USER + "/password",
                handler=users.set_password,
                name="users_password",
                roles=ADMINS,
                kind=API,
                summary="Đặt lại mật khẩu (đăng xuất mọi nơi) / reset a password, ending their sessions",
                body=PasswordIn,
                status=204,
            ),
            # ---- API: audit log
            Route(
                method="GET",
                path="/api/audit",
                handler=audit.query_audit,
                name="audit_query",
                roles=AUDIT_READERS,
                kind=API,
                summary="Nhật ký truy cập (mới nhất trước) / audit log, newest first",
                query=AuditQuery,
                response=AuditOut,
            ),
        ]
    )
