"""`callcenter` command line: what an operator runs and automates.

Exit codes: 0 ok, 1 findings (gaps, nobody on duty), 2 bad input (nothing changed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from callcenter.app import App, _safe_url, build_app, prepare_database, serve, utc_now
from callcenter.domain.access import Role
from callcenter.domain.roster import TIER_ORDER, Tier
from callcenter.logging import configure_logging
from callcenter.services.facilities import parse_facilities_csv
from callcenter.settings import Settings, SettingsError, load_settings

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def parse_time(text: str, tz: ZoneInfo) -> datetime:
    """ "2026-11-23 03:00" in the hotline's zone, or ISO 8601 with an offset."""
    value = datetime.fromisoformat(text.strip().replace("T", " "))
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"ngày không hợp lệ / not a date YYYY-MM-DD: {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="callcenter", description="Hotline switchboard service (FastAGI beside Asterisk)"
    )
    p.add_argument("--config", help="settings file (default: $CALLCENTER_CONFIG or config/callcenter.toml)")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("serve", help="run the FastAGI server and HTTP endpoint")
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="apply migrations up to the latest")

    fac = sub.add_parser("facilities", help="the facility registry").add_subparsers(
        dest="action", required=True
    )
    fi = fac.add_parser("import", help="import facilities from CSV (upsert by code; nothing on any error)")
    fi.add_argument("file", type=Path)
    fi.add_argument("--dry-run", action="store_true")
    fl = fac.add_parser("list", help="list facilities and flag hotlines that are not Viettel mobiles")
    fl.add_argument("--json", action="store_true")

    ros = sub.add_parser("roster", help="the 24/7 duty roster").add_subparsers(dest="action", required=True)
    ri = ros.add_parser("import", help="replace the roster of the facilities named in a CSV")
    ri.add_argument("file", type=Path)
    re_ = ros.add_parser("export", help="write the roster as CSV")
    re_.add_argument("-o", "--output", type=Path)
    rs = ros.add_parser("show", help="who is on duty at a time (default: now)")
    rs.add_argument("--at", help='local time "YYYY-MM-DD HH:MM" or ISO 8601 with offset')
    rs.add_argument("--facility")
    rs.add_argument("--json", action="store_true")
    rg = ros.add_parser("gaps", help="intervals with nobody on duty in the coming days (exit 1 if any)")
    rg.add_argument("--days", type=int, default=14)
    rg.add_argument("--from", dest="start", help="start time (default: now)")
    rg.add_argument("--all-tiers", action="store_true", help="also report backup and leader gaps")
    rg.add_argument("--json", action="store_true")

    tic = sub.add_parser("tickets", help="complaint tickets").add_subparsers(dest="action", required=True)
    tl = tic.add_parser("list", help="latest tickets (caller numbers masked unless --show-numbers)")
    tl.add_argument("--json", action="store_true")
    tl.add_argument("--status")
    tl.add_argument("--facility")
    tl.add_argument("--limit", type=int, default=50)
    tl.add_argument("--show-numbers", action="store_true", help="show callers' full numbers (for callbacks)")

    tim = tic.add_parser(
        "import",
        help="import the previous system's tickets from .csv or .xlsx (upsert by ma; nothing on any error)",
    )
    tim.add_argument("file", type=Path)
    tim.add_argument("--dry-run", action="store_true")

    ts = tic.add_parser("search", help="accent-insensitive search over ticket text and transcripts")
    ts.add_argument("query", nargs="+")
    ts.add_argument("--json", action="store_true")
    ts.add_argument("--limit", type=int, default=20)

    wk = sub.add_parser(
        "worker", help="run transcription workers (more processes, or other machines on PostgreSQL)"
    )
    wk.add_argument("--workers", type=int, default=1, help="workers in this process")
    tr = sub.add_parser(
        "transcribe", help="transcribe a ticket's call again, a WAV file, or the whole backlog"
    )
    trg = tr.add_mutually_exclusive_group(required=True)
    trg.add_argument("--ticket", help="ticket reference, e.g. PA-20261123-000001")
    trg.add_argument("--file", type=Path, help="a WAV file: print its transcript")
    trg.add_argument("--backlog", action="store_true", help="every queued job, now")
    rep = sub.add_parser("report", help="the period report (seed 002): figures for local dates FROM..TO")
    rep.add_argument("--from", dest="date_from", required=True, type=_iso_date, help="YYYY-MM-DD")
    rep.add_argument("--to", dest="date_to", required=True, type=_iso_date, help="YYYY-MM-DD (inclusive)")
    rep.add_argument("--facility", help="one facility's tickets")
    rep.add_argument("--previous-from", type=_iso_date, help="compare with this period instead")
    rep.add_argument("--previous-to", type=_iso_date)
    rep.add_argument(
        "--format",
        choices=["json", "xlsx", "docx"],
        default="json",
        help="json (default), xlsx (the figures), docx (the Báo cáo to complete and sign)",
    )
    rep.add_argument("-o", "--output", type=Path, help="file to write (required for xlsx and docx)")
    sub.add_parser(
        "classify", help="lines of text on stdin -> category, confidence, incident flag (JSON lines)"
    )
    mod = sub.add_parser("models", help="speech models").add_subparsers(dest="action", required=True)
    mi = mod.add_parser("install", help="install a model from a directory, a .zip or an http(s) URL")
    mi.add_argument("source")
    mi.add_argument("--engine", choices=["vosk", "whisper"], default="vosk")
    mi.add_argument("--sha256", help="expected sha256 of the archive (always give it for a download)")
    mi.add_argument("--name", help="directory name under transcription.models_dir")
    mi.add_argument("--force", action="store_true", help="replace an installed model of that name")

    calls = sub.add_parser("calls", help="calls").add_subparsers(dest="action", required=True)
    calls.add_parser("reconcile", help="close calls whose call_ended never arrived")

    sim = sub.add_parser("simulate", help="play Asterisk's side of one call against a running server")
    sim.add_argument("--host", default=None)
    sim.add_argument("--port", type=int, default=None)
    sim.add_argument("--caller", default="0912345678")
    sim.add_argument("--caller-name", default="Nguyen Van A")
    sim.add_argument("--dialled", default="19009095")
    sim.add_argument("--digits", default="", help="keypad digits the caller types at the code prompt")
    sim.add_argument(
        "--outcomes",
        default="answer",
        help="per target, comma-separated: answer, busy, noanswer, unavailable, congestion, refused; "
        "targets past the list are not reached",
    )
    sim.add_argument(
        "--voicemail", action="store_true", help="the caller leaves a voicemail if nobody answers"
    )
    sim.add_argument("--hangup-in-ivr", action="store_true", help="the caller hangs up at the code prompt")
    sim.add_argument(
        "--rating",
        type=_survey_answer,
        default=None,
        metavar="{1..5,none}",
        help="on an answered call the officer hangs up first and the caller answers the survey "
        "(rate_call) with this digit; none: the caller hangs up at the question (no_answer)",
    )

    # Calls we place over ARI, against the ARI emulator (no Asterisk needed): see cli_simulate_ari.
    out = sim.add_mutually_exclusive_group()
    out.add_argument(
        "--callback", metavar="REF", help="a callback for this ticket (the officer's phone first)"
    )
    out.add_argument("--probe", metavar="CODE", help="a test call to this facility's hotline")
    sim.add_argument("--officer", default="", help="--callback: the username asking (needs a phone)")
    sim.add_argument("--citizen", choices=["answer", "busy", "noanswer", "unreachable"], default="answer")
    sim.add_argument("--talk-s", type=float, default=3.0, help="--callback: seconds they talk")
    sim.add_argument(
        "--survey", choices=["1", "2", "none"], default="1", help="--callback: the citizen's key"
    )
    sim.add_argument(
        "--answer", choices=["human", "voicemail", "busy", "noanswer", "unreachable"], default="human"
    )
    sim.add_argument(
        "--at",
        default=None,
        help='--callback/--probe: as if at this local time, e.g. "2026-11-24 09:30" (no callbacks at night)',
    )

    usr = sub.add_parser("users", help="people who sign in to the web interface").add_subparsers(
        dest="action", required=True
    )
    ua = usr.add_parser("add", help="create a user (password from a prompt, or --password-stdin)")
    ua.add_argument("username")
    ua.add_argument("--role", required=True, choices=[r.value for r in Role])
    ua.add_argument("--province", help="a supervisor's province, as in the facility registry")
    ua.add_argument("--facility", help="a facility officer's facility code")
    ua.add_argument("--full-name", default="")
    ua.add_argument("--phone")
    ua.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    ul = usr.add_parser("list", help="every user, active or not")
    ul.add_argument("--json", action="store_true")
    ud = usr.add_parser("deactivate", help="lock an account and end its sessions")
    ud.add_argument("username")
    up = usr.add_parser("passwd", help="set a user's password and end their sessions")
    up.add_argument("username")
    up.add_argument("--password-stdin", action="store_true")

    sat = sub.add_parser(
        "satisfaction",
        help="satisfaction index per facility: share of rated calls rated 4-5 (77/90 % targets)",
    )
    sat.add_argument("--from", dest="date_from", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    sat.add_argument(
        "--to", dest="date_to", type=date.fromisoformat, required=True, help="YYYY-MM-DD, inclusive"
    )
    sat.add_argument("--facility", help="one facility code")
    sat.add_argument("--json", action="store_true")

    ret = sub.add_parser("retention", help="personal data past its retention time ([retention])")
    rr = ret.add_subparsers(dest="action", required=True).add_parser(
        "run", help="delete recordings, remove transcripts and callers' details past their time"
    )
    rr.add_argument("--dry-run", action="store_true", help="say what would go, change nothing")
    rr.add_argument("--json", action="store_true")
    rd = sub.add_parser(
        "ready", help="what /readyz checks, and the speech model's directory (exit 1 if anything fails)"
    )
    rd.add_argument("--json", action="store_true")
    prb = sub.add_parser("probes", help="test calls to the hotlines (cuộc gọi kiểm tra)").add_subparsers(
        dest="action", required=True
    )
    pr = prb.add_parser(
        "run",
        help="place a test call to each hotline (or one) over ARI and wait: exit 0 all answered by a "
        "human, 1 a hotline failed, 2 bad input or ARI disabled/unreachable",
    )
    pr.add_argument("--facility", help="one facility code")
    pr.add_argument("--wait", type=float, help="seconds to wait for the calls (default: ring + key + 15)")
    pr.add_argument("--json", action="store_true")
    pl = prb.add_parser("list", help="the test calls' series per facility (exit 1 if one fails)")
    pl.add_argument("--days", type=int, default=30)
    pl.add_argument("--json", action="store_true")
    cfg = sub.add_parser("config", help="settings").add_subparsers(dest="action", required=True)
    cfg.add_parser("show", help="print the effective settings (passwords hidden)")
    return p


async def _with_app(settings: Settings, fn: Callable[[App], Awaitable[int]], *, migrate: bool = True) -> int:
    app = build_app(settings)
    try:
        if migrate:
            await prepare_database(app, utc_now())
        return await fn(app)
    finally:
        await app.close()


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _survey_answer(text: str) -> str:
    """`simulate --rating`: a digit 1..5, or "none" (the caller hangs up at the survey)."""
    value = text.strip().lower()
    if value == "none" or (len(value) == 1 and value in "12345"):
        return value
    raise argparse.ArgumentTypeError(f"expected 1..5 or none, got {text!r}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except (SettingsError, ValueError) as exc:
        print(f"callcenter: cấu hình không hợp lệ / invalid settings: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(
        settings.logging.format if settings.environment == "development" else "json", settings.logging.level
    )
    try:
        return asyncio.run(_dispatch(args, settings))
    except KeyboardInterrupt:
        return 130


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from callcenter import cli_commands as c

    tz = settings.tz
    match args.command, getattr(args, "action", None):
        case "serve", _:
            await serve(settings)
            return EXIT_OK
        case "db", "upgrade":
            return await _with_app(settings, c.db_upgrade)
        case "facilities", "import":
            parsed = parse_facilities_csv(args.file.read_text(encoding="utf-8-sig"))
            return await _with_app(settings, lambda app: c.facilities_import(app, parsed, args.dry_run))
        case "facilities", "list":
            return await _with_app(settings, lambda app: c.facilities_list(app, args.json))
        case "roster", "import":
            return await _with_app(settings, lambda app: c.roster_import(app, args.file.read_bytes()))
        case "roster", "export":
            return await _with_app(settings, lambda app: c.roster_export(app, args.output))
        case "roster", "show":
            at = parse_time(args.at, tz) if args.at else utc_now()
            return await _with_app(settings, lambda app: c.roster_show(app, at, args.facility, args.json))
        case "roster", "gaps":
            start = parse_time(args.start, tz) if args.start else utc_now()
            tiers = TIER_ORDER if args.all_tiers else (Tier.DUTY_OFFICER,)
            return await _with_app(
                settings, lambda app: c.roster_gaps(app, start, args.days, tiers, args.json)
            )
        case "tickets", "list":
            return await _with_app(settings, lambda app: c.tickets_list(app, args))
        case "tickets", "import":
            return await _with_app(settings, lambda app: c.tickets_import(app, args.file, args.dry_run))
        case "report", _:
            return await _with_app(settings, lambda app: c.report(app, args))
        case "tickets", "search":
            return await _with_app(settings, lambda app: c.tickets_search(app, " ".join(args.query), args))
        case "worker", _:
            return await _with_app(settings, lambda app: c.worker(app, args.workers))
        case "transcribe", _:
            return await _with_app(settings, lambda app: c.transcribe(app, args))
        case "classify", _:
            return c.classify_stdin()
        case "models", "install":
            return c.models_install(settings, args)
        case "calls", "reconcile":
            return await _with_app(settings, c.calls_reconcile)
        case "simulate", _ if args.callback or args.probe:
            from callcenter.cli_simulate_ari import simulate_outbound

            return await simulate_outbound(settings, args)
        case "simulate", _:
            return await c.simulate(settings, args)
        case "users", "add":
            return await _with_app(settings, lambda app: c.users_add(app, args))
        case "users", "list":
            return await _with_app(settings, lambda app: c.users_list(app, args.json))
        case "users", "deactivate":
            return await _with_app(settings, lambda app: c.users_deactivate(app, args.username))
        case "users", "passwd":
            return await _with_app(settings, lambda app: c.users_passwd(app, args))
        case "satisfaction", _:
            return await _with_app(settings, lambda app: c.satisfaction(app, args))
        case "retention", "run":
            return await _with_app(settings, lambda app: c.retention_run(app, args.dry_run, args.json))
        case "ready", _:
            # Not migrated first: a database behind the code is one of the things to report.
            return await _with_app(settings, lambda app: c.ready(app, args.json), migrate=False)
        case "probes", "run":
            from callcenter.cli_probes import probes_run

            return await _with_app(settings, lambda app: probes_run(app, args.facility, args.wait, args.json))
        case "probes", "list":
            from callcenter.cli_probes import probes_list

            return await _with_app(settings, lambda app: probes_list(app, args.days, args.json))
        case "config", "show":
            shown = settings.model_dump(mode="json")
            shown["database"]["url"] = _safe_url(settings.database.url)
            _print_json(shown)
            return EXIT_OK
    return EXIT_USAGE
