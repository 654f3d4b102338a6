"""What the live board reads: one snapshot of the database (calls in progress, ours over ARI, today)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from callcenter.domain.board import BoardFacts


class BoardSource(Protocol):
    async def read(self, now: datetime, live_since: datetime, day_start: datetime) -> BoardFacts:
        """Calls started since `live_since` and not ended (with their chains), outbound calls placed
        since then and still active, and the calls started since `day_start` counted per facility and
        state. Unscoped: the board narrows it per person. Must not hold any write lock."""
        ...
