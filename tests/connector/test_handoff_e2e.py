"""A person takes over, end to end: Messenger payloads through the local gateway to the real Rasa and
action servers, the dashboard's inbox API in front of the same database, the Graph API stand-in."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import requests

from core import db, handoffs, tracker_events
from dashboard.app import create_app
from dashboard.settings import load_dashboard_settings
from tests.connector.conftest import wait_for
from tests.connector.test_gateway_e2e import Customer, live  # noqa: F401  (the fixture)
from tests.dashboard.conftest import Api, serve_in_thread

pytestmark = pytest.mark.e2e
TOKEN = "inbox-" + "k3y9" * 6


@pytest.fixture
def inbox(live):  # noqa: F811
    """The dashboard's API on a free port, over the session's database and Rasa server."""
    config = replace(load_dashboard_settings(), token=TOKEN, cognito=None, rasa_url=live["rasa_url"])
    with serve_in_thread(create_app(config)) as base:
        yield Api(base, TOKEN)


def write(customer: Customer, text: str) -> None:
    """A customer message that expects no answer."""
    customer.count += 1
    message = {"mid": f"m_{customer.psid}_{customer.count}", "text": text}
    customer._post(
        {"sender": {"id": customer.psid}, "recipient": {"id": "1"}, "timestamp": customer.count, "message": message}
    )


def user_texts(psid: str) -> list[str]:
    return [row["data"].get("text") for row in tracker_events.conversation_events(psid) if row["type_name"] == "user"]


def handover(graph, path: str, psid: str) -> list[dict]:
    return [c["json"] for c in graph.snapshot() if c["path"] == path and c["json"]["recipient"]["id"] == psid]


def test_a_person_takes_over_replies_and_hands_back(live, gateway, graph, inbox, clean_db):  # noqa: F811
    customer = Customer(gateway, graph)
    customer.say("hi", expect="Hi Lan!")
    customer.say("I want to talk to a real person", expect="a person will reply")
    [passed] = wait_for(lambda: handover(graph, "/me/pass_thread_control", customer.psid), what="the handover")
    assert passed["target_app_id"] == "263902037430900"
    assert handoffs.active_handoff(customer.psid).reason == "request_human"
    waiting = inbox.get("/api/handoffs").json()
    assert [(h["sender_id"], h["reason"]) for h in waiting["items"]] == [(customer.psid, "request_human")]
    assert waiting["count"] == 1 and waiting["items"][0]["waiting_seconds"] >= 0

    # the bot steps back: the message is in the transcript, nothing is sent
    sent_before = len(graph.sends(customer.psid))
    write(customer, "hello? is anyone there")
    wait_for(lambda: "hello? is anyone there" in user_texts(customer.psid), timeout=60, what="the message stored")
    time.sleep(1.5)
    assert len(graph.sends(customer.psid)) == sent_before
    transcript = inbox.get(f"/api/conversations/{customer.psid}").json()
    assert transcript["handoff"]["reason"] == "request_human"
    assert transcript["events"][-1]["kind"] in ("action", "user")  # no bot line after the customer's message
    assert [e for e in transcript["events"] if e["kind"] == "user"][-1]["text"] == "hello? is anyone there"

    # a staff reply goes out through the Send API as a normal reply, and shows in the transcript as staff
    answer = inbox.post(f"/api/conversations/{customer.psid}/reply", {"text": "Hi, this is Mai from the spa"})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["messaging_type"], answer.json()["tag"]) == ("RESPONSE", None)
    last = graph.sends(customer.psid)[-1]["json"]
    assert last["message"] == {"text": "Hi, this is Mai from the spa"} and last["messaging_type"] == "RESPONSE"
    events = inbox.get(f"/api/conversations/{customer.psid}").json()["events"]
    staff = [e for e in events if e["kind"] == "staff"]
    assert [(s["text"], s["author"]) for s in staff] == [("Hi, this is Mai from the spa", "staff")]
    assert [e["kind"] for e in events if e["kind"] in ("user", "bot", "staff")][-1] == "staff"  # in time order

    # handed back: the thread comes back, the bot says nothing until the customer writes, then answers
    released = inbox.post(f"/api/conversations/{customer.psid}/release")
    assert released.status_code == 200 and released.json()["released"] is True
    assert handover(graph, "/me/take_thread_control", customer.psid)
    assert inbox.get("/api/handoffs").json()["count"] == 0
    sent_before = len(graph.sends(customer.psid))
    time.sleep(1.0)
    assert len(graph.sends(customer.psid)) == sent_before
    customer.say("what are your opening hours?", expect="09:00")
    with db.transaction() as cur:
        cur.execute("SELECT closed_by FROM handoffs WHERE sender_id = %s", (customer.psid,))
        assert [r["closed_by"] for r in cur.fetchall()] == ["staff"]


def test_the_quiet_time_hands_the_conversation_back_on_its_own(live, gateway, graph, inbox, clean_db):  # noqa: F811
    customer = Customer(gateway, graph)
    customer.say("can I speak to a real person", expect="a person will reply")
    write(customer, "still there?")
    wait_for(lambda: "still there?" in user_texts(customer.psid), timeout=60, what="the message stored")
    # 13 hours pass with nobody answering: the handoff's last activity lies before the quiet time
    thirteen_hours = 13 * 3600
    event = {"event": "slot", "name": "handoff_active", "value": time.time() - thirteen_hours}
    requests.post(
        f"{live['rasa_url']}/conversations/{customer.psid}/tracker/events", json=event, timeout=30
    ).raise_for_status()
    with db.transaction() as cur:
        cur.execute(
            "UPDATE handoffs SET opened_at = opened_at - interval '13 hours',"
            " last_activity_at = last_activity_at - interval '13 hours' WHERE sender_id = %s",
            (customer.psid,),
        )
    assert inbox.get("/api/handoffs").json()["count"] == 0
    customer.say("what are your opening hours?", expect="09:00")
    with db.transaction() as cur:
        cur.execute("SELECT closed_by FROM handoffs WHERE sender_id = %s", (customer.psid,))
        assert [r["closed_by"] for r in cur.fetchall()] == [handoffs.QUIET]


def _old_conversation(rasa_url: str, psid: str, days: float) -> None:
    """A conversation whose customer last wrote `days` ago (events with their times, through Rasa's API)."""
    at = time.time() - days * 86400
    events = [
        {"event": "action", "name": "action_listen", "timestamp": at - 1},
        {"event": "user", "text": "can someone call me back", "timestamp": at,
         "parse_data": {"intent": {"name": "request_human", "confidence": 0.99}, "entities": []}},
    ]  # fmt: skip
    response = requests.post(f"{rasa_url}/conversations/{psid}/tracker/events", json=events, timeout=30)
    response.raise_for_status()


def test_staff_replies_outside_the_24_hours_need_the_human_agent_tag_and_stop_after_7_days(
    live,  # noqa: F811
    connector,
    graph,
    inbox,
    clean_db,
):
    _old_conversation(live["rasa_url"], "7300000000002", days=2)
    handoffs.open_handoff("7300000000002", "request_human")
    answer = inbox.post("/api/conversations/7300000000002/reply", {"text": "Sorry for the wait, Lan here"})
    assert answer.status_code == 200, answer.text
    [sent] = graph.sends("7300000000002")
    assert (sent["json"]["messaging_type"], sent["json"]["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")

    _old_conversation(live["rasa_url"], "7300000000008", days=8)
    refused = inbox.post("/api/conversations/7300000000008/reply", {"text": "Are you still interested?"})
    assert refused.status_code == 409 and "7 days" in refused.json()["detail"]
    assert graph.sends("7300000000008") == []
    assert handoffs.staff_messages("7300000000008") == []
    assert inbox.post("/api/conversations/7300000000002/reply", {"text": ""}).status_code == 422
