"""The period report's callbacks (issue 9 §1): how many were placed and reached the citizen, and what the
citizens answered at the survey ("kết quả đã báo cho người phản ánh"), in scope, on the page, in the JSON
and the workbook, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from openpyxl import load_workbook

from callcenter.app import App
from callcenter.domain.access import Principal, Role
from callcenter.domain.outbound import (
    CallbackFigures,
    Leg,
    Outcome,
    SurveyAnswer,
    callback_figures,
    channel_id,
)
from callcenter.services.calls import IncomingCall
from callcenter.services.outbound import OutboundPolicy, OutboundService
from callcenter.services.reports import ReportService, report_xlsx
from callcenter.services.users import UserInput
from tests.calls.test_outbound import FakeTelephony
from tests.conftest import TZ, FakeClock
from tests.web.conftest import Web, login

DAY = datetime(2026, 11, 25, 9, 30, tzinfo=TZ).astimezone(UTC)


def test_the_figures_count_talks_and_survey_answers() -> None:
    figures = callback_figures(
        [
            (1, Outcome.TALKED, SurveyAnswer.RESOLVED),
            (1, Outcome.BUSY, None),
            (2, Outcome.TALKED, SurveyAnswer.NOT_RESOLVED),
            (3, Outcome.TALKED, None),
            (3, Outcome.TALKED, SurveyAnswer.RESOLVED),
        ]
    )
    assert figures == CallbackFigures(placed=5, talked=4, resolved=2, not_resolved=1, tickets=3)
    assert (figures.no_survey, figures.resolved_percent) == (1, 66.7)
    assert CallbackFigures().resolved_percent is None


async def callbacks(app: App, clock: FakeClock) -> None:
    """Three callbacks on 25/11: one resolved, one not, one busy (BVDK-TH, Thanh Hóa)."""
    officer = await app.users.create(
        UserInput("off_cb", Role.FACILITY_OFFICER, "Cán bộ", facility_code="BVDK-TH", phone="0961222333"),
        "mat-khau-dai-du-12",
        clock(),
    )
    service = OutboundService(app.uow, FakeTelephony(), OutboundPolicy(tz=TZ, caller_id="19009095"), clock)
    for n, (outcome, digit) in enumerate([("talked", "1"), ("talked", "2"), ("busy", "")]):
        received = await app.calls.receive(
            IncomingCall(f"1796.{n}", f"PJSIP/t-{n}", f"091234567{n}", "", "0968115115"), clock()
        )
        oid = await service.request_callback(received.ticket_id, officer.principal(), clock())
        async with app.uow() as uow:
            row = await uow.outbound.get(oid)
        assert row is not None
        officer_leg, citizen = (channel_id(oid, leg, row.created_at) for leg in (Leg.OFFICER, Leg.CITIZEN))
        await service.leg_answered(officer_leg, clock())
        await service.digit(officer_leg, "1", clock())
        if outcome == "busy":
            await service.leg_ended(citizen, 17, clock())
            continue
        await service.leg_answered(citizen, clock(), recorded=True)
        clock.now += timedelta(seconds=30)
        await service.leg_ended(officer_leg, 16, clock())
        await service.digit(citizen, digit, clock())
    await service.close()


async def test_the_report_counts_callbacks_in_scope(sample_app: App, clock: FakeClock) -> None:
    clock.now = DAY
    await callbacks(sample_app, clock)
    reports = ReportService(sample_app.uow, sample_app.settings.tz)
    admin = Principal(1, "admin", Role.ADMIN)
    bundle = await reports.bundle(admin, date(2026, 11, 1), date(2026, 11, 30), clock())
    assert bundle.callbacks == CallbackFigures(placed=3, talked=2, resolved=1, not_resolved=1, tickets=3)
    assert bundle.as_dict()["callbacks"]["resolved_percent"] == 50.0
    [row] = list(
        load_workbook(io.BytesIO(report_xlsx(bundle)))["Gọi lại"].iter_rows(min_row=2, values_only=True)
    )
    assert row == (3, 3, 2, 1, 1, 0, 50)
    other = Principal(2, "sup_na", Role.SUPERVISOR, province="Nghệ An")
    assert (await reports.bundle(other, date(2026, 11, 1), date(2026, 11, 30), clock())).callbacks.placed == 0
    before = await reports.bundle(admin, date(2026, 10, 1), date(2026, 10, 31), clock())
    assert before.callbacks.placed == 0  # another period


async def test_the_report_page_says_what_the_citizens_answered(web_app: Web, clock: FakeClock) -> None:
    clock.now = DAY
    await callbacks(web_app.app, clock)
    client = await web_app.client()
    await login(client, "giamsat")  # the Thanh Hóa supervisor
    html = await (await client.get("/bao-cao?from=2026-11-01&to=2026-11-30")).text()
    assert "Gọi lại người phản ánh" in html
    assert "Đã gọi lại <strong>3</strong> lần cho 3 phản ánh" in html
    assert "<strong>1</strong>\n      xác nhận đã được giải quyết" in html.replace("\r", "")
