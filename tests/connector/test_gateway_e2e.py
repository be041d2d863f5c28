"""End to end through the local gateway: signed Messenger payloads -> receiver -> SQS FIFO (moto) ->
orchestrator -> the real Rasa and action servers -> recorded Send API calls; the booking lands in PostgreSQL."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from core import db
from deploy.connector.signature import sign
from tests.connector.conftest import APP_SECRET, PAGE_ID, wait_for

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def live(stack, connector, monkeypatch):
    """The connector's settings pointed at the real Rasa server of the session stack."""
    from deploy.local_gateway import reset_caches

    monkeypatch.setenv("RASA_URL", stack["rasa_url"])
    monkeypatch.setenv("RASA_TIMEOUT", "60")
    reset_caches()
    return stack


class Customer:
    """One Messenger customer writing to the page through the gateway."""

    def __init__(self, gateway, graph):
        self.gateway, self.graph = gateway, graph
        self.psid = f"79{uuid.uuid4().int % 10**14:014d}"
        self.count = 0
        self.latencies: list[float] = []

    def _post(self, event: dict) -> None:
        body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [event]}]}).encode()
        headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, APP_SECRET)}
        assert requests.post(self.gateway.url, data=body, headers=headers, timeout=10).text == "EVENT_RECEIVED"

    def say(self, text: str, expect: str, quick_reply: str | None = None) -> list[dict]:
        """Send a message (or a quick-reply tap) and wait for the reply that contains `expect`."""
        self.count += 1
        before = len(self.graph.sends(self.psid))
        message: dict = {"mid": f"m_{self.psid}_{self.count}", "text": text}
        if quick_reply:
            message["quick_reply"] = {"payload": quick_reply}
        started = time.monotonic()
        self._post(
            {"sender": {"id": self.psid}, "recipient": {"id": PAGE_ID}, "timestamp": self.count, "message": message}
        )

        def replied() -> list[dict] | None:
            new = [c["json"]["message"] for c in self.graph.sends(self.psid)[before:]]
            return new if any(expect in m.get("text", "") for m in new) else None

        replies = wait_for(replied, timeout=60, what=f"a reply containing {expect!r}")
        self.latencies.append(time.monotonic() - started)
        return replies


def test_hi_is_greeted_by_the_first_name_from_the_graph_api(live, gateway, graph):
    graph.first_name = "Thao"
    customer = Customer(gateway, graph)
    replies = customer.say("hi", expect="Hi Thao!")
    assert "Lotus Spa & Wellness" in " ".join(m.get("text", "") for m in replies)
    assert graph.profile_reads(customer.psid) == 1
    assert all(c["json"]["messaging_type"] == "RESPONSE" for c in graph.sends(customer.psid))


def test_a_booking_conversation_through_messenger(live, gateway, graph, clean_db):
    customer = Customer(gateway, graph)
    customer.say("hi", expect="Hi Lan!")
    customer.say("I'd like to book a facial on Thursday at 11am", expect="name")
    customer.say("Lan Nguyen", expect="phone")
    replies = customer.say("0903 123 456", expect="Classic Facial")
    summary = replies[-1]
    assert "Thursday 3 December at 11:00" in summary["text"]
    assert {"content_type": "text", "title": "Yes", "payload": "/affirm"} in summary["quick_replies"]

    replies = customer.say("Yes", expect="You're booked", quick_reply="/affirm")  # the customer taps "Yes"
    confirmation = " ".join(m.get("text", "") for m in replies)
    [booking] = db.upcoming_bookings(customer.psid, datetime(2026, 12, 1, 10, tzinfo=TZ))
    assert booking.reference in confirmation
    assert (booking.service, booking.customer_name, booking.starts_at) == (
        "Classic Facial",
        "Lan Nguyen",
        datetime(2026, 12, 3, 11, tzinfo=TZ),
    )
    turns = ", ".join(f"{seconds * 1000:.0f} ms" for seconds in customer.latencies)
    print(f"\nper-turn latency through the gateway (webhook POST -> reply sent): {turns}")
