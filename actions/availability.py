"""Checking free times outside a booking: "anything Saturday afternoon for a facial?", "the 3pm one"."""

from __future__ import annotations

from datetime import timedelta

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking_form import services_in
from actions.conversation import entity_values, language, latest_text, payload, service_buttons, slot_button, words
from actions.date_time import (
    button_when,
    discussing,
    first_value,
    read_customer_when,
    say_reading_problem,
    say_refusal,
    window_text,
)
from core import bookings
from core.business import business
from core.timeparse import When
from core.values import find_email, read_when


def check_availability(dispatcher: CollectingDispatcher, tracker: Tracker) -> list:
    """Answer "is it free?" for the service and time in this message (or under discussion): a free slot
    with "shall I book it?", or why not and the free times near it."""
    biz = business()
    lang = language(tracker)
    text = latest_text(tracker)
    email = find_email(text)
    if email and read_when(text, biz).when is None and not biz.services_mentioned(text):
        dispatcher.utter_message(response="utter_email_noted", email=email)  # kept by action_read_message
        return []
    named = services_in(text, entity_values(tracker, "service"), fuzzy=True)
    service = named[0] if named else biz.match_service(first_value(tracker.get_slot("service")))
    staff = biz.match_staff(first_value(tracker.get_slot("staff")) or (entity_values(tracker, "staff") or [None])[0])
    when: When | None = None
    pressed = button_when(tracker, biz)
    if pressed is not None:
        when = When(pressed, pressed, "exact", True, True, pressed.isoformat())
    elif text:
        reading = read_customer_when(text, tracker, biz)
        if reading.problem:
            say_reading_problem(dispatcher, reading)
            return []
        when = reading.when
    if service is None:
        dispatcher.utter_message(
            response="utter_ask_service_to_check", buttons=service_buttons(biz, "check_availability")
        )
        return [SlotSet("when_wanted", when.text if when else None)]
    if staff and staff not in biz.staff_for(service):
        dispatcher.utter_message(
            response="utter_staff_does_not_do_service",
            staff=staff,
            service=service,
            who=" / ".join(biz.staff_for(service)),
        )
        staff = None
    if when is None and tracker.get_slot("when_wanted"):  # asked for a time before naming the service
        reading = read_customer_when(tracker.get_slot("when_wanted"), tracker, biz)
        when = reading.when
    book = {"service": service, "staff": staff}
    offer = bookings.offer(service, when, staff=staff, biz=biz)
    buttons = [slot_button(tracker, biz, s, "book_appointment", **book) for s in offer.slots]
    values = {"service": service, "staff": staff or ""}
    if offer.kind == "free":
        slot = offer.slots[0]
        dispatcher.utter_message(
            response="utter_time_free",
            when=biz.when_text(slot.start, lang),
            staff=staff or slot.staff,
            service=service,
            buttons=[
                {
                    "title": words(tracker, "utter_label_book_it"),
                    "payload": payload("book_appointment", when=slot.start.isoformat(), **book),
                }
            ],
        )
        # a plain "yes" books this very slot; a time alone next ("no, 5pm") stays on this day
        return [
            SlotSet("when", slot.start.isoformat()),
            SlotSet("service", service),
            SlotSet("staff", staff),
            SlotSet("offer", "book"),
            *[SlotSet(k, v) for k, v in discussing(slot.start).items()],
        ]
    if offer.kind == "refused":
        say_refusal(dispatcher, offer.rejection.code, offer.rejection.values, tracker, biz)
        response = "utter_offer_nearest_to_book" if buttons else "utter_offer_none_near"
        day = when.start
    elif offer.kind == "in_window":
        response = "utter_offer_in_window_to_book"
        values["asked"] = window_text(when, biz, lang)
        day = when.start.date() if when.end - when.start <= timedelta(days=1) else None
    elif offer.kind == "none_in_window":
        if offer.rejection is not None:
            say_refusal(dispatcher, offer.rejection.code, offer.rejection.values, tracker, biz)
        response = "utter_offer_next_to_book" if buttons else "utter_offer_nothing_soon"
        day = None
    else:
        response = "utter_offer_next_to_book" if buttons else "utter_offer_nothing_soon"
        day = None
    dispatcher.utter_message(response=response, buttons=buttons, **values)
    return [SlotSet("when", None), SlotSet("service", service), *[SlotSet(k, v) for k, v in discussing(day).items()]]


class ActionCheckAvailability(Action):
    """Offer free slots as buttons that start a booking of that slot."""

    def name(self) -> str:
        return "action_check_availability"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return check_availability(dispatcher, tracker)
