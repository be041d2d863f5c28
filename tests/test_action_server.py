"""The action server as a process: only Rasa (the shared secret) may call it, a placeholder secret stops it,
and a database that goes away mid-form gets the apology and writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pgserver
import pytest
import requests

from core import db
from core.settings import settings
from scripts import stack as launcher
from tests.conftest import PINNED_NOW, free_port
from tests.test_actions import DOMAIN, at, make_tracker

ROOT = Path(__file__).resolve().parent.parent


def call(url: str, action: str, tracker, token: str | None) -> requests.Response:
    body = {"next_action": action, "sender_id": tracker.sender_id, "tracker": tracker.current_state(),
            "domain": DOMAIN, "version": "3.6.21"}  # fmt: skip
    headers = {"X-Actions-Token": token} if token is not None else {}
    return requests.post(f"{url}/webhook", json=body, headers=headers, timeout=30)


def test_a_call_without_the_shared_secret_is_refused(stack, clean_db):
    made_by_owner = make_tracker("my bookings", intent="list_bookings", loop=None, sender="forger")
    for token in (None, "wrong-token-of-some-length"):
        response = call(stack["actions_url"], "action_list_bookings", made_by_owner, token)
        assert response.status_code == 401
    response = call(stack["actions_url"], "action_list_bookings", made_by_owner, stack["actions_token"])
    assert response.status_code == 200
    assert [r.get("response") for r in response.json()["responses"]] == ["utter_no_bookings"]


@pytest.mark.parametrize("token", ["", "set-me", "changeme", "k3Yq9"])
def test_a_placeholder_secret_stops_the_start_naming_it(token):
    env = {**os.environ, "ACTIONS_TOKEN": token, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "actions.server", "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "ACTIONS_TOKEN" in result.stderr and (not token or token not in result.stderr.replace("ACTIONS_TOKEN", ""))


def test_the_database_stopped_mid_form_gives_the_apology_and_writes_nothing(tmp_path, knowledge_dir):
    server = pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")
    url = server.get_uri()
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    settings.cache_clear()
    db.reset_pool()
    try:
        launcher.prepare_database()
        env = launcher.stack_env(url)
        env.update(BOOKING_NOW=PINNED_NOW, RAG_INDEX_DIR=str(knowledge_dir))
        port = free_port()
        with launcher.action_server(env, port=port, log=tmp_path / "actions.log"):
            actions_url = f"http://127.0.0.1:{port}"
            filled = {"service": "Manicure", "when": at(3, 11).isoformat(), "person_name": "Lan"}
            asking = make_tracker("0903 123 456", slots=filled, requested="phone", sender="outage")
            answer = call(actions_url, "validate_booking_form", asking, env["ACTIONS_TOKEN"]).json()
            assert any(e.get("name") == "phone" and e.get("value") == "0903123456" for e in answer["events"])
            server.cleanup()  # the database goes away between two turns
            confirm = make_tracker(
                "yes", intent="affirm", slots={**filled, "phone": "0903123456"}, set_now={"booking_confirmed": True},
                requested="booking_confirmed", sender="outage",
            )  # fmt: skip
            response = call(actions_url, "validate_booking_form", confirm, env["ACTIONS_TOKEN"])
            assert response.status_code == 200
            result = response.json()
            assert [r.get("response") for r in result["responses"]] == ["utter_database_down"]
            assert {"event": "active_loop", "name": None} in [
                {"event": e.get("event"), "name": e.get("name")} for e in result["events"]
            ]
            assert not any(e.get("name") == "made_reference" for e in result["events"])
        server = pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")  # back up: nothing was written
        db.reset_pool()
        assert db.list_bookings() == []
    finally:
        db.reset_pool()
        server.cleanup()
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        settings.cache_clear()
        db.reset_pool()
