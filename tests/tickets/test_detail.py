"""One ticket's whole story: the call, its recordings (by id only), the transcript (masked where the role
must not see personal data), the job, notes, history, and the same caller's earlier tickets."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import update

from callcenter.asterisk import variables as v
from callcenter.domain.ticket import TicketStatus
from callcenter.services.errors import NotFound
from callcenter.services.tickets import RecordingInfo, TicketFilter
from callcenter.storage.models import TranscriptionJobRow
from tests.fakes.memory_channel import MemoryChannel
from tests.tickets.conftest import HOTLINE, World

MIX = "/var/spool/asterisk/monitor/hotline/hotline-1795380439.44.wav"
SAYS = "bệnh viện hết thuốc tiểu đường số tôi là 0912 345 678"


async def _answered_by_the_second(world: World) -> int:
    """A real call through route_call and call_ended: the duty officer busy, the backup answers."""
    channel = MemoryChannel()
    channel.values["dnid"] = HOTLINE["BVDK-TH"]
    await world.app.handlers[v.ROUTE_CALL](channel)
    world.clock.advance(seconds=75)
    channel.hang_up_for_call_ended()
    channel.variables.update(
        HOTLINE_IDX="2",
        HOTLINE_RESULT_1="BUSY",
        DIALSTATUS="ANSWER",
        ANSWEREDTIME_MS="42000",
        HANGUPCAUSE="16",
        MIXMONITOR_FILENAME=MIX,
    )
    await world.app.handlers[v.CALL_ENDED](channel)
    page = await world.service.list(world.admin, TicketFilter(), world.clock())
    return page.items[0].id


async def test_the_call_timeline_and_recordings_by_id(world: World) -> None:
    started = world.clock()
    t = await _answered_by_the_second(world)
    detail = await world.service.get(world["off_bvdk"], t, world.clock())
    call = detail.call
    assert call is not None
    assert (call.state, call.started_at, call.ended_at) == (
        "answered",
        started,
        started + timedelta(seconds=75),
    )
    assert call.routed_at == started and call.dialled_number == HOTLINE["BVDK-TH"]
    assert [(a.index, a.tier, a.result) for a in call.attempts] == [
        (1, "duty_officer", "busy"),
        (2, "backup", "answered"),
        (3, "leader", "not_tried"),
        (4, "authority", "not_tried"),
    ]
    # Officers' names and numbers are duty data, shown to everyone who sees the ticket.
    assert all(a.number for a in call.attempts) and call.attempts[1].officer_name
    assert call.answered_by == call.attempts[1].officer_name
    assert (call.answered_tier, call.talk_ms, call.hangup_cause) == ("backup", 42000, 16)
    assert detail.item.call_state == "answered" and detail.item.answered_tier == "backup"

    assert [r.kind for r in detail.recordings] == ["mix", "caller", "officer"]
    assert [f.name for f in dataclasses.fields(RecordingInfo)] == ["id", "kind", "created_at"]
    assert "hotline-" not in repr(detail.recordings)
    # The transcription job queued by the call's end.
    assert detail.transcription is not None and detail.transcription.status == "queued"
    assert [h.kind for h in detail.history] == ["received", "routed", "call_ended"]

    for r in detail.recordings:
        got = await world.service.recording_for(world["off_bvdk"], t, r.id, world.clock())
        assert got.kind == r.kind and got.recording_id == r.id
        assert got.file_name.startswith("hotline-1795380439.44") and "/" not in got.file_name


async def test_recording_for_refuses_what_is_not_this_tickets(world: World) -> None:
    mine = await world.ticket("BVDK-TH")
    other = await world.ticket("BVDK-TH")
    mix = await world.recording(mine, "mix", "hotline-1.wav")
    others = await world.recording(other, "mix", "hotline-2.wav")
    now, s = world.clock(), world.service
    assert (await s.recording_for(world["auditor"], mine, mix, now)).file_name == "hotline-1.wav"
    with pytest.raises(NotFound):
        await s.recording_for(world.admin, mine, others, now)  # another ticket's recording id
    with pytest.raises(NotFound):
        await s.recording_for(world.admin, mine, 99999, now)  # no such recording
    with pytest.raises(NotFound):
        await s.recording_for(world["off_nhi"], mine, mix, now)  # a ticket they may not see
    no_call = await world.ticket("BVDK-TH")
    await world.set_row(no_call, call_id=None)
    with pytest.raises(NotFound):
        await s.recording_for(world.admin, no_call, mix, now)
    # Names only our code writes; one that could leave the recordings directory is never served.
    for kind, name in [
        ("caller", "../../etc/passwd"),
        ("officer", "sub/dir.wav"),
        ("voicemail", "..\\x.wav"),
    ]:
        bad = await world.recording(mine, kind, name)
        with pytest.raises(NotFound):
            await s.recording_for(world.admin, mine, bad, now)


async def test_the_transcript_is_masked_for_roles_that_must_not_see_personal_data(world: World) -> None:
    t = await world.ticket("BVDK-TH")
    await world.transcript(t, SAYS)
    now, s = world.clock(), world.service
    for role in ("admin", "sup_th"):
        transcript = (await s.get(world[role], t, now)).transcript
        assert transcript is not None and not transcript.masked
        assert "0912 345 678" in transcript.text and "0912 345 678" in transcript.turns[0].text
        assert transcript.turns[0].words[0] == ("bệnh", 0.5, 0.8)
    for role in ("off_bvdk", "auditor"):
        transcript = (await s.get(world[role], t, now)).transcript
        assert transcript is not None and transcript.masked
        assert "345" not in transcript.text and "[SĐT]" in transcript.text
        assert "345" not in transcript.turns[0].text and "hết thuốc" in transcript.turns[0].text
        assert all(turn.words == () for turn in transcript.turns)
    # Flagged for callback, the facility's officer needs the numbers; an auditor still does not.
    await world.set_row(t, needs_callback=True)
    officer = (await s.get(world["off_bvdk"], t, now)).transcript
    auditor = (await s.get(world["auditor"], t, now)).transcript
    assert officer is not None and "0912 345 678" in officer.text and not officer.masked
    assert auditor is not None and auditor.masked


async def test_notes_result_and_history_are_masked_too(world: World) -> None:
    t = await world.ticket("BVDK-TH")
    now, s = world.clock(), world.service
    await s.add_note(world["sup_th"], t, "Người nhà xin gọi lại số 0987 654 321", now)
    await s.set_result_told(world["sup_th"], t, "Đã gọi 0987654321 báo kết quả", now)
    admin = await s.get(world.admin, t, now)
    assert admin.notes[0].text.endswith("0987 654 321") and "0987654321" in admin.result_told
    told = [h.detail for h in admin.history if h.kind == "result_told_set"]
    assert "0987654321" in told[0]["text"]
    for role in ("off_bvdk", "auditor"):
        detail = await s.get(world[role], t, now)
        assert "654" not in detail.notes[0].text and "654" not in detail.result_told
        assert "654" not in repr(detail.history)
        assert detail.notes[0].author == "Người dùng sup_th"


async def test_the_jobs_error_names_no_directory(world: World) -> None:
    t = await _answered_by_the_second(world)
    await world.sql(
        update(TranscriptionJobRow)
        .where(TranscriptionJobRow.ticket_id == t)
        .values(
            status="failed", attempts=3, last_error="FileNotFoundError: /var/spool/asterisk/monitor/x-rx.wav"
        )
    )
    job = (await world.service.get(world.admin, t, world.clock())).transcription
    assert job is not None and (job.status, job.attempts) == ("failed", 3)
    assert job.last_error == "FileNotFoundError: x-rx.wav"


async def test_the_same_callers_earlier_tickets_in_the_last_30_days(world: World) -> None:
    now = world.clock()
    days = timedelta(days=1)
    beyond = await world.ticket("BVDK-TH", at=now - 30 * days - timedelta(seconds=1))
    edge = await world.ticket("BVDK-TH", at=now - 30 * days)
    nhi = await world.ticket("BVNHI-TH", at=now - 20 * days)
    other_form = await world.ticket("BVDK-TH", at=now - 10 * days, caller="+84912345678")
    somebody_else = await world.ticket("BVDK-TH", at=now - 5 * days, caller="0987654321")
    this = await world.ticket("BVDK-TH", at=now)
    later = await world.ticket("BVDK-TH", at=now + timedelta(hours=1))

    async def links(role: str, ticket_id: int = this) -> list[int]:
        detail = await world.service.get(world[role], ticket_id, now)
        return [link.id for link in detail.earlier_tickets]

    assert await links("admin") == [other_form, nhi, edge]
    assert await links("sup_th") == [other_form, nhi, edge]
    assert await links("off_bvdk") == [other_form, edge]  # the children's hospital's ticket is not theirs
    assert await links("auditor") == [other_form, nhi, edge]  # the link shows no number
    assert await links("admin", later) == [this, other_form, nhi]
    assert beyond not in await links("admin") and somebody_else not in await links("admin")
    detail = await world.service.get(world["off_bvdk"], this, now)
    link = detail.earlier_tickets[0]
    assert (link.ref, link.status, link.facility_code) == (
        (await world.service.get(world.admin, other_form, now)).ref,
        TicketStatus.NEW.value,
        "BVDK-TH",
    )


async def test_withheld_numbers_are_not_one_caller(world: World) -> None:
    first = await world.ticket("BVDK-TH", caller="", at=world.clock() - timedelta(days=1))
    second = await world.ticket("BVDK-TH", caller="")
    assert first != second
    assert (await world.service.get(world.admin, second, world.clock())).earlier_tickets == ()
