"""The booking form: validation of service, date and time, name and phone; the summary; the booking.

The booking is written when the customer says yes to the summary (inside the
validation of `booking_confirmed`), so a slot that was taken in the meantime
sends the form back to asking for a time instead of failing after the fact.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import (
    apologise_database_down,
    booking_line,
    contact_line,
    entity_values,
    latest_intent,
    latest_text,
    service_buttons,
    slot_button,
    yes_no_buttons,
)
from actions.date_time import NOT_AN_ANSWER, TIME_INTENTS, DateTimeValidation, first_value
from core import bookings, db
from core.business import business
from core.values import clean_name, from_iso, mask_phone, normalise_phone, parse_when

log = logging.getLogger(__name__)

BOOKING_SLOTS = (
    "service", "staff", "when", "booking_confirmed", "made_reference", "when_problem",
    "when_wanted", "change_requested", "last_date",
)  # fmt: skip


class ValidateBookingForm(DateTimeValidation):
    def name(self) -> str:
        return "validate_booking_form"

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        changed = {e["name"] for e in events if e.get("event") == "slot"}
        if tracker.get_slot("change_requested") and changed & {"service", "when", "staff", "person_name", "phone"}:
            events.append(SlotSet("change_requested", False))  # a change was given: show the new summary
        return events

    # --- extraction from plain text and from what we know of the customer ---------
    async def extract_service(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        if entity_values(tracker, "service") or latest_intent(tracker) in NOT_AN_ANSWER:
            return {}
        requested = tracker.get_slot("requested_slot")
        if requested != "service" and latest_intent(tracker) not in TIME_INTENTS:
            return {}
        if requested in ("person_name", "phone"):
            return {}
        found = business().match_service(latest_text(tracker))
        if found and found != tracker.get_slot("service"):
            return {"service": found}
        if (
            requested == "service"
            and not found
            and latest_intent(tracker) in ("inform", "nlu_fallback", "book_appointment")
        ):
            return {"service": latest_text(tracker)}  # validated below: unknown service -> the catalogue
        return {}

    async def extract_person_name(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        """A returning customer's name and phone, in one look-up, for whichever of the two is still empty."""
        missing = [slot for slot in ("person_name", "phone") if not tracker.get_slot(slot)]
        if not missing:
            return {}
        customer = db.find_customer(tracker.sender_id)
        if customer is None:
            return {}
        known = {"person_name": customer.name, "phone": customer.phone}
        return {slot: known[slot] for slot in missing if known[slot]}

    async def extract_phone(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        # a remembered phone was filled by extract_person_name, which runs first
        if entity_values(tracker, "phone") or latest_intent(tracker) in NOT_AN_ANSWER:
            return {}
        found = normalise_phone(latest_text(tracker))
        if found and tracker.get_slot("requested_slot") != "person_name" and found != tracker.get_slot("phone"):
            return {"phone": found}
        return {}

    # --- validation ---------------------------------------------------------------
    def validate_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        biz = business()
        name = biz.match_service(first_value(value))
        if name is None:
            dispatcher.utter_message(
                text=f"Sorry, we don't offer \"{first_value(value)}\". Here's what we do:",
                buttons=service_buttons(biz),
            )
            return {"service": None}
        result: dict[str, Any] = {"service": name}
        staff = tracker.get_slot("staff")
        if staff and staff not in biz.staff_for(name):
            dispatcher.utter_message(
                text=f"{staff} doesn't do {name}; it's done by {' or '.join(biz.staff_for(name))}. "
                "I'll book whoever is free."
            )
            result["staff"] = None
        return result

    def validate_staff(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        biz = business()
        wanted = first_value(value)
        name = biz.match_staff(wanted)
        if name is None:
            dispatcher.utter_message(
                text=f"We don't have anyone called {wanted}. Our team: {', '.join(biz.staff)}. "
                "I'll book whoever is free unless you pick one of them."
            )
            return {"staff": None}
        service = biz.match_service(tracker.get_slot("service"))
        if service and name not in biz.staff_for(service):
            dispatcher.utter_message(
                text=f"{name} doesn't do {service}; it's done by {' or '.join(biz.staff_for(service))}."
            )
            return {"staff": None}
        return {"staff": name}

    def validate_person_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        name = clean_name(first_value(value))
        if name is None:
            dispatcher.utter_message(text="Sorry, I didn't catch your name. What name should I put the booking under?")
            return {"person_name": None}
        return {"person_name": name}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        phone = normalise_phone(first_value(value))
        if phone is None:
            dispatcher.utter_message(
                text="That doesn't look like a phone number. Please send it with its digits, "
                "e.g. 0903 123 456 or +84 903 123 456."
            )
            return {"phone": None}
        return {"phone": phone}

    def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        changed_now = {"service", "when", "staff", "person_name", "phone"} & set(tracker.slots_to_validate())
        if changed_now:  # "no, with Linh instead": a change, not a refusal
            return {"booking_confirmed": None, "change_requested": False}
        if value is False or value is None:
            if tracker.get_slot("change_requested"):
                dispatcher.utter_message(text="OK, I've stopped this booking; nothing was booked.")
                return {"booking_confirmed": False, "requested_slot": None}
            return {"booking_confirmed": None, "change_requested": True}
        return self._book(dispatcher, tracker)

    def _book(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict:
        biz = business()
        start = from_iso(tracker.get_slot("when"), biz)
        service = biz.match_service(tracker.get_slot("service"))
        if start is None or service is None:
            return {"booking_confirmed": None}
        try:
            booking = bookings.book(
                sender_id=tracker.sender_id,
                customer_name=tracker.get_slot("person_name"),
                customer_phone=tracker.get_slot("phone"),
                service=service,
                start=start,
                staff=tracker.get_slot("staff"),
                actor=f"customer:{tracker.sender_id}",
                biz=biz,
            )
        except db.SlotTaken:
            return {
                "booking_confirmed": None,
                "when": None,
                "when_problem": f"Sorry, {biz.when_text(start)} was just taken.",
                "when_wanted": start.isoformat(),
            }
        except db.CustomerLimitReached:
            upcoming = db.upcoming_bookings(tracker.sender_id, biz.now())
            lines = "\n".join(booking_line(biz, b) for b in upcoming)
            dispatcher.utter_message(
                text=f"You already have {len(upcoming)} upcoming appointments, the most we can hold per customer:\n"
                f"{lines}\nYou can cancel or move one of them, or {contact_line(biz)}."
            )
            return {"booking_confirmed": False, "requested_slot": None}
        except ValueError as err:  # a rule the time broke since it was checked (e.g. notice)
            return {"booking_confirmed": None, "when": None, "when_problem": str(err), "when_wanted": start.isoformat()}
        except db.DatabaseUnavailable:
            apologise_database_down(dispatcher, biz)
            return {"booking_confirmed": None}
        log.info(
            "booked %s for sender %s (phone %s)",
            booking.reference,
            tracker.sender_id,
            mask_phone(booking.customer_phone),
        )
        return {"booking_confirmed": True, "made_reference": booking.reference, "change_requested": False}


# --- asking -------------------------------------------------------------------------


class ActionAskService(Action):
    def name(self) -> str:
        return "action_ask_service"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        dispatcher.utter_message(text="Which treatment would you like?", buttons=service_buttons(business()))
        return []


class ActionAskPersonName(Action):
    def name(self) -> str:
        return "action_ask_person_name"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        dispatcher.utter_message(text="What name should I put the booking under?")
        return []


class ActionAskPhone(Action):
    def name(self) -> str:
        return "action_ask_phone"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        name = tracker.get_slot("person_name")
        thanks = f"Thanks, {name}. " if name else ""
        dispatcher.utter_message(text=f"{thanks}And a phone number we can reach you on?")
        return []


class ActionAskWhen(Action):
    """Ask for a day and time, offering free slots: around a refused time, in a named day, or the next ones."""

    def name(self) -> str:
        return "action_ask_when"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        exclude = None
        staff = tracker.get_slot("staff")
        if tracker.active_loop_name == "reschedule_form":
            try:
                booking = db.get_booking(tracker.get_slot("booking_ref"))
            except (db.BookingNotFound, db.DatabaseUnavailable):
                booking = None
            service, exclude, staff = (booking.service, booking.reference, None) if booking else (None, None, None)
            question = "When would you like to move it to?"
        else:
            service = biz.match_service(tracker.get_slot("service"))
            question = (
                f"When would you like to come in for your {service}?" if service else "When would you like to come in?"
            )
        problem = tracker.get_slot("when_problem")
        wanted = tracker.get_slot("when_wanted")
        try:
            text, slots = self._offer(biz, service, staff, problem, wanted, exclude, question)
        except db.DatabaseUnavailable:
            apologise_database_down(dispatcher, biz)
            return [SlotSet("when_problem", None), SlotSet("when_wanted", None)]
        intent = "inform"
        dispatcher.utter_message(text=text, buttons=[slot_button(biz, s, intent) for s in slots])
        return [SlotSet("when_problem", None), SlotSet("when_wanted", None)]

    def _offer(self, biz, service, staff, problem, wanted, exclude, question):
        if service is None:
            return question + ' For example "tomorrow at 3pm" or "Saturday morning".', []
        lead = f"{problem} " if problem else ""
        when = parse_when(wanted, biz) if wanted else None
        if when is not None and when.kind == "exact":
            check = bookings.check_time(service, when.start, staff=staff, exclude_reference=exclude, biz=biz)
            slots = check.alternatives
            if slots:
                return f"{lead}The nearest free times are below; pick one or tell me another day and time.", slots
            return f"{lead}I can't see a free time close to that. Which other day suits you?", []
        if when is not None:
            slots = bookings.slots_in(service, when, staff=staff, biz=biz)
            if slots:
                return f"{lead}Here are free times for {when.text}; pick one or tell me another time.", slots
            lead += f"Sorry, there's nothing free for {when.text}. "
        slots = bookings.next_slots(service, staff=staff, biz=biz)
        if slots:
            return f"{lead}{question} The next free times are below, or tell me a day and time.", slots
        return f"{lead}{question}", []


class ActionAskBookingConfirmed(Action):
    def name(self) -> str:
        return "action_ask_booking_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        if tracker.get_slot("change_requested"):
            dispatcher.utter_message(
                text='No problem. What would you like to change? For example "4pm instead", "on Friday", '
                '"with Linh", "a pedicure instead", or a new name or phone number. Say "no" again to stop.'
            )
            return []
        biz = business()
        service = biz.match_service(tracker.get_slot("service"))
        start = from_iso(tracker.get_slot("when"), biz)
        if service is None or start is None:
            return []
        svc = biz.services[service]
        staff = tracker.get_slot("staff")
        if not staff:
            try:
                check = bookings.check_time(service, start, biz=biz)
                staff = check.slot.staff if check.slot else None
            except db.DatabaseUnavailable:
                staff = None
        with_whom = f" with {staff}" if staff else ""
        dispatcher.utter_message(
            text=(
                f"Please check your booking:\n"
                f"• {svc.name}{with_whom}\n"
                f"• {biz.when_text(start)} ({svc.duration_minutes} min)\n"
                f"• Price: {biz.price_text(svc.price)}\n"
                f"• Name: {tracker.get_slot('person_name')}, phone: {tracker.get_slot('phone')}\n"
                "Shall I book it?"
            ),
            buttons=yes_no_buttons(),
        )
        return []


class ActionBookingDone(Action):
    """After the booking form: confirm what was booked, and clear the form for the next one."""

    def name(self) -> str:
        return "action_booking_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        reference = tracker.get_slot("made_reference")
        if reference and tracker.get_slot("booking_confirmed"):
            try:
                booking = db.get_booking(reference)
                rules = biz.rules
                dispatcher.utter_message(
                    text=(
                        f"You're booked! {booking.service} with {booking.staff} on {biz.when_text(booking.starts_at)}. "
                        f"Your reference is {booking.reference}. Please arrive 10 minutes early. "
                        f"Free cancellation until {rules.free_cancellation_hours} hours before; "
                        "just tell me if you need to change or cancel."
                    )
                )
            except (db.BookingNotFound, db.DatabaseUnavailable):
                dispatcher.utter_message(text=f"You're booked! Your reference is {reference}.")
        return [SlotSet(slot, None) for slot in BOOKING_SLOTS]
