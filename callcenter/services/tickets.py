"""Read-side queries over tickets (the web UI and the CLI)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callcenter.domain.text import search_key
from callcenter.services.ports import TicketSummary, UnitOfWorkFactory


class TicketQueries:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def latest(
        self, *, status: str | None = None, facility_code: str | None = None, limit: int = 50
    ) -> list[TicketSummary]:
        async with self._uow() as uow:
            return await uow.tickets.latest(status=status, facility_code=facility_code, limit=limit)

    async def history(self, ticket_id: int) -> list[tuple[datetime, str, dict[str, Any]]]:
        async with self._uow() as uow:
            return await uow.tickets.events(ticket_id)

    async def search(self, query: str, *, limit: int = 50) -> list[TicketSummary]:
        """Accent-insensitive: "thieu thuoc" finds "thiếu thuốc"; every word must appear."""
        folded = search_key(query)
        if not folded:
            return []
        async with self._uow() as uow:
            return await uow.tickets.search(folded, limit=limit)

    async def count(self) -> int:
        async with self._uow() as uow:
            return await uow.tickets.count()
