"""A complaint is never lost to a database that is down or full when the call ends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from callcenter.app import App, build_app, prepare_database
from callcenter.asterisk import variables as v
from callcenter.services.tickets import TicketQueries
from callcenter.settings import Settings
from tests.conftest import FakeClock
from tests.fakes.memory_channel import MemoryChannel


class _DiskFull:
    """A unit of work whose database refuses every transaction, as SQLite does on a full disk."""

    def __call__(self) -> _DiskFull:
        return self

    async def __aenter__(self) -> _DiskFull:
        raise OperationalError("COMMIT", {}, Exception("database or disk is full"))

    async def __aexit__(self, *exc: object) -> None:
        return None


async def _end_while_database_is_down(app: App, channel: MemoryChannel) -> None:
    app.calls._call_path = _DiskFull()  # type: ignore[assignment]  # the database goes away mid-call
    channel.hang_up_for_call_ended()
    channel.variables.update(
        HOTLINE_IDX="2", HOTLINE_RESULT_1="BUSY", DIALSTATUS="ANSWER", ANSWEREDTIME_MS="8000"
    )
    await app.handlers[v.CALL_ENDED](channel)  # must not raise: the end is spooled


def _journal_files(settings: Settings) -> list[Path]:
    return sorted(Path(settings.journal_dir).glob("*.json"))


async def test_call_end_is_spooled_and_replayed_after_restart(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    channel = MemoryChannel()
    channel.values["dnid"] = "0968115115"
    await sample_app.handlers[v.ROUTE_CALL](channel)
    await _end_while_database_is_down(sample_app, channel)
    assert len(_journal_files(settings)) == 1
    spooled = _journal_files(settings)[0].read_text(encoding="utf-8")
    assert '"call_ended"' in spooled and channel.variables[v.CALL_ID] in spooled
    await sample_app.close()

    restarted = build_app(settings, clock)
    try:
        await prepare_database(restarted, clock())  # start-up replays the spool
        tickets = await TicketQueries(restarted.uow).latest()
        assert len(tickets) == 1
        assert (tickets[0].call_state, tickets[0].answered_tier) == ("answered", "backup")
        assert _journal_files(settings) == []
    finally:
        await restarted.close()


async def test_a_call_the_database_never_saw_is_created_from_the_spool(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    channel = MemoryChannel()  # route_call never reached the database (it was already down)
    await _end_while_database_is_down(sample_app, channel)
    await sample_app.close()
    restarted = build_app(settings, clock)
    try:
        assert await restarted.calls.replay_journal() == (1, 0)
        tickets = await TicketQueries(restarted.uow).latest()
        assert [(t.caller_number, t.needs_callback) for t in tickets] == [("0912345678", False)]
    finally:
        await restarted.close()


async def test_a_malformed_spool_file_is_set_aside_and_the_rest_replays(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    channel = MemoryChannel()
    await sample_app.handlers[v.ROUTE_CALL](channel)
    await _end_while_database_is_down(sample_app, channel)
    journal = Path(settings.journal_dir)
    (journal / "0000-truncated.json").write_text('{"kind": "call_ended", "payl', encoding="utf-8")
    (journal / "0001-wrong.json").write_text(json.dumps({"kind": "call_ended", "payload": {"v": 99}}))
    await sample_app.close()
    restarted = build_app(settings, clock)
    try:
        applied, left = await restarted.calls.replay_journal()
        assert applied == 1
        assert [p.name for p in (journal / "bad").iterdir()] == ["0000-truncated.json"]
        assert left == 1  # the unreadable version stays for a person (and a newer release) to look at
        assert len(await TicketQueries(restarted.uow).latest()) == 1
    finally:
        await restarted.close()


async def test_without_the_journal_the_failure_is_not_hidden(sample_app: App) -> None:
    sample_app.calls._journal = None  # type: ignore[attr-defined]
    with pytest.raises(OperationalError):
        await _end_while_database_is_down(sample_app, MemoryChannel())
