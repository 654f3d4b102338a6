"""The live board ("Bảng trực"): a role-scoped snapshot of the calls in progress and today's figures, and
ONE poller per process that reads the database about every second for all the browsers watching.

The database is the truth (several nodes take calls; each writes there), so a node's board shows the
other nodes' calls as well. Each watcher gets the shared read narrowed to its own scope (the ticket
list's, `domain.ticket.ticket_scope`), and a new event only when its own snapshot changed. Callers'
numbers are never on the board, for any role.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from callcenter.domain.access import Principal
from callcenter.domain.board import (
    OUTBOUND_KIND_LABELS_VI,
    OUTBOUND_STATE_LABELS_VI,
    PHASE_LABELS_VI,
    TIER_LABELS_VI,
    BoardFacts,
    FacilityDay,
    LiveCallFacts,
    LivePhase,
    OutboundFacts,
    day_totals,
    position,
)
from callcenter.domain.ticket import TicketScope, ticket_scope
from callcenter.services.ports_board import BoardSource

log = structlog.get_logger(__name__)

NO_FACILITY_VI = "Tổng đài (chưa chọn cơ sở)"


@dataclass(frozen=True)
class BoardPolicy:
    tz: ZoneInfo
    live_window: timedelta  # a call not ended after this long is stale (routing.stale_call_after_s)
    poll_s: float = 1.0


class BoardService:
    def __init__(self, source: BoardSource, policy: BoardPolicy, clock: Callable[[], datetime]) -> None:
        self._source = source
        self._policy = policy
        self._clock = clock
        self.feed = BoardFeed(self.read, policy.poll_s)

    async def read(self) -> BoardFacts:
        now = self._clock()
        local = now.astimezone(self._policy.tz)
        day_start = datetime.combine(local.date(), time(0), tzinfo=self._policy.tz).astimezone(UTC)
        return await self._source.read(now, now - self._policy.live_window, day_start)

    async def snapshot(self, principal: Principal) -> dict[str, Any]:
        return self.view(await self.read(), principal)

    def view(self, facts: BoardFacts, principal: Principal) -> dict[str, Any]:
        """The board as `principal` may see it, JSON-ready. Its content changes only when a call comes,
        goes or moves on (the estimated target included), never with the clock alone, so a watcher is
        sent an event exactly when there is something new; `at` is left out of that comparison."""
        scope = ticket_scope(principal)
        tz = self._policy.tz
        calls = [_call(c, facts.at, tz) for c in facts.calls if _allows(scope, c)]
        outbound = [_outbound(o, tz) for o in facts.outbound if _allows(scope, o)]
        today = day_totals(facts.today, scope) if not scope.empty else []
        return {
            "at": facts.at.isoformat(),
            "date_local": facts.at.astimezone(tz).strftime("%d/%m/%Y"),
            "calls": calls,
            "outbound": outbound,
            "today": [_day(d) for d in today],
            "totals": _day(_sum(today)),
        }

    async def close(self) -> None:
        await self.feed.close()


def content_of(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What decides whether a watcher is sent a new snapshot (everything but the time of the read)."""
    return {k: v for k, v in snapshot.items() if k != "at"}


def _allows(scope: TicketScope, item: LiveCallFacts | OutboundFacts) -> bool:
    return not scope.empty and scope.allows(item.scope_facility, item.scope_province)


