"""The users page for admins (/nguoi-dung): list, add, change a role, reset a password, deactivate after
a confirmation; bad input comes back as a Vietnamese error with nothing changed; every change in the
audit log as the API writes it. Both databases (the app fixtures are parametrised)."""

from __future__ import annotations

from typing import Any

from callcenter.domain.access import Principal, Role
from callcenter.services.ports_people import AuditFilter, User
from tests.web.conftest import PASSWORD, Web, login

NEW = {
    "action": "create",
    "username": "nguyenvana",
    "full_name": "Nguyễn Văn A",
    "role": "supervisor",
    "province": "Thanh Hóa",
    "facility_code": "",
    "phone": "0983 111 222",
    "password": "mat-khau-moi-12345",
}


async def _user(web_app: Web, username: str) -> User:
    return next(u for u in await web_app.users.all() if u.username == username)


async def _audit(web_app: Web, action: str) -> list[dict[str, Any]]:
    """The entries of `action` the admin's page actions wrote."""
    me = Principal(web_app.ids[Role.ADMIN], "quantri", Role.ADMIN)
    entries = await web_app.audit.query(me, AuditFilter(action=action, username="quantri"))
    return [{"username": e.username, "remote": e.remote, **e.detail} for e in entries]


async def test_the_list_shows_every_user_with_role_scope_phone_and_state(web_app: Web) -> None:
    admin, _ = await web_app.signed_in(Role.ADMIN)
    r = await admin.get("/nguoi-dung")
    html = await r.text()
    assert r.status == 200 and '<a href="/nguoi-dung" aria-current="page">Người dùng</a>' in html
    for username in ("quantri", "giamsat", "canbo", "kiemtra"):
        assert f'<tr id="nguoi-dung-{username}">' in html
    assert "Lê Giám Sát" in html and "Giám sát (Sở Y tế)" in html and "Thanh Hóa" in html
    assert "BVDK-TH" in html and html.count("Đang hoạt động") == 4
    # The list only asks before deactivating: no form on it locks an account in one step.
    assert 'value="confirm_deactivate"' in html and 'value="deactivate"' not in html


