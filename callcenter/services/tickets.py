"""Working tickets: the list, one ticket's whole story, and the changes a duty officer or supervisor makes.

Every method takes the acting `Principal` and `now`, and runs in one transaction. Access, in this order:
a ticket the principal may not see does not exist for them (`NotFound`, never `PermissionDenied`, so an
id says nothing about other facilities); one they may see but not change gives `PermissionDenied` (an
auditor); bad input gives `TicketValidationError` naming the field. Every change writes a history event
(ticket_events) saying who made it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import structlog

from callcenter.domain import phone
from callcenter.domain.access import Principal, Role
from callcenter.domain.classify import SuggestionCode
from callcenter.domain.redact import mask_personal_data
from callcenter.domain.text import clean, nfc, search_key
from callcenter.domain.ticket import (
    FORWARDED_TO_MAX_CHARS,
    NOTE_MAX_CHARS,
    RESULT_MAX_CHARS,
    STATUS_LABELS_VI,
    Category,
    DeadlineRule,
    InvalidTicketTransition,
    TicketStatus,
    check_transition,
    is_overdue,
    next_statuses,
    personal_data_visible,
    repeat_caller_numbers,
    ticket_scope,
)
from callcenter.services.audit import write_audit
from callcenter.services.errors import InvalidInput, NotFound, PermissionDenied
from callcenter.services.holidays_vn import vietnam_holidays
from callcenter.services.ports import (
    CallTimeline,
    NoteRecord,
    TicketLink,
    TicketQuery,
    TicketRecord,
    TicketSummary,
    TranscriptRecord,
    UnitOfWork,
    UnitOfWorkFactory,
)

log = structlog.get_logger(__name__)

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
_REF = re.compile(r"^PA-\d{8}-\d{6}$")
# Directory parts of a path in an error message: the API shows what failed, never where files live.
_DIRS = re.compile(r"(?:[A-Za-z]:)?[\\/](?:[^\s\\/:]+[\\/])+")
_TEXT_QUERY_MAX = 200


# --- errors: the shared service errors (services.errors), which the web layer maps to 404 / 403 / 400 ------


class TicketValidationError(InvalidInput):
    """Bad input for a ticket change or a list filter; `field` names the input, the message is Vietnamese
    first. (`NotFound` covers tickets the principal may not see; `PermissionDenied` a read-only role.)"""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)
        self.field: str = field


# --- what the web layer passes in and gets back ---------------------------------------------------------


@dataclass(frozen=True)
class TicketFilter:
    """The list filters as a page sends them; the service checks and translates them."""

    status: str | None = None  # a TicketStatus value
    category: str | None = None  # a SuggestionCode value: the confirmed category, or else the suggested
    facility_code: str | None = None
    date_from: date | None = None  # local days (Asia/Ho_Chi_Minh), both inclusive
    date_to: date | None = None
    overdue: bool | None = None
    incident: bool | None = None
    needs_callback: bool | None = None
    assignee_id: int | None = None
    text: str | None = None  # accent-insensitive words of the transcript, or a reference "PA-…"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    total: int  # matching tickets in all pages (when total_capped: at least this many)
    page: int  # 1-based
    page_size: int
    total_capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class TicketListItem:
    id: int
    ref: str
    created_at: datetime
    status: TicketStatus
    status_label: str
    priority: str
    facility_code: str | None
    facility_name: str | None
    province: str | None
    caller_number: str  # masked to its last 3 digits unless `personal_data_visible`
    personal_data_visible: bool
    needs_callback: bool
    incident: bool
    category: str | None  # confirmed, else suggested
    category_suggested: str | None
    category_confidence: float | None
    category_confirmed: str | None
    outside_jurisdiction: bool
    assignee_id: int | None
    assignee_name: str | None
    deadline: datetime  # the one set, or the default one (see `deadline_is_default`)
    deadline_is_default: bool
    overdue: bool
    resolved_at: datetime | None
    call_state: str | None
    answered_tier: str | None
    # The kinds of the call's recordings still kept (mix, caller, officer, voicemail): on one ticket, and
    # in a list asked for `with_recordings` (the command line's); the pages' list does not show them.
    recordings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordingInfo:
    """A recording as the API shows it: by id, for /…/recordings/<id>. Never its file name or path."""

    id: int
    kind: str  # mix | caller | officer | voicemail
    created_at: datetime


@dataclass(frozen=True)
class TranscriptTurn:
    speaker: str  # caller | officer | unknown
    start: float
    end: float
    text: str
    # (word, start, end) for seeking the audio; empty in a masked transcript (a word list would give
    # back the digits the masked text hides).
    words: tuple[tuple[str, float, float], ...]


@dataclass(frozen=True)
class TranscriptView:
    masked: bool
    engine: str
    language: str
    source: str  # legs | mix | none
    text: str
    turns: tuple[TranscriptTurn, ...]
    leg_problems: Mapping[str, str]
    outbound_id: int | None = None  # a callback's transcript (None: the ticket's call)


@dataclass(frozen=True)
class TranscriptionState:
    status: str  # queued | running | done | failed
    attempts: int
    last_error: str


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime
    kind: str  # received, routed, call_ended, transcribed, status_changed, assigned, note_added, …
    detail: Mapping[str, Any]  # "by" (username) and "by_id" on every change made here


@dataclass(frozen=True)
class TicketDetail:
    item: TicketListItem  # everything the list shows, computed the same way
    caller_name: str | None  # None when masked
    summary: str
    incident_reasons: str
    forwarded_to: str
    result_told: str
    updated_at: datetime
    call: CallTimeline | None  # started, routed, each attempt (tier, officer, number, result), the end
    recordings: tuple[RecordingInfo, ...]
    transcript: TranscriptView | None
    transcription: TranscriptionState | None
    notes: tuple[NoteRecord, ...]
    history: tuple[HistoryEvent, ...]
    earlier_tickets: tuple[TicketLink, ...]  # same caller, the 30 days before, that the principal sees
    can_edit: bool
    next_statuses: tuple[TicketStatus, ...]  # empty when the principal cannot edit
    hold: bool = False  # "giữ lại": kept past the retention periods (supervisors set it)
    # The callbacks' transcripts ("Cuộc gọi lại"), oldest first; `transcript` stays the call's.
    callback_transcripts: tuple[TranscriptView, ...] = ()

    @property
    def id(self) -> int:
        return self.item.id

    @property
    def ref(self) -> str:
        return self.item.ref

    @property
    def status(self) -> TicketStatus:
        return self.item.status


@dataclass(frozen=True)
class RecordingFile:
    """What the web layer streams: a bare file name from the database, relative to the recordings dir."""

    recording_id: int
    file_name: str
    kind: str


@dataclass(frozen=True)
class TicketPolicy:
    tz: ZoneInfo
    deadline_working_days: int = 5  # the default deadline: see domain.ticket.DeadlineRule
    repeat_caller_days: int = 30
    max_page_size: int = 200
    count_cap: int = 10_000
    earlier_tickets_limit: int = 20
    holidays: Callable[[int, int], Collection[date]] = field(default=vietnam_holidays)


# --- the service -------------------------------------------------------------------------------------


class TicketService:
    def __init__(self, uow: UnitOfWorkFactory, policy: TicketPolicy) -> None:
        self._uow = uow
        self._policy = policy
        self._deadlines = DeadlineRule(policy.tz, policy.deadline_working_days)

    # Reading --------------------------------------------------------------------------------------

    async def list(
        self,
        principal: Principal,
        filters: TicketFilter,
        now: datetime,
        page: int = 1,
        page_size: int = 50,
        *,
        with_recordings: bool = False,
    ) -> Page[TicketListItem]:
        """One page of the tickets the principal may see, newest first, with the total count; the web
        list and `callcenter tickets list` both read here (the latter `with_recordings`)."""
        if page < 1:
            raise TicketValidationError("page", "Số trang phải từ 1 trở lên / page must be at least 1")
        if not 1 <= page_size <= self._policy.max_page_size:
            raise TicketValidationError(
                "page_size",
                f"Số dòng mỗi trang phải từ 1 đến {self._policy.max_page_size}"
                f" / page_size must be 1 to {self._policy.max_page_size}",
            )
        query = self._query(filters, now)
        scope = ticket_scope(principal)
        if scope.empty:
            return Page((), 0, page, page_size)
        offset = (page - 1) * page_size
        # Exact totals up to the cap (and always past the page asked for): beyond it the list says "more
        # than", which is what a person reads anyway, and counting 60,000 rows is not paid on every page.
        cap = max(self._policy.count_cap, offset + page_size)
        async with self._uow() as uow:
            records, total = await uow.tickets.page(
                scope, query, offset=offset, limit=page_size, count_cap=cap
            )
            kinds: dict[int, tuple[str, ...]] = {}
            if with_recordings:
                for r in records:
                    if r.call_id:
                        kinds[r.id] = tuple(x.kind for x in await uow.tickets.recordings(r.call_id))
        items = tuple(self._item(principal, r, now, kinds.get(r.id, ())) for r in records)
        return Page(items, min(total, cap), page, page_size, total_capped=total > cap)

    async def get(self, principal: Principal, ticket_id: int, now: datetime) -> TicketDetail:
        async with self._uow() as uow:
            record = await self._visible(uow, principal, ticket_id)
            return await self._detail(uow, principal, record, now)

    async def recording_for(
        self, principal: Principal, ticket_id: int, recording_id: int, now: datetime
    ) -> RecordingFile:
        """The file of one of the ticket's recordings, for streaming. Anyone who sees the ticket may
        listen (audio cannot be masked): the web layer writes every listen to the audit log."""
        async with self._uow() as uow:
            record = await self._visible(uow, principal, ticket_id)
            recording = await uow.tickets.recording(recording_id)
        if recording is None or record.call_id is None or recording.call_id != record.call_id:
            raise NotFound("không tìm thấy bản ghi âm / recording not found")
        if not _safe_file_name(recording.file_name):
            # Only our own code writes these names; one that could leave the directory is a bug or an
            # intrusion, and is not served.
            log.error("ticket.recording_name_refused", ticket_id=ticket_id, recording_id=recording_id)
            raise NotFound("không tìm thấy bản ghi âm / recording not found")
        return RecordingFile(recording.id, recording.file_name, recording.kind)

    # Changing -------------------------------------------------------------------------------------

    async def change_status(
        self,
        principal: Principal,
        ticket_id: int,
        new_status: TicketStatus | str,
        now: datetime,
        *,
        forwarded_to: str | None = None,
        result_told: str | None = None,
    ) -> TicketDetail:
        """Move the ticket along the workflow. FORWARDED (outside the health sector) needs `forwarded_to`;
        RESOLVED needs the result told to the caller, stored or given here (`result_told`); going back to
        IN_PROGRESS reopens a resolved ticket (clears resolved_at) or takes back a forwarded one."""
        target = _parse_status(new_status)
        told = None if result_told is None else _long_text("result_told", result_told, RESULT_MAX_CHARS)

        async def apply(uow: UnitOfWork, t: TicketRecord) -> None:
            current = TicketStatus(t.status)
            try:
                check_transition(current, target)
            except InvalidTicketTransition as exc:
                raise TicketValidationError("status", str(exc)) from exc
            destination = ""
            if target is TicketStatus.FORWARDED:
                destination = clean(forwarded_to or "")
                if not destination:
                    raise TicketValidationError(
                        "forwarded_to",
                        "Cần ghi rõ nơi chuyển phản ánh không đúng thẩm quyền đến"
                        " / say where an out-of-jurisdiction complaint was forwarded",
                    )
                if len(destination) > FORWARDED_TO_MAX_CHARS:
                    raise TicketValidationError(
                        "forwarded_to",
                        f"Nơi chuyển đến dài quá {FORWARDED_TO_MAX_CHARS} ký tự"
                        f" / at most {FORWARDED_TO_MAX_CHARS} characters",
                    )
            elif forwarded_to is not None:
                raise TicketValidationError(
                    "forwarded_to",
                    "Chỉ ghi nơi chuyển đến khi chuyển phản ánh không đúng thẩm quyền"
                    " / forwarded_to goes only with the forwarded status",
                )
            if told is not None and told != t.result_told:
                await uow.tickets.set_result_told(t.id, told, now)
                await uow.tickets.add_event(t.id, "result_told_set", _by(principal, text=told), now)
            if target is TicketStatus.RESOLVED and not (told or t.result_told).strip():
                # DOMAIN.md: complaints are handled and the caller told the result; say what they were told.
                raise TicketValidationError(
                    "result_told",
                    "Phải ghi kết quả đã thông báo cho người phản ánh trước khi đóng phản ánh"
                    " / record the result told to the caller before resolving",
                )
            await uow.tickets.set_status(
                t.id,
                target.value,
                resolved_at=now if target is TicketStatus.RESOLVED else None,
                forwarded_to=destination,
                outside_jurisdiction=target is TicketStatus.FORWARDED,
                now=now,
            )
            extra: dict[str, Any] = {"from": current.value, "to": target.value}
            if destination:
                extra["forwarded_to"] = destination
            await uow.tickets.add_event(t.id, "status_changed", _by(principal, **extra), now)
            log.info("ticket.status_changed", ticket=t.ref, by=principal.username, to=target.value)

        return await self._change(principal, ticket_id, now, apply)

    async def assign(
        self, principal: Principal, ticket_id: int, user_id: int | None, now: datetime
    ) -> TicketDetail:
        """Give the ticket to someone who may work it (active, not an auditor, sees it), or to nobody."""

        async def apply(uow: UnitOfWork, t: TicketRecord) -> None:
            if user_id == t.assignee_id:
                return
            name: str | None = None
            if user_id is not None:
                user = await uow.tickets.user_brief(user_id)
                if user is None or not user.active:
                    raise TicketValidationError(
                        "assignee_id",
                        "Người được giao không tồn tại hoặc đã bị khoá / no such active user",
                    )
                assignee = _principal_of(user.id, user.username, user.role, user.province, user.facility_code)
                if (
                    assignee is None
                    or not assignee.can_edit_tickets()
                    or not ticket_scope(assignee).allows(t.facility_code, t.province)
                ):
                    raise TicketValidationError(
                        "assignee_id",
                        "Người này không được xử lý phản ánh này / this user may not work on this ticket",
                    )
                name = user.full_name or user.username
            await uow.tickets.set_assignee(t.id, user_id, now)
            await uow.tickets.add_event(
                t.id, "assigned", _by(principal, previous=t.assignee_id, to=user_id, to_name=name), now
            )

        return await self._change(principal, ticket_id, now, apply)

    async def set_deadline(
        self, principal: Principal, ticket_id: int, deadline: datetime | None, now: datetime
    ) -> TicketDetail:
        """Set the deadline (an aware instant after `now`), or None to go back to the default one."""
        if deadline is not None and deadline.tzinfo is None:
            raise TicketValidationError(
                "deadline", "Hạn xử lý phải kèm múi giờ / the deadline must carry its time zone"
            )

        async def apply(uow: UnitOfWork, t: TicketRecord) -> None:
            if deadline == t.deadline_at:
                return
            if deadline is not None and deadline <= now:
                raise TicketValidationError(
                    "deadline", "Hạn xử lý phải sau thời điểm hiện tại / the deadline must be in the future"
                )
            await uow.tickets.set_deadline(t.id, deadline, now)
            await uow.tickets.add_event(
                t.id,
                "deadline_set",
                _by(
                    principal,
                    previous=_iso(t.deadline_at),
                    deadline=_iso(deadline),
                ),
                now,
            )

        return await self._change(principal, ticket_id, now, apply)

    async def add_note(self, principal: Principal, ticket_id: int, text: str, now: datetime) -> TicketDetail:
        body = _long_text("text", text, NOTE_MAX_CHARS)

        async def apply(uow: UnitOfWork, t: TicketRecord) -> None:
            note_id = await uow.tickets.add_note(t.id, principal.user_id, body, now)
            # The note's text stays in the notes: the history says only that one was written.
            await uow.tickets.add_event(t.id, "note_added", _by(principal, note_id=note_id), now)

        return await self._change(principal, ticket_id, now, apply)

    async def set_result_told(
        self, principal: Principal, ticket_id: int, text: str, now: datetime
    ) -> TicketDetail:
        """What the caller was told about their complaint (needed before it can be resolved)."""
        body = _long_text("result_told", text, RESULT_MAX_CHARS)

        async def apply(uow: UnitOfWork, t: TicketRecord) -> None:
            if body == t.result_told:
                return
            await uow.tickets.set_result_told(t.id, body, now)
            await uow.tickets.add_event(t.id, "result_told_set", _by(principal, text=body), now)

        return await self._change(principal, ticket_id, now, apply)

    async def set_hold(self, principal: Principal, ticket_id: int, hold: bool, now: datetime) -> TicketDetail:
        """ "Giữ lại": keep the ticket's recordings, transcript and caller's details past their retention
        time (a case under investigation). Supervisors and admins only."""
        if principal.role not in (Role.ADMIN, Role.SUPERVISOR):
            await self.get(principal, ticket_id, now)  # a ticket they cannot see does not exist
            raise PermissionDenied("chỉ giám sát viên được giữ lại hồ sơ / supervisors only")

        async def apply(uow: UnitOfWork, t: TicketRecord) -> None:
            await uow.retention.set_hold(t.id, hold, now)
            await uow.tickets.add_event(t.id, "hold_set" if hold else "hold_released", _by(principal), now)
            await write_audit(
                uow,
                at=now,
                action="ticket.hold" if hold else "ticket.hold_released",
                principal=principal,
                ticket_id=t.id,
            )

        return await self._change(principal, ticket_id, now, apply)

    async def confirm_category(
        self, principal: Principal, ticket_id: int, category: Category | str, now: datetime
    ) -> TicketDetail:
        """Confirm or correct the report category (one of the seven). A complaint outside the health
        sector is not a category: it is forwarded, with change_status(FORWARDED, forwarded_to=…)."""
        value = str(category.value if isinstance(category, Category) else category).strip()
        if value == SuggestionCode.KHONG_DUNG_THAM_QUYEN.value:
            raise TicketValidationError(
                "category",
                "Phản ánh không đúng thẩm quyền: hãy chuyển sang"
                f" «{STATUS_LABELS_VI[TicketStatus.FORWARDED]}» và ghi nơi chuyển đến"
                " / outside jurisdiction: use the forwarded status",
            )
        chosen = _choice(Category, value, "category", "Lĩnh vực", "category")

        async def apply(uow: UnitOfWork, t: TicketRecord) -> None:
            if chosen.value == t.category_confirmed:
                return
            await uow.tickets.confirm_category(t.id, chosen.value, now)
            await uow.tickets.add_event(
                t.id,
                "category_confirmed",
                _by(
                    principal,
                    category=chosen.value,
                    previous=t.category_confirmed,
                    suggested=t.category_suggested,
                ),
                now,
            )

        return await self._change(principal, ticket_id, now, apply)

    # Internals ------------------------------------------------------------------------------------

    async def _visible(
        self, uow: UnitOfWork, principal: Principal, ticket_id: int, *, for_update: bool = False
    ) -> TicketRecord:
        record = await uow.tickets.record(ticket_id, for_update=for_update)
        # Both checks: the scope the lists use, and the role rule itself (least access if they ever differ).
        if (
            record is None
            or not ticket_scope(principal).allows(record.facility_code, record.province)
            or not principal.can_see_ticket(record.facility_code, record.province)
        ):
            raise NotFound("không tìm thấy phản ánh / ticket not found")
        return record

    async def _change(
        self,
        principal: Principal,
        ticket_id: int,
        now: datetime,
        apply: Callable[[UnitOfWork, TicketRecord], Awaitable[None]],
    ) -> TicketDetail:
        async with self._uow() as uow:
            record = await self._visible(uow, principal, ticket_id, for_update=True)
            if not principal.can_edit_tickets():
                raise PermissionDenied("vai trò này chỉ được xem / this role may only read")
            await apply(uow, record)
            fresh = await uow.tickets.record(ticket_id)
            assert fresh is not None  # locked above, in this transaction
            detail = await self._detail(uow, principal, fresh, now)
            await uow.commit()
        return detail

    def _query(self, f: TicketFilter, now: datetime) -> TicketQuery:
        status = _parse_status(f.status).value if f.status else None
        category: str | None = None
        if f.category:
            try:
                category = SuggestionCode(f.category.strip()).value
            except ValueError:
                raise TicketValidationError(
                    "category", "Lĩnh vực không hợp lệ / unknown category: " + f.category[:40]
                ) from None
        if f.date_from and f.date_to and f.date_from > f.date_to:
            raise TicketValidationError(
                "date_to", "Ngày kết thúc phải sau ngày bắt đầu / date_to is before date_from"
            )
        text = (f.text or "").strip()
        if len(text) > _TEXT_QUERY_MAX:
            raise TicketValidationError(
                "text", f"Từ khoá dài quá {_TEXT_QUERY_MAX} ký tự / at most {_TEXT_QUERY_MAX} characters"
            )
        tz = self._policy.tz
        return TicketQuery(
            status=status,
            category=category,
            outside_jurisdiction=category == SuggestionCode.KHONG_DUNG_THAM_QUYEN.value,
            facility_code=(f.facility_code or "").strip() or None,
            # Local days: a call at 23:30 on the 1st belongs to the 1st, though it is the 1st 16:30 UTC.
            created_from=_local_midnight(f.date_from, tz) if f.date_from else None,
            created_before=_local_midnight(f.date_to + timedelta(days=1), tz) if f.date_to else None,
            overdue=f.overdue,
            now=now,
            default_overdue_before=self._deadlines.overdue_before(now, self._holidays_around(now)),
            incident=f.incident,
            needs_callback=f.needs_callback,
            assignee_id=f.assignee_id,
            folded_text=search_key(text) or None,
            ref=text.upper() if _REF.match(text.upper()) else None,
        )

    def _holidays_around(self, instant: datetime) -> Collection[date]:
        year = instant.astimezone(self._policy.tz).year
        return self._policy.holidays(year - 1, year + 1)

    def _item(
        self, principal: Principal, t: TicketRecord, now: datetime, recordings: tuple[str, ...] = ()
    ) -> TicketListItem:
        status = TicketStatus(t.status)
        visible = personal_data_visible(principal, t.needs_callback)
        deadline = t.deadline_at or self._deadlines.deadline(
            t.created_at, self._holidays_around(t.created_at)
        )
        return TicketListItem(
            id=t.id,
            ref=t.ref,
            created_at=t.created_at,
            status=status,
            status_label=STATUS_LABELS_VI[status],
            priority=t.priority,
            facility_code=t.facility_code,
            facility_name=t.facility_name,
            province=t.province,
            caller_number=t.caller_number if visible else phone.mask(t.caller_number),
            personal_data_visible=visible,
            needs_callback=t.needs_callback,
            incident=t.incident,
            category=t.category_confirmed or t.category_suggested,
            category_suggested=t.category_suggested,
            category_confidence=t.category_confidence,
            category_confirmed=t.category_confirmed,
            outside_jurisdiction=t.outside_jurisdiction,
            assignee_id=t.assignee_id,
            assignee_name=t.assignee_name,
            deadline=deadline,
            deadline_is_default=t.deadline_at is None,
            overdue=is_overdue(status, deadline, now),
            resolved_at=t.resolved_at,
            call_state=t.call_state,
            answered_tier=t.answered_tier,
            recordings=recordings,
        )

    async def _detail(
        self, uow: UnitOfWork, principal: Principal, t: TicketRecord, now: datetime
    ) -> TicketDetail:
        recordings = await uow.tickets.recordings(t.call_id) if t.call_id else []
        item = self._item(principal, t, now, tuple(r.kind for r in recordings))
        visible = item.personal_data_visible
        call = await uow.tickets.call_timeline(t.call_id) if t.call_id else None
        transcript = await uow.transcripts.for_ticket(t.id)
        callback_transcripts = await uow.transcripts.for_callbacks(t.id)
        job = await uow.jobs.state_for_ticket(t.id)
        notes = await uow.tickets.notes(t.id)
        events = await uow.tickets.events(t.id)
        window = timedelta(days=self._policy.repeat_caller_days)
        earlier = await uow.tickets.earlier_of_caller(
            repeat_caller_numbers(t.caller_number),
            since=t.created_at - window,
            before=t.created_at,
            exclude_id=t.id,
            scope=ticket_scope(principal),
            limit=self._policy.earlier_tickets_limit,
        )
        mask = _identity if visible else mask_personal_data
        can_edit = principal.can_edit_tickets()
        return TicketDetail(
            item=item,
            caller_name=t.caller_name if visible else None,
            summary=mask(t.summary),
            incident_reasons=t.incident_reasons,
            forwarded_to=t.forwarded_to,
            result_told=mask(t.result_told),
            updated_at=t.updated_at,
            call=call,
            recordings=tuple(RecordingInfo(r.id, r.kind, r.created_at) for r in recordings),
            transcript=None if transcript is None else _transcript_view(transcript, visible),
            transcription=None if job is None else TranscriptionState(job[0], job[1], _DIRS.sub("", job[2])),
            notes=tuple(
                NoteRecord(n.id, n.at, n.user_id, n.author, mask(n.text)) if not visible else n for n in notes
            ),
            history=tuple(
                HistoryEvent(at, kind, detail if visible else _mask_values(detail))
                for at, kind, detail in events
            ),
            earlier_tickets=tuple(earlier),
            can_edit=can_edit,
            next_statuses=next_statuses(item.status) if can_edit else (),
            hold=t.hold,
            callback_transcripts=tuple(_transcript_view(c, visible) for c in callback_transcripts),
        )


# --- helpers -----------------------------------------------------------------------------------------


def _by(principal: Principal, **detail: Any) -> dict[str, Any]:
    return {"by": principal.username, "by_id": principal.user_id, **detail}


def _iso(instant: datetime | None) -> str | None:
    """Instants in event details in UTC, like every stored instant (the page shows them in local time)."""
    return instant.astimezone(UTC).isoformat() if instant is not None else None


def _identity(text: str) -> str:
    return text


def _mask_values(value: Any) -> Any:
    """Every string in an event's detail masked: details are free-form, and hiding too much is the safe
    side (a facility's hotline number in a routing event is masked along with any caller's)."""
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, Mapping):
        return {k: _mask_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_values(v) for v in value]
    return value


def _transcript_view(transcript: TranscriptRecord, visible: bool) -> TranscriptView:
    return TranscriptView(
        masked=not visible,
        engine=transcript.engine,
        language=transcript.language,
        source=transcript.source,
        text=transcript.text if visible else transcript.text_masked,
        turns=tuple(_turn(turn, visible) for turn in transcript.turns),
        leg_problems=dict(transcript.leg_problems),
        outbound_id=transcript.outbound_id,
    )


def _turn(turn: Mapping[str, Any], visible: bool) -> TranscriptTurn:
    text = str(turn.get("text", ""))
    words: tuple[tuple[str, float, float], ...] = ()
    if visible:
        words = tuple((str(w[0]), float(w[1]), float(w[2])) for w in turn.get("words", ()))
    return TranscriptTurn(
        speaker=str(turn.get("speaker", "unknown")),
        start=float(turn.get("start", 0.0)),
        end=float(turn.get("end", 0.0)),
        text=text if visible else mask_personal_data(text),
        words=words,
    )


def _parse_status(value: TicketStatus | str) -> TicketStatus:
    return _choice(TicketStatus, str(value).strip(), "status", "Trạng thái", "status")


def _choice(kind: type[E], value: str, field: str, label_vi: str, label_en: str) -> E:
    """One of an enum's values, or a validation error naming the field and listing the choices."""
    try:
        return kind(value)
    except ValueError:
        raise TicketValidationError(
            field,
            f"{label_vi} không hợp lệ, chọn một trong: "
            + ", ".join(c.value for c in kind)
            + f" / unknown {label_en}",
        ) from None


