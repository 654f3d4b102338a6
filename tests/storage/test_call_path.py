"""storage/call_path.py writes the call path's rows by hand; everything else reads them through
SQLAlchemy. These tests hold the two together (SQLite and PostgreSQL), and check that a unit failing at
any of its writes leaves nothing behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from callcenter.app import App
from callcenter.domain.call import Attempt, AttemptResult, CallState
from callcenter.domain.routing import Target, TargetTier
from callcenter.domain.satisfaction import RatingStatus
from callcenter.services.ports import NewCall
from callcenter.services.ports_calls import CallEnd, NewJob
from callcenter.storage.call_path import SqlCallPathFactory
from callcenter.storage.models import CallRow
from tests.conftest import FakeClock

CHAIN = (
    Target(TargetTier.DUTY_OFFICER, "0983214567", 20, "Lê Thị Hương"),
    Target(TargetTier.BACKUP, "0965123874", 20, "Vũ Thị Thu"),
)


def _call_path(app: App) -> SqlCallPathFactory:
    return app.call_path


def _new_call(call_id: str, clock: FakeClock) -> NewCall:
    return NewCall(
        call_id,
        f"1795380439.{call_id}",
        "PJSIP/trunk-1",
        "0912345678",
        "Nguyễn Văn Ánh",
        "0968115115",
        clock(),
        "BVDK-TH",
        routed_at=clock(),
        recording=f"hotline-{call_id}",
    )


async def test_rows_written_by_the_call_path_read_back_through_sqlalchemy(
    sample_app: App, clock: FakeClock
) -> None:
    started = clock()
    ended = started + timedelta(minutes=3, microseconds=123456)
    async with _call_path(sample_app)() as unit:
        ticket_id, ref = await unit.open_call(_new_call("c-1", clock), CHAIN, started)
        await unit.add_events(
            ticket_id, [("received", {"dialled": "0968115115", "ghi_chú": "Bệnh viện Đa khoa"})], started
        )
        attempts = (
            Attempt(1, CHAIN[0], AttemptResult.BUSY),
            Attempt(2, CHAIN[1], AttemptResult.ANSWERED),
        )
        end = CallEnd(CallState.ANSWERED, attempts, 2, 61_000, 95, 16, "", answer_wait_ms=23_000)
        await unit.set_ended("c-1", end, ended)
        await unit.add_recordings("c-1", [("mix", "hotline-c-1.wav"), ("rx", "hotline-c-1-rx.wav")], ended)
        await unit.enqueue_job(NewJob("c-1", ticket_id, "hotline-c-1", ended, 3), ended)
        await unit.after_call(ticket_id, needs_callback=True, priority="normal", now=ended)
        assert await unit.set_rating("c-1", 5, RatingStatus.RATED, ended)
        assert not await unit.set_rating("c-1", 1, RatingStatus.RATED, ended)  # the first answer wins
        await unit.commit()

    async with sample_app.uow() as uow:
        ticket = await uow.tickets.record(ticket_id)
        timeline = await uow.tickets.call_timeline("c-1")
        events = await uow.tickets.events(ticket_id)
        recordings = await uow.tickets.recordings("c-1")
        job = await uow.jobs.state_for_ticket(ticket_id)
    assert ticket is not None and timeline is not None
    assert ref.startswith("PA-20261123-") and ticket.ref == ref
    assert (ticket.facility_code, ticket.province, ticket.status) == ("BVDK-TH", "Thanh Hóa", "moi_tiep_nhan")
    assert ticket.needs_callback is True and ticket.incident is False
    assert ticket.caller_name == "Nguyễn Văn Ánh"
    assert ticket.created_at == started and ticket.updated_at == ended  # aware, to the microsecond
    assert ticket.call_state == "answered" and ticket.answered_tier == "backup"
    assert (timeline.started_at, timeline.routed_at, timeline.ended_at) == (started, started, ended)
    assert (timeline.answered_index, timeline.talk_ms, timeline.duration_s) == (2, 61_000, 95)
    assert [(a.index, a.tier, a.officer_name, a.result) for a in timeline.attempts] == [
        (1, "duty_officer", "Lê Thị Hương", "busy"),
        (2, "backup", "Vũ Thị Thu", "answered"),
    ]
    assert events == [(started, "received", {"dialled": "0968115115", "ghi_chú": "Bệnh viện Đa khoa"})]
    assert sorted((r.kind, r.file_name, r.created_at) for r in recordings) == [
        ("mix", "hotline-c-1.wav", ended),
        ("rx", "hotline-c-1-rx.wav", ended),
    ]
    assert job is not None and job[0] == "queued"


async def test_the_call_path_reads_back_what_it_wrote(sample_app: App, clock: FakeClock) -> None:
    async with _call_path(sample_app)() as unit:
        ticket_id, ref = await unit.open_call(_new_call("c-2", clock), CHAIN, clock())
        await unit.commit()
    async with _call_path(sample_app)() as unit:
        by_id = await unit.call_by_id("c-2")
        by_uniqueid = await unit.call_by_uniqueid("1795380439.c-2")
        stale = await unit.open_started_before(clock() + timedelta(seconds=1))
    assert by_id is not None and by_id == by_uniqueid and stale == [by_id]
    assert (by_id.ticket_id, by_id.ticket_ref, by_id.state) == (ticket_id, ref, CallState.ROUTED)
    assert by_id.started_at == clock() and by_id.targets == CHAIN
    assert await _count(sample_app) == 1


async def _count(app: App) -> int:
    async with app.uow() as uow:
        session = uow.calls._s  # type: ignore[attr-defined]
        return int((await session.execute(select(func.count()).select_from(CallRow))).scalar_one())


async def test_a_unit_failing_at_its_last_write_leaves_nothing(sample_app: App, clock: FakeClock) -> None:
    """On SQLite the writes wait for the commit; one that fails there must undo the unit's others."""

    async def refused_unit() -> None:
        async with _call_path(sample_app)() as unit:
            await unit.open_call(_new_call("c-3", clock), CHAIN, clock())
            # (call_id, kind) is unique: the second "mix" is refused
            await unit.add_recordings("c-3", [("mix", "a.wav"), ("mix", "b.wav")], clock())
            await unit.commit()

    with pytest.raises(Exception, match=r"(?i)unique"):
        await refused_unit()
    assert await _count(sample_app) == 0
    async with _call_path(sample_app)() as unit:  # and the next unit works
        await unit.open_call(_new_call("c-4", clock), CHAIN, clock())
        await unit.commit()
    assert await _count(sample_app) == 1
    async with _call_path(sample_app)() as unit:
        assert await unit.call_by_id("c-3") is None
        assert await unit.call_by_id("c-4") is not None


