"""Users: consistency of role and scope, the last admin, sessions ended by changes, argon2 rehash."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.domain.access import Role
from callcenter.services.errors import Conflict, InvalidInput
from callcenter.services.users import UserInput, UserService, UserUpdate
from callcenter.storage.models import UserRow
from tests.web.conftest import PASSWORD, PEOPLE, Web, cheap_hasher, login


async def _hash_of(web: Web, username: str) -> str:
    async with AsyncSession(web.app.engine) as session:
        return (
            await session.execute(select(UserRow.password_hash).where(UserRow.username == username))
        ).scalar_one()


async def test_passwords_are_argon2id_hashes(web_app: Web) -> None:
    stored = await _hash_of(web_app, "quantri")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_scope_must_fit_the_role(web_app: Web) -> None:
    users, now = web_app.users, web_app.clock()
    cases = [
        (UserInput("a-1", Role.ADMIN, province="Thanh Hóa"), "province"),
        (UserInput("a-2", Role.AUDITOR, facility_code="BVDK-TH"), "facility_code"),
        (UserInput("s-1", Role.SUPERVISOR), "province"),
        (UserInput("s-2", Role.SUPERVISOR, province="Nghệ An"), "province"),  # no facility there
        (UserInput("s-3", Role.SUPERVISOR, province="Thanh Hóa", facility_code="BVDK-TH"), "facility_code"),
        (UserInput("f-1", Role.FACILITY_OFFICER), "facility_code"),
        (UserInput("f-2", Role.FACILITY_OFFICER, facility_code="BVDK-TH", province="Thanh Hóa"), "province"),
        (UserInput("f-3", Role.FACILITY_OFFICER, facility_code="BVDK-TH", phone="12ab"), "phone"),
        (UserInput("x-1", "truong_phong"), "role"),
        (UserInput("Có dấu", Role.ADMIN), "username"),
    ]
    for data, field in cases:
        with pytest.raises(InvalidInput) as caught:
            await users.create(data, PASSWORD, now)
        assert caught.value.field == field, data
        assert " / " in caught.value.message
    # Names are matched to the registry's spelling.
    sup = await users.create(UserInput("s-4", Role.SUPERVISOR, province="thanh hóa"), PASSWORD, now)
    off = await users.create(UserInput("f-4", Role.FACILITY_OFFICER, facility_code="bvdk-th"), PASSWORD, now)
    assert (sup.province, off.facility_code) == ("Thanh Hóa", "BVDK-TH")


async def test_a_taken_username_is_409_naming_it(web_app: Web) -> None:
    client, csrf = await web_app.signed_in(Role.ADMIN)
    response = await client.post(
        "/api/users",
        json={"username": "GiamSat", "password": PASSWORD, "role": "auditor"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status == 409
    assert (await response.json())["error"] == {
        "code": "conflict",
        "message": "Tên đăng nhập «giamsat» đã có người dùng / username already taken",
        "field": "username",
    }


async def test_admin_creates_lists_changes_and_deactivates_over_the_api(web_app: Web) -> None:
    client, csrf = await web_app.signed_in(Role.ADMIN)
    h = {"X-CSRF-Token": csrf}
    created = await client.post(
        "/api/users",
        json={
            "username": "bacsi.an",
            "password": PASSWORD,
            "role": "facility_officer",
            "facility_code": "BVNHI-TH",
            "full_name": "Nguyễn Văn An",
            "phone": "0912 345 678",
        },
        headers=h,
    )
    assert created.status == 201
    user = await created.json()
    assert user["facility_code"] == "BVNHI-TH" and user["phone"] == "0912345678" and user["active"]

    # A role change clears the scope the new role does not carry, and checks the one it needs.
    moved = await client.patch(
        f"/api/users/{user['id']}", json={"role": "supervisor", "province": "Thanh Hóa"}, headers=h
    )
    assert moved.status == 200
    assert ((await moved.json())["province"], (await moved.json())["facility_code"]) == ("Thanh Hóa", None)
    half = await client.patch(f"/api/users/{user['id']}", json={"role": "facility_officer"}, headers=h)
    assert half.status == 400 and (await half.json())["error"]["field"] == "facility_code"

    officer = await web_app.client()
    await login(officer, "bacsi.an")
    gone = await client.post(f"/api/users/{user['id']}/deactivate", headers=h)
    assert gone.status == 200 and not (await gone.json())["active"]
    assert (await officer.get("/api/me")).status == 401  # signed out at once

    listed = await (await client.get("/api/users?active=false")).json()
    assert [u["username"] for u in listed["users"]] == ["bacsi.an"]
    everyone = await (await client.get("/api/users")).json()
    assert len(everyone["users"]) == len(PEOPLE) + 1


async def test_password_reset_ends_sessions_and_the_new_one_works(web_app: Web) -> None:
    admin, csrf = await web_app.signed_in(Role.ADMIN)
    auditor, _ = await web_app.signed_in(Role.AUDITOR)
    response = await admin.put(
        f"/api/users/{web_app.ids[Role.AUDITOR]}/password",
        json={"password": "mat-khau-moi-2026"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status == 204
    assert (await auditor.get("/api/me")).status == 401
    await login(await web_app.client(), "kiemtra", "mat-khau-moi-2026")


async def test_the_last_admin_stays(web_app: Web) -> None:
    users, now, admin_id = web_app.users, web_app.clock(), web_app.ids[Role.ADMIN]
    with pytest.raises(Conflict) as caught:
        await users.deactivate(admin_id, now)
    assert caught.value.field == "active"
    with pytest.raises(Conflict) as caught:
        await users.update(admin_id, UserUpdate(role=Role.AUDITOR), now)
    assert caught.value.field == "role"
    second = await users.create(UserInput("quantri2", Role.ADMIN), PASSWORD, now)
    await users.deactivate(admin_id, now)
    assert await users.has_active_admin()
    with pytest.raises(Conflict):
        await users.deactivate(second.id, now)


async def test_hashes_are_upgraded_when_the_parameters_change(web_app: Web) -> None:
    before = await _hash_of(web_app, "canbo")
    assert "t=1" in before
    stronger = UserService(web_app.app.uow, cheap_hasher(time_cost=2))
    async with web_app.app.uow() as uow:
        creds = await uow.users.credentials("canbo")
    assert await stronger.verify(creds, "sai-mat-khau-9", web_app.clock()) is None
    assert await _hash_of(web_app, "canbo") == before  # a wrong password changes nothing
    assert await stronger.verify(creds, PASSWORD, web_app.clock()) is not None
    after = await _hash_of(web_app, "canbo")
    assert after != before and "t=2" in after
    async with web_app.app.uow() as uow:
        creds = await uow.users.credentials("canbo")
    assert await stronger.verify(creds, PASSWORD, web_app.clock()) is not None


async def test_user_changes_are_audited_without_their_phone(web_app: Web) -> None:
    client, csrf = await web_app.signed_in(Role.ADMIN)
    await client.post(
        "/api/users",
        json={"username": "dieuduong", "password": PASSWORD, "role": "auditor", "phone": "0987654321"},
        headers={"X-CSRF-Token": csrf},
    )
    entries = (await (await client.get("/api/audit?action=user.create")).json())["entries"]
    mine = [e for e in entries if e["detail"].get("target_username") == "dieuduong"]
    assert (
        len(mine) == 1 and mine[0]["username"] == "quantri" and mine[0]["user_id"] == web_app.ids[Role.ADMIN]
    )
    assert "0987654321" not in str(mine[0])
