"""Another process on the same SQLite file, as `callcenter users add` or a worker would be."""

from __future__ import annotations

import time

from sqlalchemy import text

from callcenter.storage.db import create_engine


async def write_lock_is_free(url: str, *, within_s: float = 0.4) -> bool:
    """True when another connection gets the write lock (BEGIN IMMEDIATE) at once, not after waiting."""
    other_process = create_engine(url, busy_timeout_ms=int(within_s * 1250))
    try:
        started = time.perf_counter()
        async with other_process.begin() as conn:
            await conn.execute(text("SELECT 1"))
        return time.perf_counter() - started < within_s
    finally:
        await other_process.dispose()
