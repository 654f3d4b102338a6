"""The audit log page (/nhat-ky) for admins and auditors: who did what and when, newest first, filtered
by user, action and a range of local days, paged "older" by entry id.

It reads through `AuditService.query`, as the JSON API does (the service checks the role again). Days
are the hotline's (Asia/Ho_Chi_Minh): "from 01/11 to 02/11" is 01/11 00:00 to 03/11 00:00 local time,
compared with the stored UTC instants. The service keeps callers' numbers, names and transcripts out of
an entry's detail when it is written; the page masks every string it shows once more, so an entry
written before that rule, or by a bug, still shows no number.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from pydantic import Field, ValidationError

from callcenter.domain.redact import mask_personal_data
from callcenter.services.audit import AuditAction
from callcenter.services.ports_people import AuditEntry, AuditFilter
from callcenter.services.users import normalise_username
from callcenter.web.context import principal, services, state
from callcenter.web.errors import from_validation
from callcenter.web.io import QueryParams
from callcenter.web.render import render

PATH = "/nhat-ky"
PAGE_SIZE = 50
ACTION_LABELS_VI: dict[str, str] = {
    AuditAction.LOGIN_OK: "Đăng nhập",
    AuditAction.LOGIN_FAILED: "Đăng nhập không thành công",
    AuditAction.LOGOUT: "Đăng xuất",
    AuditAction.TICKET_VIEW: "Xem phản ánh",
    AuditAction.TICKET_UPDATE: "Xử lý phản ánh",
    AuditAction.RECORDING_LISTEN: "Nghe ghi âm",
    "ticket.hold": "Giữ lại hồ sơ",
    "ticket.hold_released": "Bỏ giữ lại hồ sơ",
    AuditAction.CALLBACK: "Gọi lại người phản ánh",
    AuditAction.USER_CREATE: "Thêm người dùng",
    AuditAction.USER_UPDATE: "Sửa người dùng",
    AuditAction.USER_DEACTIVATE: "Khoá tài khoản",
    AuditAction.USER_PASSWORD: "Đặt lại mật khẩu",
    AuditAction.ROSTER_IMPORT: "Nhập lịch trực (CSV)",
    AuditAction.OVERRIDE_ADD: "Thêm trực đột xuất",
    AuditAction.OVERRIDE_DELETE: "Xoá trực đột xuất",
    AuditAction.CALLBACK: "Gọi lại người phản ánh",
    "retention.recordings_deleted": "Hết hạn lưu: xoá ghi âm",
    "retention.transcripts_removed": "Hết hạn lưu: xoá bản chép lời",
    "retention.personal_data_removed": "Hết hạn lưu: xoá thông tin người gọi",
}
DETAIL_LABELS_VI = {
    "target_username": "người dùng",
    "target_user_id": "mã người dùng",
    "role": "vai trò",
    "fields": "thay đổi",
    "field": "mục",
    "facility": "cơ sở",
    "tier": "cấp trực",
    "reason": "lý do",
    "kind": "loại",
    "count": "số lượng",
}


class AuditPageQuery(QueryParams):
    """The page's filter form (empty fields dropped first) and its "older" link."""

    username: str | None = Field(default=None, max_length=64)
    action: str | None = Field(default=None, max_length=48)
    date_from: date | None = None
    date_to: date | None = None
    before_id: int | None = Field(default=None, ge=1)


FIELD_LABELS_VI = {
    "username": "Người dùng",
    "action": "Thao tác",
    "date_from": "Từ ngày",
    "date_to": "Đến ngày",
}


def action_label(action: str) -> str:
    return ACTION_LABELS_VI.get(action, action)


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value)
    # Strings only, as when the entry was written: a byte count is not an ID number.
    return mask_personal_data(value) if isinstance(value, str) else str(value)


def detail_pairs(entry: AuditEntry) -> list[tuple[str, str]]:
    """An entry's detail as (label, text) pairs, every string masked (see the module's note)."""
    return [(DETAIL_LABELS_VI.get(k, k), _shown(v)) for k, v in entry.detail.items()]


def _filter(q: AuditPageQuery, request: web.Request) -> AuditFilter:
    tz = state(request).config.tz

    def start_of(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)

    return AuditFilter(
        username=normalise_username(q.username) if q.username else None,
        action=q.action,
        since=start_of(q.date_from) if q.date_from else None,
        until=start_of(q.date_to + timedelta(days=1)) if q.date_to else None,
        before_id=q.before_id,
        limit=PAGE_SIZE,
    )


async def audit_page(request: web.Request) -> web.StreamResponse:
    # A form sends every field, empty ones too: an empty field is no filter.
    raw = {k: v.strip() for k, v in request.query.items() if v.strip()}
    error: str | None = None
    entries: list[AuditEntry] = []
    try:
        q = AuditPageQuery.model_validate(raw)
    except ValidationError as exc:
        problem = from_validation(exc)
        label = FIELD_LABELS_VI.get(problem.field or "", problem.field or "")
        if problem.field in ("date_from", "date_to"):
            error = f"{label}: ngày không hợp lệ, cần dạng năm-tháng-ngày (2026-11-23) / invalid date"
        else:
            error = f"{label}: {problem.message}" if label else problem.message
    else:
        if q.date_from and q.date_to and q.date_from > q.date_to:
            error = "Từ ngày phải trước hoặc bằng đến ngày / date_from must not be after date_to"
        else:
            entries = await services(request).audit.query(principal(request), _filter(q, request))
    filters = {k: v for k, v in raw.items() if k != "before_id"}
    older = None
    if len(entries) == PAGE_SIZE:
        older = PATH + "?" + urlencode({**filters, "before_id": entries[-1].id})
    tz = state(request).config.tz
    return render(
        request,
        "audit.html",
        {
            "q": raw,
            "entries": entries,
            "actions": list(ACTION_LABELS_VI.items()),
            "action_label": action_label,
            "details": detail_pairs,
            "local": lambda instant: instant.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S"),
            "older": older,
            "newest": PATH + ("?" + urlencode(filters) if filters else "") if "before_id" in raw else None,
            "error": error,
            "path": PATH,
        },
        title="Nhật ký truy cập",
        status=400 if error else 200,
    )
