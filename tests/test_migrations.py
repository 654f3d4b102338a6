"""The alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from callcenter.storage.db import create_engine
from callcenter.storage.migrate import include_object
from callcenter.storage.models import Base


def _diff(url: str) -> list[object]:
    async def run() -> list[object]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:

                def compare(sync_conn: Connection) -> list[object]:
                    ctx = MigrationContext.configure(
                        sync_conn, opts={"include_object": include_object, "compare_type": True}
                    )
                    return list(compare_metadata(ctx, Base.metadata))

                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_migrated_database_matches_the_models(database_url: str) -> None:
    assert _diff(database_url) == []