def _long_text(field_name: str, text: str, limit: int) -> str:
    body = nfc(text).strip()
    if not body:
        raise TicketValidationError(field_name, "Nội dung không được để trống / must not be empty")
    if len(body) > limit:
        raise TicketValidationError(
            field_name, f"Nội dung dài quá {limit} ký tự (hiện {len(body)}) / at most {limit} characters"
        )
    return body


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def _safe_file_name(name: str) -> bool:
    return (
        bool(name) and not any(bad in name for bad in ("/", "\\", "..", "\x00", ":")) and name.strip() == name
    )


def _principal_of(
    user_id: int, username: str, role: str, province: str | None, facility_code: str | None
) -> Principal | None:
    try:
        return Principal(user_id, username, Role(role), province=province, facility_code=facility_code)
    except ValueError:
        return None


# --- the older read side, for the command line and the call tests (no principal: trusted callers) ----


class TicketQueries:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def latest(
        self, *, status: str | None = None, facility_code: str | None = None, limit: int = 50
    ) -> list[TicketSummary]:
        async with self._uow() as uow:
            return await uow.tickets.latest(status=status, facility_code=facility_code, limit=limit)

    async def history(self, ticket_id: int) -> list[tuple[datetime, str, dict[str, Any]]]:
        async with self._uow() as uow:
            return await uow.tickets.events(ticket_id)

    async def search(self, query: str, *, limit: int = 50) -> list[TicketSummary]:
        """Accent-insensitive: "thieu thuoc" finds "thiếu thuốc"; every word must appear."""
        folded = search_key(query)
        if not folded:
            return []
        async with self._uow() as uow:
            return await uow.tickets.search(folded, limit=limit)

    async def count(self) -> int:
        async with self._uow() as uow:
            return await uow.tickets.count()
