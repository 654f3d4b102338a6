"""Test calls stored as OutboundService stores them (for the health series' tests)."""

from __future__ import annotations

from datetime import datetime

from callcenter.app import App
from callcenter.domain.outbound import OutboundKind, OutboundState, Outcome


async def add_probe(
    app: App, code: str, at: datetime, outcome: Outcome | None, ring_ms: int | None = None
) -> int:
    """A probe of `code` placed at `at`, done with `outcome` (None: still ringing)."""
    async with app.uow() as uow:
        oid = await uow.outbound.add(OutboundKind.PROBE, at, facility_code=code, number="0912115224")
        if outcome is not None:
            await uow.outbound.update(
                oid, at, state=OutboundState.DONE, outcome=outcome, ring_ms=ring_ms, ended_at=at
            )
        await uow.commit()
    return oid
