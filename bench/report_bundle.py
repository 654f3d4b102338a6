"""The period report at scale: how long the whole report (figures, months, facilities, hotline health,
satisfaction) takes for a year, against reading the same ticket rows bare in the same run.

    .venv/bin/python bench/report_bundle.py [--tickets 100000] [--database URL] [--repeat 5]

Seeds N tickets (bench/ticket_queries.py's seeding: one call each, a year, the sample facilities), then
times ReportService.bundle over that year for an admin (every ticket), a supervisor (the province) and a
facility officer (one facility), and the baseline: one `SELECT` of the same columns over every ticket
with no counting. Prints the ratio bundle / baseline. Target: ratio <= 10 (the counting, the status events
and the per-facility split cost at most ten bare scans). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from bench.ticket_queries import bench_settings, seed  # noqa: E402
from callcenter.app import build_app, prepare_database  # noqa: E402
from callcenter.domain.access import Principal, Role  # noqa: E402
from callcenter.logging import configure_logging  # noqa: E402
from callcenter.services.reports import ReportService  # noqa: E402
from callcenter.storage.models import TicketRow  # noqa: E402

TARGET_RATIO = 10.0


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--database")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    configure_logging("console", "error")
    with tempfile.TemporaryDirectory() as tmp:
        url, settings = bench_settings(args.database, tmp)
        app = build_app(settings)
        await prepare_database(app, datetime.now(UTC))
        await seed(app, args.tickets)
        await app.uow.refresh_statistics()
        reports = ReportService(app.uow, settings.tz)
        now = datetime(2026, 11, 1, tzinfo=UTC)
        year = (date(2025, 11, 1), date(2026, 10, 31))

        async def baseline() -> int:
            async with app.engine.connect() as conn:
                rows = await conn.execute(
                    select(
                        TicketRow.id,
                        TicketRow.created_at,
                        TicketRow.status,
                        TicketRow.resolved_at,
                        TicketRow.outside_jurisdiction,
                        TicketRow.category_confirmed,
                        TicketRow.category_suggested,
                        TicketRow.facility_code,
                    )
                )
                return len(rows.all())

        def timed_ms(samples: list[float]) -> float:
            return statistics.median(samples)

        base: list[float] = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            n = await baseline()
            base.append((time.perf_counter() - t0) * 1000)
        print(f"database: {url.split('@')[-1].split('///')[0]}; {n} tickets")
        print(f"baseline (bare SELECT of every ticket): {timed_ms(base):.0f} ms")
        print(f"{'report for a year':<28} {'received':>9} {'p50 ms':>8} {'ratio':>6}")
        worst = 0.0
        for label, who in [
            ("admin (everything)", Principal(1, "admin", Role.ADMIN)),
            ("supervisor (province)", Principal(2, "sup", Role.SUPERVISOR, province="Thanh Hóa")),
            ("officer (one facility)", Principal(3, "off", Role.FACILITY_OFFICER, facility_code="BVDK-TH")),
        ]:
            samples: list[float] = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                bundle = await reports.bundle(who, *year, now)
                samples.append((time.perf_counter() - t0) * 1000)
            ratio = timed_ms(samples) / timed_ms(base)
            worst = max(worst, ratio)
            print(f"{label:<28} {bundle.figures.received:>9} {timed_ms(samples):>8.0f} {ratio:>6.1f}")
        print(f"worst ratio: {worst:.1f} (target <= {TARGET_RATIO:.0f})")
        await app.close()


if __name__ == "__main__":
    asyncio.run(main())
