"""The composition root: settings -> logging -> engine -> repositories -> services -> adapters."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import structlog
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from callcenter.asterisk.ari import AriClient, AriConfig
from callcenter.asterisk.handlers import CallEntryPoints, Handler, IvrSettings, entry_point_table
from callcenter.asterisk.server import FastAgiServer
from callcenter.domain.outbound import CallbackRules
from callcenter.domain.routing import TargetTier
from callcenter.logging import configure_logging
from callcenter.services.audit import AuditService
from callcenter.services.board import BoardPolicy, BoardService
from callcenter.services.calls import CallPolicy, CallService
from callcenter.services.directory import RoutingDirectory
from callcenter.services.facilities import FacilityService
from callcenter.services.holidays_vn import vietnam_holidays
from callcenter.services.metrics import NO_METRICS, Metrics
from callcenter.services.outbound import OutboundPolicy, OutboundPrompts, OutboundService
from callcenter.services.report_docx import ReportHeader
from callcenter.services.reports import ReportService
from callcenter.services.retention import RetentionPolicy, RetentionService
from callcenter.services.roster import RosterService
from callcenter.services.sessions import SessionPolicy, SessionService
from callcenter.services.tickets import TicketPolicy, TicketService
from callcenter.services.transcription import JobPolicy, TranscriptionService, work
from callcenter.services.users import UserService
from callcenter.settings import Settings
from callcenter.storage import migrate
from callcenter.storage.board import SqlBoardSource
from callcenter.storage.call_path import SqlCallPathFactory
from callcenter.storage.db import create_engine, is_sqlite, session_factory
from callcenter.storage.election import elected
from callcenter.storage.journal import FileJournal
from callcenter.storage.probe_counts import probe_counts
from callcenter.storage.unit_of_work import SqlUnitOfWorkFactory
from callcenter.transcription.adapter import PipelineTranscriber, check_model, make_engine
from callcenter.web.board import close_board
from callcenter.web.context import WebConfig, WebServices
from callcenter.web.metrics import MetricsSources, PrometheusMetrics
from callcenter.web.server import create_web_app

log = structlog.get_logger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SpeechModelState:
    """The in-process workers' model: loading, loaded, or why it cannot be (for /readyz)."""

    expected: bool = False  # workers were started in this process: it needs the model
    loaded: bool = False
    error: str | None = None

    def problem(self) -> str | None:
        if self.error is not None:
            return self.error
        return None if self.loaded else "loading"


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    uow: SqlUnitOfWorkFactory
    calls: CallService
    facilities: FacilityService
    roster: RosterService
    handlers: dict[str, Handler]
    transcription: TranscriptionService | None  # None: engine "none"
    users: UserService
    sessions: SessionService
    audit: AuditService
    clock: Callable[[], datetime]
    tickets: TicketService
    call_path: SqlCallPathFactory
    metrics: PrometheusMetrics
    journal: FileJournal
    retention: RetentionService
    # The calls we place over ARI (callbacks, test calls); None when [ari] is not enabled.
    outbound: OutboundService | None = None
    ari: AriClient | None = None
    # The speech model of this process's transcription workers: None until loaded, or why not.
    speech: SpeechModelState = field(default_factory=lambda: SpeechModelState())

    async def close(self) -> None:
        if self.outbound is not None:
            await self.outbound.close()
        if self.ari is not None:
            await self.ari.close()
        await self.uow.close()
        await self.call_path.close()
        await self.engine.dispose()


