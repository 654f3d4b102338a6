"""Retention of personal data: recordings, transcripts, and the caller's number and name, each kept for
its own number of days, never for a ticket still open or held ("giữ lại") by a supervisor.

Files are deleted before their rows are marked: a crash in between leaves rows that the next run marks
(the files are already gone, which it accepts), never a row saying "deleted" beside a file that is not.
Every run writes what it removed to the audit log, in the same transaction as the marks.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from callcenter.domain import phone
from callcenter.domain.text import search_key
from callcenter.services.audit import write_audit
from callcenter.services.ports import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

ACTOR = "retention"  # the audit log's username for what the schedule removes


@dataclass(frozen=True)
class RetentionPolicy:
    recordings_days: int = 0  # 0: kept
    transcripts_days: int = 0
    personal_data_days: int = 0

    @property
    def active(self) -> bool:
        return bool(self.recordings_days or self.transcripts_days or self.personal_data_days)


@dataclass
class RetentionReport:
    dry_run: bool
    recordings: int = 0
    bytes_freed: int = 0
    transcripts: int = 0
    callers: int = 0
    tickets: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "recordings": self.recordings,
            "bytes_freed": self.bytes_freed,
            "transcripts": self.transcripts,
            "callers": self.callers,
            "tickets": len(self.tickets),
        }


async def _removed(uow: UnitOfWork, now: datetime, action: str, **detail: object) -> None:
    """What a run removed, in the audit log, committed with the marks that say so."""
    await write_audit(uow, at=now, action=action, username=ACTOR, detail=detail)
    await uow.commit()


class RetentionService:
    def __init__(self, uow: UnitOfWorkFactory, recordings_dir: Path, policy: RetentionPolicy) -> None:
        self._uow = uow
        self._dir = recordings_dir
        self._policy = policy

    async def run(self, now: datetime, *, dry_run: bool = False) -> RetentionReport:
        report = RetentionReport(dry_run)
        p = self._policy
        if p.recordings_days:
            await self._recordings(now - timedelta(days=p.recordings_days), now, report)
        if p.transcripts_days:
            await self._transcripts(now - timedelta(days=p.transcripts_days), now, report)
        if p.personal_data_days:
            await self._callers(now - timedelta(days=p.personal_data_days), now, report)
        log.info("retention.run", **report.as_dict())
        return report

    async def _recordings(self, before: datetime, now: datetime, report: RetentionReport) -> None:
        async with self._uow() as uow:
            expired = await uow.retention.expired_recordings(before)
            report.recordings = len(expired)
            report.tickets |= {r.ticket_id for r in expired}
            if report.dry_run:
                report.bytes_freed = await asyncio.to_thread(self._sizes, [r.file_name for r in expired])
                return
            if not expired:
                return
            report.bytes_freed = await asyncio.to_thread(self._delete, [r.file_name for r in expired])
            await uow.retention.mark_recordings_deleted([r.id for r in expired], now)
            await _removed(
                uow,
                now,
                "retention.recordings_deleted",
                count=len(expired),
                bytes=report.bytes_freed,
                recording_ids=[r.id for r in expired],
                before=before.isoformat(),
            )

    async def _transcripts(self, before: datetime, now: datetime, report: RetentionReport) -> None:
        async with self._uow() as uow:
            expired = await uow.retention.expired_transcripts(before)
            report.transcripts = len(expired)
            report.tickets |= {ticket for _, ticket in expired}
            if report.dry_run or not expired:
                return
            await uow.retention.remove_transcripts([t for t, _ in expired], now)
            for ticket_id in sorted({ticket for _, ticket in expired}):
                # The removed words are no longer searchable; a transcript still in its time stays so.
                words = await uow.transcripts.ticket_words(ticket_id)
                await uow.tickets.index_text(ticket_id, search_key(" ".join(words)))
            await _removed(
                uow,
                now,
                "retention.transcripts_removed",
                count=len(expired),
                ticket_ids=sorted({ticket for _, ticket in expired}),
                before=before.isoformat(),
            )

    async def _callers(self, before: datetime, now: datetime, report: RetentionReport) -> None:
        async with self._uow() as uow:
            expired = await uow.retention.expired_callers(before)
            report.callers = len(expired)
            report.tickets |= {c.ticket_id for c in expired}
            if report.dry_run or not expired:
                return
            for caller in expired:
                await uow.retention.remove_caller(caller, phone.mask(caller.caller_number), now)
            await _removed(
                uow,
                now,
                "retention.personal_data_removed",
                count=len(expired),
                ticket_ids=[c.ticket_id for c in expired],
                before=before.isoformat(),
            )

    def _inside(self, name: str) -> Path | None:
        """The file under the recordings directory, or None for a name that would leave it."""
        root = self._dir.resolve()
        path = (root / name).resolve()
        return path if path.is_relative_to(root) else None

    def _sizes(self, names: list[str]) -> int:
        total = 0
        for name in names:
            path = self._inside(name)
            if path is not None and path.is_file():
                total += path.stat().st_size
        return total

    def _delete(self, names: list[str]) -> int:
        freed = 0
        for name in names:
            path = self._inside(name)
            if path is None:
                log.error("retention.outside_recordings", file=name)
                continue
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                continue  # deleted by an earlier run that crashed before marking it
            freed += size
        return freed
