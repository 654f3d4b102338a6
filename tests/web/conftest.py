"""A running web app over the real services and database (SQLite and PostgreSQL, from tests/conftest.py),
with cheap argon2 parameters so that signing in a dozen times stays fast, and one user per role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

from callcenter.app import App
from callcenter.domain.access import Role
from callcenter.services.audit import AuditService
from callcenter.services.outbound import OutboundService
from callcenter.services.reports import ReportService
from callcenter.services.sessions import SessionPolicy, SessionService
from callcenter.services.users import UserInput, UserService
from callcenter.web.context import WebConfig, WebServices
from callcenter.web.routing import RouteTable
from callcenter.web.server import create_web_app
from tests.conftest import FakeClock

PASSWORD = "mat-khau-du-dai-1"
# One user per role; the supervisor and the officer belong to the sample facilities.
PEOPLE: dict[Role, UserInput] = {
    Role.ADMIN: UserInput("quantri", Role.ADMIN, "Quản Trị Viên"),
    Role.SUPERVISOR: UserInput("giamsat", Role.SUPERVISOR, "Lê Giám Sát", province="Thanh Hóa"),
    Role.FACILITY_OFFICER: UserInput("canbo", Role.FACILITY_OFFICER, "Trần Cán Bộ", facility_code="BVDK-TH"),
    Role.AUDITOR: UserInput("kiemtra", Role.AUDITOR, "Phạm Kiểm Tra"),
}


def cheap_hasher(time_cost: int = 1) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=8, parallelism=1)


@dataclass
class Web:
    app: App
    clock: FakeClock
    users: UserService
    sessions: SessionService
    audit: AuditService
    server: TestServer
    config: WebConfig
    ids: dict[Role, int] = field(default_factory=dict)
    _clients: list[TestClient[web.Request, web.Application]] = field(default_factory=list)

    async def client(self) -> TestClient[web.Request, web.Application]:
        """A browser of its own (its own cookie jar)."""
        client: TestClient[web.Request, web.Application] = TestClient(self.server)
        await client.start_server()
        self._clients.append(client)
        return client

    async def signed_in(self, role: Role) -> tuple[TestClient[web.Request, web.Application], str]:
        """A browser signed in as that role's user, and its CSRF token."""
        client = await self.client()
        csrf = await login(client, PEOPLE[role].username)
        return client, csrf

    async def close(self) -> None:
        for client in self._clients:
            await client.close()
        await self.server.close()


async def login(
    client: TestClient[web.Request, web.Application], username: str, password: str = PASSWORD
) -> str:
    response = await client.post("/api/session", json={"username": username, "password": password})
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    token: str = body["csrf_token"]
    return token


WebFactory = Callable[..., Awaitable[Web]]


@pytest.fixture
async def make_web(sample_app: App, clock: FakeClock) -> AsyncIterator[WebFactory]:
    """Build (and later close) web apps over the same database; a second one is a restarted process."""
    made: list[Web] = []

    async def make(
        config: WebConfig | None = None,
        policy: SessionPolicy | None = None,
        hasher: PasswordHasher | None = None,
        create_people: bool = True,
        table: RouteTable | None = None,
        outbound: OutboundService | None = None,
    ) -> Web:
        config = config or WebConfig()
        users = UserService(sample_app.uow, hasher or cheap_hasher())
        sessions = SessionService(
            sample_app.uow,
            users,
            policy
            or SessionPolicy(
                idle=timedelta(minutes=60),
                absolute=timedelta(hours=12),
                max_failures_per_user=5,
                max_failures_per_address=8,
                failure_window=timedelta(minutes=15),
            ),
        )
        audit = AuditService(sample_app.uow, clock)

        async def ping() -> None:
            return None

        services = WebServices(
            users,
            sessions,
            audit,
            ping,
            tickets=sample_app.tickets,
            facilities=sample_app.facilities,
            roster=sample_app.roster,
            recordings_dir=Path(sample_app.settings.recordings.dir),
            reports=ReportService(sample_app.uow, sample_app.settings.tz),
            outbound=outbound,
        )
        application = create_web_app(services, clock, config, table)
        server = TestServer(application)
        await server.start_server()
        w = Web(sample_app, clock, users, sessions, audit, server, config)
        made.append(w)
        if create_people and not made[:-1]:
            for role, data in PEOPLE.items():
                w.ids[role] = (await users.create(data, PASSWORD, clock())).id
        elif made[:-1]:
            w.ids = dict(made[0].ids)
        return w

    yield make
    for w in reversed(made):
        await w.close()


@pytest.fixture
async def web_app(make_web: WebFactory) -> Web:
    return await make_web()
