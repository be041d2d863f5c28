"""Knowledge index figures: build time, embedding throughput, answer latency inside the action server.

    python -m bench.rag_bench            # writes bench/results/rag.json

- build of the demo documents into a fresh folder (model load included and not);
- a synthetic corpus of 10,000 chunks: chunks embedded and indexed per second;
- the action server answering `action_answer_question` through its HTTP API: round-trip and
  in-server look-up latency (from its log), p50 and p95.
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

import requests

from rag import index as rag_index
from rag.config import rag_settings
from rag.embedding import shared_embedder
from rag.evaluation import load_questions, load_unanswerable

RESULTS = Path(__file__).resolve().parent / "results"
WORDS = [
    "massage",
    "facial",
    "nails",
    "towel",
    "booking",
    "parking",
    "card",
    "garden",
    "tea",
    "oil",
    "stone",
    "foot",
    "hair",
    "reception",
    "locker",
    "robe",
    "calm",
    "warm",
    "quiet",
    "fresh",
    "herbal",
    "lemongrass",
    "coconut",
    "morning",
    "evening",
    "weekend",
    "guest",
    "therapist",
    "room",
    "price",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def synthetic_documents(folder: Path, chunks: int) -> None:
    """Documents of 10 sections each, each section one chunk of three sentences."""
    rng = random.Random(7)
    folder.mkdir(parents=True)
    for d in range(chunks // 10):
        sections = []
        for s in range(10):
            sentences = [" ".join(rng.choices(WORDS, k=12)).capitalize() + "." for _ in range(3)]
            sections.append(f"## Topic {d}-{s}\n" + " ".join(sentences))
        (folder / f"doc-{d:05d}.md").write_text(f"# Document {d}\n\n" + "\n\n".join(sections) + "\n")


def build_figures() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        shared_embedder().embed(["load the model"])
        model_load = time.perf_counter() - started
        demo = rag_index.build(Path(tmp) / "demo")
        documents = Path(tmp) / "synthetic"
        synthetic_documents(documents, 10_000)
        started = time.perf_counter()
        big = rag_index.build(Path(tmp) / "big", documents)
        seconds = time.perf_counter() - started
        again = rag_index.build(Path(tmp) / "big", documents)
    return {
        "model_load_s": round(model_load, 2),
        "demo_build_s": demo["seconds"],
        "demo_documents": demo["document_count"],
        "demo_chunks": demo["chunk_count"],
        "synthetic_chunks": big["chunk_count"],
        "synthetic_build_s": round(seconds, 1),
        "synthetic_chunks_per_s": round(big["chunk_count"] / seconds, 1),
        "synthetic_rebuild_unchanged_s": again["seconds"],
        "synthetic_index_type": big["index_type"],
    }


def latency_figures(queries: int = 200) -> dict:
    from scripts import stack

    port = stack.free_port()
    from rag.evaluation import SETS

    questions = [q for q, _ in load_questions()] + load_unanswerable()
    questions += [q for q, _ in load_questions(SETS["vi"][0])] + load_unanswerable(SETS["vi"][1])
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "actions.log"
        env = {**os.environ, "RAG_INDEX_DIR": str(rag_settings().index_dir), "PYTHONPATH": str(stack.PROJECT_ROOT)}
        with stack.action_server(env, port=port, log=log):
            url = f"http://127.0.0.1:{port}/webhook"
            round_trips = []
            for n in range(queries + 5):
                text = questions[n % len(questions)]
                body = {
                    "next_action": "action_answer_question",
                    "sender_id": "bench",
                    "tracker": {
                        "sender_id": "bench", "slots": {}, "events": [], "paused": False, "followup_action": None,
                        "active_loop": {}, "latest_action_name": "action_listen",
                        "latest_message": {"text": text, "intent": {"name": "ask_question"}, "entities": []},
                    },
                    "domain": {},
                }  # fmt: skip
                started = time.perf_counter()
                requests.post(url, json=body, timeout=60).raise_for_status()
                if n >= 5:  # the first calls warm up
                    round_trips.append((time.perf_counter() - started) * 1000)
        inside = [float(m) for m in re.findall(r"knowledge look-up in ([\d.]+) ms", log.read_text())][5:]
    return {
        "queries": len(round_trips),
        "round_trip_ms_p50": round(percentile(round_trips, 50), 1),
        "round_trip_ms_p95": round(percentile(round_trips, 95), 1),
        "lookup_ms_p50": round(percentile(inside, 50), 1) if inside else None,
        "lookup_ms_p95": round(percentile(inside, 95), 1) if inside else None,
        "lookup_ms_mean": round(statistics.mean(inside), 1) if inside else None,
        "lookup_ms_samples": [round(v, 2) for v in inside],
    }


def main() -> None:
    build = build_figures()  # first: it times loading the model
    rag_index.build()
    from rag.evaluation import SETS, evaluate
    from rag.knowledge import Knowledge

    knowledge = Knowledge()
    quality = {language: evaluate(knowledge, language=language)[0].__dict__ for language in SETS}
    figures = {"build": build, "latency": latency_figures(), "quality": quality}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "rag.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
