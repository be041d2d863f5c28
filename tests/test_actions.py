"""Custom actions with a literal Tracker and a CollectingDispatcher, over the real database.

Replies are asserted by their response name and values (the words are trainers' YAML); where a value
matters as the customer reads it, the reply is rendered from domain.yml in that language.
"""

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
from actions.booking_form import ActionAskBookingConfirmed, ActionAskWhen, ActionBookingDone, ValidateBookingForm
from actions.dialogue import ActionNo, ActionReadMessage, ActionYes
from actions.handoff import ActionHandoff
from actions.info import ActionAnswerHours, ActionAnswerPrice, ActionAnswerServices
from actions.manage import (
    ActionAskCancelConfirmed,
    ActionListBookings,
    ActionPickBooking,
    ValidateCancelForm,
    ValidateRescheduleForm,
)
from actions.server import OffLoopExecutor
from core import bookings, db, responses
from core.business import business
from core.scheduling import check_start

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SLOTS = {name: None for name in DOMAIN["slots"]}


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


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
    events = [SlotSet(k, v) for k, v in (slots or {}).items()]  # filled in earlier turns
    events += [{"event": "user", "text": text, "parse_data": latest}]
    events += [SlotSet(k, v) for k, v in (set_now or {}).items()]
    values = {**SLOTS, **(slots or {}), **(set_now or {}), "requested_slot": requested}
    return Tracker(sender, values, latest, events, False, None, {"name": loop} if loop else {}, "action_listen")


