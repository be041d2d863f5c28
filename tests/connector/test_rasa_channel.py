"""Rasa's REST channel runs each message id's turn once (deploy/rasa_channel.py), on the real Rasa server."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests

from core import db

pytestmark = pytest.mark.e2e


def post(rasa_url: str, sender: str, text: str, message_id: str | None) -> list[dict]:
    body: dict = {"sender": sender, "message": text}
    if message_id:
        body["metadata"] = {"message_id": message_id, "page_id": "104857600000001"}
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json=body, timeout=120)
    assert response.status_code == 200
    return response.json()


def user_events(rasa_url: str, sender: str) -> list[dict]:
    tracker = requests.get(f"{rasa_url}/conversations/{sender}/tracker", timeout=30).json()
    return [event for event in tracker["events"] if event["event"] == "user"]


def claimed(message_id: str) -> int:
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM message_turns WHERE message_id = %s", (message_id,))
        return cur.fetchone()["n"]


def test_the_same_message_id_posted_twice_runs_one_turn(stack):
    sender, mid = f"7900{uuid.uuid4().int % 10**12:012d}", f"m_{uuid.uuid4().hex}"
    first = post(stack["rasa_url"], sender, "hi", mid)
    assert first, "the first copy is answered"
    assert post(stack["rasa_url"], sender, "hi", mid) == []  # the copy runs nothing
    events = user_events(stack["rasa_url"], sender)
    assert [(e["text"], e["message_id"]) for e in events] == [("hi", mid)]
    assert claimed(mid) == 1


def test_two_copies_racing_run_one_turn(stack):
    sender, mid = f"7901{uuid.uuid4().int % 10**12:012d}", f"m_{uuid.uuid4().hex}"
    start, answers = threading.Barrier(3), []

    def deliver() -> None:
        start.wait()
        answers.append(post(stack["rasa_url"], sender, "what are your opening hours?", mid))

    copies = [threading.Thread(target=deliver) for _ in range(3)]
    for copy in copies:
        copy.start()
    for copy in copies:
        copy.join(timeout=120)
    assert sorted(bool(answer) for answer in answers) == [False, False, True]
    assert len(user_events(stack["rasa_url"], sender)) == 1
    assert claimed(mid) == 1


def test_messages_without_an_id_and_different_ids_each_run(stack):
    sender = f"7902{uuid.uuid4().int % 10**12:012d}"
    assert post(stack["rasa_url"], sender, "hi", None) and post(stack["rasa_url"], sender, "hi", None)
    assert post(stack["rasa_url"], sender, "thanks", f"m_{uuid.uuid4().hex}")
    assert post(stack["rasa_url"], sender, "thanks", f"m_{uuid.uuid4().hex}")
    assert [e["text"] for e in user_events(stack["rasa_url"], sender)] == ["hi", "hi", "thanks", "thanks"]


def test_the_control_route_runs_only_the_handoff_actions(stack):
    sender = f"control-{uuid.uuid4().hex[:8]}"
    url = f"{stack['rasa_url']}/webhooks/rest/control"
    for body in (
        {"sender": sender, "action": "action_restart"},
        {"sender": sender, "action": "utter_greet"},
        {"action": "action_handoff_release"},
        [],
    ):
        assert requests.post(url, json=body, timeout=60).status_code == 400, body
    answer = requests.post(url, json={"sender": sender, "action": "action_handoff_release"}, timeout=60)
    assert answer.status_code == 200 and answer.json() == {"messages": []}  # runs, says nothing
    tracker = requests.get(f"{stack['rasa_url']}/conversations/{sender}/tracker", timeout=30).json()
    assert [e["name"] for e in tracker["events"] if e["event"] == "action"][-2:] == [
        "action_handoff_release",
        "action_listen",
    ]
