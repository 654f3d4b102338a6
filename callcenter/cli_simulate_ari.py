"""`callcenter simulate --callback REF` / `--probe CODE`: a callback or a test call end to end on this
installation's database, with the ARI emulator (callcenter.asterisk.ari_emulator) playing Asterisk and
the phones: the same ARI client, events loop, service and rows as `serve` with a real Asterisk.

The emulator listens on a free loopback port for the length of the command; nothing is dialled for real.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable
from datetime import datetime, timedelta

from callcenter.app import App, build_app, build_outbound, prepare_database, utc_now
from callcenter.asterisk.ari_emulator import Answer, AriEmulator, Busy, NoAnswer, Script, Unreachable
from callcenter.cli import parse_time
from callcenter.domain.outbound import OUTCOME_LABELS_VI, SURVEY_LABELS_VI, Outcome, SurveyAnswer
from callcenter.services.errors import ServiceError
from callcenter.services.outbound import OutboundService
from callcenter.services.ports_outbound import OutboundRecord
from callcenter.settings import Settings

Clock = Callable[[], datetime]
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EMULATOR_PASSWORD = "simulate"  # the emulator's own, for this command only
FAR_END: dict[str, Script] = {
    "answer": Answer(ring_s=0.3),
    "busy": Busy(ring_s=0.2),
    "noanswer": NoAnswer(ring_s=1.0),
    "unreachable": Unreachable(),
}


def far_end(kind: str, *, press: str = "") -> Script:
    base = FAR_END[kind]
    if isinstance(base, Answer):
        return Answer(ring_s=base.ring_s, dtmf=press, dtmf_after_s=0.8)
    return base


async def simulate_outbound(settings: Settings, args: argparse.Namespace) -> int:
    emulator = AriEmulator("hotline", EMULATOR_PASSWORD, app=settings.ari.app, playback_s=0.5)
    url = await emulator.start()
    # This installation's database and settings; only ARI points at the emulator.
    simulated = settings.model_copy(
        update={
            "ari": settings.ari.model_copy(
                update={"enabled": True, "url": url, "username": "hotline", "password": EMULATOR_PASSWORD}
            )
        }
    )
    # --at: the whole simulation shifted to that local time (callbacks are refused at night).
    try:
        at = None if args.at is None else parse_time(args.at, settings.tz)
    except ValueError:
        print(f"thời điểm không hợp lệ / not a time: {args.at!r}", file=sys.stderr)
        return EXIT_USAGE
    offset = timedelta(0) if at is None else at - utc_now()

    def clock() -> datetime:
        return utc_now() + offset

    app = build_app(simulated, clock)
    try:
        await prepare_database(app, clock())
        client, service = build_outbound(simulated, app.uow, clock)
        assert client is not None and service is not None
        stop, connected = asyncio.Event(), asyncio.Event()

        async def on_connected() -> None:
            connected.set()

        events = asyncio.create_task(client.run_events(service, clock, stop, on_connected=on_connected))
        try:
            await asyncio.wait_for(connected.wait(), 10)
            if args.callback:
                return await _callback(app, service, emulator, args, clock)
            return await _probe(app, service, emulator, args, clock)
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(events, 5)
            await service.close()
            await client.close()
    finally:
        await app.close()
        await emulator.stop()


async def _callback(
    app: App, service: OutboundService, emulator: AriEmulator, args: argparse.Namespace, clock: Clock
) -> int:
    async with app.uow() as uow:
        ticket_id = await uow.tickets.id_by_ref(args.callback)
    if ticket_id is None:
        print(f"không có phản ánh {args.callback} / no such ticket", file=sys.stderr)
        return EXIT_USAGE
    officer = next((u for u in await app.users.all() if u.username == args.officer and u.active), None)
    if officer is None:
        print(f"không có người dùng {args.officer} / no such active user", file=sys.stderr)
        return EXIT_USAGE
    if officer.phone:
        emulator.script(officer.phone, far_end("answer", press="1"))
    async with app.uow() as uow:
        ticket = await uow.tickets.record(ticket_id)
    survey = "" if args.survey == "none" else args.survey
    if ticket is not None:
        emulator.script(ticket.caller_number, far_end(args.citizen))
    started = clock()
    try:
        outbound_id = await service.request_callback(ticket_id, officer.principal(), started)
    except ServiceError as exc:
        print(f"không gọi lại được / refused: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    row = await _drive_callback(app, emulator, outbound_id, args.talk_s, survey)
    _print(row, started)
    async with app.uow() as uow:
        for at, kind, detail in await uow.tickets.events(ticket_id):
            if kind.startswith("callback."):
                print(f"  {at.astimezone(app.settings.tz):%H:%M:%S} {kind} {_plain(detail)}")
    return EXIT_OK if row is not None and row.outcome is Outcome.TALKED else EXIT_FINDINGS


async def _drive_callback(
    app: App, emulator: AriEmulator, outbound_id: int, talk_s: float, survey: str
) -> OutboundRecord | None:
    """Wait for the bridge, let them talk, the officer hangs up; the citizen answers the survey."""
    for _ in range(600):
        row = await _row(app, outbound_id)
        if row is None or not row.state.active:
            return row
        if row.state.value == "talking":
            await asyncio.sleep(talk_s)
            officer = next((c for c in emulator.channels if c.endswith("-officer")), None)
            if officer is not None:
                await emulator.remote_hangup(officer)
            await asyncio.sleep(1.0)  # the survey prompt
            citizen = next((c for c in emulator.channels if c.endswith("-citizen")), None)
            if citizen is not None and survey:
                await emulator.press(citizen, survey)
            elif citizen is not None:
                await emulator.remote_hangup(citizen)  # the citizen hangs up at the question
            break
        await asyncio.sleep(0.05)
    return await _until_done(app, outbound_id)


async def _probe(
    app: App, service: OutboundService, emulator: AriEmulator, args: argparse.Namespace, clock: Clock
) -> int:
    facility = next((f for f in await app.facilities.list() if f.code == args.probe), None)
    if facility is None:
        print(f"không có cơ sở {args.probe} / no such facility", file=sys.stderr)
        return EXIT_USAGE
    kind = {"human": "answer", "voicemail": "answer"}.get(args.answer, args.answer)
    emulator.script(facility.hotline, far_end(kind, press="1" if args.answer == "human" else ""))
    started = clock()
    probe = await service.probe(facility.code, started)
    if probe.outbound_id is None:
        print(f"chưa gọi kiểm tra được / skipped: {probe.skipped}", file=sys.stderr)
        return EXIT_FINDINGS
    row = await _until_done(app, probe.outbound_id)
    _print(row, started)
    return EXIT_OK if row is not None and row.outcome is Outcome.HUMAN else EXIT_FINDINGS


async def _row(app: App, outbound_id: int) -> OutboundRecord | None:
    async with app.uow() as uow:
        return await uow.outbound.get(outbound_id)


async def _until_done(app: App, outbound_id: int, wait_s: float = 60.0) -> OutboundRecord | None:
    row = await _row(app, outbound_id)
    for _ in range(int(wait_s * 20)):
        if row is None or not row.state.active:
            break
        await asyncio.sleep(0.05)
        row = await _row(app, outbound_id)
    return row


def _print(row: OutboundRecord | None, started: datetime) -> None:
    if row is None:
        print("không thấy cuộc gọi / the call's row is gone")
        return
    outcome = "đang gọi / still running" if row.outcome is None else OUTCOME_LABELS_VI[row.outcome]
    parts = [f"#{row.id} {row.kind.value}: {outcome}"]
    if row.ring_ms is not None:
        parts.append(f"đổ chuông {row.ring_ms / 1000:.1f} s")
    if row.talk_s is not None:
        parts.append(f"nói chuyện {row.talk_s} s")
    if row.survey is not None:
        parts.append(SURVEY_LABELS_VI[SurveyAnswer(row.survey)])
    if row.ended_at is not None:
        parts.append(f"{(row.ended_at - started).total_seconds():.1f} s in all")
    print(" · ".join(parts))


def _plain(detail: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in detail.items())
