"""A callback that talked is transcribed like an incoming call (issue 9 §1): one job queued as it is
closed, leased by the same workers, stored as the ticket's second transcript. The call's transcript,
suggested category and incident flag stay the citizen's call's; the callback's words are searchable
too; retention empties it in its time. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from callcenter.app import App
from callcenter.services.ports import TranscriptRecord
from callcenter.services.retention import RetentionPolicy, RetentionService
from callcenter.services.tickets import TicketQueries
from callcenter.storage.models import TicketRow, TranscriptionJobRow, TranscriptRow
from tests.conftest import FakeClock
from tests.jobs.callbacks_data import (
    CITIZEN_SAYS,
    OFFICER_CALLS_BACK,
    Callbacks,
    callbacks_on_a_transcribed_ticket,
)
from tests.jobs.test_transcription_jobs import CALLER_SAYS


async def _jobs(app: App) -> list[tuple[str | None, int | None, int, str]]:
    async with app.uow() as uow:
        s = uow.calls._s  # type: ignore[attr-defined]
        rows = await s.execute(
            select(
                TranscriptionJobRow.call_id,
                TranscriptionJobRow.outbound_id,
                TranscriptionJobRow.ticket_id,
                TranscriptionJobRow.status,
            ).order_by(TranscriptionJobRow.id)
        )
        return [tuple(r) for r in rows.all()]


async def _ticket(cb: Callbacks) -> tuple[str | None, float | None, bool, str]:
    async with cb.app.uow() as uow:
        t = await uow.tickets.record(cb.ticket_id)
    assert t is not None
    return t.category_suggested, t.category_confidence, t.incident, t.priority


async def test_a_talked_callback_becomes_the_tickets_second_transcript(
    sample_app: App, clock: FakeClock
) -> None:
    cb = await callbacks_on_a_transcribed_ticket(sample_app, clock)
    before = await _ticket(cb)
    assert before[0] == "thieu_thuoc" and before[2] is False
    oid = await cb.talked()
    base = await cb.recording(oid)

    jobs = await _jobs(sample_app)
    assert len(jobs) == 2 and [j for j in jobs if j[1] is not None] == [(None, oid, cb.ticket_id, "queued")]
    assert await cb.worker.run_once(clock) is False  # MixMonitor may still hold the citizen leg's files
    clock.advance(seconds=11)
    assert await cb.worker.run_once(clock) is True
    assert await cb.worker.run_once(clock) is False  # done once
    handed = cb.engine.calls[-1]
    assert (handed["caller"].name, handed["officer"].name, handed["mix"].name) == (
        f"{base}-rx.wav",
        f"{base}-tx.wav",
        f"{base}.wav",
    )
    assert [j[3] for j in await _jobs(sample_app)] == ["done", "done"]

    async with sample_app.uow() as uow:
        call = await uow.transcripts.for_ticket(cb.ticket_id)
        callbacks = await uow.transcripts.for_callbacks(cb.ticket_id)
        state = await uow.jobs.state_for_ticket(cb.ticket_id)  # the call's job
        events = await uow.tickets.events(cb.ticket_id)
    assert call is not None and call.outbound_id is None and call.call_id is not None
    assert CALLER_SAYS in call.text and CITIZEN_SAYS not in call.text  # the call's transcript is untouched
    [again] = callbacks
    assert again.outbound_id == oid and again.call_id is None and again.ticket_id == cb.ticket_id
    assert [(t["speaker"], t["text"]) for t in again.turns] == [
        ("caller", CITIZEN_SAYS),
        ("officer", OFFICER_CALLS_BACK),
    ]
    assert "0987 654 321" in again.text and "0987 654 321" not in again.text_masked
    assert state == ("done", 1, "")
    # Sốc phản vệ said in the callback is neither the ticket's category nor an incident flag.
    assert await _ticket(cb) == before
    transcribed = [d for _, kind, d in events if kind == "transcribed"]
    assert len(transcribed) == 2 and "outbound_id" not in transcribed[0]
    assert transcribed[1]["outbound_id"] == oid and transcribed[1]["source"] == "legs"
    assert "category" not in transcribed[1]

    queries = TicketQueries(sample_app.uow)
    for words in ("soc phan ve", "ban giám đốc", "tieu duong", "Hết Thuốc"):  # callback's and call's
        assert [t.id for t in await queries.search(words)] == [cb.ticket_id], words
    assert await queries.search("vac xin") == []


async def test_a_requeued_ticket_transcribes_its_call_and_callback_again_without_doubling(
    sample_app: App, clock: FakeClock
) -> None:
    cb = await callbacks_on_a_transcribed_ticket(sample_app, clock)
    oid = await cb.talked()
    clock.advance(seconds=11)
    assert await cb.worker.run_once(clock)
    async with sample_app.uow() as uow:
        assert await uow.jobs.requeue(cb.ticket_id, clock())
        await uow.commit()
    runs = 0
    while await cb.worker.run_once(clock):  # every job of the ticket again: nothing doubles
        runs += 1
    assert runs == 2
    async with sample_app.uow() as uow:
        callbacks = await uow.transcripts.for_callbacks(cb.ticket_id)
        call = await uow.transcripts.for_ticket(cb.ticket_id)
        s = uow.calls._s  # type: ignore[attr-defined]
        stored = (await s.execute(select(TranscriptRow.id))).scalars().all()
    assert [c.outbound_id for c in callbacks] == [oid] and len(stored) == 2
    assert call is not None and CALLER_SAYS in call.text
    assert [t.id for t in await TicketQueries(sample_app.uow).search("phan ve tieu duong")] == [cb.ticket_id]


async def test_a_callback_that_never_talked_gets_no_job(sample_app: App, clock: FakeClock) -> None:
    cb = await callbacks_on_a_transcribed_ticket(sample_app, clock)
    await cb.busy()
    assert [j[1] for j in await _jobs(sample_app)] == [None]  # the call's job only
    clock.advance(seconds=11)
    assert await cb.worker.run_once(clock) is False
    async with sample_app.uow() as uow:
        assert await uow.transcripts.for_callbacks(cb.ticket_id) == []


async def test_retention_empties_a_callbacks_transcript_and_its_words_are_no_longer_found(
    sample_app: App, clock: FakeClock
) -> None:
    cb = await callbacks_on_a_transcribed_ticket(sample_app, clock)
    await cb.talked()
    clock.advance(seconds=11)
    assert await cb.worker.run_once(clock)
    async with sample_app.uow() as uow:
        s = uow.calls._s  # type: ignore[attr-defined]
        await s.execute(update(TicketRow).where(TicketRow.id == cb.ticket_id).values(status="da_giai_quyet"))
        await uow.commit()
    service = RetentionService(
        sample_app.uow, Path(sample_app.settings.recordings.dir), RetentionPolicy(30, 30, 30)
    )
    report = await service.run(clock() + timedelta(days=40))
    assert report.transcripts == 2  # the call's and the callback's
    async with sample_app.uow() as uow:
        s = uow.calls._s  # type: ignore[attr-defined]
        rows = (
            await s.execute(select(TranscriptRow).where(TranscriptRow.outbound_id.is_not(None)))
        ).scalars()
        [row] = list(rows)
        assert (row.text, row.text_masked, row.turns) == ("", "", [])
        assert row.removed_at is not None
        assert await uow.transcripts.for_callbacks(cb.ticket_id) == []
    assert await TicketQueries(sample_app.uow).search("phan ve") == []


async def test_a_transcript_is_of_a_call_or_of_a_callback_never_neither(
    sample_app: App, clock: FakeClock
) -> None:
    cb = await callbacks_on_a_transcribed_ticket(sample_app, clock)
    record = TranscriptRecord(None, cb.ticket_id, "fake", "vi", "legs", [], "", "", {})
    async with sample_app.uow() as uow:
        with pytest.raises(IntegrityError):
            await uow.transcripts.save(record, clock())
