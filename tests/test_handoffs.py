"""Handoffs to a person: the record in PostgreSQL, the quiet time, the actions, and the messaging window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff, ActionHandoffRelease
from core import db, handoffs
from core.settings import settings
from deploy.connector.window import OutsideWindow, Purpose, decide, require
from tests.test_actions import DOMAIN, said

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def test_a_handoff_opens_once_and_closes(clean_db):
    first = handoffs.open_handoff("c1", "request_human", "vi", now=T0)
    again = handoffs.open_handoff("c1", "failed", "vi", now=T0 + timedelta(minutes=5))
    assert again.id == first.id and again.reason == "request_human"  # kept, not doubled
    assert again.last_activity_at == T0 + timedelta(minutes=5)
    assert [h.sender_id for h in handoffs.open_handoffs(now=T0 + timedelta(minutes=6))] == ["c1"]
    assert handoffs.open_handoffs(now=T0 + timedelta(minutes=6))[0].waiting_seconds(T0 + timedelta(minutes=6)) == 360
    closed = handoffs.close_handoff("c1", "Lan", now=T0 + timedelta(minutes=7))
    assert (closed.closed_by, closed.closed_at) == ("Lan", T0 + timedelta(minutes=7))
    assert handoffs.active_handoff("c1", now=T0 + timedelta(minutes=8)) is None
    assert handoffs.close_handoff("c1", "Lan") is None
    reopened = handoffs.open_handoff("c1", "failed", "en", now=T0 + timedelta(hours=1))
    assert reopened.id != first.id and reopened.reason == "failed"


def test_an_unknown_reason_is_refused(clean_db):
    with pytest.raises(ValueError, match="reason"):
        handoffs.open_handoff("c2", "bored")


def test_the_quiet_time_hands_back_on_its_own_and_staff_activity_restarts_it(clean_db):
    quiet = timedelta(hours=settings().handoff_quiet_hours)
    handoffs.open_handoff("q1", "request_human", now=T0)
    handoffs.open_handoff("q2", "request_human", now=T0)
    handoffs.record_staff_message("q2", "Lan", "Hello, Lan here", "RESPONSE", now=T0 + quiet - timedelta(hours=1))
    later = T0 + quiet + timedelta(minutes=1)
    assert [h.sender_id for h in handoffs.open_handoffs(now=later)] == ["q2"]
    assert handoffs.active_handoff("q1", now=later) is None
    with db.transaction() as cur:
        cur.execute("SELECT closed_by, closed_at FROM handoffs WHERE sender_id = 'q1'")
        row = cur.fetchone()
    assert (row["closed_by"], row["closed_at"]) == (handoffs.QUIET, T0 + quiet)
    assert handoffs.active_handoff("q2", now=T0 + 2 * quiet) is None
    [message] = handoffs.staff_messages("q2")
    assert (message.author, message.text, message.messaging_type) == ("Lan", "Hello, Lan here", "RESPONSE")


# --- the actions -----------------------------------------------------------------------------------


def tracker(sender: str, events: list[dict], language: str = "en") -> Tracker:
    latest = {"text": "can I talk to a person", "intent": {"name": "request_human", "confidence": 0.99}, "entities": []}
    events = [*events, {"event": "user", "text": latest["text"], "parse_data": latest}]
    return Tracker(sender, {"language": language}, latest, events, False, None, {}, "action_listen")


def run(action, tracker: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return events, dispatcher.messages


def test_action_handoff_records_tells_the_customer_and_asks_the_connector(clean_db):
    events, messages = run(ActionHandoff(), tracker("a1", [], "vi"))
    assert [m.get("response") for m in messages] == ["utter_handoff", None]  # open: Tuesday 10:00
    assert messages[1]["custom"] == {"handoff": {"reason": "request_human"}}
    assert "+84 28 3822 0000" in said(messages, "vi")
    [slot] = events
    assert slot["name"] == "handoff_active" and isinstance(slot["value"], float)
    handoff = handoffs.active_handoff("a1")
    assert (handoff.reason, handoff.language) == ("request_human", "vi")


def test_action_handoff_after_a_failed_question_says_why_and_gives_hours_when_closed(clean_db, monkeypatch):
    monkeypatch.setenv("BOOKING_NOW", "2026-12-01T21:30:00+07:00")  # after closing
    settings.cache_clear()
    try:
        offer = {"event": "bot", "text": "...", "metadata": {"utter_action": "utter_explain_when"}}
        _, messages = run(ActionHandoff(), tracker("a2", [{"event": "user", "text": "whenever"}, offer]))
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    assert [m.get("response") for m in messages] == ["utter_handoff_closed", None]
    assert "Monday - Friday: 09:00 - 20:00" in said(messages)
    assert messages[1]["custom"] == {"handoff": {"reason": "failed"}}
    assert handoffs.active_handoff("a2").reason == "failed"


def test_action_handoff_release_closes_and_says_nothing(clean_db):
    handoffs.open_handoff("a3", "request_human")
    events, messages = run(ActionHandoffRelease(), tracker("a3", []))
    assert messages == []
    assert [(e["event"], e.get("name"), e.get("value")) for e in events] == [
        ("slot", "handoff_active", None),
        ("action", "action_listen", None),
    ]
    assert handoffs.active_handoff("a3") is None


# --- the 24-hour window ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("purpose", "age", "expected"),
    [
        (Purpose.REPLY, timedelta(hours=23), ("RESPONSE", None)),
        (Purpose.REPLY, timedelta(hours=25), None),
        (Purpose.STAFF, timedelta(hours=1), ("RESPONSE", None)),
        (Purpose.STAFF, timedelta(days=2), ("MESSAGE_TAG", "HUMAN_AGENT")),
        (Purpose.STAFF, timedelta(days=7), ("MESSAGE_TAG", "HUMAN_AGENT")),
        (Purpose.STAFF, timedelta(days=7, minutes=1), None),
        (Purpose.STAFF, None, None),
        (Purpose.REMINDER, timedelta(days=30), ("MESSAGE_TAG", "CONFIRMED_EVENT_UPDATE")),
        (Purpose.REMINDER, timedelta(hours=1), ("MESSAGE_TAG", "CONFIRMED_EVENT_UPDATE")),
    ],
)
def test_the_messaging_window(purpose, age, expected):
    decision = decide(purpose, None if age is None else T0 - age, T0)
    assert ((decision.messaging_type, decision.tag) if decision.allowed else None) == expected
    if expected is None:
        assert decision.reason
        with pytest.raises(OutsideWindow, match="."):
            require(purpose, None if age is None else T0 - age, T0)
