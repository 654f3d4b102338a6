"""Ticket list and search at scale: p50/p95 of the queries the pages run, on SQLite and PostgreSQL.

    .venv/bin/python bench/ticket_queries.py [--tickets 100000] [--database URL] [--repeat 20]

Seeds N tickets (with calls and a transcript each, spread over a year and the sample facilities, about a
third with a confirmed category) straight through the storage layer in bulk, then times
TicketService.list() as each role would call it: first page, filtered pages, overdue, incident,
accent-insensitive search over transcripts, a deep page. Target: p95 <= 100 ms. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, text  # noqa: E402

from callcenter.app import App, build_app, prepare_database  # noqa: E402
from callcenter.domain.access import Principal, Role  # noqa: E402
from callcenter.domain.text import search_key  # noqa: E402
from callcenter.logging import configure_logging  # noqa: E402
from callcenter.services.tickets import TicketFilter, TicketPolicy, TicketService  # noqa: E402
from callcenter.settings import Settings, load_settings  # noqa: E402
from callcenter.storage.models import CallRow, TicketRow, TranscriptRow  # noqa: E402

PHRASES = [
    "bệnh viện hết thuốc tiểu đường tôi phải ra ngoài mua",
    "tôi xếp hàng từ năm giờ sáng đến trưa vẫn chưa được khám",
    "nhân viên y tế quát mắng người nhà bệnh nhân",
    "bác sĩ kê đơn thuốc ngoài danh mục bảo hiểm",
    "thẻ bảo hiểm y tế không được thanh toán chi phí",
    "trạm y tế xã không có vắc xin cho con tôi",
    "phòng bệnh bẩn nhà vệ sinh không có nước",
    "tiêm nhầm thuốc cho cháu bé phải chuyển viện",
]
CATEGORIES = ["thieu_thuoc", "quy_trinh_kham_benh", "quy_tac_ung_xu", "quy_che_ke_don", "bhyt", "khac"]
STATUSES = ["moi_tiep_nhan", "dang_xu_ly", "da_giai_quyet"]


async def seed(app: App, n: int) -> None:
    facilities = [(f.code, f.province) for f in await app.facilities.list()]
    rng = random.Random(7)
    start = datetime(2025, 11, 1, tzinfo=UTC)
    batch = 5000
    async with app.engine.begin() as conn:
        for base in range(0, n, batch):
            calls, tickets, transcripts, search = [], [], [], []
            for i in range(base, min(n, base + batch)):
                code, province = rng.choice(facilities)
                at = start + timedelta(seconds=rng.randrange(365 * 86400))
                call_id = str(uuid.UUID(int=rng.getrandbits(128)))
                phrase = rng.choice(PHRASES) + f" số {rng.randrange(1000)}"
                status = rng.choice(STATUSES)
                calls.append(
                    {
                        "id": call_id,
                        "uniqueid": f"bench.{i}",
                        "channel": "PJSIP/x",
                        "caller_number": f"09{rng.randrange(10**8):08d}",
                        "caller_name": "",
                        "dialled_number": "0968115115",
                        "facility_code": code,
                        "state": "answered",
                        "started_at": at,
                        "end_detail": "",
                    }
                )
                tickets.append(
                    {
                        "id": i + 1,
                        "ref": f"PA-{at:%Y%m%d}-{i + 1:06d}",
                        "call_id": call_id,
                        "facility_code": code,
                        "province": province,
                        "status": status,
                        "priority": "normal",
                        "needs_callback": rng.random() < 0.1,
                        "caller_number": calls[-1]["caller_number"],
                        "caller_name": "",
                        "category_suggested": rng.choice(CATEGORIES),
                        "category_confidence": 0.7,
                        "category_confirmed": rng.choice(CATEGORIES) if rng.random() < 0.3 else None,
                        "outside_jurisdiction": False,
                        "summary": "",
                        "incident": rng.random() < 0.02,
                        "incident_reasons": "",
                        "forwarded_to": "",
                        "result_told": "",
                        "resolved_at": at + timedelta(days=2) if status == "da_giai_quyet" else None,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                transcripts.append(
                    {
                        "call_id": call_id,
                        "ticket_id": i + 1,
                        "engine": "bench",
                        "language": "vi",
                        "source": "legs",
                        "turns": [],
                        "text": phrase,
                        "text_masked": phrase,
                        "leg_problems": {},
                        "created_at": at,
                    }
                )
                search.append({"id": i + 1, "body": search_key(phrase)})
            await conn.execute(insert(CallRow), calls)
            await conn.execute(insert(TicketRow), tickets)
            await conn.execute(insert(TranscriptRow), transcripts)
            if conn.dialect.name == "sqlite":
                await conn.execute(
                    text("INSERT INTO ticket_search (rowid, body) VALUES (:id, :body)"), search
                )
            else:
                await conn.execute(
                    text("INSERT INTO ticket_search (ticket_id, body) VALUES (:id, :body)"), search
                )
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE"))
            await conn.execute(text("SELECT setval(pg_get_serial_sequence('tickets','id'), :n)"), {"n": n})


def bench_settings(database: str | None, tmp: str) -> tuple[str, Settings]:
    """The sample facilities and roster, no speech engine, on `database` or a SQLite file in `tmp`."""
    url = database or f"sqlite+aiosqlite:///{Path(tmp) / 'tickets.db'}"
    settings = load_settings(
        REPO / "config" / "callcenter.toml",
        database={"url": url},
        sample_dir=str(REPO / "config" / "sample"),
        load_sample_data=True,
        journal_dir=str(Path(tmp) / "journal"),
        transcription={"engine": "none"},
    )
    return url, settings


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--database")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    configure_logging("console", "error")
    with tempfile.TemporaryDirectory() as tmp:
        url, settings = bench_settings(args.database, tmp)
        app = build_app(settings)
        await prepare_database(app, datetime.now(UTC))
        t0 = time.perf_counter()
        await seed(app, args.tickets)
        await app.uow.refresh_statistics()  # what serve does at start-up and every six hours
        print(
            f"database: {url.split('@')[-1].split('///')[0]}; {args.tickets} tickets seeded in "
            f"{time.perf_counter() - t0:.0f} s"
        )
        service = TicketService(app.uow, TicketPolicy(tz=settings.tz))
        now = datetime(2026, 11, 1, tzinfo=UTC)
        admin = Principal(1, "admin", Role.ADMIN)
        supervisor = Principal(2, "sup", Role.SUPERVISOR, province="Thanh Hóa")
        officer = Principal(3, "off", Role.FACILITY_OFFICER, facility_code="BVDK-TH")
        cases = [
            ("admin, first page", admin, TicketFilter(), 1),
            ("supervisor, first page", supervisor, TicketFilter(), 1),
            ("officer, own facility", officer, TicketFilter(), 1),
            ("status + facility", admin, TicketFilter(status="dang_xu_ly", facility_code="TTYT-QX"), 1),
            ("category (confirmed else suggested)", admin, TicketFilter(category="bhyt"), 1),
            ("one month", admin, TicketFilter(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31)), 1),
            ("overdue", supervisor, TicketFilter(overdue=True), 1),
            ("incident", admin, TicketFilter(incident=True), 1),
            ("search 'tieu duong'", admin, TicketFilter(text="tieu duong"), 1),
            ("search 'thiếu thuốc' (no hit)", admin, TicketFilter(text="thiếu thuốc"), 1),
            ("search + facility", officer, TicketFilter(text="vac xin"), 1),
            ("page 200", admin, TicketFilter(), 200),
        ]
        print(f"{'query':<38} {'total':>7} {'p50 ms':>8} {'p95 ms':>8}")
        worst = 0.0
        for label, who, filters, page in cases:
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                result = await service.list(who, filters, now, page=page, page_size=50)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
            worst = max(worst, p95)
            print(f"{label:<38} {result.total:>7} {statistics.median(times):>8.1f} {p95:>8.1f}")
        print(f"worst p95: {worst:.1f} ms (target <= 100 ms)")
        await app.close()


if __name__ == "__main__":
    asyncio.run(main())
