"""Every signed-in request reads through a unit of work; on SQLite such a read must not leave the shared
group-commit transaction (and BEGIN IMMEDIATE's write lock) open, or another process (`callcenter users
add`, a transcription worker) waits out busy_timeout and fails with "database is locked"."""

from __future__ import annotations

import pytest

from callcenter.app import App
from callcenter.storage.db import is_sqlite
from tests.fakes.other_process import write_lock_is_free


async def test_a_read_only_unit_releases_the_write_lock(app: App) -> None:
    if not is_sqlite(app.settings.database.url):
        pytest.skip("PostgreSQL units are independent transactions")
    async with app.uow() as uow:
        await uow.users.all()  # a read, no commit: what session lookups do on every request
    assert await write_lock_is_free(app.settings.database.url)
