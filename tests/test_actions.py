"""Custom actions with a literal Tracker and a CollectingDispatcher, over the real database."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.availability import ActionCheckAvailability
from actions.booking_form import (
    ActionAskBookingConfirmed,
    ActionAskWhen,
    ActionBookingDone,
    ValidateBookingForm,
)
from actions.dialogue import ActionNo, ActionYes
from actions.info import ActionAnswerHours, ActionAnswerPrice, ActionHandoff
from actions.manage import (
    ActionAskCancelConfirmed,
    ActionListBookings,
    ActionPickBooking,
    ValidateCancelForm,
    ValidateRescheduleForm,
)
from core import bookings, db
from core.business import business
from core.scheduling import check_start

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SLOTS = {name: None for name in DOMAIN["slots"]}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=TZ)


def make_tracker(
    text: str = "",
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    set_now: dict[str, Any] | None = None,
    loop: str | None = "booking_form",
    requested: str | None = None,
    sender: str = "tester",
) -> Tracker:
    """A tracker whose latest turn is `text`, with `set_now` slots filled in this turn."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": entities or []}
    events = [{"event": "user", "text": text, "parse_data": latest}]
    events += [SlotSet(k, v) for k, v in (set_now or {}).items()]
    values = {**SLOTS, **(slots or {}), **(set_now or {}), "requested_slot": requested}
    return Tracker(sender, values, latest, events, False, None, {"name": loop} if loop else {}, "action_listen")