def build_app(settings: Settings, clock: Callable[[], datetime] = utc_now) -> App:
    """Wire everything through constructors. No I/O here: the engine connects lazily."""
    engine = create_engine(
        settings.database.url,
        busy_timeout_ms=settings.database.busy_timeout_ms,
        pool_size=settings.database.pool_size,
        echo=settings.database.echo,
    )
    uow = SqlUnitOfWorkFactory(
        session_factory(engine),
        settings.timezone,
        group_commit_engine=engine if is_sqlite(settings.database.url) else None,
    )
    rt = settings.ring_timeouts
    policy = CallPolicy(
        tz=settings.tz,
        ring_timeouts={
            TargetTier.DUTY_OFFICER: rt.duty_officer,
            TargetTier.BACKUP: rt.backup,
            TargetTier.LEADER: rt.leader,
            TargetTier.AUTHORITY: rt.authority,
        },
        switchboard_numbers=frozenset(settings.routing.switchboard_numbers),
        authority_line=settings.routing.authority_line,
        dont_know_key=settings.routing.dont_know_key,
        stale_after=timedelta(seconds=settings.routing.stale_call_after_s),
        transcribe_attempts=settings.transcription.max_attempts,
        transcribe_after=timedelta(seconds=settings.transcription.after_call_s),
    )
    directory = RoutingDirectory(uow, settings.tz, vietnam_holidays)
    call_path = SqlCallPathFactory(
        engine, settings.timezone, uow.group, pool_size=settings.database.pool_size
    )
    metrics = PrometheusMetrics()
    journal = FileJournal(settings.journal_dir)
    calls = CallService(call_path, directory, policy, journal=journal, metrics=metrics)
    ivr = IvrSettings(
        welcome=settings.prompts.welcome,
        enter_code=settings.prompts.enter_code,
        invalid_code=settings.prompts.invalid_code,
        voicemail=settings.prompts.voicemail,
        dial_template=settings.routing.dial_template,
        code_digits=settings.routing.keypad_code_digits,
        code_timeout_ms=settings.routing.keypad_timeout_ms,
        code_attempts=settings.routing.keypad_attempts,
        rating=settings.prompts.rating,
        rating_thanks=settings.prompts.thanks,
        rating_timeout_ms=settings.routing.rating_timeout_ms,
        rating_attempts=settings.routing.rating_attempts,
    )
    handlers = entry_point_table(CallEntryPoints(calls, ivr, clock))
    users = UserService(uow)
    http = settings.http
    session_policy = SessionPolicy(
        idle=timedelta(minutes=http.session_idle_minutes),
        absolute=timedelta(hours=http.session_absolute_hours),
        max_failures_per_user=http.login_max_failures,
        max_failures_per_address=http.login_max_failures_per_address,
        failure_window=timedelta(minutes=http.login_window_minutes),
    )
    ari, outbound = build_outbound(settings, uow, clock)
    return App(
        settings,
        engine,
        uow,
        calls,
        FacilityService(uow),
        RosterService(uow, settings.tz),
        handlers,
        build_transcription(settings, uow, metrics),
        users=users,
        sessions=SessionService(uow, users, session_policy),
        audit=AuditService(uow, clock),
        clock=clock,
        tickets=TicketService(uow, TicketPolicy(tz=settings.tz)),
        call_path=call_path,
        metrics=metrics,
        journal=journal,
        retention=RetentionService(
            uow,
            settings.recordings.dir,
            RetentionPolicy(
                recordings_days=settings.retention.recordings_days,
                transcripts_days=settings.retention.transcripts_days,
                personal_data_days=settings.retention.personal_data_days,
            ),
        ),
        outbound=outbound,
        ari=ari,
    )


def build_outbound(
    settings: Settings,
    uow: SqlUnitOfWorkFactory,
    clock: Callable[[], datetime],
    *,
    app_name: str | None = None,
) -> tuple[AriClient | None, OutboundService | None]:
    """The ARI client and the service of the calls we place, when [ari] is enabled. `app_name` gives a
    process its own Stasis app (the CLI's probes beside a running `serve`)."""
    a = settings.ari
    if not a.enabled:
        return None, None
    client = AriClient(
        AriConfig(
            url=a.url,
            username=a.username,
            password=a.password,
            app=app_name or a.app,
            dial_template=settings.routing.dial_template,
            request_timeout_s=a.request_timeout_s,
            language=a.language,
        )
    )
    policy = OutboundPolicy(
        tz=settings.tz,
        caller_id=a.caller_id,
        rules=CallbackRules(
            start=time.fromisoformat(a.callback_start),
            end=time.fromisoformat(a.callback_end),
            max_per_day=a.callback_max_per_day,
        ),
        ring_timeout_s=a.ring_timeout_s,
        accept_timeout_s=a.accept_timeout_s,
        survey_timeout_s=a.survey_timeout_s,
        busy_window=timedelta(seconds=settings.routing.stale_call_after_s),
        transcribe_attempts=settings.transcription.max_attempts,
        transcribe_after=timedelta(seconds=settings.transcription.after_call_s),
        prompts=OutboundPrompts(
            officer_accept=settings.prompts.callback_officer,
            survey=settings.prompts.callback_survey,
            probe=settings.prompts.probe,
            thanks=settings.prompts.thanks,
        ),
    )
    return client, OutboundService(uow, client, policy, clock)


