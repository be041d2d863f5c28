"""Many customers at once: full conversations against our stack and a bare `rasa init` assistant, same run.

    PYTHONPATH=. .venv/app/bin/python -m bench.load_bench [--customers 1,4,16,64] [--rounds 2] [--skip-bare]

Our stack is started as `make serve` starts it (private PostgreSQL, action server, Rasa server with the
PostgreSQL tracker store), with BOOKING_NOW pinned. Each simulated customer is a thread with its own
sender id that runs `--rounds` full conversations through the REST channel: greet, book a service at a
time, name, phone, confirm, an opening-hours question, a knowledge question, goodbye. The bare assistant
is the one `rasa init` trains (in-memory tracker store, no custom actions), started in the same run and
driven with the same number of turns per conversation. Writes bench/results/load.json: messages per
second, per-turn p50/p95/p99 by kind of turn, errors, bookings written and double bookings, resident
memory of the Rasa and action servers at rest and after the load, and the ratios to bare Rasa.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

import requests

RESULTS = Path(__file__).resolve().parent / "results"
NOW = "2026-12-07T10:00:00+07:00"
SERVICES = ["Swedish Massage", "Classic Facial", "Manicure", "Pedicure", "Hot Stone Therapy", "Foot Reflexology"]
HOURS = [10, 11, 13, 14, 15, 16, 17, 18]
NAMES = ["Khanh Nguyen", "Linh Tran", "Minh Pham", "Anna Schmidt", "Bao Le", "Thu Hoang", "David Kim"]
BARE_TURNS = [
    ("plain", "hello"),
    ("plain", "I am feeling very good"),
    ("plain", "I am sad"),
    ("plain", "yes"),
    ("plain", "are you a bot?"),
    ("plain", "great"),
    ("plain", "no"),
    ("plain", "goodbye"),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else 0.0


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (Rasa forks), from /proc."""
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            with open(f"/proc/{current}/task/{current}/children") as children:
                pids.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, StopIteration, ProcessLookupError):
            continue
    return round(total / 1024, 1)


