"""The bodies of the CLI commands: each takes the wired App, prints, and returns an exit code."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from callcenter.app import App, report_header, utc_now
from callcenter.domain.access import ROLE_LABELS_VI, Principal, Role
from callcenter.domain.phone import mask
from callcenter.domain.roster import Tier
from callcenter.services.errors import ServiceError
from callcenter.services.facilities import FacilityImport
from callcenter.services.ports import TicketSummary
from callcenter.services.tickets import TicketListItem
from callcenter.settings import Settings

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
# Whoever runs the command line on the server reads as an admin does (and is never in the audit log as
# a user: these reads write nothing).
OPERATOR = Principal(user_id=0, username="cli", role=Role.ADMIN)


def _json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


async def db_upgrade(app: App) -> int:
    print("cơ sở dữ liệu đã được cập nhật / database is up to date")
    return EXIT_OK


async def facilities_import(app: App, parsed: FacilityImport, dry_run: bool) -> int:
    if parsed.errors:
        for e in parsed.errors:
            print(f"dòng {e.row}, cột {e.field}: {e.reason}", file=sys.stderr)
        print(f"không nhập gì: {len(parsed.errors)} lỗi / nothing imported", file=sys.stderr)
        return EXIT_USAGE
    for f in parsed.facilities:
        if f.hotline_flagged:
            print(
                f"cảnh báo: {f.code} dùng số {f.hotline} không phải di động Viettel ({f.hotline_kind.value})"
            )
    if dry_run:
        print(f"kiểm tra xong: {len(parsed.facilities)} cơ sở hợp lệ / valid")
        return EXIT_OK
    created, updated = await app.facilities.import_facilities(parsed.facilities, utc_now())
    print(f"đã nhập {created} cơ sở mới, cập nhật {updated} / created {created}, updated {updated}")
    return EXIT_OK


async def facilities_list(app: App, as_json: bool) -> int:
    facilities = await app.facilities.list()
    rows = [
        {
            "code": f.code,
            "keypad_code": f.keypad_code,
            "name": f.name,
            "kind": f.kind.value,
            "province": f.province,
            "hotline": f.hotline,
            "hotline_kind": f.hotline_kind.value,
            "not_viettel": f.hotline_flagged,
        }
        for f in facilities
    ]
    if as_json:
        _json(rows)
        return EXIT_OK
    for r in rows:
        flag = "  ⚠ không phải Viettel" if r["not_viettel"] else ""
        print(f"{r['code']:<12} {r['keypad_code']:<6} {r['hotline']:<12} {r['name']}{flag}")
    return EXIT_OK


async def roster_import(app: App, data: bytes) -> int:
    errors = await app.roster.import_csv(data, utc_now())
    for e in errors:
        print(f"dòng {e.row}, cột {e.field}: {e.reason}", file=sys.stderr)
    if errors:
        print(f"không nhập gì: {len(errors)} lỗi / nothing imported", file=sys.stderr)
        return EXIT_USAGE
    print("đã nhập lịch trực / roster imported")
    return EXIT_OK


async def roster_export(app: App, output: Path | None) -> int:
    text = await app.roster.export_csv()
    if output is None:
        sys.stdout.write(text)
    else:
        await asyncio.to_thread(output.write_text, text, encoding="utf-8")
    return EXIT_OK


async def roster_show(app: App, at: datetime, facility: str | None, as_json: bool) -> int:
    tz = app.settings.tz
    duty = await app.roster.on_duty_at(at, facility)
    if facility is not None and facility not in duty:
        print(f"không có cơ sở {facility} / unknown facility", file=sys.stderr)
        return EXIT_USAGE
    rows = {
        code: {
            tier.value: {
                "name": a.officer.name,
                "phone": a.officer.phone,
                "from": a.start.astimezone(tz).isoformat(),
                "to": a.end.astimezone(tz).isoformat(),
                "source": a.source,
            }
            for tier, a in tiers.items()
        }
        for code, tiers in duty.items()
    }
    if as_json:
        _json({"at": at.astimezone(tz).isoformat(), "facilities": rows})
        return EXIT_OK
    print(f"Lịch trực lúc {at.astimezone(tz):%d/%m/%Y %H:%M} ({tz.key})")
    missing = 0
    for code, tiers in rows.items():
        print(code)
        for tier in Tier:
            a = tiers.get(tier.value)
            if a is None:
                missing += tier is Tier.DUTY_OFFICER
                print(f"  {tier.value:<13} — KHÔNG CÓ NGƯỜI TRỰC —")
            else:
                print(f"  {tier.value:<13} {a['name']} ({a['phone']}) đến {a['to'][:16].replace('T', ' ')}")
    return EXIT_FINDINGS if missing else EXIT_OK


async def roster_gaps(app: App, start: datetime, days: int, tiers: tuple[Tier, ...], as_json: bool) -> int:
    tz = app.settings.tz
    gaps = await app.roster.gaps(start, days, tiers)
    if as_json:
        _json(
            [
                {
                    "facility": g.facility_code,
                    "tier": g.tier.value,
                    "from": g.start.isoformat(),
                    "to": g.end.isoformat(),
                }
                for g in gaps
            ]
        )
    elif not gaps:
        print(f"không có khoảng trống trong {days} ngày tới / no gaps in the next {days} days")
    else:
        for g in gaps:
            print(
                f"{g.facility_code:<12} {g.tier.value:<13} {g.start.astimezone(tz):%d/%m/%Y %H:%M} → "
                f"{g.end.astimezone(tz):%d/%m/%Y %H:%M}  ({(g.end - g.start).total_seconds() / 3600:.1f} h)"
            )
    return EXIT_FINDINGS if gaps else EXIT_OK


async def tickets_list(app: App, args: argparse.Namespace) -> int:
    """The web list's read path (TicketService.list), as an admin sees it: every ticket, newest first."""
    from callcenter.services.tickets import TicketFilter

    try:
        page = await app.tickets.list(
            OPERATOR,
            TicketFilter(status=args.status, facility_code=args.facility),
            utc_now(),
            page_size=args.limit,
            with_recordings=True,
        )
    except ServiceError as exc:
        return _service_error(exc)
    tickets = list(page.items)
    tz = app.settings.tz
    rows = _ticket_rows(app, tickets, args.show_numbers)
    if args.json:
        _json(rows)
        return EXIT_OK
    for t, r in zip(tickets, rows, strict=True):
        cb = " GỌI LẠI" if t.needs_callback else ""
        print(
            f"{t.ref:<20} {t.created_at.astimezone(tz):%d/%m/%Y %H:%M} {t.facility_code or '-':<10} "
            f"{t.status:<14} {t.call_state or '-':<10} {r['caller']}{cb}"
        )
    return EXIT_OK


