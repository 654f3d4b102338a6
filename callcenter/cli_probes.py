"""`callcenter probes run | list`: test calls to the hotlines from cron, and their series.

`run` connects its OWN Stasis app (`[ari] app` + "-cli"; each leg carries HOTLINE_ARI_APP, so its events
come back to this process even while `serve` holds the main app's socket), places a probe per facility
that has none in progress and no citizen's call going on, and waits for them. It never reconciles: the
rows `serve` is driving are not its business. A probe still running when the wait ends is closed as
`unknown` (ours, never the hotline's failure) and its leg hung up, so the facility is not blocked.

Exit codes: 0 every probe placed was answered by a human; 1 a hotline failed one (busy, no answer,
unreachable, answered without the key) or one was still running at the end of the wait; 2 bad input, ARI
disabled or unreachable, or our originate refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from datetime import timedelta

from callcenter.app import App, build_outbound, utc_now
from callcenter.asterisk.ari import AriClient
from callcenter.domain.outbound import Leg, OutboundState, Outcome, channel_id
from callcenter.domain.probe_health import (
    HOTLINE_FAILURES,
    PROBE_FAIL_LABELS_VI,
    PROBE_FLAG_VI,
    SERIES_LABEL_VI,
    outcome_label,
)
from callcenter.services.hotline_health import HotlineHealthService
from callcenter.services.outbound import ProbeStarted
from callcenter.services.ports_outbound import OutboundRecord, TelephonyError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
SKIPPED_VI = {
    "busy_line": "bỏ qua: đường dây đang có cuộc gọi của người dân",
    "in_progress": "bỏ qua: đang có một cuộc gọi kiểm tra khác",
}
WAIT_ENDED = "hết thời gian chờ, cuộc gọi vẫn đang diễn ra (đã dừng, ghi là không rõ)"


def _err(message: str) -> int:
    print(f"callcenter probes: {message}", file=sys.stderr)
    return EXIT_USAGE


def _seconds(ms: int | None) -> str:
    return "" if ms is None else f"{ms / 1000:.1f}".replace(".", ",") + " giây"


async def probes_run(app: App, facility: str | None, wait_s: float | None, as_json: bool) -> int:
    settings = app.settings
    if not settings.ari.enabled:
        return _err("ARI chưa bật ([ari] enabled = false) / ARI is not enabled")
    if wait_s is not None and wait_s <= 0:
        return _err("--wait phải lớn hơn 0 / --wait must be positive")
    codes = [f.code for f in await app.facilities.list()]
    if facility is not None and facility not in codes:
        return _err(f"không có cơ sở {facility!r} / unknown facility")
    ari, outbound = build_outbound(settings, app.uow, app.clock, app_name=settings.ari.app + "-cli")
    assert ari is not None and outbound is not None
    stop = asyncio.Event()
    connected = asyncio.Event()

    async def on_connected() -> None:
        connected.set()

    events: asyncio.Task[None] | None = None
    try:
        try:
            await ari.request(
                "GET", "/channels"
            )  # the URL, the password and Asterisk itself, with a clear reason
        except TelephonyError as exc:
            return _err(f"không kết nối được ARI / ARI unreachable at {settings.ari.url}: {exc}")
        events = asyncio.create_task(ari.run_events(outbound, utc_now, stop, on_connected=on_connected))
        try:
            await asyncio.wait_for(connected.wait(), settings.ari.request_timeout_s)
        except TimeoutError:
            return _err(f"không mở được kênh sự kiện ARI / ARI events unreachable at {settings.ari.url}")
        started = {
            code: await outbound.probe(code, app.clock()) for code in ([facility] if facility else codes)
        }
        a = settings.ari
        wait = wait_s if wait_s is not None else a.ring_timeout_s + a.accept_timeout_s + 15
        rows = await _wait_done(app, started, wait)
        late = [r for r in rows.values() if r.state.active]
        await _close_late(app, ari, late)
    finally:
        stop.set()
        if events is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(events, 5)
        await outbound.close()
        await ari.close()
    return _report(started, rows, {r.id for r in late}, as_json)


async def _wait_done(app: App, started: dict[str, ProbeStarted], wait_s: float) -> dict[str, OutboundRecord]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        rows: dict[str, OutboundRecord] = {}
        async with app.uow() as uow:
            for code, s in started.items():
                if s.outbound_id is not None:
                    row = await uow.outbound.get(s.outbound_id)
                    if row is not None:
                        rows[code] = row
        if all(not r.state.active for r in rows.values()) or loop.time() >= deadline:
            return rows
        await asyncio.sleep(0.1)


async def _close_late(app: App, ari: AriClient, late: list[OutboundRecord]) -> None:
    """Probes still running at the end of the wait: closed as unknown, then their leg hung up (its end
    then finds the row closed and changes nothing)."""
    for row in late:
        now = app.clock()
        async with app.uow() as uow:
            current = await uow.outbound.get(row.id, for_update=True)
            if current is None or not current.state.active:
                continue
            await uow.outbound.update(
                row.id,
                now,
                state=OutboundState.DONE,
                outcome=Outcome.UNKNOWN,
                ended_at=now,
                detail="callcenter probes run: wait ended",
            )
            await uow.commit()
        with contextlib.suppress(TelephonyError):
            await ari.hangup(channel_id(row.id, Leg.HOTLINE, row.created_at))


def _report(
    started: dict[str, ProbeStarted], rows: dict[str, OutboundRecord], late: set[int], as_json: bool
) -> int:
    lines: list[dict[str, object]] = []
    code = EXIT_OK
    for facility, s in started.items():
        row = rows.get(facility)
        item: dict[str, object] = {"facility_code": facility, "outbound_id": s.outbound_id}
        if row is None:
            item |= {"outcome": None, "text": SKIPPED_VI.get(s.skipped, s.skipped), "skipped": s.skipped}
        elif row.id in late:
            item |= {"outcome": None, "running": True, "text": WAIT_ENDED}
            code = max(code, EXIT_FINDINGS)
        else:
            outcome = row.outcome
            ring = _seconds(row.ring_ms)
            text = outcome_label(outcome) + (f", đổ chuông {ring}" if ring else "")
            item |= {
                "outcome": None if outcome is None else outcome.value,
                "ring_s": None if row.ring_ms is None else round(row.ring_ms / 1000, 1),
                "text": text,
            }
            if outcome in HOTLINE_FAILURES:
                code = max(code, EXIT_FINDINGS)
            elif outcome is Outcome.FAILED and code == EXIT_OK:
                code = EXIT_USAGE  # our side refused: Asterisk or ARI, not the hotline
        lines.append(item)
    if code == EXIT_USAGE and any(i.get("outcome") in {o.value for o in HOTLINE_FAILURES} for i in lines):
        code = EXIT_FINDINGS
    if as_json:
        import json

        print(json.dumps(lines, ensure_ascii=False, indent=2))
    else:
        for i in lines:
            print(f"{i['facility_code']:<14} {SERIES_LABEL_VI}: {i['text']}")
    return code


async def probes_list(app: App, days: int, as_json: bool) -> int:
    if not 1 <= days <= 366:
        return _err("--days phải từ 1 đến 366 / --days must be 1..366")
    now = app.clock()
    health = await HotlineHealthService(app.uow, app.settings.tz).between(now - timedelta(days=days), now)
    if as_json:
        import json

        out = [
            {"facility_code": h.facility_code, "facility_name": h.facility_name, **(h.probes.as_dict())}
            for h in health
            if h.probes is not None
        ]
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    else:
        print(f"{SERIES_LABEL_VI} trong {days} ngày qua (không gộp với cuộc gọi của người dân):")
        for h in health:
            p = h.probes
            if p is None or not p.placed:
                print(f"{h.facility_code:<14} chưa có cuộc gọi kiểm tra")
                continue
            rate = "—" if p.human_rate_percent is None else f"{p.human_rate_percent:.1f}%".replace(".", ",")
            ring = p.mean_ring_to_human_ms
            parts = [
                f"đã gọi {p.placed}",
                f"có người nghe {p.human}/{p.counted} ({rate})",
                f"ban ngày {p.day.human}/{p.day.counted}",
                f"ban đêm {p.night.human}/{p.night.counted}",
                f"ngày làm việc {p.workday.human}/{p.workday.counted}",
                f"cuối tuần, ngày lễ {p.off_day.human}/{p.off_day.counted}",
            ]
            if ring is not None:
                parts.append(f"đổ chuông TB {_seconds(int(ring))}")
            if p.count(Outcome.FAILED) or p.count(Outcome.UNKNOWN):
                parts.append(f"không tính {p.count(Outcome.FAILED) + p.count(Outcome.UNKNOWN)}")
            flag = ""
            if p.failing:
                flag = f" — {PROBE_FLAG_VI}: " + "; ".join(PROBE_FAIL_LABELS_VI[r] for r in p.reasons)
            print(f"{h.facility_code:<14} " + ", ".join(parts) + flag)
    return EXIT_FINDINGS if any(h.probes is not None and h.probes.failing for h in health) else EXIT_OK