def _local(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%H:%M:%S")


def _facility(code: str | None, name: str | None) -> dict[str, Any]:
    return {"code": code, "name": name or code or NO_FACILITY_VI}


def _ticket(ticket_id: int | None, ref: str | None) -> dict[str, Any] | None:
    if ticket_id is None:
        return None
    return {"id": ticket_id, "ref": ref or f"#{ticket_id}", "url": f"/phan-anh/{ticket_id}"}


def _call(call: LiveCallFacts, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    where = position(call, now)
    target = None
    if where.estimate is not None:
        step = where.estimate.step
        tier = TIER_LABELS_VI.get(step.tier, step.tier)
        label = f"{tier} — {step.officer_name}" if step.officer_name else tier
        target = {
            "index": step.index,
            "of": where.estimate.of,
            "tier": step.tier,
            "label": f"Dự kiến đang đổ chuông: {label} ({step.index}/{where.estimate.of})",
            "estimate": True,
        }
    elif where.phase is LivePhase.VOICEMAIL:
        target = {"index": None, "of": len(call.chain), "tier": None, "label": "", "estimate": True}
    return {
        "id": call.call_id,
        "started_at": call.started_at.isoformat(),
        "since_local": _local(call.started_at, tz),
        "facility": _facility(call.facility_code, call.facility_name),
        "phase": where.phase.value,
        "phase_label": PHASE_LABELS_VI[where.phase],
        "target": target,
        "ticket": _ticket(call.ticket_id, call.ticket_ref),
    }


def _outbound(o: OutboundFacts, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": o.id,
        "kind": o.kind.value,
        "kind_label": OUTBOUND_KIND_LABELS_VI[o.kind],
        "state": o.state.value,
        "state_label": OUTBOUND_STATE_LABELS_VI[o.state],
        "started_at": o.started_at.isoformat(),
        "since_local": _local(o.started_at, tz),
        "state_since_local": _local(o.state_since, tz),
        "facility": _facility(o.facility_code, o.facility_name),
        "ticket": _ticket(o.ticket_id, o.ticket_ref),
    }


def _sum(days: list[FacilityDay]) -> FacilityDay:
    return FacilityDay(
        None,
        "Tổng cộng",
        received=sum(d.received for d in days),
        answered=sum(d.answered for d in days),
        abandoned=sum(d.abandoned for d in days),
        unanswered=sum(d.unanswered for d in days),
        voicemail=sum(d.voicemail for d in days),
        in_progress=sum(d.in_progress for d in days),
    )


def _day(d: FacilityDay) -> dict[str, Any]:
    return {
        "facility": _facility(d.facility_code, d.facility_name),
        "received": d.received,
        "answered": d.answered,
        "abandoned": d.abandoned,
        "unanswered": d.unanswered,
        "voicemail": d.voicemail,
        "in_progress": d.in_progress,
    }


class BoardFeed:
    """One poller for every watcher of this process: it runs while someone watches, reads the database
    every `poll_s`, and wakes the watchers with each read (they decide, per scope, whether it is new)."""

    def __init__(self, read: Callable[[], Awaitable[BoardFacts]], poll_s: float) -> None:
        self._read = read
        self._poll_s = poll_s
        self._watchers = 0
        self._task: asyncio.Task[None] | None = None
        self._latest: BoardFacts | None = None
        self._version = 0
        self._tick = asyncio.Event()
        self._closed = False
        self.reads = 0  # database reads so far (one per poll, however many watch)

    @property
    def watchers(self) -> int:
        return self._watchers

    @property
    def closed(self) -> bool:
        return self._closed

    @contextlib.asynccontextmanager
    async def watch(self) -> AsyncIterator[Watcher]:
        if self._closed:
            raise RuntimeError("the board feed is closed")
        self._watchers += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="board-poller")
        try:
            yield Watcher(self)
        finally:
            self._watchers -= 1
            if not self._watchers and self._task is not None:
                task, self._task = self._task, None
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                self._latest = None  # a later first watcher must not be shown an old read

    async def _poll(self) -> None:
        while not self._closed:
            try:
                facts = await self._read()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: keep the watchers, try again
                log.warning("board.read_failed", error=type(exc).__name__)
            else:
                self.reads += 1
                self._publish(facts)
            await asyncio.sleep(self._poll_s)

    def _publish(self, facts: BoardFacts | None) -> None:
        self._latest = facts
        self._version += 1
        tick, self._tick = self._tick, asyncio.Event()
        tick.set()

    async def next(self, seen: int, wait_s: float) -> tuple[int, BoardFacts | None]:
        """The read after version `seen` (at once if there is one), or (seen, None) after `wait_s`."""
        if self._version == seen or self._latest is None:
            tick = self._tick
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(tick.wait(), wait_s)
        if self._closed or self._version == seen:
            return seen, None
        return self._version, self._latest

    async def close(self) -> None:
        """The server stops: wake every watcher (they end their streams) and stop the poller."""
        self._closed = True
        self._publish(None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


class Watcher:
    def __init__(self, feed: BoardFeed) -> None:
        self._feed = feed
        self._seen = 0

    async def next(self, wait_s: float) -> BoardFacts | None:
        """The next read of the database, or None after `wait_s` (or when the feed closes)."""
        self._seen, facts = await self._feed.next(self._seen, wait_s)
        return facts