async def calls_reconcile(app: App) -> int:
    applied, left = await app.calls.replay_journal()
    print(f"nhật ký: đã ghi {applied}, còn {left} / journal: applied {applied}, left {left}")
    closed = await app.calls.reconcile(utc_now())
    print(f"đã đóng {closed} cuộc gọi treo / closed {closed} stale calls")
    return EXIT_OK


async def simulate(settings: Settings, args: argparse.Namespace) -> int:
    from callcenter.asterisk.emulator import HangUp, Press
    from callcenter.asterisk.simulate import SimulatedCall, run_simulated_call

    rating = args.rating
    call = SimulatedCall(
        caller=args.caller,
        caller_name=args.caller_name,
        dialled=args.dialled,
        digits=args.digits,
        outcomes=tuple(o.strip() for o in args.outcomes.split(",") if o.strip()),
        voicemail=args.voicemail,
        hangup_in_ivr=args.hangup_in_ivr,
        # Asterisk's uniqueid shape (epoch.sequence), new for every simulated call.
        uniqueid=f"{time.time():.0f}.{time.perf_counter_ns() % 100000}",
        # With a rating the officer hangs up first, so the dialplan runs rate_call before call_ended.
        rating=None if rating is None else ([HangUp()] if rating == "none" else [Press(rating)]),
    )
    host = args.host or ("127.0.0.1" if settings.agi.host in ("0.0.0.0", "::") else settings.agi.host)
    port = args.port or settings.agi.port
    try:
        summary = await run_simulated_call(host, port, call)
    except OSError as exc:
        print(f"không kết nối được FastAGI {host}:{port} / cannot connect: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for line in summary:
        print(line)
    return EXIT_OK


def _ticket_rows(
    app: App, tickets: Sequence[TicketSummary | TicketListItem], show_numbers: bool
) -> list[dict[str, Any]]:
    tz = app.settings.tz
    return [
        {
            "ref": t.ref,
            "created_at": t.created_at.astimezone(tz).isoformat(),
            "facility": t.facility_code,
            "status": t.status,
            "caller": t.caller_number if show_numbers else mask(t.caller_number),
            "call_state": t.call_state,
            "answered_tier": t.answered_tier,
            "needs_callback": t.needs_callback,
            "category_suggested": t.category_suggested,
            "category_confidence": t.category_confidence,
            "incident": t.incident,
            "recordings": list(t.recordings),
        }
        for t in tickets
    ]


async def tickets_search(app: App, query: str, args: argparse.Namespace) -> int:
    from callcenter.services.tickets import TicketQueries

    found = await TicketQueries(app.uow).search(query, limit=args.limit)
    rows = _ticket_rows(app, found, show_numbers=False)
    if args.json:
        _json(rows)
    else:
        for r in rows:
            flag = " ⚠ SỰ CỐ" if r["incident"] else ""
            print(
                f"{r['ref']:<20} {r['created_at'][:16]} {r['facility'] or '-':<10} "
                f"{r['category_suggested'] or '-':<20}{flag}"
            )
        print(f"{len(rows)} phiếu / tickets", file=sys.stderr)
    return EXIT_OK


async def retention_run(app: App, dry_run: bool, as_json: bool) -> int:
    from callcenter.app import utc_now

    report = await app.retention.run(utc_now(), dry_run=dry_run)
    if as_json:
        _json(report.as_dict())
        return EXIT_OK
    what = "sẽ xoá / would remove" if dry_run else "đã xoá / removed"
    print(
        f"{what}: {report.recordings} bản ghi âm / recordings ({report.bytes_freed} bytes), "
        f"{report.transcripts} bản ghi lời / transcripts, {report.callers} người gọi / callers' details, "
        f"{len(report.tickets)} phản ánh / tickets"
    )
    return EXIT_OK


async def ready(app: App, as_json: bool) -> int:
    """`callcenter ready`: the readiness checks from the command line (a worker's health check, cron)."""
    from callcenter.app import readiness
    from callcenter.transcription.adapter import check_model

    checks = await readiness(app)
    ts = app.settings.transcription
    if ts.engine != "none":
        checks["speech_model"] = check_model(ts.engine, ts.model_path)
    failing = {name: why for name, why in checks.items() if why is not None}
    if as_json:
        _json({"status": "error" if failing else "ok", "checks": {k: v or "ok" for k, v in checks.items()}})
    else:
        for name, why in checks.items():
            print(f"{name:13} {'ok' if why is None else why}")
    return EXIT_FINDINGS if failing else EXIT_OK


async def worker(app: App, count: int) -> int:
    import signal

    from callcenter.app import start_workers

    if app.transcription is None:
        print("transcription.engine là none: không có gì để chạy / nothing to run", file=sys.stderr)
        return EXIT_USAGE
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = start_workers(app, stop, count)
    if not tasks:
        return EXIT_USAGE  # the model is unusable: start_workers said why
    await stop.wait()
    await asyncio.gather(*tasks, return_exceptions=True)
    return EXIT_OK


async def transcribe(app: App, args: argparse.Namespace) -> int:
    from callcenter.app import utc_now
    from callcenter.transcription.adapter import check_model

    ts = app.settings.transcription
    if app.transcription is None:
        print("transcription.engine là none / no engine configured", file=sys.stderr)
        return EXIT_USAGE
    problem = check_model(ts.engine, ts.model_path)
    if problem is not None:
        print(f"mô hình không dùng được / unusable model: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.file is not None:
        return await _transcribe_file(app, args.file)
    if args.ticket and not await app.transcription.requeue(args.ticket, utc_now()):
        print(f"phiếu {args.ticket} không có ghi âm / no recording job for that ticket", file=sys.stderr)
        return EXIT_USAGE
    total = await app.transcription.pending()
    done = 0
    while await app.transcription.run_once(utc_now):
        done += 1
        _progress(done, total)
    print(file=sys.stderr)
    print(f"đã xử lý {done} / processed {done}")
    return EXIT_OK


def _progress(done: int, total: int) -> None:
    total = max(total, done)
    width = 30
    filled = width * done // total if total else width
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)


async def _transcribe_file(app: App, path: Path) -> int:
    from callcenter.app import build_transcriber
    from callcenter.domain.turns import render

    transcriber = build_transcriber(app.settings)
    result = await asyncio.to_thread(transcriber.transcribe, {"mix": path})
    for kind, why in sorted(result.problems.items()):
        print(f"{kind}: {why}", file=sys.stderr)
    # The operator asked for this file's text: it goes to stdout, never to a log.
    print(render(result.turns + result.voicemail_turns))
    return EXIT_OK if result.turns or not result.problems else EXIT_FINDINGS


def classify_stdin() -> int:
    from callcenter.domain.classify import suggest_category
    from callcenter.domain.incident import detect_incident

    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        suggestion = suggest_category(text)
        incident = detect_incident(text)
        _line = {
            "text": text,
            "category": suggestion.code.value,
            "confidence": round(suggestion.confidence, 3),
            "incident": incident.flagged,
            "incident_reasons": list(incident.reasons),
        }
        print(json.dumps(_line, ensure_ascii=False), flush=True)
    return EXIT_OK


def models_install(settings: Settings, args: argparse.Namespace) -> int:
    from callcenter.transcription.models import ModelInstallError, install_model

    try:
        path = install_model(
            args.source,
            settings.transcription.models_dir,
            engine=args.engine,
            sha256=args.sha256,
            name=args.name,
            force=args.force,
        )
    except ModelInstallError as exc:
        print(f"không cài được mô hình / model not installed: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"đã cài / installed: {path}")
    if path != settings.transcription.model_path:
        print(f'set transcription.model_path = "{path}" (or CALLCENTER_TRANSCRIPTION__MODEL_PATH)')
    return EXIT_OK


def read_password(from_stdin: bool) -> str | None:
    """The new password: stdin's first line (scripts), or typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        print(
            "không có bàn phím để nhập mật khẩu; dùng --password-stdin / no terminal: use --password-stdin",
            file=sys.stderr,
        )
        return None
    import getpass

    first = getpass.getpass("Mật khẩu / password: ")
    if getpass.getpass("Nhập lại / again: ") != first:
        print("hai lần nhập không khớp / the two entries differ", file=sys.stderr)
        return None
    return first


def _service_error(exc: ServiceError) -> int:
    where = f" ({exc.field})" if exc.field else ""
    print(f"lỗi{where}: {exc.message}", file=sys.stderr)
    return EXIT_USAGE


async def users_add(app: App, args: argparse.Namespace) -> int:
    from callcenter.services.users import UserInput

    password = read_password(args.password_stdin)
    if password is None:
        return EXIT_USAGE
    data = UserInput(
        username=args.username,
        role=args.role,
        full_name=args.full_name,
        province=args.province,
        facility_code=args.facility,
        phone=args.phone,
    )
    try:
        user = await app.users.create(data, password, utc_now())
    except ServiceError as exc:
        return _service_error(exc)
    print(f"đã tạo người dùng {user.username} ({ROLE_LABELS_VI[user.role]}) / user created")
    return EXIT_OK


async def users_list(app: App, as_json: bool) -> int:
    users = await app.users.all()
    rows = [
        {
            "id": u.id,
            "username": u.username,
            "full_name": u.full_name,
            "role": u.role.value,
            "province": u.province,
            "facility_code": u.facility_code,
            "active": u.active,
        }
        for u in users
    ]
    if as_json:
        _json(rows)
        return EXIT_OK
    if not rows:
        print("chưa có người dùng; tạo quản trị viên đầu tiên: callcenter users add admin --role admin")
    for u in users:
        scope = u.province or u.facility_code or "-"
        state = "" if u.active else "  (đã khóa)"
        print(f"{u.username:<20} {u.role.value:<17} {scope:<16} {u.full_name}{state}")
    return EXIT_OK


async def users_deactivate(app: App, username: str) -> int:
    user = await app.users.by_username(username)
    if user is None:
        print(f"không có người dùng {username} / no such user", file=sys.stderr)
        return EXIT_USAGE
    try:
        await app.users.deactivate(user.id, utc_now())
    except ServiceError as exc:
        return _service_error(exc)
    print(f"đã khóa {user.username} / deactivated")
    return EXIT_OK


async def users_passwd(app: App, args: argparse.Namespace) -> int:
    user = await app.users.by_username(args.username)
    if user is None:
        print(f"không có người dùng {args.username} / no such user", file=sys.stderr)
        return EXIT_USAGE
    password = read_password(args.password_stdin)
    if password is None:
        return EXIT_USAGE
    try:
        await app.users.set_password(user.id, password, utc_now())
    except ServiceError as exc:
        return _service_error(exc)
    print(f"đã đặt mật khẩu mới cho {user.username} / password set")
    return EXIT_OK


async def satisfaction(app: App, args: argparse.Namespace) -> int:
    """The satisfaction index per facility over local dates --from..--to (see domain.satisfaction)."""
    from callcenter.domain.satisfaction import FINAL_TARGET_PERCENT, FIRST_TARGET_PERCENT
    from callcenter.services.satisfaction import SatisfactionService

    if args.date_to < args.date_from:
        print("callcenter: --to trước --from / --to is before --from", file=sys.stderr)
        return EXIT_USAGE
    rows = await SatisfactionService(app.uow, app.settings.tz).index(
        args.date_from, args.date_to, args.facility
    )
    data = [
        {
            "facility_code": r.facility_code,
            "rated": r.rated,
            "satisfied": r.satisfied,
            "no_answer": r.no_answer,
            "invalid": r.invalid,
            "index_percent": r.index_percent,
            f"meets_{FIRST_TARGET_PERCENT}": r.meets_first_target,
            f"meets_{FINAL_TARGET_PERCENT}": r.meets_final_target,
        }
        for r in rows
    ]
    if args.json:
        _json(
            {
                "from": args.date_from.isoformat(),
                "to": args.date_to.isoformat(),
                "definition": "satisfied (rating 4-5) / rated; no_answer and invalid not counted",
                "targets_percent": [FIRST_TARGET_PERCENT, FINAL_TARGET_PERCENT],
                "facilities": data,
            }
        )
        return EXIT_OK
    print(f"Chỉ số hài lòng / satisfaction index {args.date_from} .. {args.date_to}")
    head = ("đánh giá", "hài lòng", "chỉ số", "≥77%", "≥90%", "không bấm", "sai")
    widths = (8, 8, 7, 5, 5, 9, 4)
    print(f"{'cơ sở':<12} " + " ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)))

    def mark(ok: bool | None) -> str:
        return "-" if ok is None else ("đạt" if ok else "chưa")

    for r in rows:
        pct = "-" if r.index_percent is None else f"{r.index_percent:.1f}%"
        print(
            f"{r.facility_code or '(không rõ)':<12} {r.rated:>8} {r.satisfied:>8} {pct:>7} "
            f"{mark(r.meets_first_target):>5} {mark(r.meets_final_target):>5} {r.no_answer:>9} {r.invalid:>4}"
        )
    if not rows:
        print("(chưa có đánh giá / no ratings in this period)")
    return EXIT_OK


async def tickets_import(app: App, file: Path, dry_run: bool) -> int:
    from callcenter.services.ticket_import import TicketImportService, parse_file

    try:
        data = await asyncio.to_thread(file.read_bytes)
    except OSError as exc:
        print(f"không đọc được tệp / cannot read the file: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    parsed = parse_file(file.name, data, app.settings.tz)
    service = TicketImportService(app.uow)
    if not parsed.errors:
        await service.check_facilities(parsed)
    if parsed.errors:
        for e in parsed.errors:
            print(f"dòng {e.row}, cột {e.field}: {e.reason}", file=sys.stderr)
        print(f"không nhập gì: {len(parsed.errors)} lỗi / nothing imported", file=sys.stderr)
        return EXIT_USAGE
    if dry_run:
        print(f"kiểm tra xong: {len(parsed.tickets)} phản ánh hợp lệ / valid")
        return EXIT_OK
    outcome = await service.import_tickets(parsed, utc_now())
    print(
        f"đã nhập {outcome.created} phản ánh mới, cập nhật {outcome.updated}, giữ nguyên {outcome.unchanged}"
        f" / created {outcome.created}, updated {outcome.updated}, unchanged {outcome.unchanged}"
    )
    return EXIT_OK


async def report(app: App, args: argparse.Namespace) -> int:
    from callcenter.domain.ticket import TicketScope
    from callcenter.services.reports import ReportService, report_xlsx

    if (args.previous_from is None) != (args.previous_to is None):
        print("cần cả --previous-from và --previous-to / give both or neither", file=sys.stderr)
        return EXIT_USAGE
    if args.format in ("xlsx", "docx") and args.output is None:
        print(f"{args.format} cần -o TỆP / {args.format} needs -o FILE", file=sys.stderr)
        return EXIT_USAGE
    previous = (args.previous_from, args.previous_to) if args.previous_from is not None else None
    try:
        result = await ReportService(app.uow, app.settings.tz).bundle(
            TicketScope(everything=True), args.date_from, args.date_to, app.clock(), args.facility, previous
        )
    except ServiceError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_USAGE
    if args.format in ("xlsx", "docx"):
        from callcenter.services.report_docx import report_docx

        document = (
            report_xlsx(result) if args.format == "xlsx" else report_docx(result, report_header(app.settings))
        )
        await asyncio.to_thread(args.output.write_bytes, document)
        print(f"đã ghi báo cáo / written: {args.output}")
        return EXIT_OK
    text = json.dumps(result.as_dict(), ensure_ascii=False, indent=2)
    if args.output is None:
        print(text)
    else:
        await asyncio.to_thread(args.output.write_text, text + "\n", encoding="utf-8")
    return EXIT_OK
