"""Recordings become a transcript, a suggested category, an incident flag and a searchable ticket.

Jobs live in the database (queued in the same transaction that ends the call), are leased by workers,
retried with backoff, and marked failed with their reason after `max_attempts`, visibly on the ticket.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from callcenter.domain.classify import suggest_category
from callcenter.domain.incident import detect_incident
from callcenter.domain.recordings import SUFFIXES, base_of, file_name
from callcenter.domain.redact import mask_personal_data
from callcenter.domain.text import search_key
from callcenter.domain.turns import Speaker, Turn, render
from callcenter.services.metrics import NO_METRICS, Metrics
from callcenter.services.ports import (
    Job,
    Transcriber,
    TranscriptionResult,
    TranscriptRecord,
    UnitOfWorkFactory,
)

log = structlog.get_logger(__name__)

# Problems that may cure themselves (a shared volume still syncing); anything else will not.
_TRANSIENT = ("missing",)


@dataclass(frozen=True)
class JobPolicy:
    lease_s: float = 600.0  # longer than the longest call takes to transcribe
    backoff_s: tuple[float, ...] = (30.0, 120.0, 600.0)
    max_attempts: int = 3
    # MixMonitor closes its files only after the hangup handler (and call_ended) returned.
    start_delay_s: float = 10.0


def recording_files(directory: Path, recording: str) -> dict[str, Path]:
    return {kind: directory / file_name(recording, kind) for kind in SUFFIXES}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def turns_json(turns: tuple[Turn, ...]) -> list[dict[str, Any]]:
    # Word times are kept so the UI can seek the audio to a word.
    return [
        {
            "speaker": t.speaker.value,
            "start": round(t.start_s, 2),
            "end": round(t.end_s, 2),
            "text": t.text,
            "words": [[w.text, round(w.start_s, 2), round(w.end_s, 2)] for w in t.words],
        }
        for t in turns
    ]


class TranscriptionService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        transcriber: Transcriber,
        recordings_dir: Path,
        policy: JobPolicy = JobPolicy(),
        owner: str | None = None,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._uow = uow
        self._transcriber = transcriber
        self._dir = recordings_dir
        self._policy = policy
        self._owner = owner or worker_name()
        self._metrics = metrics

    async def warm_up(self) -> None:
        """Load the speech model now rather than at the first job (an engine without a model: no-op)."""
        load = getattr(self._transcriber, "load", None)
        if load is not None:
            await asyncio.to_thread(load)

    async def run_once(self, now: Callable[[], datetime]) -> bool:
        """Claim one due job and do it; False when there was nothing to do."""
        async with self._uow() as uow:
            job = await uow.jobs.claim(self._owner, now(), self._policy.lease_s)
            await uow.commit()
        if job is None:
            return False
        bound = structlog.contextvars.bound_contextvars(
            job=job.id, call_id=job.call_id, outbound_id=job.outbound_id
        )
        started = time.perf_counter()
        with bound:
            outcome = await self._do(job, now)
        self._metrics.transcription_job(outcome, time.perf_counter() - started)
        return True

    async def _do(self, job: Job, now: Callable[[], datetime]) -> str:
        """Do the job; its outcome: "done", "retry" or "failed"."""
        files = recording_files(self._dir, job.recording)
        try:
            result = await asyncio.to_thread(self._transcriber.transcribe, files)
        except Exception as exc:  # a broken engine or model: the job says so; the pool goes on
            return await self._retry_or_fail(job, f"{type(exc).__name__}: {exc}", now(), transient=True)
        if not result.turns and not result.voicemail_turns and result.problems:
            reason = "; ".join(f"{kind}: {why}" for kind, why in sorted(result.problems.items()))
            transient = all(why.startswith(_TRANSIENT) for why in result.problems.values())
            return await self._retry_or_fail(job, reason, now(), transient=transient)
        await self._store(job, result, now())
        return "done"

    async def _store(self, job: Job, result: TranscriptionResult, now: datetime) -> None:
        everything = result.turns + result.voicemail_turns
        text = render(everything)
        record = TranscriptRecord(
            call_id=job.call_id,
            ticket_id=job.ticket_id,
            engine=result.engine,
            language=result.language,
            source=result.source,
            turns=turns_json(result.turns) + turns_json(result.voicemail_turns),
            text=text,
            text_masked=mask_personal_data(text),
            leg_problems=dict(result.problems),
            outbound_id=job.outbound_id,
        )
        event: dict[str, Any] = {
            "engine": result.engine,
            "source": result.source,
            "turns": len(everything),
            "problems": dict(result.problems),
        }
        async with self._uow() as uow:
            await uow.transcripts.save(record, now)
            if job.outbound_id is None:
                # The category comes from what the caller said; the officer's words repeat and confuse it.
                callers = [t for t in everything if t.speaker is not Speaker.OFFICER]
                suggestion = suggest_category(" ".join(t.text for t in callers) or text)
                incident = detect_incident(text)
                await uow.tickets.set_suggestion(
                    job.ticket_id,
                    category=suggestion.code.value,
                    confidence=round(suggestion.confidence, 3),
                    incident=incident.flagged,
                    incident_reasons="; ".join(incident.reasons),
                    now=now,
                )
                event |= {
                    "category": suggestion.code.value,
                    "confidence": round(suggestion.confidence, 3),
                    "incident": incident.flagged,
                }
            else:
                # A callback's words are searchable; the ticket's category and incident flag stay those of
                # the citizen's own call.
                event["outbound_id"] = job.outbound_id
            # The search body: the words of all the ticket's transcripts, its call's and its callbacks'.
            words = await uow.transcripts.ticket_words(job.ticket_id)
            await uow.tickets.index_text(job.ticket_id, search_key(" ".join(words)))
            await uow.tickets.add_event(job.ticket_id, "transcribed", event, now)
            await uow.jobs.complete(job.id, now)
            await uow.commit()
        # Counts only: a transcript never goes to a log.
        log.info(
            "transcription.done",
            turns=len(everything),
            callback=job.outbound_id is not None,
            category=event.get("category"),
            incident=event.get("incident"),
        )

    async def _retry_or_fail(self, job: Job, reason: str, now: datetime, *, transient: bool) -> str:
        async with self._uow() as uow:
            if transient and job.attempts < job.max_attempts:
                delay = self._policy.backoff_s[min(job.attempts, len(self._policy.backoff_s)) - 1]
                await uow.jobs.retry(job.id, reason, now + timedelta(seconds=delay), now)
                log.warning("transcription.retry", attempt=job.attempts, reason=reason[:200])
                outcome = "retry"
            else:
                await uow.jobs.fail(job.id, reason, now)
                failed: dict[str, Any] = {"reason": reason}
                if job.outbound_id is not None:
                    failed["outbound_id"] = job.outbound_id
                await uow.tickets.add_event(job.ticket_id, "transcription_failed", failed, now)
                log.error("transcription.failed", attempt=job.attempts, reason=reason[:200])
                outcome = "failed"
            await uow.commit()
        return outcome

    async def requeue(self, ticket_ref: str, now: datetime) -> bool:
        """Transcribe a ticket's call again (a better model, a failed job); False if it has no job."""
        async with self._uow() as uow:
            ticket_id = await uow.tickets.id_by_ref(ticket_ref)
            done = ticket_id is not None and await uow.jobs.requeue(ticket_id, now)
            await uow.commit()
        return done

    async def pending(self) -> int:
        async with self._uow() as uow:
            counts = await uow.jobs.counts()
        return counts.get("queued", 0) + counts.get("running", 0)

    async def orphan_recordings(self, *, quiet_for_s: float = 600.0) -> list[str]:
        """Base names of recordings on disk that no call in the database knows of, and that nobody has
        written to for `quiet_for_s` (a call in progress on the fallback path is still being recorded,
        and its call_ended will bring it in)."""
        async with self._uow() as uow:
            known = {base_of(name) for name in await uow.jobs.recording_files()}
        on_disk = await asyncio.to_thread(_recording_names, self._dir, quiet_for_s)
        return sorted(on_disk - known)


def _recording_names(directory: Path, quiet_for_s: float) -> frozenset[str]:
    if not directory.is_dir():
        return frozenset()
    newest: dict[str, float] = {}
    for path in directory.glob("hotline-*.wav"):
        with contextlib.suppress(FileNotFoundError):  # deleted while we looked
            base = base_of(path.name)
            newest[base] = max(newest.get(base, 0.0), path.stat().st_mtime)
    cutoff = time.time() - quiet_for_s
    return frozenset(name for name, mtime in newest.items() if mtime < cutoff)


async def work(
    service: TranscriptionService,
    now: Callable[[], datetime],
    stop: asyncio.Event,
    *,
    idle_s: float = 2.0,
) -> None:
    """One worker: take jobs until `stop` is set; sleep `idle_s` when there is none. A failure of the
    database is logged and waited out: the worker must outlive a restart of PostgreSQL."""
    while not stop.is_set():
        try:
            busy = await service.run_once(now)
        except Exception:
            log.exception("transcription.worker_error")
            busy = False
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), idle_s)
