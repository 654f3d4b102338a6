"""A small world for the ticket workflow: two provinces, facilities, one user per role, tickets made the
way calls make them (CallService.receive), on SQLite and PostgreSQL (the `sample_app` fixture)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import update

from callcenter.app import App
from callcenter.domain.access import Principal, Role
from callcenter.domain.facility import Facility, FacilityKind
from callcenter.services.calls import IncomingCall
from callcenter.services.ports import TranscriptRecord
from callcenter.services.tickets import TicketPolicy, TicketService
from callcenter.storage.models import RecordingRow, TicketRow, UserRow
from tests.conftest import TZ, FakeClock

SWITCHBOARD = "19009095"  # the caller is asked for a code; "don't know" leaves the ticket without facility
HOTLINE = {"BVDK-TH": "0968115115", "BVNHI-TH": "0912115224", "BVDK-NA": "0977123456"}
NGHE_AN = Facility(
    code="BVDK-NA",
    keypad_code="4001",
    name="Bệnh viện Đa khoa tỉnh Nghệ An",
    kind=FacilityKind.PROVINCIAL_HOSPITAL,
    province="Nghệ An",
    hotline=HOTLINE["BVDK-NA"],
)
# Tết 2027 and a made-up day, so deadline tests do not depend on the holidays library's calendar.
HOLIDAYS = frozenset({date(2026, 11, 26), *(date(2027, 2, d) for d in range(5, 11))})


def fixed_holidays(first_year: int, last_year: int) -> frozenset[date]:
    return frozenset(d for d in HOLIDAYS if first_year <= d.year <= last_year)


@dataclass
class World:
    app: App
    service: TicketService
    clock: FakeClock
    people: dict[str, Principal] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def admin(self) -> Principal:
        return self.people["admin"]

    def __getitem__(self, name: str) -> Principal:
        return self.people[name]

    async def ticket(
        self,
        facility: str | None = "BVDK-TH",
        *,
        at: datetime | None = None,
        caller: str = "0912345678",
        needs_callback: bool = False,
    ) -> int:
        """A ticket as a call makes it: dialled a facility's hotline, or the switchboard (no facility)."""
        n = next(self._seq)
        dialled = HOTLINE[facility] if facility else SWITCHBOARD
        received = await self.app.calls.receive(
            IncomingCall(f"1795380439.{n}", f"PJSIP/sipp-{n:08x}", caller, "Nguyễn Văn A", dialled),
            at or self.clock(),
        )
        if needs_callback:
            await self.set_row(received.ticket_id, needs_callback=True)
        return received.ticket_id

    async def sql(self, statement: Any) -> None:
        async with self.app.uow() as uow:
            await session_of(uow).execute(statement)
            await uow.commit()

    async def set_row(self, ticket_id: int, **values: Any) -> None:
        await self.sql(update(TicketRow).where(TicketRow.id == ticket_id).values(**values))

    async def transcript(self, ticket_id: int, caller_says: str, *, category: str = "thieu_thuoc") -> None:
        from callcenter.domain.redact import mask_personal_data
        from callcenter.domain.text import search_key

        call_id = await self.call_id(ticket_id)
        turns = [
            {
                "speaker": "caller",
                "start": 0.5,
                "end": 4.0,
                "text": caller_says,
                "words": [[w, 0.5 + i * 0.4, 0.8 + i * 0.4] for i, w in enumerate(caller_says.split())],
            },
            {"speaker": "officer", "start": 5.0, "end": 6.0, "text": "vâng ạ", "words": []},
        ]
        text = f"[0.5 caller] {caller_says}\n[5.0 officer] vâng ạ"
        async with self.app.uow() as uow:
            await uow.transcripts.save(
                TranscriptRecord(
                    call_id, ticket_id, "fake", "vi", "legs", turns, text, mask_personal_data(text), {}
                ),
                self.clock(),
            )
            await uow.tickets.set_suggestion(
                ticket_id,
                category=category,
                confidence=0.8,
                incident=False,
                incident_reasons="",
                now=self.clock(),
            )
            await uow.tickets.index_text(ticket_id, search_key(caller_says))
            await uow.commit()

    async def call_id(self, ticket_id: int) -> str:
        async with self.app.uow() as uow:
            record = await uow.tickets.record(ticket_id)
        assert record is not None and record.call_id is not None
        return record.call_id

    async def recording(self, ticket_id: int, kind: str, file_name: str) -> int:
        call_id = await self.call_id(ticket_id)
        async with self.app.uow() as uow:
            row = RecordingRow(call_id=call_id, kind=kind, file_name=file_name, created_at=self.clock())
            session_of(uow).add(row)
            await session_of(uow).flush()
            recording_id = row.id
            await uow.commit()
        return recording_id

    async def events(self, ticket_id: int) -> list[tuple[str, dict[str, Any]]]:
        async with self.app.uow() as uow:
            return [(kind, detail) for _, kind, detail in await uow.tickets.events(ticket_id)]


def session_of(uow: Any) -> Any:
    return uow.calls._s


USERS: list[tuple[str, Role, str | None, str | None]] = [
    ("admin", Role.ADMIN, None, None),
    ("sup_th", Role.SUPERVISOR, "Thanh Hóa", None),
    ("sup_na", Role.SUPERVISOR, "Nghệ An", None),
    ("off_bvdk", Role.FACILITY_OFFICER, None, "BVDK-TH"),
    ("off_nhi", Role.FACILITY_OFFICER, None, "BVNHI-TH"),
    ("auditor", Role.AUDITOR, None, None),
]
ROLES = [u[0] for u in USERS]


@pytest.fixture
async def world(sample_app: App, clock: FakeClock) -> World:
    await sample_app.facilities.import_facilities([NGHE_AN], clock())
    w = World(
        sample_app,
        TicketService(sample_app.uow, TicketPolicy(TZ, holidays=fixed_holidays)),
        clock,
    )
    async with sample_app.uow() as uow:
        session = session_of(uow)
        for username, role, province, facility in [
            *USERS,
            ("off_gone", Role.FACILITY_OFFICER, None, "BVDK-TH"),
        ]:
            row = UserRow(
                username=username,
                full_name=f"Người dùng {username}",
                password_hash="not-a-real-hash",
                role=role.value,
                province=province,
                facility_code=facility,
                phone=None,
                active=username != "off_gone",
                created_at=clock(),
                updated_at=clock(),
            )
            session.add(row)
            await session.flush()
            w.people[username] = Principal(row.id, username, role, province=province, facility_code=facility)
        await uow.commit()
    return w