def run(action, tracker: Tracker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return slots, dispatcher.messages


def names(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("response") for m in messages]


def said(messages: list[dict[str, Any]], language: str = "en", slots: dict[str, Any] | None = None) -> str:
    """The messages as the customer reads them, rendered from domain.yml (values, then slots, fill them)."""
    parts = []
    for m in messages:
        if m.get("response"):
            values = {**(slots or {}), **{k: v for k, v in m.items() if v is not None}}
            parts.append(responses.render(m["response"], language, **values))
        else:
            parts.append(m.get("text") or "")
    return " ".join(parts)


def texts(messages: list[dict[str, Any]]) -> str:
    return said(messages)


def book(sender: str, start: datetime, service: str = "Swedish Massage", staff: str | None = "Mai") -> db.Booking:
    return bookings.book(
        sender_id=sender, customer_name="Lan", customer_phone="0903123456",
        service=service, start=start, staff=staff, actor="test",
    )  # fmt: skip


def slot_starts(message: dict[str, Any]) -> list[datetime]:
    return [
        datetime.fromisoformat(json.loads(b["payload"][b["payload"].index("{") :])["when"]) for b in message["buttons"]
    ]


# --- the booking form: service, name, phone ------------------------------------------------------------


def test_unknown_service_offers_the_catalogue(clean_db):
    slots, messages = run(
        ValidateBookingForm(), make_tracker("tattoo", set_now={"service": "tattoo"}, requested="service")
    )
    assert slots["service"] is None
    assert names(messages) == ["utter_service_not_offered"] and messages[0]["asked"] == "tattoo"
    assert len(messages[0]["buttons"]) == 7


def test_massage_means_swedish_massage(clean_db):
    slots, _ = run(
        ValidateBookingForm(), make_tracker("a massage", set_now={"service": "massage"}, requested="service")
    )
    assert slots["service"] == "Swedish Massage"


def test_service_found_in_plain_text_when_nlu_missed_it(clean_db):
    slots, _ = run(ValidateBookingForm(), make_tracker("hot stones pls", requested="service"))
    assert slots["service"] == "Hot Stone Massage"


def test_a_negated_service_is_not_the_one_booked(clean_db):
    tracker = make_tracker(
        "a pedicure, not a facial",
        entities=[{"entity": "service", "value": "pedicure"}, {"entity": "service", "value": "facial"}],
        set_now={"service": "facial"},
        requested="service",
    )
    slots, _ = run(ValidateBookingForm(), tracker)
    assert slots["service"] == "Pedicure"


@pytest.mark.parametrize(
    ("phone", "problem"),
    [("12", "not_a_number"), ("call me maybe", "not_a_number"), ("0903", "too_short"), ("0903 12a 456", "letters")],
)
def test_invalid_phone_is_asked_again_naming_the_problem(clean_db, phone, problem):
    slots, messages = run(ValidateBookingForm(), make_tracker(phone, requested="phone"))
    assert slots["phone"] is None
    assert names(messages) == [f"utter_phone_{problem}"]
    assert "0903 123 456" in said(messages) and "0903 123 456" in said(messages, "vi")


@pytest.mark.parametrize(
    ("text", "nlu_piece", "phone"),
    [
        ("+84 953 815 192", "+84 953 815", "+84953815192"),
        ("my phone is 0946 912 302", "0946 912", "0946912302"),
        ("sdt cua em la 090.312.3456 a", "090.312", "0903123456"),
        ("+44 7700 900123", "+44 7700", "+447700900123"),
    ],
)
def test_a_phone_nlu_cuts_in_two_is_read_whole(clean_db, text, nlu_piece, phone):
    tracker = make_tracker(text, entities=[{"entity": "phone", "value": nlu_piece}], requested="phone")
    slots, messages = run(ValidateBookingForm(), tracker)
    assert slots["phone"] == phone and messages == []


@pytest.mark.parametrize(
    ("text", "name_piece"),
    [("+84 953 815 192", "192"), ("my phone is 0946 912 302 ok", "ok"), ("0903 123 456 Anh", "Anh")],
)
def test_a_name_nlu_finds_inside_the_phone_answer_keeps_the_name_given(clean_db, text, name_piece):
    filled = {"service": "Manicure", "when": at(3, 11).isoformat(), "person_name": "Sarah Jones"}
    entities = [{"entity": "person_name", "value": name_piece}]
    tracker = make_tracker(
        text, entities=entities, slots=filled, set_now={"person_name": name_piece}, requested="phone"
    )
    slots, messages = run(ValidateBookingForm(), tracker)
    assert slots.get("person_name", "Sarah Jones") == "Sarah Jones" and slots["phone"]
    assert "utter_name_not_understood" not in names(messages)


def test_three_unusable_answers_explain_then_end_the_form_with_a_way_out(clean_db):
    filled = {"service": "Manicure", "when": at(3, 11).isoformat(), "person_name": "Lan"}
    slots, messages = run(ValidateBookingForm(), make_tracker("hmm", slots=filled, requested="phone"))
    assert slots["unusable_answers"] == "phone:1" and names(messages) == ["utter_phone_not_a_number"]
    slots, messages = run(ValidateBookingForm(), make_tracker("no idea", slots={**filled, **slots}, requested="phone"))
    assert slots["unusable_answers"] == "phone:2" and names(messages)[-1] == "utter_explain_phone"
    explain = responses.variation("utter_explain_phone", "en")
    assert [b["payload"] for b in explain["buttons"]] == ["/request_human", "/restart"]
    slots, messages = run(ValidateBookingForm(), make_tracker("?? x", slots={**filled, **slots}, requested="phone"))
    assert slots["requested_slot"] is None and names(messages)[-1] == "utter_give_up"
    assert "+84 28 3822 0000" in said(messages)


def test_a_usable_answer_resets_the_count(clean_db):
    filled = {"service": "Manicure", "when": at(3, 11).isoformat(), "person_name": "Lan", "unusable_answers": "phone:2"}
    slots, _ = run(ValidateBookingForm(), make_tracker("0903 123 456", slots=filled, requested="phone"))
    assert slots["phone"] == "0903123456" and slots["unusable_answers"] is None


def test_a_question_mid_form_is_not_counted(clean_db):
    filled = {"service": "Manicure", "when": at(3, 11).isoformat(), "person_name": "Lan"}
    slots, messages = run(
        ValidateBookingForm(),
        make_tracker("do you have parking?", intent="ask_question", slots=filled, requested="phone"),
    )
    assert slots == {} and messages == []  # the form rejects: the question's rule answers it


# --- the booking form: dates and times ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("sunday at 11am", "closed_day"),
        ("1/1 at 10am", "holiday"),
        ("today at 9am", "past"),
        ("today at 11am", "too_soon"),
        ("tomorrow at 3:15pm", "not_on_step"),
        ("tomorrow at 7:30pm", "outside_hours"),
        ("on 14 April 2027 at 3pm", "too_far"),
        ("27 January 2028 at 10am", "too_far"),
    ],
)
def test_impossible_times_are_refused_with_the_rule(clean_db, text, code):
    tracker = make_tracker(text, slots={"service": "Swedish Massage"}, requested="when")
    slots, _ = run(ValidateBookingForm(), tracker)
    assert slots["when"] is None and slots["when_problem"] == code
    # the question that follows says why and offers the nearest free times as buttons
    _, messages = run(
        ActionAskWhen(), make_tracker(text, slots={"service": "Swedish Massage", **slots}, requested="when")
    )
    assert names(messages)[0] == f"utter_refusal_{code}"
    offer = messages[-1]
    if code != "too_far":
        assert len(offer["buttons"]) == 5  # the business's slots_offered; the week is empty
    for start in slot_starts(offer):
        assert check_start(business(), "Swedish Massage", start, business().now()) is None


