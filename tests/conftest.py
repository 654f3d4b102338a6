"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, a fixed clock, the wired app."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callcenter.app import App, build_app, load_sample_data
from callcenter.settings import Settings, load_settings
from callcenter.storage import migrate

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# PostgreSQL runs on every machine here; CI sets CALLCENTER_TEST_POSTGRES=required so a missing server
# fails the run instead of silently skipping half the suite.
PG_ADMIN_DSN = os.environ.get("CALLCENTER_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
# One database per test run: runs side by side (CI and a developer, two terminals) must not drop each
# other's database.
PG_DB = os.environ.get("CALLCENTER_TEST_PG_DB", f"callcenter_test_{os.getpid()}")


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    # A Monday night, 23:40 local: the duty officer is on the night turn.
    return FakeClock(datetime(2026, 11, 23, 23, 40, tzinfo=TZ).astimezone(UTC))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def _pg_drop() -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
    finally:
        await conn.close()


async def _pg_reset() -> str | None:
    try:
        import asyncpg
    except ImportError:
        return "asyncpg not installed"
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}"
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{PG_DB}"')
    finally:
        await conn.close()
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    problem = asyncio.run(_pg_reset())
    if problem:
        if os.environ.get("CALLCENTER_TEST_POSTGRES") == "required":
            pytest.fail(problem)
        pytest.skip(problem)
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{PG_DB}"
    migrate.upgrade(url)
    yield url
    asyncio.run(_pg_drop())


async def _pg_truncate(url: str) -> None:
    from sqlalchemy import text

    from callcenter.storage.db import create_engine
    from callcenter.storage.models import Base

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "callcenter.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        asyncio.run(_pg_truncate(url))
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    return load_settings(
        REPO / "config" / "callcenter.toml",
        database={"url": database_url},
        recordings={"dir": str(recordings)},
        sample_dir=str(REPO / "config" / "sample"),
        journal_dir=str(tmp_path / "journal"),
        load_sample_data=False,
        agi={"port": 0},
        http={"port": 0},
    )


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    application = build_app(settings, clock)
    try:
        yield application
    finally:
        await application.close()


@pytest.fixture
async def sample_app(app: App, clock: FakeClock) -> App:
    """The app with the sample facilities and roster loaded."""
    await load_sample_data(app, clock())
    return app


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A settings file for the command line: SQLite in tmp_path, the sample data, no speech engine; and
    no CALLCENTER_* variable from the environment leaking in."""
    for key in [k for k in os.environ if k.startswith("CALLCENTER_")]:
        monkeypatch.delenv(key)
    path = tmp_path / "cc.toml"
    path.write_text(
        f"""
load_sample_data = true
sample_dir = "{REPO / "config" / "sample"}"
journal_dir = "{tmp_path / "journal"}"
[database]
url = "sqlite+aiosqlite:///{tmp_path / "cli.db"}"
[recordings]
dir = "{tmp_path}"
[transcription]
engine = "none"
""",
        encoding="utf-8",
    )
    return str(path)