def run(action, tracker: Tracker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return slots, dispatcher.messages


def texts(messages: list[dict[str, Any]]) -> str:
    return " ".join(m.get("text") or "" for m in messages)


def book(sender: str, start: datetime, service: str = "Swedish Massage", staff: str | None = "Mai") -> db.Booking:
    return bookings.book(
        sender_id=sender, customer_name="Lan", customer_phone="0903123456",
        service=service, start=start, staff=staff, actor="test",
    )  # fmt: skip


# --- the booking form ------------------------------------------------------------------


def test_unknown_service_offers_the_catalogue(clean_db):
    slots, messages = run(
        ValidateBookingForm(), make_tracker("tattoo", set_now={"service": "tattoo"}, requested="service")
    )
    assert slots["service"] is None
    assert "don't offer" in texts(messages)
    assert len(messages[0]["buttons"]) == 7


def test_massage_means_swedish_massage(clean_db):
    slots, _ = run(
        ValidateBookingForm(), make_tracker("a massage", set_now={"service": "massage"}, requested="service")
    )
    assert slots["service"] == "Swedish Massage"


def test_service_found_in_plain_text_when_nlu_missed_it(clean_db):
    slots, _ = run(ValidateBookingForm(), make_tracker("hot stones pls", requested="service"))
    assert slots["service"] == "Hot Stone Massage"


@pytest.mark.parametrize("phone", ["12", "call me maybe", "0903"])
def test_invalid_phone_is_asked_again_with_an_example(clean_db, phone):
    slots, messages = run(ValidateBookingForm(), make_tracker(phone, set_now={"phone": phone}, requested="phone"))
    assert slots["phone"] is None
    assert "0903 123 456" in texts(messages)


def test_valid_phone_is_normalised(clean_db):
    slots, _ = run(
        ValidateBookingForm(), make_tracker("+84 903 123 456", set_now={"phone": "+84 903 123 456"}, requested="phone")
    )
    assert slots["phone"] == "+84903123456"


@pytest.mark.parametrize(
    ("said", "problem"),
    [
        ("sunday at 11am", "closed"),
        ("1/1 at 10am", "New Year"),
        ("today at 9am", "passed"),
        ("today at 11am", "notice"),
        ("tomorrow at 3:15pm", "half hour"),
        ("tomorrow at 7:30pm", "closing"),
    ],
)
def test_impossible_times_are_refused_with_the_reason(clean_db, said, problem):
    tracker = make_tracker(said, set_now={"when": said}, slots={"service": "Swedish Massage"}, requested="when")
    slots, _ = run(ValidateBookingForm(), tracker)
    assert slots["when"] is None
    assert problem in slots["when_problem"]
    # the question that follows offers the nearest free times as buttons
    ask_tracker = make_tracker(said, slots={"service": "Swedish Massage", **slots}, requested="when")
    _, messages = run(ActionAskWhen(), ask_tracker)
    assert problem in texts(messages)
    buttons = messages[0]["buttons"]
    assert len(buttons) == 5  # the business's slots_offered; the week is empty, so all five are there
    for button in buttons:
        start = datetime.fromisoformat(json.loads(button["payload"].removeprefix("/inform"))["when"])
        assert check_start(business(), "Swedish Massage", start, business().now()) is None


def test_taken_time_is_refused_and_alternatives_offered(clean_db):
    book("other", at(2, 15), staff="Mai")
    book("other2", at(2, 15), staff="Tuan")
    tracker = make_tracker("tomorrow 3pm", set_now={"when": "tomorrow 3pm"}, slots={"service": "Swedish Massage"})
    slots, _ = run(ValidateBookingForm(), tracker)
    assert slots["when"] is None and "taken" in slots["when_problem"]


def test_a_day_without_time_offers_that_days_free_slots(clean_db):
    tracker = make_tracker("on friday", set_now={"when": "friday"}, slots={"service": "Manicure"}, requested="when")
    slots, _ = run(ValidateBookingForm(), tracker)
    assert slots["when"] is None and slots["when_wanted"]
    _, messages = run(
        ActionAskWhen(), make_tracker("on friday", slots={"service": "Manicure", **slots}, requested="when")
    )
    buttons = messages[0]["buttons"]
    assert len(buttons) == 5
    assert all("2026-12-04T" in b["payload"] for b in buttons)


def test_time_only_correction_keeps_the_chosen_day(clean_db):
    tracker = make_tracker(
        "actually make it 4pm",
        entities=[{"entity": "when", "value": "4pm"}],
        set_now={"when": "4pm"},
        slots={"service": "Swedish Massage", "last_date": "2026-12-04"},
        requested="booking_confirmed",
    )
    slots, _ = run(ValidateBookingForm(), tracker)
    assert slots["when"] == at(4, 16).isoformat()


def test_summary_then_yes_books_and_reports_the_reference(clean_db):
    filled = {
        "service": "Classic Facial", "when": at(3, 11).isoformat(), "person_name": "Lan Nguyen",
        "phone": "0903123456", "staff": None,
    }  # fmt: skip
    _, messages = run(ActionAskBookingConfirmed(), make_tracker(slots=filled, requested="booking_confirmed"))
    summary = texts(messages)
    for part in ("Classic Facial", "Linh", "Thursday 3 December at 11:00", "60 min", "$40", "Lan Nguyen"):
        assert part in summary
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny"]

    tracker = make_tracker(
        "yes", intent="affirm", slots=filled, set_now={"booking_confirmed": True}, requested="booking_confirmed"
    )
    slots, _ = run(ValidateBookingForm(), tracker)
    reference = slots["made_reference"]
    assert slots["booking_confirmed"] is True and reference.startswith("LS-")
    stored = db.get_booking(reference)
    assert (stored.service, stored.staff, stored.starts_at) == ("Classic Facial", "Linh", at(3, 11))
    assert db.find_customer("tester").name == "Lan Nguyen"

    slots, messages = run(ActionBookingDone(), make_tracker(slots={**filled, **slots}, loop=None))
    assert reference in texts(messages)
    assert slots["service"] is None and slots["when"] is None


def test_no_to_the_summary_asks_what_to_change_then_stops(clean_db):
    filled = {"service": "Manicure", "when": at(3, 11).isoformat(), "person_name": "Lan", "phone": "0903123456"}
    tracker = make_tracker(
        "no", intent="deny", slots=filled, set_now={"booking_confirmed": False}, requested="booking_confirmed"
    )
    slots, _ = run(ValidateBookingForm(), tracker)
    assert slots["booking_confirmed"] is None and slots["change_requested"] is True
    _, messages = run(ActionAskBookingConfirmed(), make_tracker(slots={**filled, **slots}))
    assert "What would you like to change" in texts(messages)
    again = make_tracker(
        "no", intent="deny", slots={**filled, "change_requested": True}, set_now={"booking_confirmed": False},
        requested="booking_confirmed",
    )  # fmt: skip
    slots, messages = run(ValidateBookingForm(), again)
    assert slots["requested_slot"] is None and "nothing was booked" in texts(messages)
    assert db.list_bookings() == []


def test_returning_customer_name_and_phone_are_remembered(clean_db):
    book("regular", at(4, 10))
    slots, _ = run(ValidateBookingForm(), make_tracker("book a pedi", sender="regular", requested="service"))
    assert slots["person_name"] == "Lan" and slots["phone"] == "0903123456"


def test_customer_limit_is_explained(clean_db):
    for day in (2, 3, 4):
        book("busy", at(day, 10))
    filled = {"service": "Manicure", "when": at(8, 11).isoformat(), "person_name": "Lan", "phone": "0903123456"}
    tracker = make_tracker("yes", intent="affirm", slots=filled, set_now={"booking_confirmed": True}, sender="busy")
    slots, messages = run(ValidateBookingForm(), tracker)
    assert slots["requested_slot"] is None
    assert "3 upcoming" in texts(messages)


def test_database_down_gives_an_apology_with_the_phone_number(clean_db, monkeypatch):
    monkeypatch.setattr(db, "_url", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setattr(db, "_pool", None)
    filled = {"service": "Manicure", "when": at(3, 11).isoformat(), "person_name": "Lan", "phone": "0903123456"}
    tracker = make_tracker("yes", intent="affirm", slots=filled, set_now={"booking_confirmed": True})
    slots, messages = run(ValidateBookingForm(), tracker)
    assert "+84 28 3822 0000" in texts(messages)
    assert slots.get("made_reference") is None
    _, messages = run(ActionListBookings(), make_tracker("my bookings", intent="list_bookings", loop=None))
    assert "can't reach our booking system" in texts(messages)


# --- cancel, reschedule, list ------------------------------------------------------------


def test_only_upcoming_booking_is_picked_and_late_cancellation_fee_stated(clean_db):
    made = book("me", at(2, 9))  # 23 h ahead
    slots, _ = run(
        ActionPickBooking(), make_tracker("cancel my booking", intent="cancel_booking", sender="me", loop=None)
    )
    assert slots["booking_ref"] == made.reference
    _, messages = run(ActionAskCancelConfirmed(), make_tracker(slots=slots, sender="me", loop="cancel_form"))
    assert "$22.50" in texts(messages) and "50%" in texts(messages)
    tracker = make_tracker(
        "yes", intent="affirm", slots=slots, set_now={"cancel_confirmed": True}, sender="me", loop="cancel_form"
    )
    _, messages = run(ValidateCancelForm(), tracker)
    assert "cancelled" in texts(messages)
    assert db.get_booking(made.reference).status == "cancelled"


def test_unknown_reference_is_said_so(clean_db):
    tracker = make_tracker(
        "LS-ABCDEF", set_now={"booking_ref": "LS-ABCDEF"}, loop="cancel_form", requested="booking_ref"
    )
    slots, messages = run(ValidateCancelForm(), tracker)
    assert slots["booking_ref"] is None and "couldn't find" in texts(messages)


def test_reschedule_within_twelve_hours_is_refused(clean_db):
    made = book("soon", at(1, 20 - 1))  # today 19:00, 9 h ahead
    tracker = make_tracker(
        made.reference, set_now={"booking_ref": made.reference}, loop="reschedule_form", sender="soon"
    )
    slots, messages = run(ValidateRescheduleForm(), tracker)
    assert slots["booking_ref"] is None and slots["requested_slot"] is None
    assert "12 hours" in texts(messages)


def test_reschedule_to_a_free_time(clean_db):
    made = book("mover", at(3, 10))
    tracker = make_tracker(
        "friday 2pm", set_now={"when": "friday 2pm"}, slots={"booking_ref": made.reference},
        loop="reschedule_form", sender="mover",
    )  # fmt: skip
    slots, _ = run(ValidateRescheduleForm(), tracker)
    assert slots["when"] == at(4, 14).isoformat()
    confirm = make_tracker(
        "yes", intent="affirm", slots={"booking_ref": made.reference, **slots},
        set_now={"reschedule_confirmed": True}, loop="reschedule_form", sender="mover",
    )  # fmt: skip
    _, messages = run(ValidateRescheduleForm(), confirm)
    assert "Friday 4 December at 14:00" in texts(messages)
    assert db.get_booking(made.reference).starts_at == at(4, 14)


def test_list_bookings(clean_db):
    _, messages = run(
        ActionListBookings(), make_tracker("my bookings", intent="list_bookings", loop=None, sender="lister")
    )
    assert "no upcoming bookings" in texts(messages)
    made = book("lister", at(3, 10))
    _, messages = run(
        ActionListBookings(), make_tracker("my bookings", intent="list_bookings", loop=None, sender="lister")
    )
    assert made.reference in texts(messages) and "Thursday 3 December at 10:00" in texts(messages)


# --- availability and answers --------------------------------------------------------------


def test_availability_offers_up_to_five_bookable_slots(clean_db):
    tracker = make_tracker(
        "anything saturday afternoon for nails?", intent="check_availability",
        entities=[{"entity": "service", "value": "Manicure"}, {"entity": "when", "value": "saturday afternoon"}],
        slots={"service": "Manicure", "when": "saturday afternoon"}, loop=None,
    )  # fmt: skip
    _, messages = run(ActionCheckAvailability(), tracker)
    buttons = messages[0]["buttons"]
    assert len(buttons) == 5
    for button in buttons:
        assert button["payload"].startswith('/book_appointment{"when": "2026-12-05T1')
        assert '"service": "Manicure"' in button["payload"]


def test_availability_without_service_asks_which(clean_db):
    tracker = make_tracker("are you free tomorrow", intent="check_availability", loop=None)
    _, messages = run(ActionCheckAvailability(), tracker)
    assert "Which treatment" in texts(messages) and len(messages[0]["buttons"]) == 7


def test_price_comes_from_the_business_file(clean_db):
    tracker = make_tracker(
        "how much are hot stones",
        intent="ask_price",
        entities=[{"entity": "service", "value": "Hot Stone Massage"}],
        loop=None,
    )
    _, messages = run(ActionAnswerPrice(), tracker)
    assert "$70" in texts(messages) and "90 minutes" in texts(messages)


def test_hours_for_a_named_day(clean_db):
    tracker = make_tracker("are you open on sunday", intent="ask_opening_hours", loop=None)
    _, messages = run(ActionAnswerHours(), tracker)
    assert "closed" in texts(messages) and "Sunday 6 December" in texts(messages)


def test_handoff_gives_contact_details(clean_db):
    _, messages = run(ActionHandoff(), make_tracker("talk to a human", intent="request_human", loop=None))
    assert "+84 28 3822 0000" in texts(messages) and "hello@lotusspa.example" in texts(messages)


# --- a plain yes or no outside the forms ----------------------------------------------------


def _after(action_name: str, slots: dict[str, Any], text: str, intent: str) -> Tracker:
    """A tracker whose bot turn before `text` was `action_name`."""
    tracker = make_tracker(text, intent=intent, slots=slots, loop=None)
    tracker.events[:0] = [
        {"event": "user", "text": "before", "parse_data": {}},
        {"event": "action", "name": action_name},
        {"event": "action", "name": "action_listen"},
    ]
    return tracker


def test_yes_after_an_offer_starts_the_booking_of_that_slot(clean_db):
    tracker = make_tracker("is 3pm tomorrow free for a massage", intent="check_availability", loop=None)
    tracker.slots.update(service="Swedish Massage", when="tomorrow at 3pm")
    slots, messages = run(ActionCheckAvailability(), tracker)
    assert "Shall I book it" in texts(messages)
    assert slots == {"when": at(2, 15).isoformat(), "service": "Swedish Massage", "offer": "book"}

    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionYes().run(dispatcher, _after("action_check_availability", slots, "yes", "affirm"), DOMAIN)
    )
    assert [e["name"] for e in events if e["event"] == "followup"] == ["booking_form"]
    assert not dispatcher.messages


def test_yes_without_an_offer_asks_what_they_would_like(clean_db):
    stale = _after("action_answer_hours", {"offer": "book"}, "yes", "affirm")  # the offer was two turns ago
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionYes().run(dispatcher, stale, DOMAIN))
    assert not any(e.get("event") == "followup" for e in events)
    assert "What can I do for you" in texts(dispatcher.messages)
    _, messages = run(ActionNo(), _after("action_answer_price", {"offer": "book"}, "no", "deny"))
    assert "anything else" in texts(messages)
