"""Changing a ticket: the workflow's transitions and their conditions, assignment, deadline, notes, result,
category; each change one history event that says who made it, and nothing written when it fails."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from callcenter.domain.ticket import Category, TicketStatus
from callcenter.services.tickets import TicketValidationError
from callcenter.storage.models import TicketRow
from tests.conftest import TZ
from tests.tickets.conftest import World, session_of

NEW, IN_PROGRESS, RESOLVED, FORWARDED = (
    TicketStatus.NEW,
    TicketStatus.IN_PROGRESS,
    TicketStatus.RESOLVED,
    TicketStatus.FORWARDED,
)


async def _row(world: World, ticket_id: int) -> TicketRow:
    async with world.app.uow() as uow:
        row = (await session_of(uow).execute(select(TicketRow).where(TicketRow.id == ticket_id))).scalar_one()
        session_of(uow).expunge(row)
    return row  # type: ignore[no-any-return]


async def _kinds(world: World, ticket_id: int) -> list[str]:
    return [kind for kind, _ in await world.events(ticket_id)]


async def test_the_whole_workflow_with_reopening(world: World) -> None:
    s, officer, t = world.service, world["off_bvdk"], await world.ticket("BVDK-TH")
    now = world.clock()
    detail = await s.change_status(officer, t, IN_PROGRESS, now)
    assert detail.status is IN_PROGRESS and detail.next_statuses == (RESOLVED, FORWARDED)

    # Resolving needs the result told to the caller (DOMAIN.md).
    with pytest.raises(TicketValidationError) as err:
        await s.change_status(officer, t, RESOLVED, now)
    assert err.value.field == "result_told" and err.value.message.startswith("Phải ghi kết quả")
    assert (await _row(world, t)).status == IN_PROGRESS.value

    await s.set_result_told(officer, t, "Đã gọi lại, bệnh viện đã bổ sung thuốc", now)
    resolved_at = now + timedelta(hours=1)
    detail = await s.change_status(officer, t, RESOLVED, resolved_at)
    assert detail.status is RESOLVED and detail.item.resolved_at == resolved_at
    assert (await _row(world, t)).resolved_at == resolved_at

    # The caller calls back unhappy: reopened, resolved_at cleared; then resolved again later.
    detail = await s.change_status(world["sup_th"], t, IN_PROGRESS, now + timedelta(days=1))
    assert detail.status is IN_PROGRESS and detail.item.resolved_at is None
    again = now + timedelta(days=2)
    detail = await s.change_status(officer, t, RESOLVED, again, result_told="Đã xử lý lại, đã báo người bệnh")
    assert detail.item.resolved_at == again and detail.result_told == "Đã xử lý lại, đã báo người bệnh"

    events = await world.events(t)
    changes = [(d["from"], d["to"], d["by"]) for kind, d in events if kind == "status_changed"]
    assert changes == [
        (NEW.value, IN_PROGRESS.value, "off_bvdk"),
        (IN_PROGRESS.value, RESOLVED.value, "off_bvdk"),
        (RESOLVED.value, IN_PROGRESS.value, "sup_th"),
        (IN_PROGRESS.value, RESOLVED.value, "off_bvdk"),
    ]
    told = [d for kind, d in events if kind == "result_told_set"]
    assert [d["by_id"] for d in told] == [officer.user_id, officer.user_id]
    assert [h.kind for h in detail.history][-1] == "status_changed"


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (NEW, NEW),
        (IN_PROGRESS, NEW),
        (RESOLVED, RESOLVED),
        (RESOLVED, FORWARDED),
        (RESOLVED, NEW),
        (FORWARDED, RESOLVED),
        (FORWARDED, NEW),
    ],
)
async def test_invalid_transitions_are_refused_and_change_nothing(
    world: World, start: TicketStatus, target: TicketStatus
) -> None:
    t = await world.ticket("BVDK-TH")
    await world.set_row(t, status=start.value, result_told="đã báo")
    before = await _kinds(world, t)
    with pytest.raises(TicketValidationError) as err:
        await world.service.change_status(world.admin, t, target, world.clock(), forwarded_to=None)
    assert err.value.field == "status" and "không thể chuyển" in err.value.message
    assert (await _row(world, t)).status == start.value
    assert await _kinds(world, t) == before == ["received", "routed"]


async def test_unknown_status_is_a_validation_error(world: World) -> None:
    t = await world.ticket("BVDK-TH")
    with pytest.raises(TicketValidationError) as err:
        await world.service.change_status(world.admin, t, "closed", world.clock())
    assert err.value.field == "status"


async def test_forwarding_needs_a_destination_and_taking_back_clears_it(world: World) -> None:
    s, sup, t, now = world.service, world["sup_th"], await world.ticket(None), world.clock()
    for bad in (None, "   "):
        with pytest.raises(TicketValidationError) as err:
            await s.change_status(sup, t, FORWARDED, now, forwarded_to=bad)
        assert err.value.field == "forwarded_to"
    with pytest.raises(TicketValidationError):
        await s.change_status(sup, t, FORWARDED, now, forwarded_to="x" * 501)
    with pytest.raises(TicketValidationError) as err:
        await s.change_status(sup, t, IN_PROGRESS, now, forwarded_to="UBND xã")
    assert err.value.field == "forwarded_to"

    detail = await s.change_status(sup, t, FORWARDED, now, forwarded_to="  UBND  xã Quảng Ninh ")
    assert (detail.status, detail.forwarded_to, detail.item.outside_jurisdiction) == (
        FORWARDED,
        "UBND xã Quảng Ninh",
        True,
    )
    assert detail.item.resolved_at is None
    detail = await s.change_status(sup, t, IN_PROGRESS, now)
    assert (detail.forwarded_to, detail.item.outside_jurisdiction) == ("", False)
    forwarded = next(d for k, d in await world.events(t) if k == "status_changed")
    assert forwarded["forwarded_to"] == "UBND xã Quảng Ninh" and forwarded["by"] == "sup_th"


async def test_assignment_only_to_active_people_who_may_work_the_ticket(world: World) -> None:
    s, sup, t, now = world.service, world["sup_th"], await world.ticket("BVDK-TH"), world.clock()
    officer = world["off_bvdk"]
    detail = await s.assign(sup, t, officer.user_id, now)
    assert (detail.item.assignee_id, detail.item.assignee_name) == (officer.user_id, "Người dùng off_bvdk")
    refused = {
        "off_nhi": "không được xử lý",  # another facility's officer
        "sup_na": "không được xử lý",  # another province's supervisor
        "auditor": "không được xử lý",  # read-only
        "off_gone": "không tồn tại",  # deactivated
    }
    for name, message in refused.items():
        user_id = world.people[name].user_id if name in world.people else await _user_id(world, name)
        with pytest.raises(TicketValidationError) as err:
            await s.assign(sup, t, user_id, now)
        assert err.value.field == "assignee_id" and message in err.value.message, name
    with pytest.raises(TicketValidationError):
        await s.assign(sup, t, 424242, now)
    await s.assign(sup, t, officer.user_id, now)  # the same again: nothing to record
    detail = await s.assign(officer, t, None, now)
    assert detail.item.assignee_id is None and detail.item.assignee_name is None
    assigned = [d for k, d in await world.events(t) if k == "assigned"]
    assert [(d["previous"], d["to"], d["by"]) for d in assigned] == [
        (None, officer.user_id, "sup_th"),
        (officer.user_id, None, "off_bvdk"),
    ]


async def _user_id(world: World, username: str) -> int:
    from callcenter.storage.models import UserRow

    async with world.app.uow() as uow:
        return int(
            (
                await session_of(uow).execute(select(UserRow.id).where(UserRow.username == username))
            ).scalar_one()
        )


async def test_deadline_set_validated_and_cleared_back_to_the_default(world: World) -> None:
    s, sup, now = world.service, world["sup_th"], world.clock()
    t = await world.ticket("BVDK-TH", at=now)
    default = (await s.get(sup, t, now)).item
    assert default.deadline_is_default and default.deadline > now
    chosen = datetime(2026, 11, 25, 17, 0, tzinfo=TZ)
    detail = await s.set_deadline(sup, t, chosen, now)
    assert (detail.item.deadline, detail.item.deadline_is_default) == (chosen, False)
    for bad in (datetime(2026, 11, 25, 17, 0), now - timedelta(minutes=1), now):
        with pytest.raises(TicketValidationError) as err:
            await s.set_deadline(sup, t, bad, now)
        assert err.value.field == "deadline"
    detail = await s.set_deadline(sup, t, None, now)
    assert (detail.item.deadline, detail.item.deadline_is_default) == (default.deadline, True)
    set_events = [d for k, d in await world.events(t) if k == "deadline_set"]
    assert [(d["previous"], d["deadline"]) for d in set_events] == [
        (None, "2026-11-25T10:00:00+00:00"),
        ("2026-11-25T10:00:00+00:00", None),
    ]
    # Overdue follows the deadline that was set.
    await s.set_deadline(sup, t, now + timedelta(hours=1), now)
    assert (await s.get(sup, t, now + timedelta(hours=2))).item.overdue


async def test_notes_are_checked_kept_in_order_with_their_author(world: World) -> None:
    s, officer, t, now = world.service, world["off_bvdk"], await world.ticket("BVDK-TH"), world.clock()
    for bad in ("", "   \n ", "x" * 5001):
        with pytest.raises(TicketValidationError) as err:
            await s.add_note(officer, t, bad, now)
        assert err.value.field == "text"
    await s.add_note(officer, t, "  Đã liên hệ khoa Dược  ", now)
    detail = await s.add_note(world["sup_th"], t, "x" * 5000, now + timedelta(minutes=5))
    assert [(n.author, n.text[:20], n.user_id) for n in detail.notes] == [
        ("Người dùng off_bvdk", "Đã liên hệ khoa Dược", officer.user_id),
        ("Người dùng sup_th", "x" * 20, world["sup_th"].user_id),
    ]
    notes = [d for k, d in await world.events(t) if k == "note_added"]
    assert [d["by"] for d in notes] == ["off_bvdk", "sup_th"]
    assert all("text" not in d for d in notes)  # the history says a note was written, not what


async def test_result_told_is_checked(world: World) -> None:
    s, t, now = world.service, await world.ticket("BVDK-TH"), world.clock()
    for bad in ("", " ", "y" * 5001):
        with pytest.raises(TicketValidationError) as err:
            await s.set_result_told(world.admin, t, bad, now)
        assert err.value.field == "result_told"
    await s.set_result_told(world.admin, t, "Đã trả lời", now)
    await s.set_result_told(world.admin, t, "Đã trả lời", now)  # unchanged: no second event
    assert (await _kinds(world, t)).count("result_told_set") == 1


async def test_confirming_the_category(world: World) -> None:
    s, officer, t, now = world.service, world["off_bvdk"], await world.ticket("BVDK-TH"), world.clock()
    await world.transcript(t, "thẻ bảo hiểm không được thanh toán", category="thieu_thuoc")
    detail = await s.confirm_category(officer, t, Category.BHYT, now)
    assert (detail.item.category, detail.item.category_suggested, detail.item.category_confirmed) == (
        "bhyt",
        "thieu_thuoc",
        "bhyt",
    )
    await s.confirm_category(officer, t, "bhyt", now)  # the same: no event
    for bad in ("khong_dung_tham_quyen", "other", ""):
        with pytest.raises(TicketValidationError) as err:
            await s.confirm_category(officer, t, bad, now)
        assert err.value.field == "category"
    with pytest.raises(TicketValidationError) as err:
        await s.confirm_category(officer, t, "khong_dung_tham_quyen", now)
    assert "Không đúng thẩm quyền - đã chuyển" in err.value.message
    confirmed = [d for k, d in await world.events(t) if k == "category_confirmed"]
    assert confirmed == [
        {
            "by": "off_bvdk",
            "by_id": officer.user_id,
            "category": "bhyt",
            "previous": None,
            "suggested": "thieu_thuoc",
        }
    ]