def report_header(settings: Settings) -> ReportHeader:
    """The Báo cáo's sender, addressee and signature, from the [report] settings."""
    r = settings.report
    return ReportHeader(
        agency_parent=r.agency_parent,
        agency=r.agency,
        agency_in_text=r.agency_in_text,
        number_suffix=r.number_suffix,
        place=r.place,
        recipient=r.recipient,
        hotline_name=r.hotline_name,
        signer_title=tuple(r.signer_title),
        signer_name=r.signer_name,
    )


def build_web(app: App) -> web.Application:
    """The web interface and API over the app's services (the same process as the FastAGI server)."""
    http = app.settings.http
    engine = app.engine

    async def ping() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def job_counts() -> dict[str, int]:
        async with app.uow() as uow:
            return await uow.jobs.counts()

    async def journal_pending() -> int:
        return len(await app.journal.pending())

    board = BoardService(
        SqlBoardSource(engine),
        BoardPolicy(app.settings.tz, timedelta(seconds=app.settings.routing.stale_call_after_s)),
        app.clock,
    )
    application = create_web_app(
        WebServices(
            users=app.users,
            sessions=app.sessions,
            audit=app.audit,
            ping=ping,
            tickets=app.tickets,
            facilities=app.facilities,
            roster=app.roster,
            recordings_dir=app.settings.recordings.dir,
            reports=ReportService(app.uow, app.settings.tz),
            metrics=MetricsSources(app.metrics, job_counts, journal_pending, lambda: probe_counts(engine)),
            readiness=lambda: readiness(app),
            outbound=app.outbound,
            board=board,
        ),
        app.clock,
        WebConfig(
            max_body_bytes=http.max_body_bytes,
            cookie_secure=http.cookie_secure,
            trust_forwarded=http.trust_forwarded,
            tz=app.settings.tz,
            report_header=report_header(app.settings),
        ),
    )
    application.on_shutdown.append(close_board)
    return application


async def readiness(app: App) -> dict[str, str | None]:
    """Each check's problem, None when it passes: what /readyz answers and `serve` logs at start."""
    checks: dict[str, str | None] = {}
    head = await asyncio.to_thread(migrate.current_head)
    try:
        async with app.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            try:
                found = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            except DBAPIError:  # no alembic_version table: a database never migrated
                found = None
    except Exception as exc:  # the check's whole job is to say so
        checks["database"] = f"unreachable ({type(exc).__name__})"
        checks["migrations"] = "unknown: the database did not answer"
    else:
        checks["database"] = None
        behind = f"database at {found or 'no revision'}, code at {head}: callcenter db upgrade"
        checks["migrations"] = None if found == head else behind
    checks["recordings"] = await asyncio.to_thread(_writable, app.settings.recordings.dir)
    if app.speech.expected:
        checks["speech_model"] = app.speech.problem()
    return checks


def _writable(directory: Path) -> str | None:
    """None when a file can be created in `directory` (a full disk or a read-only mount fails here)."""
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".readyz-") as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as exc:
        return f"cannot write in {directory}: {exc.strerror or exc}"
    return None


def build_transcriber(settings: Settings) -> PipelineTranscriber:
    ts = settings.transcription
    return PipelineTranscriber(make_engine(ts.engine, ts.model_path))


def build_transcription(
    settings: Settings, uow: SqlUnitOfWorkFactory, metrics: Metrics = NO_METRICS
) -> TranscriptionService | None:
    if settings.transcription.engine == "none":
        return None
    return TranscriptionService(
        uow,
        build_transcriber(settings),
        settings.recordings.dir,
        JobPolicy(max_attempts=settings.transcription.max_attempts),
        metrics=metrics,
    )


async def prepare_database(app: App, now: datetime) -> None:
    """Migrate, load the sample data into an empty database if asked, and close calls left open."""
    await asyncio.to_thread(migrate.upgrade, app.settings.database.url)
    await app.uow.refresh_statistics()
    if app.settings.load_sample_data:
        await load_sample_data_once(app, now)
    await app.calls.replay_journal()
    await app.calls.reconcile(now)
    await adopt_orphan_recordings(app, now)