def test_a_date_nlu_tags_as_two_entities_is_read_whole(clean_db):
    tracker = make_tracker(
        "book a pedicure on April 14 2027 at 3pm",
        intent="book_appointment",
        entities=[{"entity": "when", "value": "April 14"}, {"entity": "when", "value": "2027 at 3pm"}],
        slots={"service": "Pedicure"},
        requested="when",
    )
    slots, _ = run(ValidateBookingForm(), tracker)
    assert slots["when"] is None and slots["when_problem"] == "too_far"
    assert slots["when_wanted"] == at(14, 15, month=4, year=2027).isoformat()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("31/02", "impossible_date"),
        ("31/02 at 3pm", "impossible_date"),
        ("February 30 at 2pm", "impossible_date"),
        ("25:99", "impossible_time"),
        ("friday at 24:30", "impossible_time"),
        ("32/12 at 10am", "impossible_date"),
        ("31 tháng 11 lúc 3h", "impossible_date"),
        ("2027", "year_only"),
        ("in 2027 at 3pm", "year_only"),
        ("tomorrow or friday at 3", "ambiguous"),
    ],
)
def test_unusable_dates_name_the_problem_and_set_nothing(clean_db, text, problem):
    slots, messages = run(ValidateBookingForm(), make_tracker(text, slots={"service": "Manicure"}, requested="when"))
    assert slots.get("when") is None
    assert names(messages)[0] == f"utter_when_{problem}"
    rendered = said(messages)
    assert "{" not in rendered, rendered  # every value of the reply was given


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("book a manicure 2027-01-20 9 am", at(20, 9, month=1, year=2027)),  # year first: not "day 1, month 20"
        ("manicure 2026-12-15 at 1:30pm", at(15, 13, 30)),
        ("monday at 10.30am", at(7, 10, 30)),  # a time with a dot is not the 10th of a 30th month
        ("15 tháng 12 lúc 3 giờ chiều", at(15, 15)),  # the day and month without "ngày"
        ("8 thang 1 1h chieu", at(8, 13, month=1, year=2027)),
        ("massage thư giãn ngày mai 10h", at(2, 10)),  # "thư giãn" (relaxing) is not Thursday
        ("dat lich massage thu gian 2 gio ruoi chieu t2", at(7, 14, 30)),
    ],
)
def test_a_date_as_written_is_the_date_read(clean_db, text, start):
    slots, messages = run(ValidateBookingForm(), make_tracker(text, slots={"service": "Manicure"}, requested="when"))
    assert slots["when"] == start.isoformat(), names(messages)


def test_a_very_long_message_is_no_crash(clean_db):
    slots, _ = run(ValidateBookingForm(), make_tracker("tomorrow at 3pm " + "x" * 5000, slots={"service": "Manicure"}))
    assert slots["when"] == at(2, 15).isoformat()


def test_taken_time_is_refused_and_alternatives_offered(clean_db):
    book("other", at(2, 15), staff="Mai")
    book("other2", at(2, 15), staff="Tuan")
    tracker = make_tracker("tomorrow 3pm", slots={"service": "Swedish Massage"}, requested="when")
    slots, _ = run(ValidateBookingForm(), tracker)
    assert slots["when"] is None and slots["when_problem"] == "taken"


def test_a_day_without_time_offers_that_days_free_slots(clean_db):
    tracker = make_tracker("on friday", slots={"service": "Manicure"}, requested="when")
    slots, _ = run(ValidateBookingForm(), tracker)
    assert slots["when"] is None and slots["when_wanted"] and slots["discussed_when"] == "2026-12-04"
    _, messages = run(
        ActionAskWhen(), make_tracker("on friday", slots={"service": "Manicure", **slots}, requested="when")
    )
    assert names(messages) == ["utter_offer_in_window"]
    assert all(start.date() == at(4, 0).date() for start in slot_starts(messages[0]))
    assert len(messages[0]["buttons"]) == 5


