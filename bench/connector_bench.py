"""Messenger connector figures: the receiver's handler time without network I/O, and cold imports.

    python -m bench.connector_bench      # writes bench/results/connector.json

The receiver handles the recorded events of tests/events/ (a text message and a batched delivery)
with the queue replaced by a list, so the figure is parsing, the signature check and the split.
Cold import: a fresh interpreter importing each handler module, less the interpreter's own start.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from deploy.connector import config
from deploy.connector.events import HttpApiEvent
from deploy.connector.receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "events"
RESULTS = ROOT / "bench" / "results"
SECRETS = config.MessengerSecrets("lotus-test-app-secret", "lotus-test-verify-token", "page-token")
HANDLERS = ("deploy.handlers.webhook_receiver", "deploy.handlers.chat_orchestrator")


class ListQueue:
    def __init__(self) -> None:
        self.messages: list = []

    def enqueue(self, messages) -> None:
        self.messages.extend(messages)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def handler_times(name: str, runs: int = 5000) -> dict:
    raw = json.loads((EVENTS / name).read_text())
    queue = ListQueue()
    receiver = WebhookReceiver(lambda: SECRETS, queue)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = receiver.handle(HttpApiEvent.model_validate(raw))
        times.append((time.perf_counter() - started) * 1e6)
        assert response.status == 200, response
    return {
        "event": name,
        "runs": runs,
        "enqueued_per_delivery": len(queue.messages) // runs,
        "p50_us": round(percentile(times, 50), 1),
        "p95_us": round(percentile(times, 95), 1),
    }


def cold_import_ms(module: str, repeats: int = 5) -> float:
    def run(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        return time.perf_counter() - started

    base = min(run("pass") for _ in range(repeats))
    return round((min(run(f"import {module}") for _ in range(repeats)) - base) * 1000, 1)


def main() -> None:
    figures = {
        "receiver": [handler_times("text.json"), handler_times("batched.json")],
        "cold_import_ms": {module: cold_import_ms(module) for module in HANDLERS},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "connector.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
