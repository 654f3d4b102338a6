"""Who sees which ticket, who may change it, and who sees the caller: for every role, on both databases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from callcenter.domain.access import Principal, Role
from callcenter.domain.ticket import TicketStatus
from callcenter.services.errors import NotFound, PermissionDenied
from callcenter.services.tickets import TicketFilter
from tests.tickets.conftest import ROLES, World

# Which of the four tickets (by facility; None = the caller did not know the facility) each role sees.
SEES: dict[str, set[str | None]] = {
    "admin": {"BVDK-TH", "BVNHI-TH", "BVDK-NA", None},
    "auditor": {"BVDK-TH", "BVNHI-TH", "BVDK-NA", None},
    "sup_th": {"BVDK-TH", "BVNHI-TH", None},  # their province, and the Sở Y tế's unplaced calls
    "sup_na": {"BVDK-NA", None},
    "off_bvdk": {"BVDK-TH"},
    "off_nhi": {"BVNHI-TH"},
}
FACILITIES: list[str | None] = ["BVDK-TH", "BVNHI-TH", "BVDK-NA", None]


async def _four(world: World) -> dict[str | None, int]:
    return {f: await world.ticket(f) for f in FACILITIES}


async def test_each_role_lists_and_opens_exactly_its_tickets(world: World) -> None:
    tickets = await _four(world)
    now = world.clock()
    for role in ROLES:
        page = await world.service.list(world[role], TicketFilter(), now)
        assert {i.facility_code for i in page.items} == SEES[role], role
        assert page.total == len(SEES[role]), role
        for facility, ticket_id in tickets.items():
            if facility in SEES[role]:
                assert (await world.service.get(world[role], ticket_id, now)).id == ticket_id
            else:
                with pytest.raises(NotFound):
                    await world.service.get(world[role], ticket_id, now)


async def test_filtering_by_another_facility_cannot_widen_the_scope(world: World) -> None:
    await _four(world)
    now = world.clock()
    for role, facility in [("off_bvdk", "BVNHI-TH"), ("off_nhi", "BVDK-NA"), ("sup_th", "BVDK-NA")]:
        page = await world.service.list(world[role], TicketFilter(facility_code=facility), now)
        assert (page.items, page.total) == ((), 0), role
    page = await world.service.list(world["sup_th"], TicketFilter(facility_code="BVNHI-TH"), now)
    assert [i.facility_code for i in page.items] == ["BVNHI-TH"]


async def test_principals_without_a_place_see_nothing(world: World) -> None:
    await _four(world)
    for principal in (Principal(999, "x", Role.FACILITY_OFFICER), Principal(998, "y", Role.SUPERVISOR)):
        page = await world.service.list(principal, TicketFilter(), world.clock())
        assert (page.items, page.total) == ((), 0)


def _changes(world: World, ticket_id: int) -> dict[str, Callable[[Principal], Awaitable[Any]]]:
    s, now = world.service, world.clock()
    return {
        "change_status": lambda p: s.change_status(p, ticket_id, TicketStatus.IN_PROGRESS, now),
        "assign": lambda p: s.assign(p, ticket_id, None, now),
        "set_deadline": lambda p: s.set_deadline(p, ticket_id, None, now),
        "add_note": lambda p: s.add_note(p, ticket_id, "ghi chú", now),
        "set_result_told": lambda p: s.set_result_told(p, ticket_id, "đã trả lời", now),
        "confirm_category": lambda p: s.confirm_category(p, ticket_id, "bhyt", now),
        "recording_for": lambda p: s.recording_for(p, ticket_id, 1, now),
    }


async def test_auditors_read_everything_and_change_nothing(world: World) -> None:
    ticket_id = await world.ticket("BVDK-TH")
    before = await world.events(ticket_id)
    for name, change in _changes(world, ticket_id).items():
        if name == "recording_for":
            continue  # reading; the recording id does not exist here
        with pytest.raises(PermissionDenied):
            await change(world["auditor"])
    assert await world.events(ticket_id) == before


async def test_a_ticket_out_of_scope_does_not_exist_for_any_change(world: World) -> None:
    ticket_id = await world.ticket("BVDK-TH")
    before = await world.events(ticket_id)
    absent: dict[str, str] = {}
    for name, change in _changes(world, 987654).items():
        with pytest.raises(NotFound) as err:
            await change(world.admin)
        absent[name] = str(err.value)
    for role in ("off_nhi", "sup_na"):
        for name, change in _changes(world, ticket_id).items():
            with pytest.raises(NotFound) as err:
                await change(world[role])
            # Word for word what a ticket that does not exist gives: the id tells them nothing.
            assert str(err.value) == absent[name], (role, name)
    assert await world.events(ticket_id) == before


async def test_the_caller_number_is_masked_for_roles_that_need_not_call_back(world: World) -> None:
    plain = await world.ticket("BVDK-TH", caller="0912345678")
    callback = await world.ticket("BVDK-TH", caller="0987654321", needs_callback=True)
    now = world.clock()
    expected = {
        ("admin", plain): "0912345678",
        ("sup_th", plain): "0912345678",
        ("off_bvdk", plain): "*******678",
        ("auditor", plain): "*******678",
        ("admin", callback): "0987654321",
        ("sup_th", callback): "0987654321",
        ("off_bvdk", callback): "0987654321",  # they are the ones who call back
        ("auditor", callback): "*******321",
    }
    for (role, ticket_id), number in expected.items():
        listed = {i.id: i for i in (await world.service.list(world[role], TicketFilter(), now)).items}
        assert listed[ticket_id].caller_number == number, (role, ticket_id)
        detail = await world.service.get(world[role], ticket_id, now)
        assert detail.item.caller_number == number
        shown = "*" not in number
        assert detail.item.personal_data_visible is shown
        assert detail.caller_name == ("Nguyễn Văn A" if shown else None)


async def test_edit_rights_are_shown_on_the_detail(world: World) -> None:
    ticket_id = await world.ticket("BVDK-TH")
    now = world.clock()
    auditor = await world.service.get(world["auditor"], ticket_id, now)
    assert (auditor.can_edit, auditor.next_statuses) == (False, ())
    officer = await world.service.get(world["off_bvdk"], ticket_id, now)
    assert officer.can_edit and officer.next_statuses == (
        TicketStatus.IN_PROGRESS,
        TicketStatus.RESOLVED,
        TicketStatus.FORWARDED,
    )
