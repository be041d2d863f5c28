"""End to end: the real Rasa server, action server and PostgreSQL, through the REST channel."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from core import db

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Chat:
    """One customer talking to the assistant through Rasa's REST channel."""

    def __init__(self, rasa_url: str):
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.sender = f"e2e-{uuid.uuid4().hex[:8]}"

    def say(self, text: str) -> list[dict]:
        response = requests.post(self.url, json={"sender": self.sender, "message": text}, timeout=60)
        response.raise_for_status()
        return response.json()

    @staticmethod
    def text(replies: list[dict]) -> str:
        return " ".join(r.get("text") or "" for r in replies)


def test_book_through_the_rest_channel_and_find_it_in_postgres(stack, clean_db):
    chat = Chat(stack["rasa_url"])
    replies = chat.say("hi")
    assert "Lotus Spa & Wellness" in chat.text(replies)

    replies = chat.say("I'd like to book a facial on Thursday at 11am")
    assert "name" in chat.text(replies).lower()
    replies = chat.say("Lan Nguyen")
    assert "phone" in chat.text(replies).lower()
    replies = chat.say("0903 123 456")
    summary = chat.text(replies)
    assert "Classic Facial" in summary and "Thursday 3 December at 11:00" in summary and "$40" in summary
    assert any(b["payload"] == "/affirm" for r in replies for b in r.get("buttons", []))

    replies = chat.say("yes")
    confirmation = chat.text(replies)
    assert "You're booked" in confirmation
    upcoming = db.upcoming_bookings(chat.sender, datetime(2026, 12, 1, 10, tzinfo=TZ))
    assert len(upcoming) == 1
    booking = upcoming[0]
    assert booking.reference in confirmation
    assert (booking.service, booking.staff, booking.customer_name) == ("Classic Facial", "Linh", "Lan Nguyen")
    assert booking.starts_at == datetime(2026, 12, 3, 11, tzinfo=TZ)

    # the conversation is in Rasa's tracker store, on the same PostgreSQL
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM events WHERE sender_id = %s", (chat.sender,))
        assert cur.fetchone()["n"] > 10

    replies = chat.say("show my bookings")
    assert booking.reference in chat.text(replies)
    chat.say("cancel my booking")
    replies = chat.say("yes")
    assert "cancelled" in chat.text(replies)
    assert db.get_booking(booking.reference).status == "cancelled"


@pytest.mark.parametrize("message", ["", "   ", "🙂🙂🙂", "x" * 5000, "Tôi muốn đặt lịch", "¿Dónde está la estación?"])
def test_odd_messages_get_a_reply_never_a_crash(stack, message):
    chat = Chat(stack["rasa_url"])
    replies = chat.say(message)
    assert replies and all(r.get("text") or r.get("buttons") for r in replies)


def test_a_question_mid_booking_is_answered_from_the_documents_and_the_form_goes_on(stack, clean_db):
    chat = Chat(stack["rasa_url"])
    replies = chat.say("I want to book a pedicure on Friday at 2pm")
    assert "name" in chat.text(replies).lower()
    replies = chat.say("is there somewhere to park my motorbike?")
    text = chat.text(replies)
    assert "basement" in text and "(From: Parking and getting here)" in text
    assert "name" in text.lower().split("(from: parking and getting here)")[1]  # the form asks again
    replies = chat.say("Hoa Le")
    assert "phone" in chat.text(replies).lower()


def test_a_question_the_documents_cannot_answer_gets_the_way_to_a_person(stack):
    chat = Chat(stack["rasa_url"])
    text = chat.text(chat.say("is there a dress code for the sauna?"))
    assert "+84 28 3822 0000" in text and "hello@lotusspa.example" in text