@pytest.mark.parametrize("requested", ["when", "person_name", "phone", "booking_confirmed"])
@pytest.mark.parametrize("text", ["actually 4pm", "make it 4pm instead", "no wait, 4pm", "the 4pm one"])
def test_a_time_alone_lands_on_the_day_under_discussion_at_every_prompt(clean_db, requested, text):
    filled = {"service": "Swedish Massage", "when": at(4, 11).isoformat(), "discussed_when": at(4, 11).isoformat()}
    if requested in ("phone", "booking_confirmed"):
        filled["person_name"] = "Lan"
    if requested == "booking_confirmed":
        filled["phone"] = "0903123456"
    intent = "deny" if text.startswith("no") else "inform"
    slots, messages = run(ValidateBookingForm(), make_tracker(text, intent=intent, slots=filled, requested=requested))
    assert slots["when"] == at(4, 16).isoformat()
    assert not [n for n in names(messages) if n and n.startswith(("utter_phone_", "utter_name_"))]


def test_half_past_then_is_half_past_the_hour_under_discussion(clean_db):
    filled = {"service": "Swedish Massage", "discussed_when": at(4, 14).isoformat()}
    slots, _ = run(ValidateBookingForm(), make_tracker("half past then", slots=filled, requested="when"))
    assert slots["when"] == at(4, 14, 30).isoformat()


def test_a_relative_time_is_not_moved_to_the_day_under_discussion(clean_db):
    filled = {"service": "Swedish Massage", "discussed_when": "2026-12-04"}
    slots, _ = run(ValidateBookingForm(), make_tracker("in 3 hours", slots=filled, requested="when"))
    assert slots["when"] == at(1, 13).isoformat()


def test_summary_then_yes_books_and_reports_the_reference(clean_db):
    filled = {
        "service": "Classic Facial", "when": at(3, 11).isoformat(), "person_name": "Lan Nguyen",
        "phone": "0903123456", "staff": None,
    }  # fmt: skip
    _, messages = run(ActionAskBookingConfirmed(), make_tracker(slots=filled, requested="booking_confirmed"))
    assert names(messages) == ["utter_booking_summary"]
    summary = said(messages)
    for part in ("Classic Facial", "Linh", "Thursday 3 December at 11:00", "60 min", "$40", "Lan Nguyen"):
        assert part in summary
    _, messages = run(
        ActionAskBookingConfirmed(), make_tracker(slots={**filled, "language": "vi"}, requested="booking_confirmed")
    )
    assert "Thứ Năm 3/12 lúc 11:00" in said(messages, "vi")

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
    assert names(messages) == ["utter_booked"] and messages[0]["reference"] == reference
    assert slots["service"] is None and slots["when"] is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [("ok book it", "out_of_scope"), ("yes that's right", "nlu_fallback"), ("dạ đúng rồi", "inform"),
     ("sure, book it", "book_appointment")],
)  # fmt: skip
def test_a_plain_yes_to_the_summary_books_whatever_nlu_took_it_for(clean_db, text, intent):
    filled = {"service": "Manicure", "when": at(3, 11).isoformat(), "person_name": "Lan", "phone": "0903123456"}
    slots, _ = run(
        ValidateBookingForm(), make_tracker(text, intent=intent, slots=filled, requested="booking_confirmed")
    )
    assert slots["booking_confirmed"] is True and slots["made_reference"].startswith("LS-")


@pytest.mark.parametrize("text", ["yes but at 5pm", "ok, and do you have parking?", "no wait"])
def test_a_yes_with_more_in_it_is_not_a_plain_yes(clean_db, text):
    filled = {"service": "Manicure", "when": at(3, 11).isoformat(), "person_name": "Lan", "phone": "0903123456"}
    tracker = make_tracker(text, intent="out_of_scope", slots=filled, requested="booking_confirmed")
    slots, _ = run(ValidateBookingForm(), tracker)
    assert not slots.get("made_reference")


@pytest.mark.parametrize("intent", ["list_bookings", "out_of_scope", "ask_question"])
def test_a_bare_name_at_the_name_prompt_is_the_name_whatever_nlu_took_it_for(clean_db, intent):
    filled = {"service": "Manicure", "when": at(3, 11).isoformat()}
    slots, _ = run(
        ValidateBookingForm(), make_tracker("Emma Wilson", intent=intent, slots=filled, requested="person_name")
    )
    assert slots["person_name"] == "Emma Wilson"


@pytest.mark.parametrize("name", ["Võ Quang Huy", "Mai Nguyen", "Thu Pham"])
def test_common_given_names_that_are_also_words_are_names(clean_db, name):
    filled = {"service": "Manicure", "when": at(4, 16).isoformat()}
    tracker = make_tracker(name, slots=filled, set_now={"person_name": name}, requested="person_name")
    slots, _ = run(ValidateBookingForm(), tracker)
    assert slots["person_name"] == name


