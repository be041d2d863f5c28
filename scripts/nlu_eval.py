"""Measure the NLU of a running Rasa server on the held-out sets in tests/data/.

    python -m scripts.nlu_eval [--url http://127.0.0.1:5005] [--json out.json]

Reports intent accuracy and entity F1 on unseen in-domain phrasings, small-talk
recognition, and the out-of-domain false task-intent rate: the share of
unrelated messages that would start a booking, availability, cancel,
reschedule or listing flow.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
TASK_INTENTS = {"book_appointment", "check_availability", "cancel_booking", "reschedule_booking", "list_bookings"}
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<entity>[^)]+)\)|\{(?P<json>[^}]+)\})")


def parse_example(line: str) -> tuple[str, list[tuple[str, str]]]:
    """Plain text and (entity, text) pairs of one annotated NLU example."""
    entities: list[tuple[str, str]] = []

    def plain(match: re.Match) -> str:
        if match.group("entity"):
            entities.append((match.group("entity"), match.group("text")))
        else:
            entities.append((json.loads("{" + match.group("json") + "}")["entity"], match.group("text")))
        return match.group("text")

    return ANNOTATION.sub(plain, line), entities


def load_examples(path: Path) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(text, intent, entities) of every example in an NLU YAML file."""
    rows = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            line = line.strip().removeprefix("- ").strip()
            if line:
                text, entities = parse_example(line)
                rows.append((text, block["intent"], entities))
    return rows


def load_out_of_domain() -> list[str]:
    lines = (DATA / "out_of_domain.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def parse_all(url: str, texts: list[str]) -> list[dict]:
    session = requests.Session()

    def parse(text: str) -> dict:
        response = session.post(f"{url}/model/parse", json={"text": text}, timeout=30)
        response.raise_for_status()
        return response.json()

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(parse, texts))


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def evaluate(url: str) -> dict:
    heldout = load_examples(DATA / "nlu_heldout.yml")
    smalltalk = load_examples(DATA / "smalltalk.yml")
    ood = load_out_of_domain()
    parsed = parse_all(url, [t for t, _, _ in heldout] + [t for t, _, _ in smalltalk] + ood)
    p_heldout, p_small, p_ood = (
        parsed[: len(heldout)],
        parsed[len(heldout) : len(heldout) + len(smalltalk)],
        parsed[len(heldout) + len(smalltalk) :],
    )

    def intent(p: dict) -> str:
        return p["intent"]["name"]

    correct = sum(intent(p) == want for p, (_, want, _) in zip(p_heldout, heldout, strict=True))
    misses = Counter(
        f"{want} -> {intent(p)}" for p, (_, want, _) in zip(p_heldout, heldout, strict=True) if intent(p) != want
    )
    # entities: a gold (entity, text) pair counts when an extracted entity of that type covers the same words
    tp = fp = fn = 0
    for p, (_, _, gold) in zip(p_heldout, heldout, strict=True):
        got = [(e["entity"], _norm(p["text"][e["start"] : e["end"]])) for e in p.get("entities", [])]
        want = [(e, _norm(t)) for e, t in gold]
        for item in want:
            if item in got:
                tp += 1
                got.remove(item)
            else:
                fn += 1
        fp += len(got)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    small_ok = sum(intent(p) == want for p, (_, want, _) in zip(p_small, smalltalk, strict=True))
    ood_task = [(text, intent(p)) for p, text in zip(p_ood, ood, strict=True) if intent(p) in TASK_INTENTS]
    ood_landing = Counter(intent(p) for p in p_ood)
    return {
        "heldout_examples": len(heldout),
        "heldout_intent_accuracy": round(correct / len(heldout), 4),
        "heldout_confusions": dict(misses.most_common(15)),
        "entity_precision": round(precision, 4),
        "entity_recall": round(recall, 4),
        "entity_f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
        "smalltalk_examples": len(smalltalk),
        "smalltalk_accuracy": round(small_ok / len(smalltalk), 4),
        "smalltalk_misses": [t for p, (t, want, _) in zip(p_small, smalltalk, strict=True) if intent(p) != want][:20],
        "out_of_domain_examples": len(ood),
        "out_of_domain_false_task_rate": round(len(ood_task) / len(ood), 4),
        "out_of_domain_landing": dict(ood_landing.most_common()),
        "out_of_domain_false_task_examples": ood_task[:25],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    report = evaluate(args.url.rstrip("/"))
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
