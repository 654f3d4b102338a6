"""Each hotline's health over a period (seed 001): calls through the real FastAGI handlers, counted in SQL,
roster gaps from the sample roster, and the failing list in the report bundle."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from callcenter.app import App
from callcenter.domain.facility import Facility, FacilityKind
from callcenter.domain.hotline_health import FailReason
from callcenter.domain.ticket import TicketScope
from callcenter.services.hotline_health import HotlineHealthService
from callcenter.services.reports import ReportService
from tests.conftest import FakeClock
from tests.fakes.calls import ALL_FAILED, ANSWERED_FIRST, place_call

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BVDK, TTYT_HH = "0968115115", "0865203115"


async def test_health_over_a_period(sample_app: App, clock: FakeClock) -> None:
    day = clock().astimezone(TZ).date()
    for _ in range(3):
        await place_call(sample_app, BVDK, ANSWERED_FIRST)
        clock.advance(minutes=5)
    await place_call(sample_app, TTYT_HH, ALL_FAILED)
    start = datetime.combine(day, datetime.min.time(), tzinfo=TZ)
    service = HotlineHealthService(sample_app.uow, TZ)
    health = {h.facility_code: h for h in await service.between(start, start + timedelta(days=2))}
    assert set(health) == {"BVDK-TH", "BVNHI-TH", "TTYT-QX", "TTYT-HH", "TYT-QX-QNINH"}
    bvdk = health["BVDK-TH"]
    assert (bvdk.calls, bvdk.answered, bvdk.answered_by_first, bvdk.all_failed) == (3, 3, 3, 0)
    assert FailReason.NO_ANSWER not in bvdk.reasons
    hh = health["TTYT-HH"]
    assert (hh.calls, hh.answered, hh.all_failed) == (1, 0, 1) and FailReason.NO_ANSWER in hh.reasons
    assert health["BVNHI-TH"].not_viettel and FailReason.NOT_VIETTEL in health["BVNHI-TH"].reasons

    # A period before the calls has none of them; one facility only gives one line.
    before = await service.between(start - timedelta(days=3), start)
    assert all(h.calls == 0 for h in before)
    only = await service.between(start, start + timedelta(days=2), facility_code="TTYT-HH")
    assert [h.facility_code for h in only] == ["TTYT-HH"] and only[0].calls == 1

    # A province scope other than the facilities' sees none of them.
    assert await service.between(start, start + timedelta(days=2), scope=TicketScope(province="Hà Nội")) == []


async def test_roster_gaps_count_in_the_period(sample_app: App, clock: FakeClock) -> None:
    # A facility registered today, nobody on its roster: the whole period is one gap. The sample
    # facilities are covered 24/24 from 05/01/2026: before that, the period up to 07:30 is a gap too.
    new = Facility(
        "TYT-MOI", "3999", "Trạm Y tế mới", FacilityKind.COMMUNE_HEALTH_STATION, "Thanh Hóa", "0968000999"
    )
    await sample_app.facilities.import_facilities([new], clock())
    service = HotlineHealthService(sample_app.uow, TZ)
    start = datetime.combine(clock().astimezone(TZ).date(), datetime.min.time(), tzinfo=TZ)
    health = {h.facility_code: h for h in await service.between(start, start + timedelta(days=7))}
    assert (health["TYT-MOI"].roster_gaps, health["TYT-MOI"].roster_gap_time) == (1, timedelta(days=7))
    assert health["TYT-MOI"].reasons == (FailReason.ROSTER_GAP,)
    assert all(h.roster_gaps == 0 for code, h in health.items() if code != "TYT-MOI")

    first_day = datetime(2026, 1, 4, tzinfo=TZ)
    early = {h.facility_code: h for h in await service.between(first_day, first_day + timedelta(days=2))}
    assert early["BVDK-TH"].roster_gap_time == timedelta(days=1, hours=7, minutes=30)
    assert FailReason.ROSTER_GAP in early["BVDK-TH"].reasons


async def test_the_report_bundle_lists_the_failing_hotlines(sample_app: App, clock: FakeClock) -> None:
    await place_call(sample_app, TTYT_HH, ALL_FAILED)
    day = clock().astimezone(TZ).date()
    bundle = await ReportService(sample_app.uow, TZ).bundle(TicketScope(everything=True), day, day, clock())
    failing = {h.facility_code: h.reasons for h in bundle.failing}
    assert FailReason.NO_ANSWER in failing["TTYT-HH"]
    as_dict = bundle.as_dict()
    assert "TTYT-HH" in as_dict["failing_hotlines"]  # type: ignore[operator]
    assert bundle.figures.received == 1 and bundle.by_month == [(date(day.year, day.month, 1), 1)]
    assert bundle.satisfaction == [] and bundle.satisfaction_total.index_percent is None