def test_a_name_that_sounds_like_a_day_is_a_name_not_a_date(clean_db):
    filled = {"service": "Manicure", "when": at(4, 16).isoformat(), "discussed_when": at(4, 16).isoformat()}
    tracker = make_tracker("Thu Pham", slots=filled, set_now={"person_name": "Thu Pham"}, requested="person_name")
    slots, messages = run(ValidateBookingForm(), tracker)
    assert slots["person_name"] == "Thu Pham" and "when" not in slots, names(messages)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("book mani 2026-12-03 at half past 6 in the afternoon", at(3, 18, 30)),
        ("manicure 15/12/2026 18:30", at(15, 18, 30)),
    ],
)
def test_the_digits_of_a_date_are_not_a_phone_number(clean_db, text, start):
    slots, _ = run(ValidateBookingForm(), make_tracker(text, intent="book_appointment", slots={"service": "Manicure"}))
    assert slots["when"] == start.isoformat() and not slots.get("phone")


def test_a_phone_followed_by_a_date_is_still_the_phone(clean_db):
    filled = {"service": "Manicure", "when": at(3, 11).isoformat(), "person_name": "Lan"}
    slots, _ = run(ValidateBookingForm(), make_tracker("0903 123 456 15/12", slots=filled, requested="phone"))
    assert slots["phone"] == "0903123456"


def test_no_to_the_summary_asks_what_to_change_then_stops(clean_db):
    filled = {"service": "Manicure", "when": at(3, 11).isoformat(), "person_name": "Lan", "phone": "0903123456"}
    tracker = make_tracker(
        "no", intent="deny", slots=filled, set_now={"booking_confirmed": False}, requested="booking_confirmed"
    )
    slots, _ = run(ValidateBookingForm(), tracker)
    assert slots["booking_confirmed"] is None and slots["change_requested"] is True
    _, messages = run(ActionAskBookingConfirmed(), make_tracker(slots={**filled, **slots}))
    assert names(messages) == ["utter_ask_what_to_change"]
    again = make_tracker(
        "no", intent="deny", slots={**filled, "change_requested": True}, set_now={"booking_confirmed": False},
        requested="booking_confirmed",
    )  # fmt: skip
    slots, messages = run(ValidateBookingForm(), again)
    assert slots["requested_slot"] is None and names(messages) == ["utter_booking_stopped"]
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
    assert names(messages) == ["utter_customer_limit"] and messages[0]["count"] == 3


def _action_call(name: str, tracker: Tracker) -> dict[str, Any]:
    state = tracker.current_state()
    return {
        "next_action": name,
        "sender_id": tracker.sender_id,
        "tracker": state,
        "domain": DOMAIN,
        "version": "3.6.21",
    }


