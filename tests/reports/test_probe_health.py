"""Test calls as their own series of hotline health (issue 9 §2): the pure rules, then the service on
SQLite and PostgreSQL (probes stored as `OutboundService` stores them), kept apart from citizens' calls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from callcenter.app import App
from callcenter.domain.outbound import Outcome
from callcenter.domain.probe_health import ProbeFact, ProbeFailReason, probe_series
from callcenter.domain.ticket import TicketScope
from callcenter.services.holidays_vn import vietnam_holidays
from callcenter.services.hotline_health import HotlineHealthService
from callcenter.services.reports import ReportService
from tests.conftest import FakeClock
from tests.fakes.calls import ANSWERED_FIRST, place_call
from tests.fakes.probes import add_probe

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HOLS = vietnam_holidays(2026, 2026)
WED_DAY = datetime(
    2026, 11, 25, 9, 0, tzinfo=TZ
)  # a Wednesday (24/11 is Ngày Văn hóa Việt Nam, a holiday), 09:00
WED_NIGHT = datetime(2026, 11, 25, 2, 30, tzinfo=TZ)  # a working day, 02:30
SAT_DAY = datetime(2026, 11, 28, 10, 0, tzinfo=TZ)  # a weekend, daytime
NATIONAL_DAY = datetime(2026, 9, 2, 14, 0, tzinfo=TZ)  # Quốc khánh, a Wednesday, daytime


def fact(outcome: Outcome | None, at: datetime, ring_ms: int | None = None) -> ProbeFact:
    return ProbeFact(outcome, at.astimezone(UTC), ring_ms)


def test_unknown_and_failed_are_ours_and_never_count_against_the_hotline() -> None:
    s = probe_series(
        "X",
        [
            fact(Outcome.HUMAN, WED_DAY, 4000),
            fact(Outcome.HUMAN, WED_DAY + timedelta(hours=1), 8000),
            fact(Outcome.UNKNOWN, WED_NIGHT),
            fact(Outcome.FAILED, SAT_DAY),
            fact(None, WED_DAY + timedelta(hours=2)),
        ],
        tz=TZ,
        holidays=HOLS,
    )
    assert (s.placed, s.running, s.counted, s.human) == (5, 1, 2, 2)
    assert (s.count(Outcome.UNKNOWN), s.count(Outcome.FAILED)) == (1, 1)
    assert s.human_rate_percent == 100.0 and s.mean_ring_to_human_s == 6.0
    assert s.last_human_at == (WED_DAY + timedelta(hours=1)).astimezone(UTC)
    # A lost probe at night and a refused one on a Saturday are not "nobody answered at night".
    assert (s.night.counted, s.off_day.counted, s.off_hours_unanswered) == (0, 0, 0)
    assert not s.failing


def test_night_and_holiday_split_and_the_off_hours_flag() -> None:
    s = probe_series(
        "X",
        [
            fact(Outcome.HUMAN, WED_DAY, 3000),
            fact(Outcome.HUMAN, WED_DAY + timedelta(hours=2), 5000),
            fact(Outcome.NO_ANSWER, WED_NIGHT),
            fact(Outcome.HUMAN, SAT_DAY, 7000),
            fact(Outcome.BUSY, NATIONAL_DAY),
        ],
        tz=TZ,
        holidays=HOLS,
    )
    assert (s.day.counted, s.day.human, s.night.counted, s.night.human) == (4, 3, 1, 0)
    assert (s.workday.counted, s.workday.human, s.off_day.counted, s.off_day.human) == (3, 2, 2, 1)
    assert s.off_hours_unanswered == 2  # the Wednesday night, the National Day afternoon
    assert s.reasons == (ProbeFailReason.OFF_HOURS, ProbeFailReason.LOW_RATE) and s.failing
    assert s.human_rate_percent == 60.0
    # Only the daytime working-day probes failing: no off-hours flag, but a low rate.
    d = probe_series(
        "X",
        [fact(Outcome.NO_ANSWER, WED_DAY), fact(Outcome.HUMAN, WED_DAY), fact(Outcome.NO_KEY, WED_DAY)],
        tz=TZ,
        holidays=HOLS,
    )
    assert d.reasons == (ProbeFailReason.LOW_RATE,)
    # 07:00 is day, 19:00 is night (local).
    edge = probe_series(
        "X",
        [
            fact(Outcome.HUMAN, WED_DAY.replace(hour=7, minute=0)),
            fact(Outcome.HUMAN, WED_DAY.replace(hour=19, minute=0)),
        ],
        tz=TZ,
        holidays=HOLS,
    )
    assert (edge.day.counted, edge.night.counted) == (1, 1)
    assert probe_series("X", [], tz=TZ, holidays=HOLS).reasons == ()


async def test_the_service_reads_the_series_apart_from_citizens_calls(
    sample_app: App, clock: FakeClock
) -> None:
    clock.now = WED_DAY.astimezone(UTC)
    await place_call(sample_app, "0968115115", ANSWERED_FIRST)  # BVDK-TH: one citizen's call
    await add_probe(sample_app, "BVDK-TH", WED_DAY, Outcome.HUMAN, 6000)
    await add_probe(sample_app, "BVDK-TH", WED_NIGHT, Outcome.UNKNOWN)  # ours: not counted
    await add_probe(sample_app, "BVNHI-TH", WED_NIGHT, Outcome.NO_ANSWER, 30000)
    await add_probe(sample_app, "BVNHI-TH", WED_DAY, Outcome.HUMAN, 2000)
    await add_probe(sample_app, "TTYT-HH", WED_DAY + timedelta(minutes=5), None)  # still ringing
    start = datetime(2026, 11, 25, tzinfo=TZ)
    health = {
        h.facility_code: h
        for h in await HotlineHealthService(sample_app.uow, TZ).between(start, start + timedelta(days=1))
    }
    bvdk, nhi, hh = health["BVDK-TH"], health["BVNHI-TH"], health["TTYT-HH"]
    # Citizens' calls: the probes are not calls (one call, answered; none elsewhere).
    assert (bvdk.calls, bvdk.answered, nhi.calls, hh.calls) == (1, 1, 0, 0)
    assert bvdk.probes is not None and nhi.probes is not None and hh.probes is not None
    assert (bvdk.probes.placed, bvdk.probes.counted, bvdk.probes.human_rate_percent) == (2, 1, 100.0)
    assert bvdk.probes.mean_ring_to_human_s == 6.0 and not bvdk.probes.failing
    assert bvdk.reasons == () and not bvdk.failing
    assert (nhi.probes.night.counted, nhi.probes.night.human, nhi.probes.day.human) == (1, 0, 1)
    assert nhi.probes.reasons == (ProbeFailReason.OFF_HOURS,) and nhi.failing
    assert ProbeFailReason.OFF_HOURS.value not in [r.value for r in nhi.reasons]  # citizens' reasons apart
    assert (hh.probes.placed, hh.probes.running, hh.probes.counted) == (1, 1, 0)
    # A period without them has none; one facility only.
    before = await HotlineHealthService(sample_app.uow, TZ).between(start - timedelta(days=2), start)
    assert all(h.probes is not None and h.probes.placed == 0 for h in before)

    # The report's failing hotlines include the one failing its test calls, labelled in its dict.
    bundle = await ReportService(sample_app.uow, TZ).bundle(
        TicketScope(everything=True), date(2026, 11, 25), date(2026, 11, 25), clock()
    )
    assert "BVNHI-TH" in [h.facility_code for h in bundle.failing]
    probes = next(h for h in bundle.as_dict()["hotline_health"] if h["facility_code"] == "BVNHI-TH")["probes"]  # type: ignore[attr-defined]
    assert probes["label"] == "Cuộc gọi kiểm tra" and probes["no_answer"] == 1 and probes["unknown"] == 0


async def test_the_report_page_workbook_and_document_list_the_failing_test_calls_labelled(
    sample_app: App, clock: FakeClock
) -> None:
    import io

    from docx import Document
    from openpyxl import load_workbook

    from callcenter.services.report_docx import report_docx
    from callcenter.services.reports import report_xlsx
    from callcenter.web.report_pages import page_context

    clock.now = WED_DAY.astimezone(UTC)
    await add_probe(sample_app, "BVDK-TH", WED_NIGHT, Outcome.NO_ANSWER, 30000)
    await add_probe(sample_app, "BVDK-TH", WED_DAY, Outcome.HUMAN, 5000)
    day = date(2026, 11, 25)
    bundle = await ReportService(sample_app.uow, TZ).bundle(TicketScope(everything=True), day, day, clock())
    failing = {row["h"].facility_code: row for row in page_context(bundle, "")["failing_rows"]}
    assert "Cuộc gọi kiểm tra: Không có người nghe khi kiểm tra vào ban đêm" in "; ".join(
        failing["BVDK-TH"]["reasons"]
    )
    book = load_workbook(io.BytesIO(report_xlsx(bundle)))
    rows = list(book["Cuộc gọi kiểm tra"].iter_rows(values_only=True))
    assert rows[0][:5] == ("Mã", "Cơ sở", "Đã gọi", "Được tính", "Có người nghe (bấm 1)")
    bvdk = next(r for r in rows if r[0] == "BVDK-TH")
    assert bvdk[2:6] == (2, 2, 1, 50.0) and bvdk[8] == 1 and str(bvdk[-1]).startswith("Không có người nghe")
    assert [r[0] for r in rows[1:]] == ["BVDK-TH"]  # hotlines without test calls are not listed
    paragraphs = [p.text for p in Document(io.BytesIO(report_docx(bundle))).paragraphs]
    assert any(
        "(0968115115): cuộc gọi kiểm tra: không có người nghe khi kiểm tra" in p.lower() for p in paragraphs
    )
