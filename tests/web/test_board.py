"""The live board's service over the real database (SQLite and PostgreSQL): calls in the IVR, the
estimated target moving with the clock, ended calls gone, today's figures, the ticket list's scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from callcenter.app import App
from callcenter.domain.access import Principal, Role
from callcenter.domain.call import AttemptResult, CallEndReport
from callcenter.services.board import BoardPolicy, BoardService
from callcenter.services.calls import IncomingCall, ReceivedCall, RecordingNames
from callcenter.storage.board import SqlBoardSource
from tests.conftest import TZ, FakeClock

BVDK_HOTLINE = "0968115115"  # BVDK-TH (Thanh Hóa) in config/sample/facilities.csv
SWITCHBOARD = "19009095"
ADMIN = Principal(1, "quantri", Role.ADMIN)
OFFICER_BVDK = Principal(2, "canbo", Role.FACILITY_OFFICER, facility_code="BVDK-TH")
OFFICER_NHI = Principal(3, "canbonhi", Role.FACILITY_OFFICER, facility_code="BVNHI-TH")
SUPERVISOR_TH = Principal(4, "giamsat", Role.SUPERVISOR, province="Thanh Hóa")
SUPERVISOR_HN = Principal(5, "giamsathn", Role.SUPERVISOR, province="Hà Nội")


def board_of(app: App, clock: FakeClock) -> BoardService:
    return BoardService(SqlBoardSource(app.engine), BoardPolicy(TZ, timedelta(hours=4), poll_s=0.05), clock)


async def call_in(app: App, clock: FakeClock, dialled: str, n: int = 1) -> ReceivedCall:
    incoming = IncomingCall(f"1795380439.{n}", f"PJSIP/trunk-{n}", "0912345678", "Nguyễn Văn A", dialled)
    return await app.calls.receive(incoming, clock())


async def hang_up(app: App, clock: FakeClock, received: ReceivedCall, n: int = 1, *, answered: bool) -> None:
    incoming = IncomingCall(
        f"1795380439.{n}", f"PJSIP/trunk-{n}", "0912345678", "", BVDK_HOTLINE, call_id=received.call_id
    )
    if answered:
        report = CallEndReport(True, 1, {}, AttemptResult.ANSWERED, 15_000, 16, None, False, 30)
    else:  # the caller hung up while the first target rang
        report = CallEndReport(True, 1, {}, AttemptResult.CANCELLED, None, 16, None, False, 10)
    await app.calls.end(incoming, report, RecordingNames(f"hotline-1795380439.{n}", None), clock())


def only_call(snapshot: dict[str, Any]) -> dict[str, Any]:
    assert len(snapshot["calls"]) == 1, snapshot["calls"]
    call: dict[str, Any] = snapshot["calls"][0]
    return call


async def test_a_call_not_routed_yet_is_in_the_ivr(sample_app: App, clock: FakeClock) -> None:
    board = board_of(sample_app, clock)
    received = await call_in(sample_app, clock, SWITCHBOARD)  # the switchboard: the keypad code comes next
    call = only_call(await board.snapshot(ADMIN))
    assert call["phase"] == "ivr" and call["phase_label"] == "Trong tổng đài tự động (IVR)"
    assert call["target"] is None
    assert call["facility"] == {"code": None, "name": "Tổng đài (chưa chọn cơ sở)"}
    assert call["ticket"] == {
        "id": received.ticket_id,
        "ref": received.ticket_ref,
        "url": f"/phan-anh/{received.ticket_id}",
    }
    assert call["since_local"] == "23:40:00"  # stored UTC, shown in Asia/Ho_Chi_Minh
    # Not at a facility yet: the Sở Y tế's supervisors see it (as the ticket list), no facility officer.
    assert len((await board.snapshot(SUPERVISOR_TH))["calls"]) == 1
    assert (await board.snapshot(OFFICER_BVDK))["calls"] == []


async def test_the_ringing_target_is_an_estimate_moving_with_the_clock(
    sample_app: App, clock: FakeClock
) -> None:
    board = board_of(sample_app, clock)
    await call_in(sample_app, clock, BVDK_HOTLINE)  # the dialled number names the facility: routed at once
    call = only_call(await board.snapshot(ADMIN))
    assert call["phase"] == "ringing"
    assert call["facility"]["code"] == "BVDK-TH"
    assert call["target"]["index"] == 1 and call["target"]["of"] == 4 and call["target"]["estimate"] is True
    assert call["target"]["label"].startswith("Dự kiến đang đổ chuông: Cán bộ trực")
    assert "0912345678" not in str(await board.snapshot(ADMIN))  # no caller's number, for any role

    clock.advance(seconds=24)  # the duty officer rings 25 s
    assert only_call(await board.snapshot(ADMIN))["target"]["index"] == 1
    clock.advance(seconds=2)
    moved = only_call(await board.snapshot(ADMIN))["target"]
    assert moved["index"] == 2 and moved["tier"] == "backup" and "(2/4)" in moved["label"]
    clock.advance(seconds=20 + 20)  # 25 + 20 + 20: the authority line now
    assert only_call(await board.snapshot(ADMIN))["target"]["tier"] == "authority"
    clock.advance(seconds=30)  # every ring timeout has run out: most likely the voicemail
    call = only_call(await board.snapshot(ADMIN))
    assert call["phase"] == "voicemail" and "dự kiến" in call["phase_label"]


async def test_an_ended_call_leaves_the_board_and_counts_today(sample_app: App, clock: FakeClock) -> None:
    board = board_of(sample_app, clock)
    first = await call_in(sample_app, clock, BVDK_HOTLINE, 1)
    second = await call_in(sample_app, clock, BVDK_HOTLINE, 2)
    await call_in(sample_app, clock, SWITCHBOARD, 3)
    today = {d["facility"]["code"]: d for d in (await board.snapshot(ADMIN))["today"]}
    assert today["BVDK-TH"]["received"] == 2 and today["BVDK-TH"]["in_progress"] == 2

    clock.advance(seconds=40)
    await hang_up(sample_app, clock, first, 1, answered=True)
    await hang_up(sample_app, clock, second, 2, answered=False)
    snapshot = await board.snapshot(ADMIN)
    assert [c["facility"]["code"] for c in snapshot["calls"]] == [None]  # only the switchboard call is left
    today = {d["facility"]["code"]: d for d in snapshot["today"]}
    bvdk = today["BVDK-TH"]
    assert (bvdk["received"], bvdk["answered"], bvdk["abandoned"], bvdk["in_progress"]) == (2, 1, 1, 0)
    assert bvdk["facility"]["name"] == "Bệnh viện Đa khoa tỉnh Thanh Hóa"
    assert today[None]["received"] == 1 and today[None]["in_progress"] == 1
    assert snapshot["totals"]["received"] == 3

    # Yesterday's calls are not today's: a new local day starts at 00:00 in Asia/Ho_Chi_Minh (23:40 now).
    clock.advance(minutes=20)
    assert all(d["facility"]["code"] is None for d in (await board.snapshot(ADMIN))["today"])


async def test_each_person_sees_the_board_of_their_scope(sample_app: App, clock: FakeClock) -> None:
    board = board_of(sample_app, clock)
    await call_in(sample_app, clock, BVDK_HOTLINE)
    assert len((await board.snapshot(OFFICER_BVDK))["calls"]) == 1
    assert len((await board.snapshot(SUPERVISOR_TH))["calls"]) == 1
    for other in (OFFICER_NHI, SUPERVISOR_HN):
        snapshot = await board.snapshot(other)
        assert snapshot["calls"] == [] and snapshot["today"] == [], other
        assert snapshot["totals"]["received"] == 0
    mine = (await board.snapshot(OFFICER_BVDK))["today"]
    assert [d["facility"]["code"] for d in mine] == ["BVDK-TH"]


async def test_one_poller_reads_for_every_watcher(sample_app: App, clock: FakeClock) -> None:
    board = board_of(sample_app, clock)
    async with board.feed.watch() as a, board.feed.watch() as b:
        assert board.feed.watchers == 2
        for _ in range(5):
            facts_a, facts_b = await a.next(2.0), await b.next(2.0)
            assert facts_a is not None and facts_a is facts_b  # the same read, shared
        assert board.feed.reads <= 7
    assert board.feed.watchers == 0
    reads = board.feed.reads
    await board.feed.close()
    assert board.feed.reads == reads  # nobody watches: nothing polls


async def test_the_calls_we_place_are_listed_apart_in_their_scope(sample_app: App, clock: FakeClock) -> None:
    from callcenter.domain.outbound import OutboundKind, OutboundState

    board = board_of(sample_app, clock)
    received = await call_in(sample_app, clock, BVDK_HOTLINE)
    await hang_up(sample_app, clock, received, answered=False)
    async with sample_app.uow() as uow:
        callback = await uow.outbound.add(OutboundKind.CALLBACK, clock(), ticket_id=received.ticket_id)
        probe = await uow.outbound.add(
            OutboundKind.PROBE, clock(), facility_code="BVNHI-TH", number="0912115224"
        )
        clock.advance(seconds=5)
        await uow.outbound.update(
            callback, clock(), state=OutboundState.TALKING.value, talk_started_at=clock()
        )
        await uow.outbound.update(probe, clock(), state=OutboundState.RINGING.value)
        await uow.commit()
    snapshot = await board.snapshot(ADMIN)
    assert snapshot["calls"] == []
    by_kind = {o["kind"]: o for o in snapshot["outbound"]}
    assert by_kind["callback"]["state_label"] == "Đang nói chuyện"
    assert by_kind["callback"]["state_since_local"] == "23:40:05"
    assert by_kind["callback"]["ticket"]["ref"] == received.ticket_ref
    assert by_kind["callback"]["facility"]["code"] == "BVDK-TH"
    assert by_kind["probe"]["kind_label"] == "Gọi kiểm tra đường dây nóng"
    assert by_kind["probe"]["facility"]["code"] == "BVNHI-TH" and by_kind["probe"]["ticket"] is None
    assert "0912115224" not in str(snapshot)
    assert [o["kind"] for o in (await board.snapshot(OFFICER_BVDK))["outbound"]] == ["callback"]
    assert [o["kind"] for o in (await board.snapshot(OFFICER_NHI))["outbound"]] == ["probe"]
    assert (await board.snapshot(SUPERVISOR_HN))["outbound"] == []
    async with sample_app.uow() as uow:
        await uow.outbound.update(probe, clock(), state=OutboundState.DONE.value, ended_at=clock())
        await uow.commit()
    assert [o["kind"] for o in (await board.snapshot(ADMIN))["outbound"]] == ["callback"]
