"""SQLite's group commit: many units, one COMMIT; while units queue, the flusher commits and begins the
next write transaction in one step. Whatever happens, the write lock is given back once nobody writes,
so that another process (`callcenter users add`, a worker) is not locked out."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

import callcenter.storage.unit_of_work as unit_of_work
from callcenter.app import App
from callcenter.services.calls import IncomingCall
from callcenter.services.tickets import TicketQueries
from callcenter.storage.db import is_sqlite
from tests.conftest import FakeClock
from tests.fakes.other_process import write_lock_is_free


def _sqlite_only(app: App) -> None:
    if not is_sqlite(app.settings.database.url):
        pytest.skip("PostgreSQL units are independent transactions")


async def _burst(app: App, clock: FakeClock, n: int, first: int = 0) -> None:
    """n calls arriving 0.2 ms apart, as from separate sessions: some while a COMMIT is under way."""

    async def call(i: int) -> None:
        await asyncio.sleep((i - first) * 0.0002)
        incoming = IncomingCall(f"1795380439.{i}", f"PJSIP/trunk-{i}", "0912345678", "", "0968115115")
        await app.calls.receive(incoming, clock())

    await asyncio.gather(*(call(i) for i in range(first, first + n)))


async def test_a_burst_of_calls_leaves_the_write_lock_free(sample_app: App, clock: FakeClock) -> None:
    _sqlite_only(sample_app)
    before = await TicketQueries(sample_app.uow).count()
    await _burst(sample_app, clock, 40)
    assert await write_lock_is_free(
        sample_app.settings.database.url
    )  # before any other unit of ours could end it
    assert await TicketQueries(sample_app.uow).count() == before + 40


async def test_a_begin_refused_after_the_commit_loses_nothing(
    sample_app: App, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process takes the lock between our COMMIT and BEGIN: the batch is durable all the same,
    and the next units run on a fresh connection."""
    _sqlite_only(sample_app)
    refused = 0

    def commit_then_refuse(db: sqlite3.Connection) -> bool:
        nonlocal refused
        db.execute("COMMIT")
        refused += 1
        return False

    monkeypatch.setattr(unit_of_work, "_commit_and_begin", commit_then_refuse)
    before = await TicketQueries(sample_app.uow).count()
    await _burst(sample_app, clock, 30)
    await _burst(sample_app, clock, 30, first=100)
    assert refused > 0, "the burst never queued units behind a commit"
    assert await write_lock_is_free(sample_app.settings.database.url)
    assert await TicketQueries(sample_app.uow).count() == before + 60


def test_commit_and_begin_reports_a_lock_held_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    ours = sqlite3.connect(path, isolation_level=None, timeout=0.05)
    other = sqlite3.connect(path, isolation_level=None, timeout=0.05)
    ours.execute("PRAGMA journal_mode=WAL")
    ours.execute("CREATE TABLE t (x)")
    ours.execute("BEGIN IMMEDIATE")
    ours.execute("INSERT INTO t VALUES (1)")
    assert unit_of_work._commit_and_begin(ours) is True  # committed, and in a write transaction again
    assert ours.in_transaction
    ours.execute("COMMIT")
    other.execute("BEGIN IMMEDIATE")  # another process writes
    ours.execute("BEGIN")  # a deferred transaction: COMMIT needs no lock
    ours.execute("SELECT 1")
    assert unit_of_work._commit_and_begin(ours) is False  # the COMMIT went through, the BEGIN did not
    assert not ours.in_transaction
    other.execute("COMMIT")
    with pytest.raises(sqlite3.OperationalError):  # no transaction: the COMMIT itself fails, and says so
        unit_of_work._commit_and_begin(ours)
    assert [r[0] for r in other.execute("SELECT x FROM t")] == [1]