async def adopt_orphan_recordings(app: App, now: datetime) -> int:
    """A call the service never heard of (down for all of it) still left its recordings: a ticket."""
    if app.transcription is None:
        return 0
    # Nodes sharing the recordings (a volume) and the database take turns: two at once would make two
    # tickets of one recording. The one that waits finds them known on its next round.
    async with elected(app.engine, "adopt_orphan_recordings") as leader:
        if not leader:
            log.info("maintenance.skipped", task="adopt_orphan_recordings", reason="another node")
            return 0
        orphans = await app.transcription.orphan_recordings()
        adopted = 0
        for recording in orphans:
            try:
                await app.calls.adopt_recording(recording, now)
            except Exception as exc:
                # Another process on the same SQLite file adopted it first (the uniqueid is unique),
                # or the database is away: the next round finds it known, or tries again.
                log.warning("call.adopt_failed", recording=recording, error=type(exc).__name__)
            else:
                adopted += 1
    return adopted


async def load_sample_data_once(app: App, now: datetime) -> None:
    """The sample registry and roster into an empty database. Nodes started together would each find
    it empty and load it twice (the second roster import fails on its unique names): one loads it, the
    others leave it to that one."""
    if await app.facilities.list():
        return
    async with elected(app.engine, "load_sample_data") as leader:
        if not leader:
            log.info("sample_data.skipped", reason="another node is loading it")
        elif not await app.facilities.list():
            await load_sample_data(app, now)


async def load_sample_data(app: App, now: datetime) -> None:
    from callcenter.services.facilities import parse_facilities_csv

    parsed = parse_facilities_csv((app.settings.sample_dir / "facilities.csv").read_text(encoding="utf-8"))
    if parsed.errors:
        raise RuntimeError(f"sample facilities are invalid: {parsed.errors}")
    await app.facilities.import_facilities(parsed.facilities, now)
    errors = await app.roster.import_csv(
        (app.settings.sample_dir / "roster.csv").read_text(encoding="utf-8"), now
    )
    if errors:
        raise RuntimeError(f"sample roster is invalid: {errors}")
    log.info("sample_data.loaded")


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the FastAGI server and the HTTP endpoint until SIGINT/SIGTERM (or `stop` is set)."""
    app = build_app(settings)
    await prepare_database(app, utc_now())
    agi = FastAgiServer(
        app.handlers,
        host=settings.agi.host,
        port=settings.agi.port,
        max_sessions=settings.agi.max_sessions,
        header_timeout=settings.agi.header_timeout_s,
        command_timeout=settings.agi.command_timeout_s,
        handler_timeout=settings.agi.handler_timeout_s,
        metrics=app.metrics,
    )
    await agi.start()
    stop = stop or asyncio.Event()
    workers = start_workers(app, stop, settings.transcription.workers)
    workers.append(asyncio.create_task(_maintenance(app, stop), name="maintenance"))
    workers.extend(start_outbound(app, stop))
    runner = web.AppRunner(build_web(app), access_log=None)  # the web middleware logs each request
    await runner.setup()
    site = web.TCPSite(runner, settings.http.host, settings.http.port)
    await site.start()
    log.info(
        "service.started",
        agi=f"{settings.agi.host}:{agi.port}",
        http=f"{settings.http.host}:{settings.http.port}",
        database=_safe_url(settings.database.url),
    )
    problems = {name: why for name, why in (await readiness(app)).items() if why is not None}
    if problems:
        log.warning("service.not_ready", **problems)
    else:
        log.info("service.ready")
    if not await app.users.has_active_admin():
        log.warning(
            "web.no_admin",
            hint="chưa có tài khoản quản trị / no admin yet: "
            ".venv/bin/callcenter users add admin --role admin --full-name 'Quản trị viên'",
        )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows / not main thread
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("service.stopping")
        await agi.close()
        await asyncio.gather(*workers, return_exceptions=True)
        await runner.cleanup()
        await app.close()


async def _maintenance(app: App, stop: asyncio.Event, every_s: float = 300.0) -> None:
    """Every few minutes, without waiting for a restart: call ends spooled while the database was down
    are replayed, recordings nobody knows become tickets; a few times a day, planner statistics."""
    runs = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
        if stop.is_set():
            return
        runs += 1
        try:
            await app.calls.replay_journal()
            await adopt_orphan_recordings(app, utc_now())
            if runs % 72 == 0:  # six hours
                await app.uow.refresh_statistics()
            if runs % 288 == 1:  # the first round, then once a day
                await apply_retention(app, utc_now())
        except Exception:  # the database may still be down: try again next round
            log.exception("maintenance.failed")


async def apply_retention(app: App, now: datetime) -> None:
    """The retention settings, once, by one node (the others skip: the same rows, the same files)."""
    async with elected(app.engine, "retention") as leader:
        if leader:
            await app.retention.run(now)


def start_outbound(app: App, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """The ARI events loop (reconciling the calls we place at each connection) and the test-call
    scheduler, when [ari] is enabled."""
    if app.ari is None or app.outbound is None:
        return []
    outbound = app.outbound
    tasks = [
        asyncio.create_task(
            app.ari.run_events(outbound, utc_now, stop, on_connected=lambda: outbound.reconcile(utc_now())),
            name="ari-events",
        )
    ]
    every = app.settings.ari.probe_every_hours
    if every > 0:
        tasks.append(asyncio.create_task(_probe_schedule(app, outbound, stop, every), name="probes"))
    return tasks


async def _probe_schedule(app: App, outbound: OutboundService, stop: asyncio.Event, every_h: float) -> None:
    """Each minute, the facilities whose test call is due get one (on the elected node only)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 60.0)
        if stop.is_set():
            return
        try:
            async with elected(app.engine, "probes") as leader:
                if leader:
                    await outbound.probe_due(utc_now(), timedelta(hours=every_h))
        except Exception:  # the database or Asterisk may be away: next minute
            log.exception("probes.failed")


