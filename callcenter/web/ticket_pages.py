"""HTML pages for supervisors and duty officers: the ticket list, one ticket (with its forms), the roster
week of a facility and the facility registry. Forms post back here and redirect (no script needed); the
only script is static/ticket.js, which makes transcript turns seek the mix audio."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import ValidationError

from callcenter.domain.access import Principal, Role
from callcenter.domain.classify import SuggestionCode
from callcenter.domain.ticket import STATUS_LABELS_VI, TicketStatus
from callcenter.services.audit import AuditAction
from callcenter.services.errors import InvalidInput
from callcenter.services.outbound import CallbackNotAllowed
from callcenter.services.roster_csv import RosterError
from callcenter.services.tickets import TicketDetail
from callcenter.web.callback_pages import CALLING_NOTICE, audit_callback, event_detail, ticket_attempts
from callcenter.web.context import audit, now, principal, services, state
from callcenter.web.errors import ApiError, from_service, from_validation
from callcenter.web.render import render
from callcenter.web.roster import (
    HEALTH_PERIODS,
    TIER_LABELS_VI,
    audit_override,
    facilities_with_health,
    facility_for,
    health_days,
    roster_week,
    visible_facilities,
)
from callcenter.web.routing import SUPERVISORS
from callcenter.web.ticket_schemas import TicketsQuery, recording_url
from callcenter.web.tickets import ticket_filter, ticket_id

CATEGORY_LABELS_VI: dict[str, str] = {
    SuggestionCode.THIEU_THUOC.value: "Thiếu thuốc, vật tư",
    SuggestionCode.QUY_TRINH_KHAM_BENH.value: "Quy trình khám chữa bệnh",
    SuggestionCode.QUY_TAC_UNG_XU.value: "Quy tắc ứng xử, thái độ",
    SuggestionCode.CHUYEN_MON.value: "Chuyên môn",
    SuggestionCode.BHYT.value: "Bảo hiểm y tế",
    SuggestionCode.QUY_CHE_KE_DON.value: "Quy chế kê đơn",
    SuggestionCode.KHAC.value: "Khác",
    SuggestionCode.KHONG_DUNG_THAM_QUYEN.value: "Không đúng thẩm quyền",
}
KIND_LABELS_VI = {
    "mix": "Cuộc gọi (cả hai bên)",
    "caller": "Người gọi",
    "officer": "Cán bộ",
    "voicemail": "Tin nhắn thoại",
    "callback_mix": "Cuộc gọi lại (cả hai bên)",
    "callback_caller": "Gọi lại: người phản ánh",
    "callback_officer": "Gọi lại: cán bộ",
}
SPEAKER_LABELS_VI = {"caller": "Người gọi", "officer": "Cán bộ", "unknown": "Không rõ"}
RESULT_LABELS_VI = {
    "answer": "Nghe máy",
    "answered": "Nghe máy",
    "busy": "Máy bận",
    "noanswer": "Không nghe máy",
    "no_answer": "Không nghe máy",
    "declined": "Từ chối",
    "congestion": "Nghẽn mạng",
    "chanunavail": "Không liên lạc được",
    "not_tried": "Chưa cần gọi",
    "failed": "Lỗi",
}
EVENT_LABELS_VI = {
    "received": "Nhận cuộc gọi",
    "routed": "Chuyển cuộc gọi",
    "call_ended": "Kết thúc cuộc gọi",
    "rated": "Người gọi đánh giá cuộc gọi",
    "transcribed": "Chép lời xong",
    "status_changed": "Đổi trạng thái",
    "assigned": "Giao người xử lý",
    "note_added": "Thêm ghi chú",
    "deadline_set": "Đặt hạn xử lý",
    "result_told_set": "Ghi kết quả báo người gọi",
    "category_confirmed": "Xác nhận lĩnh vực",
    "hold_set": "Giữ lại hồ sơ",
    "hold_released": "Bỏ giữ lại hồ sơ",
    "callback.requested": "Yêu cầu gọi lại người phản ánh",
    "callback.ended": "Kết thúc cuộc gọi lại",
}
_LIST_KEYS = set(TicketsQuery.model_fields)
_STATUS_BY_VALUE = {s.value: label for s, label in STATUS_LABELS_VI.items()}


def _local(request: web.Request, instant: datetime | None) -> str:
    if instant is None:
        return ""
    return instant.astimezone(state(request).config.tz).strftime("%d/%m/%Y %H:%M")


def _helpers(request: web.Request) -> dict[str, Any]:
    return {
        "local": lambda instant: _local(request, instant),
        "short": lambda instant: instant.astimezone(state(request).config.tz).strftime("%d/%m %H:%M"),
        "category_label": lambda code: CATEGORY_LABELS_VI.get(code or "", code or "Chưa phân loại"),
        "tier_label": lambda code: TIER_LABELS_VI.get(code or "", code or ""),
        "event_label": lambda kind: EVENT_LABELS_VI.get(kind, kind),
        "event_detail": event_detail,
    }


# --- the list --------------------------------------------------------------------------------------------


async def tickets_page(request: web.Request) -> web.StreamResponse:
    # A form sends every field, empty ones too: an empty field is no filter.
    raw = {k: v for k, v in request.query.items() if v.strip() and k in _LIST_KEYS}
    error: str | None = None
    items: list[Any] = []
    total = pages = 0
    q = TicketsQuery()
    try:
        q = TicketsQuery.model_validate(raw)
        page = await services(request).tickets.list(
            principal(request), ticket_filter(q), now(request), page=q.page, page_size=q.page_size
        )
        items, total, pages = list(page.items), page.total, page.pages
    except ValidationError as exc:
        problem = from_validation(exc)
        error = f"{problem.field}: {problem.message}"
    except InvalidInput as exc:
        error = f"{exc.field}: {exc.message}" if exc.field else exc.message

    def page_link(n: int) -> str:
        return "/phan-anh?" + urlencode({**{k: v for k, v in raw.items() if k != "page"}, "page": n})

    facilities = await visible_facilities(request)
    return render(
        request,
        "tickets.html",
        {
            **_helpers(request),
            "q": raw,
            "items": items,
            "total": total,
            "page": q.page,
            "pages": pages,
            "page_link": page_link,
            "error": error,
            "statuses": [(s.value, STATUS_LABELS_VI[s]) for s in TicketStatus],
            "categories": list(CATEGORY_LABELS_VI.items()),
            "facilities": facilities,
        },
        title="Danh sách phản ánh",
        status=400 if error else 200,
    )


# --- one ticket ------------------------------------------------------------------------------------------


async def _assignees(request: web.Request, detail: TicketDetail) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for u in await services(request).users.all():
        who = Principal(u.id, u.username, u.role, province=u.province, facility_code=u.facility_code)
        if (
            u.active
            and who.can_edit_tickets()
            and who.can_see_ticket(detail.item.facility_code, detail.item.province)
        ):
            out.append((u.id, u.full_name or u.username))
    return out


async def _render_ticket(
    request: web.Request, detail: TicketDetail, *, error: ApiError | None = None, notice: str | None = None
) -> web.Response:
    by_kind = {r.kind: recording_url(detail.id, r.id) for r in detail.recordings}
    callbacks = await ticket_attempts(request, detail.id)
    if notice == CALLING_NOTICE and not (callbacks and not callbacks[-1].done):
        notice = None  # the page reloaded after the call: the list below says how it went
    tz = state(request).config.tz
    return render(
        request,
        "ticket.html",
        {
            **_helpers(request),
            "t": detail,
            "item": detail.item,
            "recordings": [
                (KIND_LABELS_VI.get(r.kind, r.kind), r.kind, recording_url(detail.id, r.id))
                for r in sorted(
                    detail.recordings,
                    key=lambda r: list(KIND_LABELS_VI).index(r.kind) if r.kind in KIND_LABELS_VI else 99,
                )
            ],
            "mix_url": by_kind.get("mix"),
            "speaker_label": lambda s: SPEAKER_LABELS_VI.get(s, s),
            "result_label": lambda r: RESULT_LABELS_VI.get((r or "").lower(), r or "đang gọi"),
            "status_label": lambda s: _STATUS_BY_VALUE.get(str(s), str(s)),
            "next_statuses": [(s.value, STATUS_LABELS_VI[s]) for s in detail.next_statuses],
            "categories": [(k, v) for k, v in CATEGORY_LABELS_VI.items() if k != "khong_dung_tham_quyen"],
            "assignees": await _assignees(request, detail) if detail.can_edit else [],
            "deadline_value": detail.item.deadline.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
            "error": error,
            "notice": notice,
            "is_auditor": principal(request).role is Role.AUDITOR,
            "can_hold": principal(request).role in SUPERVISORS,  # who may hold, as the hold route
            # None: callbacks are not configured ([ari]), and the page offers no "Gọi lại".
            "callbacks": callbacks,
        },
        title=f"Phản ánh {detail.ref}",
        status=error.status if error else 200,
    )


async def ticket_page(request: web.Request) -> web.StreamResponse:
    tid = ticket_id(request)
    detail = await services(request).tickets.get(principal(request), tid, now(request))
    await audit(request, AuditAction.TICKET_VIEW, ticket_id=tid)
    notice = (
        CALLING_NOTICE
        if "dang_goi" in request.query
        else "Đã lưu thay đổi."
        if "da_luu" in request.query
        else None
    )
    return await _render_ticket(request, detail, notice=notice)


def _form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def ticket_submit(request: web.Request) -> web.StreamResponse:
    """One form endpoint for the ticket page's forms; `action` says which."""
    tid = ticket_id(request)
    form = await request.post()
    action = _form_text(form, "action")
    svc, who, at = services(request).tickets, principal(request), now(request)
    if action == "callback":
        return await _place_callback(request, tid)
    try:
        match action:
            case "status":
                forwarded = _form_text(form, "forwarded_to").strip() or None
                told = _form_text(form, "result_told").strip() or None
                await svc.change_status(
                    who, tid, _form_text(form, "status"), at, forwarded_to=forwarded, result_told=told
                )
            case "assign":
                raw = _form_text(form, "assignee_id").strip()
                if raw and not raw.isdigit():
                    raise InvalidInput("Người được giao không hợp lệ / invalid assignee", field="assignee_id")
                await svc.assign(who, tid, int(raw) if raw else None, at)
            case "deadline":
                raw = _form_text(form, "deadline").strip()
                deadline = None
                if raw:
                    try:
                        deadline = datetime.fromisoformat(raw).replace(tzinfo=state(request).config.tz)
                    except ValueError:
                        raise InvalidInput(
                            "Hạn xử lý không hợp lệ / invalid deadline", field="deadline"
                        ) from None
                await svc.set_deadline(who, tid, deadline, at)
            case "note":
                await svc.add_note(who, tid, _form_text(form, "text"), at)
            case "result":
                await svc.set_result_told(who, tid, _form_text(form, "result_told"), at)
            case "category":
                await svc.confirm_category(who, tid, _form_text(form, "category"), at)
            case "hold":
                # Supervisors and admins: the service refuses a facility officer (403).
                raw = _form_text(form, "hold")
                if raw not in ("0", "1"):
                    raise InvalidInput("Giá trị giữ lại không hợp lệ / hold must be 0 or 1", field="hold")
                await svc.set_hold(who, tid, raw == "1", at)
            case _:
                raise InvalidInput("Thao tác không hợp lệ / unknown action", field="action")
    except InvalidInput as exc:
        detail = await svc.get(who, tid, at)
        return await _render_ticket(request, detail, error=from_service(exc))
    await audit(request, AuditAction.TICKET_UPDATE, ticket_id=tid, detail={"field": action})
    raise web.HTTPSeeOther(f"/phan-anh/{tid}?da_luu=1")