async def test_an_admin_adds_a_user_who_can_then_sign_in_and_it_is_audited(web_app: Web) -> None:
    admin, csrf = await web_app.signed_in(Role.ADMIN)
    r = await admin.post("/nguoi-dung", data={"csrf_token": csrf, **NEW}, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/nguoi-dung?da_luu=create", await r.text()
    page = await (await admin.get(r.headers["Location"])).text()
    assert "Đã thêm người dùng." in page and '<tr id="nguoi-dung-nguyenvana">' in page
    assert "0983111222" in page  # the phone, normalised, shown to the admin
    made = await _user(web_app, "nguyenvana")
    assert made.role is Role.SUPERVISOR and made.province == "Thanh Hóa" and made.full_name == "Nguyễn Văn A"
    await login(await web_app.client(), "nguyenvana", NEW["password"])
    [entry] = await _audit(web_app, "user.create")
    assert entry["username"] == "quantri" and entry["target_username"] == "nguyenvana"
    assert entry["role"] == "supervisor" and entry["remote"] == "127.0.0.1" and "via" not in entry
    assert "0983111222" not in str(entry) and NEW["password"] not in str(entry)


async def test_bad_input_comes_back_as_a_vietnamese_error_and_changes_nothing(web_app: Web) -> None:
    admin, csrf = await web_app.signed_in(Role.ADMIN)
    before = await web_app.users.all()
    for bad, message in (
        ({"password": "ngan"}, "Mật khẩu phải có ít nhất 10 ký tự"),
        ({"username": "A b"}, "Tên đăng nhập: 3–64 ký tự"),
        ({"province": ""}, "Giám sát viên phải có tỉnh/thành phụ trách"),
        ({"role": "facility_officer", "province": "", "facility_code": "KHONG-CO"}, "Không có cơ sở mã"),
        ({"phone": "12ab"}, "invalid phone number"),
        ({"role": "chief"}, "Vai trò không hợp lệ"),
    ):
        r = await admin.post("/nguoi-dung", data={"csrf_token": csrf, **NEW, **bad})
        html = await r.text()
        assert r.status == 400 and '<p class="error" role="alert">' in html and message in html, (bad, html)
        assert NEW["password"] not in html  # the form keeps what was typed, never the password
        assert 'value="Nguyễn Văn A"' in html
    taken = await admin.post("/nguoi-dung", data={"csrf_token": csrf, **NEW, "username": "giamsat"})
    assert taken.status == 409 and "đã có người dùng" in await taken.text()
    assert await web_app.users.all() == before
    assert await _audit(web_app, "user.create") == []
    unknown = await admin.post("/nguoi-dung", data={"csrf_token": csrf, "action": "xoa"})
    assert unknown.status == 400 and "Thao tác không hợp lệ" in await unknown.text()


async def test_changing_a_role_and_resetting_a_password(web_app: Web) -> None:
    admin, csrf = await web_app.signed_in(Role.ADMIN)
    officer = web_app.ids[Role.FACILITY_OFFICER]
    officer_browser, _ = await web_app.signed_in(Role.FACILITY_OFFICER)
    # To supervisor without a province: refused, nothing changed.
    form = {"csrf_token": csrf, "action": "role", "user_id": str(officer), "role": "supervisor"}
    r = await admin.post("/nguoi-dung", data={**form, "province": "", "facility_code": "BVDK-TH"})
    assert r.status == 400 and "Chỉ cán bộ cơ sở mới gắn với một cơ sở" in await r.text()
    assert (await web_app.users.get(officer)).role is Role.FACILITY_OFFICER
    r = await admin.post(
        "/nguoi-dung", data={**form, "province": "Thanh Hóa", "facility_code": ""}, allow_redirects=False
    )
    assert r.status == 303 and r.headers["Location"] == "/nguoi-dung?da_luu=role"
    changed = await web_app.users.get(officer)
    assert (
        changed.role is Role.SUPERVISOR and changed.province == "Thanh Hóa" and changed.facility_code is None
    )
    [update] = await _audit(web_app, "user.update")
    assert update["target_username"] == "canbo" and sorted(update["fields"]) == [
        "facility_code",
        "province",
        "role",
    ]
    # A password reset: too short is refused; a good one signs the person out and replaces the old.
    pw = {"csrf_token": csrf, "action": "password", "user_id": str(officer)}
    short = await admin.post("/nguoi-dung", data={**pw, "password": "ngan"})
    assert short.status == 400 and "ít nhất 10 ký tự" in await short.text()
    assert await _audit(web_app, "user.password") == []
    r = await admin.post("/nguoi-dung", data={**pw, "password": "mat-khau-dat-lai-9"}, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/nguoi-dung?da_luu=password"
    assert (await officer_browser.get("/api/me")).status == 401
    bad_old = await (await web_app.client()).post(
        "/api/session", json={"username": "canbo", "password": PASSWORD}
    )
    assert bad_old.status == 401
    await login(await web_app.client(), "canbo", "mat-khau-dat-lai-9")
    [reset] = await _audit(web_app, "user.password")
    assert reset["username"] == "quantri" and reset["target_username"] == "canbo"
    missing = await admin.post("/nguoi-dung", data={**pw, "user_id": "99999", "password": "x" * 12})
    assert missing.status == 404 and "Không có người dùng số 99999" in await missing.text()


async def test_deactivating_needs_the_confirm_step(web_app: Web) -> None:
    admin, csrf = await web_app.signed_in(Role.ADMIN)
    auditor = web_app.ids[Role.AUDITOR]
    auditor_browser, _ = await web_app.signed_in(Role.AUDITOR)
    form = {"csrf_token": csrf, "user_id": str(auditor)}
    # The list's button only asks, naming the person, with a second button that locks.
    asked = await admin.post("/nguoi-dung", data={**form, "action": "confirm_deactivate"})
    html = await asked.text()
    assert asked.status == 200 and "Khoá tài khoản «kiemtra»?" in html and "Phạm Kiểm Tra" in html
    assert 'value="deactivate"' in html and "Khoá hẳn" in html and "Huỷ, không khoá" in html
    assert (await web_app.users.get(auditor)).active  # nothing locked yet
    assert (await auditor_browser.get("/api/me")).status == 200
    assert await _audit(web_app, "user.deactivate") == []
    # The second button locks: signed out everywhere, shown as locked, audited.
    r = await admin.post("/nguoi-dung", data={**form, "action": "deactivate"}, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/nguoi-dung?da_luu=deactivate"
    assert not (await web_app.users.get(auditor)).active
    assert (await auditor_browser.get("/api/me")).status == 401
    page = await (await admin.get(r.headers["Location"])).text()
    assert "Đã khoá tài khoản" in page and "Đã khoá</td>" in page
    [entry] = await _audit(web_app, "user.deactivate")
    assert entry["username"] == "quantri" and entry["target_username"] == "kiemtra"
    # Asking again about a locked account, or locking the last admin: a clear error, nothing changed.
    again = await admin.post("/nguoi-dung", data={**form, "action": "confirm_deactivate"})
    assert again.status == 400 and "đã bị khoá" in await again.text()
    last = {"csrf_token": csrf, "user_id": str(web_app.ids[Role.ADMIN]), "action": "deactivate"}
    refused = await admin.post("/nguoi-dung", data=last)
    assert refused.status == 409 and "quản trị viên cuối cùng" in await refused.text()
    assert (await web_app.users.get(web_app.ids[Role.ADMIN])).active
    # A locked account is reopened in one step (nothing is lost by it), audited; the old password works.
    assert 'value="reactivate"' in page
    r = await admin.post("/nguoi-dung", data={**form, "action": "reactivate"}, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/nguoi-dung?da_luu=reactivate"
    assert (await web_app.users.get(auditor)).active
    assert "Đã mở lại tài khoản" in await (await admin.get(r.headers["Location"])).text()
    [entry] = await _audit(web_app, "user.update")
    assert entry["target_username"] == "kiemtra"
    await login(await web_app.client(), "kiemtra")


async def test_only_admins_open_the_page_or_post_its_forms(web_app: Web) -> None:
    target = str(web_app.ids[Role.AUDITOR])
    for role in (Role.SUPERVISOR, Role.FACILITY_OFFICER, Role.AUDITOR):
        client, csrf = await web_app.signed_in(role)
        assert (await client.get("/nguoi-dung")).status == 403, role
        data = {"csrf_token": csrf, "action": "deactivate", "user_id": target}
        assert (await client.post("/nguoi-dung", data=data)).status == 403, role
        menu = await (await client.get("/")).text()
        assert 'href="/nguoi-dung"' not in menu, role
    assert (await web_app.users.get(web_app.ids[Role.AUDITOR])).active
    anonymous = await web_app.client()
    r = await anonymous.get("/nguoi-dung", allow_redirects=False)
    assert r.status == 303 and r.headers["Location"].startswith("/dang-nhap?next=")
