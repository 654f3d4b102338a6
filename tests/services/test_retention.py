"""Retention (SQLite and PostgreSQL): what is past its time goes — files deleted and the space given
back, transcripts emptied, callers' details masked — and nothing younger, open or held is touched."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from callcenter.app import App
from callcenter.domain.access import Principal
from callcenter.domain.call import AttemptResult, CallEndReport
from callcenter.services.audit import AuditFilter
from callcenter.services.calls import IncomingCall, RecordingNames
from callcenter.services.errors import PermissionDenied
from callcenter.services.ports import TranscriptRecord
from callcenter.services.retention import RetentionPolicy, RetentionService
from callcenter.services.users import UserInput
from callcenter.storage.models import CallRow, RecordingRow, TicketRow, TranscriptRow
from tests.conftest import FakeClock

CALLER = "0912345678"
PASSWORD = "mat-khau-that-dai-7"


async def _person(app: App, clock: FakeClock, data: UserInput) -> Principal:
    return (await app.users.create(data, PASSWORD, clock())).principal()


async def _call(app: App, clock: FakeClock, n: int, *, days_ago: int, status: str) -> tuple[int, list[Path]]:
    """A recorded, transcribed call `days_ago` days back, its ticket left in `status`."""
    at = clock() - timedelta(days=days_ago)
    incoming = IncomingCall(f"1795380439.{n}", f"PJSIP/trunk-{n}", CALLER, "Nguyễn Văn Ánh", "0968115115")
    received = await app.calls.receive(incoming, at)
    name = f"hotline-1795380439.{n}"
    files = [Path(app.settings.recordings.dir) / f"{name}{suffix}.wav" for suffix in ("", "-rx", "-tx")]
    for f in files:
        f.write_bytes(b"RIFF" + b"\0" * 1000)
    ended = IncomingCall(*list(incoming.__dict__.values())[:5], call_id=received.call_id)
    report = CallEndReport(True, 1, {}, AttemptResult.ANSWERED, 15_000, 16, None, False, 30)
    await app.calls.end(ended, report, RecordingNames(name, None), at)
    async with app.uow() as uow:
        await uow.transcripts.save(
            TranscriptRecord(
                received.call_id,
                received.ticket_id,
                "vosk",
                "vi",
                "legs",
                [{"speaker": "caller", "text": "tôi là Ánh, số 0912345678"}],
                "tôi là Ánh, số 0912345678",
                "tôi là ***, số **********",
                {},
            ),
            at,
        )
        session = uow.calls._s  # type: ignore[attr-defined]
        closed = at + timedelta(hours=1) if status != "moi_tiep_nhan" else None
        await session.execute(
            update(TicketRow)
            .where(TicketRow.id == received.ticket_id)
            .values(status=status, resolved_at=closed, updated_at=at + timedelta(hours=1))
        )
        await uow.commit()
    return received.ticket_id, files


async def _rows(app: App, ticket_id: int) -> tuple[TicketRow, CallRow, list[RecordingRow], TranscriptRow]:
    async with app.uow() as uow:
        s = uow.calls._s  # type: ignore[attr-defined]
        ticket = (await s.execute(select(TicketRow).where(TicketRow.id == ticket_id))).scalar_one()
        call = (await s.execute(select(CallRow).where(CallRow.id == ticket.call_id))).scalar_one()
        recs = list((await s.execute(select(RecordingRow).where(RecordingRow.call_id == call.id))).scalars())
        transcript = (
            await s.execute(select(TranscriptRow).where(TranscriptRow.ticket_id == ticket_id))
        ).scalar_one()
        s.expunge_all()
    return ticket, call, recs, transcript


async def test_only_what_is_closed_old_and_not_held_goes(sample_app: App, clock: FakeClock) -> None:
    old_closed, old_files = await _call(sample_app, clock, 1, days_ago=40, status="da_giai_quyet")
    old_open, open_files = await _call(sample_app, clock, 2, days_ago=40, status="moi_tiep_nhan")
    old_held, held_files = await _call(sample_app, clock, 3, days_ago=40, status="da_giai_quyet")
    young, young_files = await _call(sample_app, clock, 4, days_ago=5, status="da_giai_quyet")
    admin = await _person(sample_app, clock, UserInput("quantri", "admin"))
    await sample_app.tickets.set_hold(admin, old_held, True, clock())
    service = RetentionService(
        sample_app.uow, Path(sample_app.settings.recordings.dir), RetentionPolicy(30, 30, 30)
    )

    dry = await service.run(clock(), dry_run=True)
    assert (dry.recordings, dry.transcripts, dry.callers, dry.tickets) == (3, 1, 1, {old_closed})
    assert dry.bytes_freed == 3 * 1004 and all(f.exists() for f in old_files)  # a dry run changes nothing

    done = await service.run(clock())
    assert (done.recordings, done.transcripts, done.callers, done.bytes_freed) == (3, 1, 1, 3 * 1004)
    assert not any(f.exists() for f in old_files)  # the space is given back
    ticket, call, recs, transcript = await _rows(sample_app, old_closed)
    assert ticket.caller_number == "*******678" and ticket.caller_name == ""
    assert call.caller_number == "*******678" and call.caller_name == ""
    assert ticket.personal_data_removed_at == clock()
    assert len(recs) == 3 and all(r.deleted_at == clock() for r in recs)
    assert (transcript.text, transcript.text_masked, transcript.turns) == ("", "", [])
    assert transcript.removed_at == clock()

    for kept, files in ((old_open, open_files), (old_held, held_files), (young, young_files)):
        ticket, call, recs, transcript = await _rows(sample_app, kept)
        assert all(f.exists() for f in files), kept
        assert ticket.caller_number == CALLER and call.caller_name == "Nguyễn Văn Ánh"
        assert all(r.deleted_at is None for r in recs) and transcript.text.startswith("tôi là Ánh")

    # the ticket page no longer offers what is gone, and shows the hold
    gone = await sample_app.tickets.get(admin, old_closed, clock())
    assert gone.recordings == () and gone.transcript is None and not gone.hold
    held = await sample_app.tickets.get(admin, old_held, clock())
    assert held.hold and len(held.recordings) == 3 and held.transcript is not None

    entries = await sample_app.audit.query(admin, AuditFilter(username="retention"))
    assert sorted(e.action for e in entries) == [
        "retention.personal_data_removed",
        "retention.recordings_deleted",
        "retention.transcripts_removed",
    ]
    again = await service.run(clock())  # nothing is removed twice
    assert (again.recordings, again.transcripts, again.callers) == (0, 0, 0)


async def test_a_file_already_gone_is_marked_and_nothing_outside_the_directory_is_touched(
    sample_app: App, clock: FakeClock, tmp_path: Path
) -> None:
    ticket_id, files = await _call(sample_app, clock, 5, days_ago=40, status="da_giai_quyet")
    files[0].unlink()  # a run that crashed after deleting, before marking
    outside = tmp_path / "elsewhere.wav"
    outside.write_bytes(b"RIFF")
    async with sample_app.uow() as uow:
        s = uow.calls._s  # type: ignore[attr-defined]
        call_id = (await s.execute(select(TicketRow.call_id).where(TicketRow.id == ticket_id))).scalar_one()
        await s.execute(
            update(RecordingRow)
            .where(RecordingRow.call_id == call_id, RecordingRow.kind == "rx")
            .values(file_name=f"../{outside.name}")
        )
        await uow.commit()
    service = RetentionService(sample_app.uow, Path(sample_app.settings.recordings.dir), RetentionPolicy(30))
    report = await service.run(clock())
    assert report.recordings == 3 and outside.exists() and not files[2].exists()


async def test_only_supervisors_and_admins_hold_a_ticket(sample_app: App, clock: FakeClock) -> None:
    ticket_id, _ = await _call(sample_app, clock, 6, days_ago=1, status="da_giai_quyet")
    officer = await _person(
        sample_app, clock, UserInput("canbo", "facility_officer", facility_code="BVDK-TH")
    )
    with pytest.raises(PermissionDenied):
        await sample_app.tickets.set_hold(officer, ticket_id, True, clock())
    supervisor = await _person(sample_app, clock, UserInput("giamsat", "supervisor", province="Thanh Hóa"))
    await sample_app.tickets.set_hold(supervisor, ticket_id, True, clock())
    ticket, *_ = await _rows(sample_app, ticket_id)
    assert ticket.hold is True