def test_database_down_anywhere_gives_the_apology_and_leaves_the_form(clean_db, monkeypatch):
    monkeypatch.setattr(db, "_url", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setattr(db, "_pool", None)
    executor = OffLoopExecutor(threads=1)
    executor.register_package("actions")
    filled = {"service": "Manicure", "when": at(3, 11).isoformat(), "person_name": "Lan", "phone": "0903123456"}
    # the form's first step: the returning-customer look-up
    for name, tracker in [
        ("validate_booking_form", make_tracker("book a manicure", intent="book_appointment", requested=None)),
        (
            "validate_booking_form",
            make_tracker("yes", intent="affirm", slots=filled, set_now={"booking_confirmed": True}),
        ),
        ("action_list_bookings", make_tracker("my bookings", intent="list_bookings", loop=None)),
    ]:
        result = asyncio.run(executor.run_guarded(_action_call(name, tracker))).model_dump()
        assert [r.get("response") for r in result["responses"]] == ["utter_database_down"]
        events = result["events"]
        if tracker.active_loop_name:
            assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
        assert not any(e.get("name") == "made_reference" for e in events)
    monkeypatch.undo()
    db.reset_pool()
    assert db.list_bookings() == []


# --- cancel, reschedule, list: only the owner ---------------------------------------------------------------


def test_only_upcoming_booking_is_picked_and_late_cancellation_fee_stated(clean_db):
    made = book("me", at(2, 9))  # 23 h ahead
    slots, _ = run(
        ActionPickBooking(), make_tracker("cancel my booking", intent="cancel_booking", sender="me", loop=None)
    )
    assert slots["booking_ref"] == made.reference
    _, messages = run(ActionAskCancelConfirmed(), make_tracker(slots=slots, sender="me", loop="cancel_form"))
    assert names(messages) == ["utter_ask_cancel_confirmed_fee"]
    assert "$22.50" in said(messages) and "50%" in said(messages)
    tracker = make_tracker(
        "yes", intent="affirm", slots=slots, set_now={"cancel_confirmed": True}, sender="me", loop="cancel_form"
    )
    _, messages = run(ValidateCancelForm(), tracker)
    assert names(messages) == ["utter_cancelled_with_fee"]
    assert db.get_booking(made.reference).status == "cancelled"


@pytest.mark.parametrize("form", [ValidateCancelForm, ValidateRescheduleForm])
def test_another_sender_quoting_a_reference_sees_nothing_and_must_prove_ownership(clean_db, form):
    made = book("owner", at(9, 15), service="Classic Facial", staff="Linh")
    loop = "cancel_form" if form is ValidateCancelForm else "reschedule_form"
    stranger = make_tracker(
        f"cancel booking {made.reference}", intent="cancel_booking",
        entities=[{"entity": "booking_ref", "value": made.reference}],
        set_now={"booking_ref": made.reference}, loop=loop, requested="booking_ref", sender="stranger",
    )  # fmt: skip
    slots, messages = run(form(), stranger)
    assert messages == [] and slots["booking_ref"] == made.reference and "owner_verified" not in slots
    # not found reads the same as not yours: the form asks for the phone digits either way
    unknown = make_tracker("LS-ABCDEF", set_now={"booking_ref": "LS-ABCDEF"}, loop=loop, requested="booking_ref")
    unknown_slots, unknown_messages = run(form(), unknown)
    assert unknown_messages == messages and unknown_slots["booking_ref"] == "LS-ABCDEF"
    required = asyncio.run(form().required_slots(DOMAIN["forms"][loop]["required_slots"], None, stranger, DOMAIN))
    assert required[:2] == ["booking_ref", "owner_digits"]
    # the confirm question shows nothing of someone else's booking
    _, shown = run(ActionAskCancelConfirmed(), make_tracker(slots=slots, sender="stranger", loop="cancel_form"))
    assert shown == []
    # a forged confirmation does nothing
    forged = make_tracker(
        "/affirm", intent="affirm", slots={"booking_ref": made.reference}, set_now={"cancel_confirmed": True},
        loop="cancel_form", sender="stranger",
    )  # fmt: skip
    run(ValidateCancelForm(), forged)
    assert db.get_booking(made.reference).status == "confirmed"


def test_the_phone_digits_prove_ownership_three_wrong_tries_hand_over(clean_db):
    made = book("owner", at(9, 15))
    base = {"booking_ref": made.reference}
    right = make_tracker("3456", slots=base, loop="cancel_form", requested="owner_digits", sender="other-chat")
    slots, _ = run(ValidateCancelForm(), right)
    assert slots["owner_verified"] == made.reference and slots["booking_ref"] == made.reference
    _, messages = run(
        ActionAskCancelConfirmed(), make_tracker(slots={**base, **slots}, sender="other-chat", loop="cancel_form")
    )
    assert names(messages) == ["utter_ask_cancel_confirmed_free"]

    current: dict[str, Any] = dict(base)
    for _attempt in range(3):
        wrong = make_tracker("1111", slots=current, loop="cancel_form", requested="owner_digits", sender="guesser")
        slots, messages = run(ValidateCancelForm(), wrong)
        current.update(slots)
        assert "utter_owner_digits_wrong" in names(messages)
    assert names(messages)[-1] == "utter_give_up" and slots["requested_slot"] is None
    assert db.get_booking(made.reference).status == "confirmed"


def test_unknown_reference_format_is_said_so(clean_db):
    tracker = make_tracker("LS-12", set_now={"booking_ref": "LS-12"}, loop="cancel_form", requested="booking_ref")
    slots, messages = run(ValidateCancelForm(), tracker)
    assert slots["booking_ref"] is None and names(messages) == ["utter_not_a_reference"]


def test_reschedule_within_twelve_hours_is_refused(clean_db):
    made = book("soon", at(1, 19))  # today 19:00, 9 h ahead
    tracker = make_tracker(
        made.reference, set_now={"booking_ref": made.reference}, loop="reschedule_form", sender="soon"
    )
    slots, messages = run(ValidateRescheduleForm(), tracker)
    assert slots["booking_ref"] is None and slots["requested_slot"] is None
    assert names(messages) == ["utter_booking_too_late_to_move_fee"] and "12 hours" in said(messages)


def test_reschedule_to_a_free_time_on_the_bookings_day(clean_db):
    made = book("mover", at(3, 10))
    picked = make_tracker(
        made.reference, set_now={"booking_ref": made.reference}, loop="reschedule_form", sender="mover"
    )
    slots, _ = run(ValidateRescheduleForm(), picked)
    assert slots["discussed_when"] == "2026-12-03"
    tracker = make_tracker(
        "2pm", slots={"booking_ref": made.reference, **slots}, loop="reschedule_form", sender="mover", requested="when"
    )
    slots, _ = run(ValidateRescheduleForm(), tracker)
    assert slots["when"] == at(3, 14).isoformat()  # a time alone: the booking's day
    confirm = make_tracker(
        "yes", intent="affirm", slots={"booking_ref": made.reference, **slots},
        set_now={"reschedule_confirmed": True}, loop="reschedule_form", sender="mover",
    )  # fmt: skip
    _, messages = run(ValidateRescheduleForm(), confirm)
    assert names(messages) == ["utter_rescheduled"] and "Thursday 3 December at 14:00" in said(messages)
    assert db.get_booking(made.reference).starts_at == at(3, 14)


def test_list_bookings(clean_db):
    _, messages = run(
        ActionListBookings(), make_tracker("my bookings", intent="list_bookings", loop=None, sender="lister")
    )
    assert names(messages) == ["utter_no_bookings"]
    made = book("lister", at(3, 10))
    book("someone-else", at(3, 10), staff="Tuan")
    _, messages = run(
        ActionListBookings(), make_tracker("my bookings", intent="list_bookings", loop=None, sender="lister")
    )
    assert messages[0]["count"] == 1
    assert made.reference in said(messages) and "Thursday 3 December at 10:00" in said(messages)
    assert "Thứ Năm 3/12 lúc 10:00" in said(messages, "vi") or "Thursday" in messages[0]["lines"]


# --- availability and answers ---------------------------------------------------------------------------


def test_availability_offers_up_to_five_bookable_slots_and_holds_the_day(clean_db):
    tracker = make_tracker(
        "anything saturday afternoon for nails?", intent="check_availability",
        entities=[{"entity": "service", "value": "Manicure"}], loop=None,
    )  # fmt: skip
    slots, messages = run(ActionCheckAvailability(), tracker)
    buttons = messages[0]["buttons"]
    assert len(buttons) == 5 and slots["discussed_when"] == "2026-12-05"
    for button in buttons:
        assert button["payload"].startswith('/book_appointment{"when": "2026-12-05T1')
        assert '"service": "Manicure"' in button["payload"]
    # "the 3pm one" next: that day, not today
    pick = make_tracker("the 3pm one", slots={**slots, "service": "Manicure"}, loop=None)
    slots, messages = run(ActionCheckAvailability(), pick)
    assert names(messages) == ["utter_time_free"] and slots["when"] == at(5, 15).isoformat()


def test_no_wait_another_time_after_an_offer_checks_that_time_on_that_day(clean_db):
    offered = {
        "service": "Manicure",
        "offer": "book",
        "when": at(4, 11).isoformat(),
        "discussed_when": at(4, 11).isoformat(),
    }
    slots, messages = run(ActionNo(), _after("action_check_availability", offered, "no wait, 5pm", "deny"))
    assert names(messages) == ["utter_time_free"] and slots["when"] == at(4, 17).isoformat()


def test_availability_without_service_asks_which(clean_db):
    tracker = make_tracker("are you free tomorrow", intent="check_availability", loop=None)
    _, messages = run(ActionCheckAvailability(), tracker)
    assert names(messages) == ["utter_ask_service_to_check"] and len(messages[0]["buttons"]) == 7


def test_an_email_is_noted(clean_db):
    tracker = make_tracker("my email is minh.pham77@example.com", loop=None, sender="mailer")
    slots, _ = run(ActionReadMessage(), tracker)
    assert slots["email"] == "minh.pham77@example.com"
    assert db.find_customer("mailer").email == "minh.pham77@example.com"
    _, messages = run(ActionCheckAvailability(), tracker)
    assert names(messages) == ["utter_email_noted"]


@pytest.mark.parametrize(
    ("text", "previous", "language"),
    [("Tôi muốn đặt lịch massage", None, "vi"), ("mai 3h chieu dc ko", "en", "vi"), ("ok", "vi", "vi"),
     ("I'd like a facial", "vi", "en"), ("0903 123 456", "vi", "vi"), ("hello", None, "en")],
)  # fmt: skip
def test_the_language_follows_the_customer_and_short_replies_keep_it(clean_db, text, previous, language):
    slots, _ = run(ActionReadMessage(), make_tracker(text, slots={"language": previous}, loop=None))
    assert slots.get("language", previous) == language


@pytest.mark.parametrize(
    ("text", "previous", "language"),
    [("Minh", "en", "en"), ("Bao Le", "en", "en"), ("Nguyen Thi Lan", "en", "en"), ("Sarah", "vi", "vi"),
     ("em tên là Minh", "en", "vi")],
)  # fmt: skip
def test_a_name_given_to_the_name_question_keeps_the_language(clean_db, text, previous, language):
    tracker = make_tracker(text, slots={"language": previous}, requested="person_name")
    slots, _ = run(ActionReadMessage(), tracker)
    assert slots.get("language", previous) == language


def test_price_comes_from_the_business_file(clean_db):
    tracker = make_tracker(
        "how much are hot stones", intent="ask_price", entities=[{"entity": "service", "value": "Hot Stone Massage"}],
        loop=None,
    )  # fmt: skip
    _, messages = run(ActionAnswerPrice(), tracker)
    assert "$70" in said(messages) and "90 minutes" in said(messages) and "90 phút" in said(messages, "vi")


@pytest.mark.parametrize(
    ("text", "asked"),
    [("do you do eyelash extensions?", "eyelash extensions"), ("do you offer waxing", "waxing"),
     ("co lam noi mi ko", "noi mi")],
)  # fmt: skip
def test_a_service_not_offered_gets_a_no_and_what_is_offered(clean_db, text, asked):
    _, messages = run(ActionAnswerServices(), make_tracker(text, intent="ask_services", loop=None))
    assert names(messages) == ["utter_not_offered"] and messages[0]["asked"] == asked
    assert "Swedish Massage" in said(messages)


def test_hours_for_a_named_day_and_tet_in_later_years(clean_db):
    _, messages = run(
        ActionAnswerHours(), make_tracker("are you open on sunday", intent="ask_opening_hours", loop=None)
    )
    assert names(messages) == ["utter_closed_day"] and messages[0]["day"] == "Sunday 6 December"
    _, messages = run(ActionAnswerHours(), make_tracker("open on 26/1/2028?", intent="ask_opening_hours", loop=None))
    assert names(messages) == ["utter_closed_holiday"]
    _, messages = run(ActionAnswerHours(), make_tracker("opening hours?", intent="ask_opening_hours", loop=None))
    assert "Tet holiday" in said(messages) and "Monday - Friday: 09:00 - 20:00" in said(messages)


def test_handoff_gives_contact_details(clean_db):
    _, messages = run(ActionHandoff(), make_tracker("talk to a human", intent="request_human", loop=None))
    assert "+84 28 3822 0000" in said(messages) and "hello@lotusspa.example" in said(messages, "vi")


# --- a plain yes or no outside the forms ---------------------------------------------------------------------


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
    slots, messages = run(ActionCheckAvailability(), tracker)
    assert names(messages) == ["utter_time_free"]
    assert slots["when"] == at(2, 15).isoformat() and slots["service"] == "Swedish Massage" and slots["offer"] == "book"

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
    assert names(dispatcher.messages) == ["utter_what_can_i_do"]
    _, messages = run(ActionNo(), _after("action_answer_price", {"offer": "book"}, "no", "deny"))
    assert names(messages) == ["utter_anything_else"]


# --- the words: every response is in both languages ----------------------------------------------------------


def test_every_response_has_an_english_and_a_vietnamese_variation():
    for name, variations in DOMAIN["responses"].items():
        languages = {
            next((c["value"] for c in v.get("condition", []) if c["name"] == "language"), "en") for v in variations
        }
        assert languages == {"en", "vi"}, name
        for variation in variations:
            for button in variation.get("buttons", []):
                assert len(button["title"]) <= 20, (name, button["title"])


def test_every_response_an_action_names_exists():
    import re

    used = set()
    for path in (ROOT / "actions").glob("*.py"):
        # response names (not a family's prefix, not the `utter_action` key of a bot event's metadata)
        used |= set(re.findall(r'"(utter_[a-z_]*[a-z])"', path.read_text())) - {"utter_action"}
    families = {
        "utter_refusal_": ["past", "not_on_step", "too_soon", "too_far", "holiday", "closed_day", "outside_hours",
                           "taken", "staff_off"],
        "utter_when_": ["impossible_date", "impossible_time", "year_only", "ambiguous"],
        "utter_phone_": ["letters", "too_short", "too_long", "not_a_number"],
        "utter_explain_": ["service", "when", "person_name", "phone", "booking_ref", "owner_digits"],
        "utter_booking_": ["cancelled", "completed", "no_show", "started", "too_late_to_move"],
    }  # fmt: skip
    for prefix, codes in families.items():
        used |= {prefix + code for code in codes}
    assert sorted(u for u in used if u not in DOMAIN["responses"]) == []