def start_workers(app: App, stop: asyncio.Event, count: int) -> list[asyncio.Task[None]]:
    """Transcription workers in this process; none (and a clear log line) if the model is unusable:
    the jobs wait in the database for a fixed model or `callcenter worker`."""
    ts = app.settings.transcription
    if app.transcription is None or count == 0:
        return []
    app.speech.expected = True
    problem = check_model(ts.engine, ts.model_path)
    if problem is not None:
        log.error(
            "transcription.model_unusable",
            engine=ts.engine,
            model_path=str(ts.model_path),
            problem=problem,
            hint="callcenter models install SOURCE, or set transcription.model_path",
        )
        app.speech.error = problem
        return []
    service = app.transcription
    return [
        asyncio.create_task(_warm_up(app, service), name="speech-model"),
        *(
            asyncio.create_task(work(service, utc_now, stop, idle_s=ts.idle_poll_s), name=f"transcriber-{i}")
            for i in range(count)
        ),
    ]


async def _warm_up(app: App, service: TranscriptionService) -> None:
    """Load the model now (seconds, in a thread), not at the first job: /readyz says when it is in."""
    try:
        await service.warm_up()
    except Exception as exc:
        app.speech.error = f"{type(exc).__name__}: {exc}"
        log.error("transcription.model_not_loaded", error=app.speech.error)
    else:
        app.speech.loaded = True
        log.info("transcription.model_loaded", engine=app.settings.transcription.engine)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def run_classic_agi(script_name: str, config_path: str | None = None) -> int:
    """One call per process (agi/ scripts over pyst2): the same handlers as the FastAGI server."""
    from asterisk.agi import AGI

    from callcenter.asterisk.pyst2_channel import Pyst2Channel
    from callcenter.settings import load_settings

    settings = load_settings(config_path)
    # stdout belongs to the AGI protocol: logs go to stderr (Asterisk's console), JSON for its log.
    configure_logging("json", settings.logging.level)
    channel = Pyst2Channel(AGI())

    async def run() -> int:
        app = build_app(settings)
        try:
            handler = app.handlers.get(channel.header.script or script_name) or app.handlers[script_name]
            await asyncio.wait_for(handler(channel), settings.agi.handler_timeout_s)
            return 0
        except Exception:
            log.exception("agi.classic_failed", script=script_name)
            return 1
        finally:
            await app.close()

    return asyncio.run(run())
