"""Background work that must run on one node at a time, elected with a PostgreSQL advisory lock.

Several `serve` nodes share one PostgreSQL database and, through a shared volume, one recordings
directory: adopting orphan recordings (or any such sweep) on two nodes at once would make two tickets of
one recording. `pg_try_advisory_lock` never waits: the node that does not get it skips this round, and
the lock goes with the session if the node dies. SQLite is one node's database: always elected.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from callcenter.storage.db import is_sqlite


def lock_key(task: str) -> int:
    """A stable 32-bit key per task name (Python's hash() differs from process to process)."""
    return zlib.crc32(f"callcenter:{task}".encode())


@asynccontextmanager
async def elected(engine: AsyncEngine, task: str) -> AsyncIterator[bool]:
    """True inside when this node holds `task`'s lock (until the block ends), False when another does."""
    if is_sqlite(engine.url.render_as_string(hide_password=True)):
        yield True
        return
    key = lock_key(task)
    async with engine.connect() as conn:
        got = bool((await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar())
        await conn.commit()  # the lock is the session's, not the transaction's
        try:
            yield got
        finally:
            if got:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()
