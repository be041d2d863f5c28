"""Scale-out, proved locally: two Rasa servers share one conversation through PostgreSQL and a Redis lock store.

The same wiring as the ECS service in AWS (endpoints-scaled.yml): any server takes any message, and the
lock store makes the turns of one conversation run one at a time, whichever servers they reach.
"""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from core import db
from tests.conftest import PINNED_NOW, free_port

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="session")
def two_rasa_servers(
    database: str, knowledge_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """A Redis server, one action server and two Rasa servers on free ports, started once: [redis, rasa a, rasa b]."""
    from scripts import stack as launcher

    if not launcher.MODEL.exists():
        pytest.fail(f"no trained model at {launcher.MODEL}: `make test` trains it first")
    logs = tmp_path_factory.mktemp("scaled-logs")
    redis_port, actions_port = free_port(), free_port()
    env = launcher.stack_env(database)
    env.update(ACTIONS_PORT=str(actions_port), BOOKING_NOW=PINNED_NOW, RAG_INDEX_DIR=str(knowledge_dir))
    env = launcher.scaled_env(env, redis_port)
    with ExitStack() as stack:
        stack.enter_context(launcher.redis_server(redis_port, log=logs / "redis.log"))
        stack.enter_context(launcher.action_server(env, port=actions_port, log=logs / "actions.log"))
        urls = [f"redis://127.0.0.1:{redis_port}"]
        for n in (1, 2):
            port = free_port()
            server = launcher.rasa_server(
                env, port=port, log=logs / f"rasa-{n}.log", endpoints=launcher.SCALED_ENDPOINTS
            )
            stack.enter_context(server)
            urls.append(f"http://127.0.0.1:{port}")
        yield urls


def redis_commands(redis_url: str) -> int:
    """How many commands the Redis server has processed (its lock traffic)."""
    host, port = redis_url.removeprefix("redis://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"INFO stats\r\n")
        reply = b""
        while b"total_commands_processed" not in reply or not reply.endswith(b"\r\n"):
            reply += sock.recv(65536)
    return int(re.search(rb"total_commands_processed:(\d+)", reply).group(1))


def say(rasa_url: str, sender: str, text: str) -> list[dict]:
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=120)
    response.raise_for_status()
    return response.json()


def text_of(replies: list[dict]) -> str:
    return " ".join(r.get("text") or "" for r in replies)


def together(*calls: tuple[str, str, str]) -> list[list[dict]]:
    """Several messages sent at the same moment (each to its own server)."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: say(*call), calls))


def test_one_conversation_across_two_servers_is_answered_in_order_and_books_once(two_rasa_servers, clean_db):
    redis_url, a, b = two_rasa_servers
    commands_before = redis_commands(redis_url)
    sender = f"scaled-{uuid.uuid4().hex[:8]}"

    # overlapping: the first two messages reach both servers at once
    first, second = together((a, sender, "hi"), (b, sender, "hello"))
    assert "Lotus Spa & Wellness" in text_of(first)
    assert text_of(second)

    # alternating: each turn on the other server, carrying on from the turn before
    assert "name" in text_of(say(b, sender, "I'd like to book a facial on Thursday at 11am")).lower()
    assert "phone" in text_of(say(a, sender, "Lan Nguyen")).lower()
    summary = text_of(say(b, sender, "0903 123 456"))
    assert "Classic Facial" in summary and "Thursday 3 December at 11:00" in summary

    # overlapping again: the confirmation arrives on both servers at once; one of them books
    yes_a, yes_b = together((a, sender, "yes"), (b, sender, "yes"))
    confirmations = [text_of(yes_a), text_of(yes_b)]
    assert sum("You're booked" in c for c in confirmations) == 1, confirmations
    assert all(confirmations), "every message gets an answer"

    upcoming = db.upcoming_bookings(sender, datetime(2026, 12, 1, 10, tzinfo=TZ))
    assert len(upcoming) == 1
    assert (upcoming[0].service, upcoming[0].starts_at) == ("Classic Facial", datetime(2026, 12, 3, 11, tzinfo=TZ))
    assert upcoming[0].reference in " ".join(confirmations)

    # both servers see the same conversation, turn after whole turn: no turn ran inside another
    trackers = [requests.get(f"{url}/conversations/{sender}/tracker", timeout=30).json() for url in (a, b)]
    assert trackers[0]["events"] == trackers[1]["events"]
    events = trackers[0]["events"]
    user_texts = [e["text"] for e in events if e["event"] == "user"]
    assert sorted(user_texts) == sorted(["hi", "hello", "I'd like to book a facial on Thursday at 11am",
                                         "Lan Nguyen", "0903 123 456", "yes", "yes"])  # fmt: skip
    assert user_texts[2:5] == ["I'd like to book a facial on Thursday at 11am", "Lan Nguyen", "0903 123 456"]
    waiting = True  # between turns the assistant is listening; each user message starts a turn that ends listening
    for event in events:
        if event["event"] == "user":
            assert waiting, f"a turn began before the previous one ended: {event['text']!r}"
            waiting = False
        elif event["event"] == "action" and event.get("name") == "action_listen":
            waiting = True
    assert waiting
    # the turns were serialised through Redis (several lock reads and writes per message)
    assert redis_commands(redis_url) - commands_before > 7 * 4
