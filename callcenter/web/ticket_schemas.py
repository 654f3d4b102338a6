"""Request and response bodies of the ticket, facility and roster API (OpenAPI is generated from these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from callcenter.domain.ticket import NOTE_MAX_CHARS, RESULT_MAX_CHARS, TicketStatus
from callcenter.services.tickets import TicketDetail, TicketListItem
from callcenter.web.io import QueryParams, StrictBody
from callcenter.web.probe_schemas import ProbeSeriesOut

MAX_PAGE_SIZE = 200


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- queries ---------------------------------------------------------------------------------------------


class TicketsQuery(QueryParams):
    status: TicketStatus | None = None
    category: str | None = Field(default=None, max_length=40, description="confirmed, else suggested")
    facility_code: str | None = Field(default=None, max_length=32)
    date_from: date | None = Field(default=None, description="local day (Asia/Ho_Chi_Minh), inclusive")
    date_to: date | None = Field(default=None, description="local day, inclusive")
    overdue: bool | None = None
    incident: bool | None = None
    needs_callback: bool | None = None
    assignee_id: int | None = Field(default=None, ge=1)
    text: str | None = Field(
        default=None, max_length=200, description='accent-insensitive words ("thieu thuoc"), or "PA-…"'
    )
    page: int = Field(default=1, ge=1, le=100_000)
    page_size: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)


class RosterWeekQuery(QueryParams):
    start: date | None = Field(default=None, description="first day of the week (YYYY-MM-DD); today if none")


# --- bodies ----------------------------------------------------------------------------------------------


class StatusIn(StrictBody):
    status: TicketStatus
    forwarded_to: str | None = Field(default=None, max_length=500, description="with status chuyen only")
    result_told: str | None = Field(default=None, max_length=RESULT_MAX_CHARS)


class AssignIn(StrictBody):
    assignee_id: int | None = Field(description="a user id, or null for nobody")


class DeadlineIn(StrictBody):
    deadline: AwareDatetime | None = Field(description="ISO 8601 with offset; null: the default deadline")


class NoteIn(StrictBody):
    text: str = Field(min_length=1, max_length=NOTE_MAX_CHARS)


class ResultIn(StrictBody):
    text: str = Field(min_length=1, max_length=RESULT_MAX_CHARS)


class CategoryIn(StrictBody):
    category: str = Field(min_length=1, max_length=40)


# --- tickets out -----------------------------------------------------------------------------------------


class TicketOut(_Out):
    id: int
    ref: str
    created_at: datetime
    status: TicketStatus
    status_label: str
    priority: str
    facility_code: str | None
    facility_name: str | None
    province: str | None
    caller_number: str = Field(description="masked to its last 3 digits unless personal_data_visible")
    personal_data_visible: bool
    needs_callback: bool
    incident: bool
    category: str | None
    category_suggested: str | None
    category_confidence: float | None
    category_confirmed: str | None
    outside_jurisdiction: bool
    assignee_id: int | None
    assignee_name: str | None
    deadline: datetime
    deadline_is_default: bool
    overdue: bool
    resolved_at: datetime | None
    call_state: str | None
    answered_tier: str | None

    @classmethod
    def of(cls, item: TicketListItem) -> TicketOut:
        return cls.model_validate(item)


class TicketsOut(BaseModel):
    items: list[TicketOut]
    total: int
    page: int
    page_size: int
    pages: int


class AttemptOut(_Out):
    index: int
    tier: str
    officer_name: str
    number: str
    ring_timeout_s: int
    result: str | None


class CallOut(_Out):
    call_id: str
    state: str
    dialled_number: str
    facility_code: str | None
    started_at: datetime
    routed_at: datetime | None
    ended_at: datetime | None
    answered_index: int | None
    answered_tier: str | None
    answered_by: str | None
    talk_ms: int | None
    duration_s: int | None
    hangup_cause: int | None
    end_detail: str
    attempts: list[AttemptOut]


class RecordingOut(BaseModel):
    id: int
    kind: str = Field(description="mix | caller | officer | voicemail")
    created_at: datetime
    url: str = Field(description="streams the audio; supports HTTP Range")


class TurnOut(_Out):
    speaker: str
    start: float
    end: float
    text: str
    words: list[tuple[str, float, float]]


class TranscriptOut(_Out):
    masked: bool
    engine: str
    language: str
    source: str
    text: str
    turns: list[TurnOut]
    leg_problems: dict[str, str]


class TranscriptionOut(_Out):
    status: str
    attempts: int
    last_error: str


class NoteOut(_Out):
    id: int
    at: datetime
    user_id: int | None
    author: str
    text: str


class HistoryOut(_Out):
    at: datetime
    kind: str
    detail: dict[str, Any]


class TicketLinkOut(_Out):
    id: int
    ref: str
    created_at: datetime
    status: str
    facility_code: str | None


class HoldIn(StrictBody):
    hold: bool


class TicketDetailOut(BaseModel):
    ticket: TicketOut
    caller_name: str | None
    summary: str
    incident_reasons: str
    forwarded_to: str
    result_told: str
    updated_at: datetime
    call: CallOut | None
    recordings: list[RecordingOut]
    transcript: TranscriptOut | None
    callback_transcripts: list[TranscriptOut] = Field(
        default_factory=list, description="what was said in the callbacks that talked, oldest first"
    )
    transcription: TranscriptionOut | None
    notes: list[NoteOut]
    history: list[HistoryOut]
    earlier_tickets: list[TicketLinkOut] = Field(description="same caller, the 30 days before")
    can_edit: bool
    next_statuses: list[TicketStatus]
    hold: bool = Field(description="giữ lại: kept past the retention periods")

    @classmethod
    def of(cls, d: TicketDetail) -> TicketDetailOut:
        return cls(
            ticket=TicketOut.of(d.item),
            caller_name=d.caller_name,
            summary=d.summary,
            incident_reasons=d.incident_reasons,
            forwarded_to=d.forwarded_to,
            result_told=d.result_told,
            updated_at=d.updated_at,
            call=None if d.call is None else CallOut.model_validate(d.call),
            recordings=[
                RecordingOut(id=r.id, kind=r.kind, created_at=r.created_at, url=recording_url(d.id, r.id))
                for r in d.recordings
            ],
            transcript=None if d.transcript is None else TranscriptOut.model_validate(d.transcript),
            callback_transcripts=[TranscriptOut.model_validate(c) for c in d.callback_transcripts],
            transcription=None
            if d.transcription is None
            else TranscriptionOut.model_validate(d.transcription),
            notes=[NoteOut.model_validate(n) for n in d.notes],
            history=[HistoryOut.model_validate(h) for h in d.history],
            earlier_tickets=[TicketLinkOut.model_validate(t) for t in d.earlier_tickets],
            can_edit=d.can_edit,
            next_statuses=list(d.next_statuses),
            hold=d.hold,
        )


def recording_url(ticket_id: int, recording_id: int) -> str:
    return f"/api/tickets/{ticket_id}/recordings/{recording_id}"


# --- facilities and roster -------------------------------------------------------------------------------


class FacilityHealthOut(BaseModel):
    calls: int = Field(description="calls to the hotline in the period (the last 30 days)")
    answered: int
    answered_by_first: int = Field(description="answered by the first target of the chain")
    all_failed: int = Field(description="every target of the chain failed")
    abandoned: int = Field(description="the caller hung up before anyone accepted")
    answer_rate: float | None = Field(description="answered / calls, 0..1; null without calls")
    mean_answer_wait_s: float | None = Field(
        description="mean ringing time until an officer accepted, over answered calls with a known wait"
    )
    last_answered_at: datetime | None
    silent: bool = Field(
        description="calls but none answered, or no answered call for 7 days: a dead hotline is a fault"
    )
    failing: bool = Field(description="fails a rule of the report's hotline health (docs/report.md)")
    reasons: list[str] = Field(description="no_answer, low_answer_rate, slow_answer, roster_gap, not_viettel")
    reasons_vi: list[str]
    since: datetime
    probes: ProbeSeriesOut | None = Field(
        default=None, description="the test calls of the period (Cuộc gọi kiểm tra), apart from calls"
    )


class FacilityOut(BaseModel):
    code: str
    keypad_code: str
    name: str
    kind: str
    province: str
    hotline: str
    hotline_kind: str
    not_viettel: bool = Field(description="the hotline is not a Viettel mobile: to be moved and reported")
    authority_line: str | None
    health: FacilityHealthOut | None = None


class FacilitiesOut(BaseModel):
    facilities: list[FacilityOut]


class DutyOut(BaseModel):
    tier: str
    officer: str
    phone: str
    start: datetime
    end: datetime
    source: str


class GapOut(BaseModel):
    tier: str
    start: datetime
    end: datetime


class RosterDayOut(BaseModel):
    date: date
    duties: list[DutyOut]
    gaps: list[GapOut]


class OverrideOut(BaseModel):
    id: int
    facility_code: str
    tier: str
    officer: str
    phone: str
    start: datetime
    end: datetime
    reason: str


class OverrideIn(StrictBody):
    tier: str = Field(description="duty_officer | backup | leader")
    officer: str
    phone: str
    start: datetime = Field(description="with its UTC offset")
    end: datetime = Field(description="after start, with its UTC offset")
    reason: str = ""


class RosterWeekOut(BaseModel):
    facility_code: str
    facility_name: str
    start: date
    days: list[RosterDayOut]
    gaps: list[GapOut] = Field(description="every interval of the week where a tier has nobody")
    overrides: list[OverrideOut] = Field(description="the one-offs that touch the week")


class RosterImportRowError(BaseModel):
    row: int
    field: str
    reason: str


class RosterImportOut(BaseModel):
    ok: bool
    errors: list[RosterImportRowError]