def our_turns(customer: int, round_: int) -> list[tuple[str, str]]:
    """One full booking conversation; each (customer, round) asks for its own day and time."""
    slot = customer * 7 + round_
    day = date(2026, 12, 8) + timedelta(days=slot % 20)
    hour = HOURS[(slot // 20) % len(HOURS)]
    service = SERVICES[slot % len(SERVICES)]
    clock = f"{hour - 12}pm" if hour > 12 else f"{hour}am" if hour < 12 else "12pm"
    return [
        ("plain", "hi"),
        ("form", f"I'd like to book a {service.lower()} on {day.strftime('%B')} {day.day} at {clock}"),
        ("form", NAMES[slot % len(NAMES)]),
        ("form", f"0903 {100 + customer:03d} {100 + round_:03d}"),
        ("booking", "yes"),
        ("plain", "what are your opening hours?"),
        ("knowledge", "are the towels fresh for each client?"),
        ("plain", "bye"),
    ]


def bare_turns(customer: int, round_: int) -> list[tuple[str, str]]:
    return BARE_TURNS


def drive(rasa_url: str, customers: int, rounds: int, turns_of, prefix: str) -> dict:
    """`customers` threads at once, each running `rounds` conversations; per-turn latency by kind."""
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def customer(index: int) -> None:
        session = requests.Session()
        for round_ in range(rounds):
            sender = f"{prefix}-{customers}-{index}-{round_}"
            for kind, text in turns_of(index, round_):
                began = time.perf_counter()
                try:
                    response = session.post(
                        f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
                    )
                    response.raise_for_status()
                    ok = isinstance(response.json(), list)
                except (requests.RequestException, ValueError) as err:
                    ok, text = False, f"{type(err).__name__}"
                elapsed = time.perf_counter() - began
                with lock:
                    latencies.setdefault(kind, []).append(elapsed)
                    if not ok:
                        errors.append(text)

    threads = [threading.Thread(target=customer, args=(i,)) for i in range(customers)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    every = [value for values in latencies.values() for value in values]
    return {
        "customers": customers,
        "messages": len(every),
        "wall_s": round(wall, 2),
        "messages_per_s": round(len(every) / wall, 1),
        "p50_ms": round(percentile(every, 0.5) * 1000),
        "p95_ms": round(percentile(every, 0.95) * 1000),
        "p99_ms": round(percentile(every, 0.99) * 1000),
        "by_kind": {
            kind: {
                "p50_ms": round(percentile(values, 0.5) * 1000),
                "p95_ms": round(percentile(values, 0.95) * 1000),
                "p99_ms": round(percentile(values, 0.99) * 1000),
                "mean_ms": round(statistics.fmean(values) * 1000),
            }
            for kind, values in sorted(latencies.items())
        },
        "errors": len(errors),
    }


def booking_counts() -> dict:
    from core import db

    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM bookings WHERE status = 'confirmed'")
        confirmed = cur.fetchone()["n"]
        # the same staff member twice at overlapping times: what must never happen
        cur.execute(
            "SELECT count(*) AS n FROM bookings a JOIN bookings b ON a.staff = b.staff AND a.reference < b.reference"
            " AND a.status = 'confirmed' AND b.status = 'confirmed'"
            " AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
        )
        return {"bookings_confirmed": confirmed, "double_bookings": cur.fetchone()["n"]}


def bare_rasa(stack: ExitStack, workdir: Path) -> tuple[str, subprocess.Popen, float]:
    """Train the `rasa init` assistant in `workdir` and serve it; returns its URL, process, training seconds."""
    from scripts import stack as launcher

    project = workdir / "bare"
    project.mkdir()
    began = time.perf_counter()
    subprocess.run(
        [str(launcher.RASA), "init", "--no-prompt", "--init-dir", str(project)],
        check=True,
        capture_output=True,
        cwd=project,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    trained = time.perf_counter() - began
    port = launcher.free_port()
    model = next((project / "models").glob("*.tar.gz"))
    log = workdir / "bare-rasa.log"
    process = stack.enter_context(
        launcher.child(
            [
                str(launcher.RASA),
                "run",
                "--enable-api",
                "--port",
                str(port),
                "--model",
                str(model),
                "--endpoints",
                str(project / "endpoints.yml"),
                "--credentials",
                str(project / "credentials.yml"),
            ],  # fmt: skip
            dict(os.environ),
            log,
            "bare Rasa server",
        )
    )
    url = f"http://127.0.0.1:{port}"
    launcher.wait_until(
        lambda: bool(requests.get(f"{url}/status", timeout=2).json().get("model_id")), "bare Rasa", process, 300, log
    )
    return url, process, trained


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", default="1,4,16,64")
    parser.add_argument("--rounds", type=int, default=2, help="conversations per customer at each level")
    parser.add_argument("--skip-bare", action="store_true", help="only our stack")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.customers.split(",")]

    import pgserver

    workdir = Path(tempfile.mkdtemp(prefix="load-bench-"))
    server = pgserver.get_server(workdir / "pg", cleanup_mode="delete")
    os.environ.update(DATABASE_URL=server.get_uri(), BOOKING_NOW=NOW, RAG_INDEX_DIR=str(workdir / "index"))
    from rag import index as rag_index
    from scripts import stack as launcher

    rag_index.build(workdir / "index")
    env = launcher.dev_secrets(launcher.stack_env(launcher.prepare_database()))
    figures: dict = {
        "command": "python -m bench.load_bench " + " ".join(argv or []),
        "now": NOW,
        "ours": [],
        "bare": [],
    }
    with ExitStack() as stack:
        actions_port, rasa_port = launcher.free_port(), launcher.free_port()
        env.update(ACTIONS_PORT=str(actions_port), RASA_PORT=str(rasa_port))
        began = time.perf_counter()
        actions = stack.enter_context(launcher.action_server(env, port=actions_port, log=workdir / "actions.log"))
        rasa = stack.enter_context(launcher.rasa_server(env, port=rasa_port, log=workdir / "rasa.log"))
        figures["ours_start_s"] = round(time.perf_counter() - began, 1)
        url = f"http://127.0.0.1:{rasa_port}"
        drive(url, 1, 1, our_turns, "warm")
        figures["ours_rss_rest_mib"] = {"rasa": tree_rss_mib(rasa.pid), "actions": tree_rss_mib(actions.pid)}
        for customers in levels:
            figures["ours"].append(drive(url, customers, args.rounds, our_turns, "load"))
            print(json.dumps(figures["ours"][-1]), flush=True)
        figures["ours_rss_loaded_mib"] = {"rasa": tree_rss_mib(rasa.pid), "actions": tree_rss_mib(actions.pid)}
        figures.update(booking_counts())
    if not args.skip_bare:
        with ExitStack() as stack:
            url, bare, trained = bare_rasa(stack, workdir)
            figures["bare_training_s"] = round(trained, 1)
            drive(url, 1, 1, bare_turns, "warm")
            for customers in levels:
                figures["bare"].append(drive(url, customers, args.rounds, bare_turns, "load"))
                print(json.dumps(figures["bare"][-1]), flush=True)
            figures["bare_rss_loaded_mib"] = tree_rss_mib(bare.pid)
        figures["ratios"] = {
            str(ours["customers"]): {
                "throughput_ours_over_bare": round(ours["messages_per_s"] / bare["messages_per_s"], 2),
                "p95_ours_over_bare": round(ours["p95_ms"] / max(bare["p95_ms"], 1), 2),
            }
            for ours, bare in zip(figures["ours"], figures["bare"], strict=True)
        }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps({k: v for k, v in figures.items() if k not in ("ours", "bare")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