async def _place_callback(request: web.Request, tid: int) -> web.StreamResponse:
    """ "Gọi lại": the server rings the officer's phone, then the citizen's; a rule that forbids it now
    (night, too many today, no phone on the account, one in progress) comes back as the page, 409."""
    who, at = principal(request), now(request)
    outbound = services(request).outbound
    try:
        if outbound is None:  # as the API (web.callbacks.outbound)
            raise ApiError(503, "telephony_disabled", "Chức năng gọi lại chưa được bật (cấu hình [ari])")
        try:
            outbound_id = await outbound.request_callback(tid, who, at)
        except CallbackNotAllowed as exc:
            raise from_service(exc) from None
    except ApiError as error:
        detail = await services(request).tickets.get(who, tid, at)
        return await _render_ticket(request, detail, error=error)
    await audit_callback(request, tid, outbound_id)
    raise web.HTTPSeeOther(f"/phan-anh/{tid}?dang_goi=1")


# --- roster and facilities -------------------------------------------------------------------------------


async def _render_roster(
    request: web.Request,
    *,
    error: str | None = None,
    report: list[RosterError] | None = None,
    notice: str | None = None,
    status: int = 200,
    confirm_override: int | None = None,
) -> web.Response:
    week = await roster_week(request)
    confirm = next((o for o in week.overrides if o.id == confirm_override), None)
    tiers = list(TIER_LABELS_VI.items())
    return render(
        request,
        "roster_week.html",
        {
            **_helpers(request),
            "week": week,
            "tiers": tiers,
            "override_tiers": tiers[:3],
            "timedelta7": timedelta(days=7),
            "is_admin": principal(request).role is Role.ADMIN,
            "error": error,
            "report": report or [],
            "notice": notice,
            "confirm": confirm,
        },
        title=f"Lịch trực tuần — {week.facility_name}",
        status=status,
    )


