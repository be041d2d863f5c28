"""Checking free times outside a booking: "anything Saturday afternoon for a facial?"."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import (
    guarded,
    latest_entity,
    latest_text,
    payload,
    service_buttons,
    slot_button,
)
from actions.date_time import first_value, resolve_customer_when
from core import bookings
from core.business import business
from core.values import from_iso, parse_when


class ActionCheckAvailability(Action):
    """Offer up to N free slots as buttons that start a booking of that slot."""

    def name(self) -> str:
        return "action_check_availability"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        text = latest_text(tracker)
        service = biz.match_service(first_value(tracker.get_slot("service"))) or biz.match_service(text)
        staff = biz.match_staff(first_value(tracker.get_slot("staff")) or latest_entity(tracker, "staff"))
        raw_when = tracker.get_slot("when") or latest_entity(tracker, "when")
        when = None
        if from_iso(raw_when, biz) is None:
            when = resolve_customer_when(raw_when, tracker, biz) if raw_when else None
            when = when or parse_when(text, biz, search=True)
        else:
            when = parse_when(raw_when, biz)
        if service is None:
            dispatcher.utter_message(
                text="Which treatment should I check for?",
                buttons=service_buttons(biz, "check_availability"),
            )
            return [SlotSet("when", when.text if when else None)]
        if staff and staff not in biz.staff_for(service):
            dispatcher.utter_message(
                text=f"{staff} doesn't do {service}; it's done by {' or '.join(biz.staff_for(service))}."
            )
            staff = None
        book = {"service": service, "staff": staff}
        who = f" with {staff}" if staff else ""
        if when is not None and when.kind == "exact":
            check = bookings.check_time(service, when.start, staff=staff, biz=biz)
            if check.slot:
                dispatcher.utter_message(
                    text=f"Yes, {biz.when_text(when.start)} is free for a {service}{who or ' with ' + check.slot.staff}. "
                    "Shall I book it?",
                    buttons=[
                        {
                            "title": "Book it",
                            "payload": payload("book_appointment", when=when.start.isoformat(), **book),
                        }
                    ],
                )
                # a plain "yes" books this very slot
                return [SlotSet("when", when.start.isoformat()), SlotSet("service", service), SlotSet("offer", "book")]
            reason = check.rejection.reason if check.rejection else ""
            slots = check.alternatives
            lead = f"{reason} " if reason else ""
            text = (
                f"{lead}The nearest free times for a {service}{who}:"
                if slots
                else f"{lead}I can't see anything free close to that."
            )
        elif when is not None:
            slots = bookings.slots_in(service, when, staff=staff, biz=biz)
            text = (
                f"Free times for a {service}{who} {when.text}:"
                if slots
                else f"Sorry, nothing is free for a {service}{who} {when.text}."
            )
            if not slots:
                slots = bookings.next_slots(service, staff=staff, biz=biz)
                text += " The next free times:" if slots else ""
        else:
            slots = bookings.next_slots(service, staff=staff, biz=biz)
            text = (
                f"The next free times for a {service}{who}:"
                if slots
                else f"Sorry, nothing is free for a {service} soon."
            )
        if slots:
            text += " Tap one to book it."
        dispatcher.utter_message(
            text=text,
            buttons=[slot_button(biz, s, "book_appointment", **book) for s in slots],
        )
        return [SlotSet("when", None)]