def test_pending_writes_become_one_statement_unless_they_touch_the_same_rows() -> None:
    from callcenter.storage.call_path import (
        AFTER_CALL,
        DELETE_ATTEMPTS,
        INSERT_JOB,
        SET_CALL_ENDED,
        SET_REF,
        _clash,
        _one_statement,
    )

    sql, params = _one_statement([(SET_CALL_ENDED, (1, 2)), (INSERT_JOB, (3,)), (AFTER_CALL, (4, 5))])
    assert sql.startswith("WITH w1 AS (UPDATE calls SET state = ?") and f"w2 AS ({INSERT_JOB})" in sql
    assert sql.endswith(f") {AFTER_CALL}") and params == [1, 2, 3, 4, 5]
    assert _one_statement([(SET_REF, ("PA-1", 7))]) == (SET_REF, ["PA-1", 7])
    # one command may not change a row twice, nor see what another part of it wrote
    assert _clash(AFTER_CALL, SET_REF)  # both UPDATE tickets
    assert _clash("INSERT INTO call_attempts (call_id) VALUES (?)", DELETE_ATTEMPTS)
    assert not _clash(INSERT_JOB, SET_CALL_ENDED)
    assert not _clash("INSERT INTO ticket_events (a) VALUES (?)", "INSERT INTO ticket_events (a) VALUES (?)")
