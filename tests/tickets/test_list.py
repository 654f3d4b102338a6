"""The ticket list: filters in SQL, local-day boundaries, overdue with set and default deadlines, pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from callcenter.domain.ticket import TicketStatus
from callcenter.services.tickets import TicketFilter, TicketValidationError
from tests.conftest import TZ
from tests.tickets.conftest import World


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=TZ)


async def _ids(world: World, f: TicketFilter, role: str = "admin", now: datetime | None = None) -> list[int]:
    page = await world.service.list(world[role], f, now or world.clock(), page_size=200)
    assert page.total == len(page.items)
    return [i.id for i in page.items]


async def test_date_filters_take_whole_local_days(world: World) -> None:
    # 23:59 local on 1/11 is 16:59 UTC on 1/11; 00:00 local on 2/11 is 17:00 UTC on 1/11.
    last_of_day1 = await world.ticket(at=local(2026, 11, 1, 23, 59, 59))
    first_of_day2 = await world.ticket(at=local(2026, 11, 2, 0, 0, 0))
    last_of_day2 = await world.ticket(at=local(2026, 11, 2, 23, 59, 59))
    first_of_day3 = await world.ticket(at=local(2026, 11, 3, 0, 0, 0))
    day2 = date(2026, 11, 2)
    assert await _ids(world, TicketFilter(date_from=day2, date_to=day2)) == [last_of_day2, first_of_day2]
    assert await _ids(world, TicketFilter(date_from=day2)) == [first_of_day3, last_of_day2, first_of_day2]
    assert await _ids(world, TicketFilter(date_to=day2)) == [last_of_day2, first_of_day2, last_of_day1]
    with pytest.raises(TicketValidationError) as err:
        await _ids(world, TicketFilter(date_from=day2, date_to=day2 - timedelta(days=1)))
    assert err.value.field == "date_to"


async def test_status_category_facility_incident_callback_and_assignee(world: World) -> None:
    drugs = await world.ticket("BVDK-TH")
    await world.transcript(drugs, "bệnh viện hết thuốc", category="thieu_thuoc")
    corrected = await world.ticket("BVDK-TH")
    await world.transcript(corrected, "thẻ bảo hiểm", category="thieu_thuoc")
    await world.set_row(corrected, category_confirmed="bhyt")  # confirmed wins over suggested
    land = await world.ticket("BVNHI-TH", needs_callback=True)
    await world.transcript(land, "tranh chấp đất đai", category="khong_dung_tham_quyen")
    forwarded = await world.ticket("BVNHI-TH")
    await world.set_row(
        forwarded, status=TicketStatus.FORWARDED.value, outside_jurisdiction=True, incident=True
    )
    await world.set_row(drugs, assignee_id=world["off_bvdk"].user_id)

    assert await _ids(world, TicketFilter(category="thieu_thuoc")) == [drugs]
    assert await _ids(world, TicketFilter(category="bhyt")) == [corrected]
    # Outside jurisdiction: suggested so, or already forwarded.
    assert await _ids(world, TicketFilter(category="khong_dung_tham_quyen")) == [forwarded, land]
    assert await _ids(world, TicketFilter(status="chuyen")) == [forwarded]
    assert await _ids(world, TicketFilter(status="moi_tiep_nhan", facility_code="BVNHI-TH")) == [land]
    assert await _ids(world, TicketFilter(incident=True)) == [forwarded]
    assert len(await _ids(world, TicketFilter(incident=False))) == 3
    assert await _ids(world, TicketFilter(needs_callback=True)) == [land]
    assert await _ids(world, TicketFilter(assignee_id=world["off_bvdk"].user_id)) == [drugs]
    items = (
        await world.service.list(world.admin, TicketFilter(facility_code="BVDK-TH"), world.clock())
    ).items
    assert {i.id: i.category for i in items} == {drugs: "thieu_thuoc", corrected: "bhyt"}
    assert items[0].facility_name == "Bệnh viện Đa khoa tỉnh Thanh Hóa"
    for bad, field in [
        ({"status": "done"}, "status"),
        ({"category": "x"}, "category"),
        ({"text": "a" * 201}, "text"),
    ]:
        with pytest.raises(TicketValidationError) as err:
            await _ids(world, TicketFilter(**bad))  # type: ignore[arg-type]
        assert err.value.field == field


async def test_text_search_is_accent_insensitive_and_finds_references(world: World) -> None:
    drugs = await world.ticket("BVDK-TH")
    await world.transcript(drugs, "bệnh viện hết thuốc tiểu đường")
    other = await world.ticket("BVNHI-TH")
    await world.transcript(other, "bác sĩ quát mắng")
    assert await _ids(world, TicketFilter(text="TIEU duong")) == [drugs]
    assert await _ids(world, TicketFilter(text="hết thuốc", facility_code="BVNHI-TH")) == []
    assert await _ids(world, TicketFilter(text='" OR 1=1 --')) == []
    # Scope still applies to search.
    assert await _ids(world, TicketFilter(text="quat mang"), role="off_bvdk") == []
    detail = await world.service.get(world.admin, other, world.clock())
    assert await _ids(world, TicketFilter(text=detail.ref.lower())) == [other]


async def test_overdue_uses_the_set_deadline_or_else_the_default_one(world: World) -> None:
    # Clock: Monday 23/11/2026 23:40. 26/11 is a holiday in this world.
    now = world.clock()
    old = await world.ticket(at=local(2026, 11, 13, 9, 0))  # Fri 13 -> due Fri 20: overdue
    recent = await world.ticket(at=local(2026, 11, 20, 9, 0))  # Fri 20 -> due Mon 30 (26 off): not yet
    set_late = await world.ticket(at=local(2026, 11, 20, 10, 0))
    await world.set_row(set_late, deadline_at=now - timedelta(minutes=1))
    set_future = await world.ticket(at=local(2026, 11, 13, 10, 0))  # old, but given more time
    await world.set_row(set_future, deadline_at=now + timedelta(days=3))
    resolved = await world.ticket(at=local(2026, 11, 13, 11, 0))
    await world.set_row(resolved, status=TicketStatus.RESOLVED.value, resolved_at=now, result_told="xong")

    assert set(await _ids(world, TicketFilter(overdue=True))) == {old, set_late}
    assert set(await _ids(world, TicketFilter(overdue=False))) == {recent, set_future, resolved}
    items = {i.id: i for i in (await world.service.list(world.admin, TicketFilter(), now)).items}
    assert {i for i, item in items.items() if item.overdue} == {old, set_late}
    assert items[old].deadline == local(2026, 11, 20, 23, 59, 59) and items[old].deadline_is_default
    assert items[recent].deadline == local(2026, 11, 30, 23, 59, 59)
    assert not items[set_late].deadline_is_default
    # Eight days later the recent one is overdue too (30/11 has passed).
    later = now + timedelta(days=8)
    assert set(await _ids(world, TicketFilter(overdue=True), now=later)) == {
        old,
        set_late,
        recent,
        set_future,
    }
    shown = (await world.service.list(world.admin, TicketFilter(), later)).items
    assert {i.id for i in shown if i.overdue} == {old, set_late, recent, set_future}


async def test_pages_and_totals(world: World) -> None:
    ids = [await world.ticket("BVDK-TH", at=world.clock() - timedelta(minutes=n)) for n in range(7)]
    await world.ticket("BVDK-NA")  # not the officer's
    s, officer, now = world.service, world["off_bvdk"], world.clock()
    pages = [await s.list(officer, TicketFilter(), now, page=n, page_size=3) for n in (1, 2, 3, 4)]
    assert [p.total for p in pages] == [7, 7, 7, 7]
    assert [p.pages for p in pages] == [3, 3, 3, 3]
    assert [i.id for p in pages for i in p.items] == ids  # newest first, each once
    assert pages[3].items == ()
    for kwargs, field in [
        ({"page": 0}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 201}, "page_size"),
    ]:
        with pytest.raises(TicketValidationError) as err:
            await s.list(officer, TicketFilter(), now, **kwargs)
        assert err.value.field == field
