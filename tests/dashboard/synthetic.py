"""Synthetic conversations written by Rasa's own tracker store code, with the figures they must produce.

Used by the dashboard tests (a few hundred events on past days) and by the
`/api/stats` benchmark (100,000 events).
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core import db
from core.settings import PROJECT_ROOT

RASA_PYTHON = PROJECT_ROOT / ".venv" / "rasa" / "bin" / "python"
WRITER = Path(__file__).with_name("rasa_writer.py")

# (intent, a customer's words, the response the bot gives) with how often each comes up
TURNS = [
    ("greet", "hello there", "utter_greet", 6),
    ("book_appointment", "can I book a facial tomorrow", "utter_ask_when", 5),
    ("ask_price", "how much is a massage", "utter_prices", 4),
    ("ask_opening_hours", "when are you open", "utter_hours", 3),
    ("nlu_fallback", "blorp the zingle", "utter_default", 2),
    ("out_of_scope", "what's the weather in Paris", "utter_out_of_scope", 2),
    ("request_human", "can I talk to a person", "utter_handoff", 1),
    ("thank", "thanks a lot", "utter_welcome", 3),
]


def _user(ts: float, intent: str, text: str, confidence: float, entities: list[dict], mid: str) -> dict[str, Any]:
    parse = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities,
        "text": text,
        "message_id": mid,
        "metadata": {},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    return {"event": "user", "timestamp": ts, "metadata": {}, "text": text, "parse_data": parse,
            "input_channel": "rest", "message_id": mid}  # fmt: skip


def _action(ts: float, name: str, policy: str | None = None, confidence: float | None = None) -> dict[str, Any]:
    return {"event": "action", "timestamp": ts, "metadata": {}, "name": name, "policy": policy,
            "confidence": confidence, "action_text": None, "hide_rule_turn": False}  # fmt: skip


def _bot(ts: float, text: str, response: str) -> dict[str, Any]:
    data = {"elements": None, "quick_replies": None, "buttons": None, "attachment": None, "image": None, "custom": None}
    return {"event": "bot", "timestamp": ts, "metadata": {"utter_action": response}, "text": text, "data": data}


def conversations(
    today: date, days_ago: list[int], per_day: int, tz: ZoneInfo, seed: int = 7, turns: int = 3, prefix: str = "seed"
) -> list[dict[str, Any]]:
    """`per_day` conversations on each of the given past days, `turns` customer messages each."""
    rng = random.Random(seed)
    weights = [t[3] for t in TURNS]
    result = []
    for ago in days_ago:
        day = today - timedelta(days=ago)
        opens = datetime.combine(day, time(8, 0), tzinfo=tz).timestamp()
        spacing = 12 * 3600 / per_day
        for i in range(per_day):
            sender = f"{prefix}-{day:%m%d}-{i:05d}"
            ts = opens + i * spacing
            events = [_action(ts, "action_session_start"), {"event": "session_started", "timestamp": ts + 0.001,
                      "metadata": {}}, _action(ts + 0.002, "action_listen")]  # fmt: skip
            for turn in range(turns):
                intent, text, response, _ = rng.choices(TURNS, weights)[0]
                asked = ts + 5 + turn * 40
                entities = []
                if intent == "book_appointment":
                    entities = [{"entity": "service", "value": "Classic Facial", "start": 12, "end": 18,
                                 "extractor": "DIETClassifier", "confidence_entity": 0.97}]  # fmt: skip
                confidence = round(rng.uniform(0.55, 0.99), 4)
                events.append(
                    _user(asked, intent, f"{text} ({sender} {turn})", confidence, entities, f"{sender}-{turn}")
                )
                delay = round(rng.uniform(0.15, 2.5), 3)
                if entities:
                    events.append({"event": "slot", "timestamp": asked + 0.01, "metadata": {}, "name": "service",
                                   "value": "Classic Facial"})  # fmt: skip
                events.append(_action(asked + delay - 0.01, response, "policy_1_RulePolicy", 1.0))
                events.append(_bot(asked + delay, f"reply to {intent}", response))
                events.append(_action(asked + delay + 0.01, "action_listen", "policy_1_RulePolicy", 1.0))
            result.append({"sender_id": sender, "events": events})
    return result


def percentile_cont(values: list[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between the nearest ranks."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def figures(convs: list[dict[str, Any]], tz: ZoneInfo) -> dict[str, Any]:
    """What the stats must say about these conversations, counted plainly in Python."""
    per_day: dict[str, dict[str, Any]] = defaultdict(lambda: {"senders": set(), "messages": 0, "fallbacks": 0,
                                                              "handoffs": 0, "delays": []})  # fmt: skip
    intents: Counter[str] = Counter()
    delays: list[float] = []
    booking_intent_senders = set()
    for conv in convs:
        asked_at = None
        for event in conv["events"]:
            if event["event"] == "user":
                day = datetime.fromtimestamp(event["timestamp"], tz).date().isoformat()
                intent = event["parse_data"]["intent"]["name"]
                row = per_day[day]
                row["senders"].add(conv["sender_id"])
                row["messages"] += 1
                row["fallbacks"] += intent in ("nlu_fallback", "out_of_scope")
                row["handoffs"] += intent == "request_human"
                intents[intent] += 1
                if intent == "book_appointment":
                    booking_intent_senders.add(conv["sender_id"])
                asked_at = event["timestamp"]
            elif event["event"] == "bot" and asked_at is not None:
                delay = event["timestamp"] - asked_at
                per_day[datetime.fromtimestamp(asked_at, tz).date().isoformat()]["delays"].append(delay)
                delays.append(delay)
                asked_at = None
    return {
        "per_day": dict(per_day),
        "intents": intents,
        "delays": delays,
        "booking_intent_senders": booking_intent_senders,
    }


def write_with_rasa(convs: list[dict[str, Any]], database_url: str, folder: Path) -> None:
    """Save the conversations through Rasa's SQLTrackerStore into the database."""
    path = folder / "conversations.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for conv in convs:
            out.write(json.dumps(conv) + "\n")
    parts = db.connection_parts(database_url)
    env = {
        **os.environ,
        "DB_HOST": parts["host"], "DB_PORT": parts["port"], "DB_NAME": parts["database"],
        "DB_USER": parts["user"], "DB_PASSWORD": parts["password"],
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3",
    }  # fmt: skip
    result = subprocess.run([str(RASA_PYTHON), str(WRITER), str(path)], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"Rasa's tracker store could not write the conversations:\n{result.stderr[-3000:]}")