async def roster_page(request: web.Request) -> web.StreamResponse:
    return await _render_roster(request, notice="Đã lưu lịch trực." if "da_luu" in request.query else None)


def _local_input(request: web.Request, form: Any, name: str) -> datetime:
    """A datetime-local field (YYYY-MM-DDTHH:MM), read as the roster's local time."""
    raw = _form_text(form, name).strip()
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=state(request).config.tz)
    except ValueError:
        raise InvalidInput("thời điểm không hợp lệ / invalid time", field=name) from None


async def _csv_from_form(form: Any) -> str:
    upload = form.get("csv_file")
    raw: bytes | str = b""
    if upload is not None and not isinstance(upload, str):
        raw = upload.file.read()
    if not raw:
        raw = _form_text(form, "csv_text")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise InvalidInput("Tệp phải mã hoá UTF-8 / the file must be UTF-8", field="csv_file") from None
    if not text.strip():
        raise InvalidInput("Chưa chọn tệp CSV / no CSV file given", field="csv_file")
    return text


async def roster_submit(request: web.Request) -> web.StreamResponse:
    """The admin forms of the roster page; `action` says which. The CSV upload is a multipart form whose
    csrf_token field the CSRF middleware reads (aiohttp keeps the parsed form for the handler)."""
    facility = await facility_for(request, principal(request), request.match_info["facility_code"])
    form = await request.post()
    action = _form_text(form, "action")
    roster, at = services(request).roster, now(request)
    try:
        match action:
            case "add_override":
                added = await roster.add_override(
                    facility.code,
                    _form_text(form, "tier"),
                    _form_text(form, "officer"),
                    _form_text(form, "phone"),
                    _local_input(request, form, "start"),
                    _local_input(request, form, "end"),
                    _form_text(form, "reason"),
                    at,
                )
                await audit_override(request, AuditAction.OVERRIDE_ADD, facility.code, added.seq, added)
            case "confirm_delete_override":
                # The list's button only asks: the page comes back with the override named and a
                # second button that deletes it (no script needed, nothing deleted by one slip).
                raw = _form_text(form, "override_id").strip()
                if not raw.isdigit() or await roster.override_facility(int(raw)) != facility.code:
                    raise InvalidInput("Không tìm thấy lịch đột xuất / no such override", field="override_id")
                return await _render_roster(request, confirm_override=int(raw))
            case "delete_override":
                raw = _form_text(form, "override_id").strip()
                if not raw.isdigit() or await roster.override_facility(int(raw)) != facility.code:
                    raise InvalidInput("Không tìm thấy lịch đột xuất / no such override", field="override_id")
                await roster.delete_override(int(raw))
                await audit_override(request, AuditAction.OVERRIDE_DELETE, facility.code, int(raw))
            case "import":
                csv_text = await _csv_from_form(form)
                errors = await roster.import_csv(csv_text, at)
                if not errors:
                    await audit(request, AuditAction.ROSTER_IMPORT, detail={"lines": csv_text.count("\n")})
                if errors:
                    return await _render_roster(
                        request,
                        error=f"Tệp có {len(errors)} lỗi, chưa nhập gì. Sửa các dòng dưới đây rồi tải lại.",
                        report=errors,
                        status=400,
                    )
            case _:
                raise InvalidInput("Thao tác không hợp lệ / unknown action", field="action")
    except InvalidInput as exc:
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return await _render_roster(request, error=message, status=400)
    query = urlencode({**dict(request.query), "da_luu": "1"})
    raise web.HTTPSeeOther(f"/lich-truc/{facility.code}?{query}")


async def facilities_page(request: web.Request) -> web.StreamResponse:
    facilities = await facilities_with_health(request)
    return render(
        request,
        "facilities.html",
        {
            **_helpers(request),
            "facilities": facilities,
            "days": health_days(request),
            "periods": HEALTH_PERIODS,
            "flagged": sum(1 for f in facilities if f.not_viettel),
            "silent": sum(1 for f in facilities if f.health is not None and f.health.silent),
            "percent": lambda rate: "—" if rate is None else f"{rate * 100:.0f}%".replace(".", ","),
        },
        title="Danh sách cơ sở",
    )
