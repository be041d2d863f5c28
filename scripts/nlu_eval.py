"""Measure the NLU of a running Rasa server on the held-out sets in tests/data/.

    python -m scripts.nlu_eval [--url http://127.0.0.1:5005] [--json out.json]

Reports intent accuracy and entity F1 on unseen in-domain phrasings, small-talk
recognition, and the out-of-domain false task-intent rate: the share of
unrelated messages that would start a booking, availability, cancel,
reschedule or listing flow. The Vietnamese held-out set is reported on its own,
with and without diacritics.
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


def has_diacritics(text: str) -> bool:
    return any(not char.isascii() and char.isalpha() for char in text)


def _intent(p: dict) -> str:
    return p["intent"]["name"]


def score(parsed: list[dict], examples: list[tuple[str, str, list[tuple[str, str]]]]) -> dict:
    """Intent accuracy, the commonest confusions and entity precision/recall/F1 of parses against gold."""
    correct = sum(_intent(p) == want for p, (_, want, _) in zip(parsed, examples, strict=True))
    misses = Counter(
        f"{want} -> {_intent(p)}" for p, (_, want, _) in zip(parsed, examples, strict=True) if _intent(p) != want
    )
    # entities: a gold (entity, text) pair counts when an extracted entity of that type covers the same words
    tp = fp = fn = 0
    for p, (_, _, gold) in zip(parsed, examples, strict=True):
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
    return {
        "examples": len(examples),
        "intent_accuracy": round(correct / len(examples), 4) if examples else 0.0,
        "confusions": dict(misses.most_common(15)),
        "entity_precision": round(precision, 4),
        "entity_recall": round(recall, 4),
        "entity_f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
    }


def evaluate(url: str) -> dict:
    heldout = load_examples(DATA / "nlu_heldout.yml")
    smalltalk = load_examples(DATA / "smalltalk.yml")
    vietnamese = load_examples(DATA / "nlu_heldout_vi.yml")
    ood = load_out_of_domain()
    texts = [t for t, _, _ in heldout] + [t for t, _, _ in smalltalk] + [t for t, _, _ in vietnamese] + ood
    parsed = parse_all(url, texts)
    cut = [len(heldout), len(heldout) + len(smalltalk), len(heldout) + len(smalltalk) + len(vietnamese)]
    p_heldout, p_small, p_vi, p_ood = (
        parsed[: cut[0]],
        parsed[cut[0] : cut[1]],
        parsed[cut[1] : cut[2]],
        parsed[cut[2] :],
    )
    intent = _intent
    english = score(p_heldout, heldout)
    vi_pairs = list(zip(p_vi, vietnamese, strict=True))
    marks = [(p, e) for p, e in vi_pairs if has_diacritics(e[0])]
    plain = [(p, e) for p, e in vi_pairs if not has_diacritics(e[0])]

    def part(pairs: list) -> dict:
        return score([p for p, _ in pairs], [e for _, e in pairs])

    small_ok = sum(intent(p) == want for p, (_, want, _) in zip(p_small, smalltalk, strict=True))
    ood_task = [(text, intent(p)) for p, text in zip(p_ood, ood, strict=True) if intent(p) in TASK_INTENTS]
    ood_landing = Counter(intent(p) for p in p_ood)
    return {
        "heldout_examples": english["examples"],
        "heldout_intent_accuracy": english["intent_accuracy"],
        "heldout_confusions": english["confusions"],
        "entity_precision": english["entity_precision"],
        "entity_recall": english["entity_recall"],
        "entity_f1": english["entity_f1"],
        "vietnamese": {"all": part(vi_pairs), "with_diacritics": part(marks), "without_diacritics": part(plain)},
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
