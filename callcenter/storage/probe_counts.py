"""The finished test calls per facility and outcome, for /metrics (read at each scrape)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from callcenter.domain.outbound import OutboundKind
from callcenter.storage.models import OutboundCallRow


async def probe_counts(engine: AsyncEngine) -> dict[tuple[str, str], int]:
    """{(facility code, outcome): probes} over every probe that has an outcome (on the kind's index)."""
    query = (
        select(OutboundCallRow.facility_code, OutboundCallRow.outcome, func.count())
        .where(
            OutboundCallRow.kind == OutboundKind.PROBE.value,
            OutboundCallRow.outcome.is_not(None),
            OutboundCallRow.facility_code.is_not(None),
        )
        .group_by(OutboundCallRow.facility_code, OutboundCallRow.outcome)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {(str(code), str(outcome)): int(n) for code, outcome, n in rows}
