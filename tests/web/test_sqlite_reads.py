"""Every signed-in request reads through a unit of work; on SQLite such a read must not leave the shared
group-commit transaction (and BEGIN IMMEDIATE's write lock) open, or another process (`callcenter users
add`, a transcription worker) waits out busy_timeout and fails with "database is locked"."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from callcenter.app import App
from callcenter.storage.db import create_engine, is_sqlite


async def test_a_read_only_unit_releases_the_write_lock(app: App) -> None:
    if not is_sqlite(app.settings.database.url):
        pytest.skip("PostgreSQL units are independent transactions")
    async with app.uow() as uow:
        await uow.users.all()  # a read, no commit: what session lookups do on every request
    other_process = create_engine(app.settings.database.url, busy_timeout_ms=500)
    try:
        started = time.perf_counter()
        async with other_process.begin() as conn:  # BEGIN IMMEDIATE: needs the write lock
            await conn.execute(text("SELECT 1"))
        assert time.perf_counter() - started < 0.4
    finally:
        await other_process.dispose()
