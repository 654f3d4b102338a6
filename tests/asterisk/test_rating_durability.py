"""A caller's rating is never lost to a database that is down during rate_call AND call_ended.

rate_call puts the answer on the channel before it writes the database; call_ended reads it back and
carries it with the call's end, so when the database is still down it goes into the same fsynced
journal entry and is stored when the journal is replayed (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from callcenter.app import App, build_app, prepare_database
from callcenter.asterisk import variables as v
from callcenter.asterisk.channel import DigitsResult
from callcenter.services import journal_codec
from callcenter.settings import Settings
from callcenter.storage.models import CallRow, TicketEventRow
from tests.conftest import FakeClock
from tests.fakes.memory_channel import MemoryChannel

BVDK_HOTLINE = "0968115115"  # BVDK-TH in config/sample/facilities.csv
# call_ended after the officer hung up first and the survey ran (Dial option g: HOTLINE_RESULT_1 set).
ANSWERED = {
    "HOTLINE_IDX": "1",
    "HOTLINE_RESULT_1": "ANSWER",
    "DIALSTATUS": "ANSWER",
    "ANSWEREDTIME_MS": "61000",
}


class _DatabaseDown:
    """A unit of work whose database refuses every transaction."""

    def __call__(self) -> _DatabaseDown:
        return self

    async def __aenter__(self) -> _DatabaseDown:
        raise OperationalError("BEGIN", {}, Exception("connection refused"))

    async def __aexit__(self, *exc: object) -> None:
        return None


def _journal(settings: Settings) -> list[Path]:
    return sorted(Path(settings.journal_dir).glob("*.json"))


async def _routed(app: App) -> MemoryChannel:
    channel = MemoryChannel()
    channel.values["dnid"] = BVDK_HOTLINE
    await app.handlers[v.ROUTE_CALL](channel)
    assert channel.variables[v.ROUTE_OK] == "1"
    channel.values.update(network_script=v.RATE_CALL, extension="answered", priority="2")
    return channel


async def _rows(app: App) -> tuple[CallRow, list[dict[str, Any]]]:
    async with app.uow() as uow:
        s: Any = uow.calls._s  # type: ignore[attr-defined]
        (row,) = (await s.execute(select(CallRow))).scalars()
        events = (await s.execute(select(TicketEventRow).where(TicketEventRow.kind == "rated"))).scalars()
        rated = [dict(e.detail) for e in events]
        s.expunge_all()
    assert isinstance(row, CallRow)
    return row, rated


async def test_rating_survives_the_database_down_in_rate_call_and_call_ended(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    channel = await _routed(sample_app)
    sample_app.calls._call_path = _DatabaseDown()  # type: ignore[assignment]  # the database goes away
    channel.digits.append(DigitsResult("4", False))
    await sample_app.handlers[v.RATE_CALL](channel)  # must not raise: the answer is on the channel
    assert (channel.variables[v.RATING], channel.variables[v.RATING_STATUS]) == ("4", "rated")
    assert channel.commands[-1] == "STREAM FILE hotline-thanks", "the caller is still thanked"
    channel.hang_up_for_call_ended()
    channel.variables.update(ANSWERED)
    await sample_app.handlers[v.CALL_ENDED](channel)  # must not raise: the end is journalled
    [entry] = _journal(settings)
    payload = json.loads(entry.read_text(encoding="utf-8"))["payload"]
    assert (payload["report"]["rating"], payload["report"]["rating_status"]) == (4, "rated")
    await sample_app.close()

    restarted = build_app(settings, clock)
    try:
        await prepare_database(restarted, clock())  # start-up replays the journal
        assert _journal(settings) == []
        row, rated = await _rows(restarted)
        assert (row.state, row.rating, row.rating_status) == ("answered", 4, "rated")
        assert row.rated_at is not None
        assert rated == [{"status": "rated", "rating": 4}]
    finally:
        await restarted.close()


async def test_a_hang_up_at_the_survey_survives_too(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    channel = await _routed(sample_app)
    sample_app.calls._call_path = _DatabaseDown()  # type: ignore[assignment]
    channel.digits.append(None)  # the caller hangs up at the question
    await sample_app.handlers[v.RATE_CALL](channel)
    channel.hang_up_for_call_ended()
    channel.variables.update(ANSWERED)
    await sample_app.handlers[v.CALL_ENDED](channel)
    await sample_app.close()
    restarted = build_app(settings, clock)
    try:
        await prepare_database(restarted, clock())
        row, _rated = await _rows(restarted)
        assert (row.state, row.rating, row.rating_status) == ("answered", None, "no_answer")
    finally:
        await restarted.close()


async def test_a_rating_stored_by_rate_call_is_not_stored_twice_by_the_replay(
    sample_app: App, settings: Settings, clock: FakeClock
) -> None:
    channel = await _routed(sample_app)
    channel.digits.append(DigitsResult("5", False))
    await sample_app.handlers[v.RATE_CALL](channel)  # the database is up: stored here
    sample_app.calls._call_path = _DatabaseDown()  # type: ignore[assignment]
    channel.hang_up_for_call_ended()
    channel.variables.update(ANSWERED)
    await sample_app.handlers[v.CALL_ENDED](channel)
    await sample_app.close()
    restarted = build_app(settings, clock)
    try:
        await prepare_database(restarted, clock())
        row, rated = await _rows(restarted)
        assert (row.state, row.rating, row.rating_status) == ("answered", 5, "rated")
        assert len(rated) == 1
    finally:
        await restarted.close()


def test_an_old_journal_entry_without_the_new_fields_still_decodes() -> None:
    old = {
        "v": 1,
        "at": "2026-11-23T16:40:00+00:00",
        "incoming": {
            "uniqueid": "1795380439.44",
            "channel": "PJSIP/sipp-0000001c",
            "caller_number": "0912345678",
            "caller_name": "Nguyen Van A",
            "dialled_number": "19009095",
            "call_id": None,
        },
        "report": {
            "routed": True,
            "current_index": 2,
            "results": {"1": "busy"},
            "last_status": "answered",
            "answered_ms": 8000,
            "hangup_cause": 16,
            "voicemail_file": None,
            "voicemail_recorded": False,
            "duration_s": 20,
        },
        "recordings": {"mix": "hotline-1795380439.44", "voicemail": None},
    }
    _incoming, report, _recordings, _at = journal_codec.load_end(old)
    assert (report.ring_ms, report.rating, report.rating_status) == ({}, None, None)
    assert report.current_index == 2 and report.answered_ms == 8000


def test_the_new_fields_round_trip() -> None:
    from datetime import UTC, datetime

    from callcenter.domain.call import AttemptResult, CallEndReport
    from callcenter.domain.satisfaction import RatingStatus
    from callcenter.services.calls import IncomingCall, RecordingNames

    report = CallEndReport(
        True,
        3,
        {1: AttemptResult.BUSY, 2: AttemptResult.NO_ANSWER},
        AttemptResult.ANSWERED,
        61000,
        16,
        None,
        False,
        90,
        ring_ms={1: 4, 2: 25000, 3: 2953},
        rating=2,
        rating_status=RatingStatus.RATED,
    )
    incoming = IncomingCall("1.2", "PJSIP/x", "0912345678", "", "19009095", "c-1")
    names = RecordingNames("hotline-1.2", None)
    now = datetime(2026, 11, 23, 16, 40, tzinfo=UTC)
    dumped = json.loads(json.dumps(journal_codec.dump_end(incoming, report, names, now)))
    assert journal_codec.load_end(dumped) == (incoming, report, names, now)
