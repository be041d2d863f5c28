"""How long `/api/stats` takes on 100,000 tracker events.

    PYTHONPATH=. .venv/app/bin/python -m bench.dashboard_stats [--events 100000] [--runs 5]

Starts a private PostgreSQL, writes synthetic conversations through Rasa's own
SQL tracker store (the Rasa environment's Python), then times the dashboard's
stats over them (the same function the route calls, plus the HTTP route itself)
and writes `bench/results/dashboard_stats.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import requests

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard_stats", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    import pgserver

    workdir = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
    server = pgserver.get_server(workdir / "pg", cleanup_mode="delete")
    os.environ["DATABASE_URL"] = server.get_uri()
    os.environ["DASHBOARD_TOKEN"] = "bench"
    from core import bookings, db
    from core.business import business
    from dashboard import conversations, stats
    from dashboard.app import create_app
    from dashboard.settings import dashboard_settings
    from tests.dashboard import synthetic
    from tests.dashboard.conftest import serve_in_thread

    try:
        db.migrate()
        bookings.seed_catalogue()
        tz = business().tz
        today, days = datetime.now(tz).date(), list(range(1, args.days + 1))
        per_day = args.events // (16 * args.days)
        while True:  # the fewest conversations a day that make at least the events asked for
            convs = synthetic.conversations(today, days, per_day, tz)
            if sum(len(c["events"]) for c in convs) >= args.events:
                break
            per_day += 1
        started = time.perf_counter()
        synthetic.write_with_rasa(convs, server.get_uri(), workdir)
        write_seconds = time.perf_counter() - started
        with db.transaction() as cur:
            cur.execute("ANALYZE events")
            cur.execute("SELECT count(*) AS n FROM events")
            events = cur.fetchone()["n"]

        def timed(fn) -> list[float]:
            fn()  # warm the connection pool and caches
            runs = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                fn()
                runs.append((time.perf_counter() - t0) * 1000)
            return runs

        overview = timed(lambda: stats.overview(args.days))
        listing = timed(lambda: conversations.page(None, 1, 25))
        search = timed(lambda: conversations.page("weather", 1, 25))
        with serve_in_thread(create_app(dashboard_settings())) as base:
            headers = {"Authorization": "Bearer bench"}
            route = timed(lambda: requests.get(f"{base}/api/stats", params={"days": args.days}, headers=headers,
                                               timeout=60).raise_for_status())  # fmt: skip
        result = {
            "events": events,
            "conversations": len(convs),
            "days": args.days,
            "write_seconds_through_rasa": round(write_seconds, 1),
            "stats_ms": {"median": round(statistics.median(overview), 1), "runs": [round(r, 1) for r in overview]},
            "api_stats_ms": {"median": round(statistics.median(route), 1), "runs": [round(r, 1) for r in route]},
            "conversations_page_ms": round(statistics.median(listing), 1),
            "conversations_search_ms": round(statistics.median(search), 1),
            "cpus": os.cpu_count(),
        }
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "dashboard_stats.json").write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        print(
            f"/api/stats?days={args.days} on {events:,} tracker events: {result['api_stats_ms']['median']} ms (median)"
        )
    finally:
        db.reset_pool()
        server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
