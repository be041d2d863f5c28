"""`make bench`: every benchmark, each in its own process, then bench/REPORT.md with plots.

    python -m bench [--only rag,connector,...]

Each benchmark writes bench/results/<name>.json; the report reads whatever results are there.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench import report

BENCHMARKS = {
    "rag": "bench.rag_bench",  # knowledge index build, throughput, answer latency in the action server
    "connector": "bench.connector_bench",  # receiver handler time, cold imports
    "dashboard_stats": "bench.dashboard_stats",  # /api/stats on 100,000 tracker events
    "archive": "bench.archive_bench",  # the nightly archive of 1,000,000 events: time and peak memory
    "fuzz": "bench.fuzz_bench",  # generated customers against the real stack: success per class and language
    "load": "bench.load_bench",  # many customers at once, ours against a bare `rasa init` assistant
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", default="", help="comma-separated names: " + ", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    failed = []
    for name in names:
        started = time.perf_counter()
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, "-m", BENCHMARKS[name]]).returncode != 0:
            failed.append(name)
        print(f"== {name}: {time.perf_counter() - started:.0f} s", flush=True)
    print(f"report: {report.write()}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
