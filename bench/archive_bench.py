"""How long the ArchiveJob takes, and how much memory it needs, for one day of 1,000,000 tracker events.

    PYTHONPATH=. .venv/app/bin/python -m bench.archive_bench [--events 1000000]

Starts a private PostgreSQL and moto's S3 (in its own process, so the uploaded objects are not counted
in this process's memory), writes N events in Rasa's tracker-store table spread over one local day, then
exports that day with `deploy.jobs.archive.export_day` and writes `bench/results/archive.json`: wall time,
rows per second, the size of the gzip object, and this process's peak resident memory before and during
the export (sampled every 20 ms from /proc). A smaller run first shows memory does not grow with N.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DAY = date(2026, 11, 30)


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakSampler:
    def __init__(self) -> None:
        self.peak = rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib())

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())


def fill(events: int, day_start: float) -> None:
    from core import db

    with db.transaction() as cur:
        cur.execute("TRUNCATE events")
        # realistic rows: user messages with parse data, bot utterances and actions, ~400 bytes of JSON each
        cur.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
            " SELECT 'psid-' || (n %% 5000),"
            "  CASE n %% 3 WHEN 0 THEN 'user' WHEN 1 THEN 'bot' ELSE 'action' END,"
            "  %s + n * (86399.0 / %s),"
            "  CASE WHEN n %% 3 = 0 THEN 'book_appointment' END,"
            "  CASE WHEN n %% 3 = 2 THEN 'booking_form' END,"
            "  json_build_object('event', CASE n %% 3 WHEN 0 THEN 'user' WHEN 1 THEN 'bot' ELSE 'action' END,"
            "   'timestamp', %s + n * (86399.0 / %s), 'text', 'can I book a massage tomorrow at ' || (n %% 12 + 1) || 'pm',"
            "   'parse_data', json_build_object('intent', json_build_object('name', 'book_appointment',"
            "   'confidence', 0.9 + (n %% 10) / 100.0), 'entities', json_build_array(json_build_object("
            "   'entity', 'service', 'value', 'Swedish Massage', 'start', 14, 'end', 21))),"
            "   'message_id', md5(n::text))::text"
            " FROM generate_series(1, %s) AS n",
            (day_start, events, day_start, events, events),
        )
        cur.execute("ANALYZE events")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.archive_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args(argv)

    import boto3
    import pgserver

    workdir = Path(tempfile.mkdtemp(prefix="archive-bench-"))
    server = pgserver.get_server(workdir / "pg", cleanup_mode="delete")
    os.environ["DATABASE_URL"] = server.get_uri()
    from scripts.stack import free_port

    port = free_port()
    # moto in its own process (not deploy.local_aws.start_moto's thread), so its memory stays out of the figure
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="ap-southeast-1",
    )
    try:
        from core import db
        from deploy.jobs import archive

        db.migrate()
        with db.transaction() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS events (id serial PRIMARY KEY, sender_id varchar(255) NOT NULL,"
                " type_name varchar(255) NOT NULL, timestamp double precision, intent_name varchar(255),"
                " action_name varchar(255), data text)"
            )
        for _ in range(100):
            try:
                s3 = boto3.client("s3")
                s3.create_bucket(Bucket="bench", CreateBucketConfiguration={"LocationConstraint": "ap-southeast-1"})
                break
            except Exception:
                time.sleep(0.1)
        start, _ = archive.day_bounds(DAY)
        runs = []
        for events in sorted({min(100_000, args.events), args.events}):
            fill(events, start.timestamp())
            before = rss_mib()
            with PeakSampler() as sampler:
                began = time.perf_counter()
                written = archive.export_day(DAY, "bench", s3=s3)
                seconds = time.perf_counter() - began
            runs.append(
                {
                    "events": events,
                    "rows_exported": written["events"].rows,
                    "seconds": round(seconds, 2),
                    "events_per_second": round(written["events"].rows / seconds),
                    "gzip_mib": round(written["events"].bytes / 2**20, 1),
                    "rss_before_mib": round(before, 1),
                    "rss_peak_mib": round(sampler.peak, 1),
                    "rss_growth_mib": round(sampler.peak - before, 1),
                }
            )
            print(json.dumps(runs[-1]), flush=True)
        result = {
            "what": "ArchiveJob export of one local day of tracker events, PostgreSQL -> gzip JSON Lines -> S3 (moto)",
            "measured_at": datetime.now().isoformat(timespec="seconds"),
            "cpu_count": os.cpu_count(),
            "max_rss_of_process_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "runs": runs,
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "archive.json").write_text(json.dumps(result, indent=2) + "\n")
        return 0
    finally:
        from core import db

        db.reset_pool()
        moto.terminate()
        moto.wait()
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
