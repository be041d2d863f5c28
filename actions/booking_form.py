"""The booking form: service, date and time, name and phone, read from whole messages; the summary; the booking.

The booking is written when the customer says yes to the summary (inside the validation of
`booking_confirmed`), so a slot that was taken in the meantime sends the form back to asking for a time
instead of failing after the fact.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import (
    booking_line,
    bullet_list,
    contact_values,
    entity_values,
    language,
    latest_intent,
    latest_text,
    service_buttons,
    slot_before_message,
)
from actions.date_time import (
    NOT_AN_ANSWER,
    DateTimeValidation,
    first_value,
    offer_times,
    read_customer_when,
)
from core import bookings, db
from core.business import business
from core.values import clean_name, from_iso, mask_phone, read_phone, read_yes_no

log = logging.getLogger(__name__)

BOOKING_SLOTS = (
    "service", "staff", "when", "booking_confirmed", "made_reference", "when_problem",
    "when_wanted", "change_requested", "discussed_when", "unusable_answers",
)  # fmt: skip
CHANGES = {"service", "when", "staff", "person_name", "phone"}
# "with Linh", "với chị Mai": a staff member named in a sentence
# intents under which a bare name at the name prompt is still the name ("Emma Wilson" taken for a request)
NAME_MISREAD_AS = {"list_bookings", "out_of_scope", "check_availability", "reschedule_booking", "ask_question"}
WITH_STAFF = re.compile(r"\b(?:with|by|from|voi|với)\s+(?:(?:chị|chi|anh|em|bạn|ban|ms|mr|mrs|miss)\.?\s+)?(\w+)", re.I)


def services_in(text: str, entities: list[str], fuzzy: bool = False) -> list[str]:
    """The catalogue services a message names, negated ones ("not a facial") left out; with `fuzzy`, a
    typo ("masage") counts too (only where a service is expected: "message" is not a massage)."""
    biz = business()
    mentioned = biz.services_mentioned(text)
    found = [s for s in (biz.match_service(v) for v in entities) if s and (s in mentioned or not mentioned)]
    for name in mentioned:
        if name not in found:
            found.append(name)
    if not found and fuzzy:
        guess = biz.match_service(text)
        found = [guess] if guess else []
    return found


class ValidateBookingForm(DateTimeValidation):
    def name(self) -> str:
        return "validate_booking_form"

    def when_allowed(self, tracker: Tracker) -> bool:
        return True

    def after_validation(self, dispatcher: CollectingDispatcher, tracker: Tracker, changed: dict) -> list:
        events = super().after_validation(dispatcher, tracker, changed)
        if tracker.get_slot("change_requested") and CHANGES & changed.keys():
            events.append(SlotSet("change_requested", False))  # a change was given: show the new summary
        return events

    # --- extraction from the whole message and from what we know of the customer ---------------------
    async def extract_service(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        intent = latest_intent(tracker)
        requested = tracker.get_slot("requested_slot")
        text = latest_text(tracker)
        if intent in NOT_AN_ANSWER or requested in ("person_name", "phone"):
            return {}
        expected = requested == "service" or intent in ("book_appointment", "check_availability")
        found = services_in(text, entity_values(tracker, "service"), fuzzy=expected)
        if len(found) > 1:
            dispatcher.utter_message(
                response="utter_which_service", buttons=[b for b in service_buttons(business()) if _named(b, found)]
            )
            return {"service": None}
        if found:
            return {"service": found[0]} if found[0] != tracker.get_slot("service") else {}
        unknown = entity_values(tracker, "service")
        if requested == "service" and intent in ("inform", "nlu_fallback", "book_appointment") and (unknown or text):
            return {"service": unknown[0] if unknown else text}  # validated below: unknown -> the catalogue
        return {}

    async def extract_staff(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        if latest_intent(tracker) in NOT_AN_ANSWER or entity_values(tracker, "staff"):
            return {}
        for match in WITH_STAFF.finditer(latest_text(tracker)):
            name = business().match_staff(match.group(1))
            if name and name != tracker.get_slot("staff"):
                return {"staff": name}
        return {}

    async def extract_person_name(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        """A bare name at the name prompt, whatever NLU took it for; else a returning customer's name and
        phone, in one look-up, for whichever of the two is still empty."""
        if tracker.get_slot("requested_slot") == "person_name" and latest_intent(tracker) in NAME_MISREAD_AS:
            name = clean_name(latest_text(tracker))
            if name and "?" not in latest_text(tracker):
                return {"person_name": name}
        missing = [slot for slot in ("person_name", "phone") if not tracker.get_slot(slot)]
        if not missing or tracker.get_slot("requested_slot") not in (None, "service", "when", "person_name"):
            return {}
        customer = db.find_customer(tracker.sender_id)
        if customer is None:
            return {}
        known = {"person_name": customer.name, "phone": customer.phone}
        return {slot: known[slot] for slot in missing if known[slot] and not tracker.get_slot(slot)}

    async def extract_phone(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        """The phone read from the whole message (DIET cuts "+84 953 815 192" into pieces)."""
        question = latest_intent(tracker) in NOT_AN_ANSWER
        if question and tracker.get_slot("requested_slot") != "phone":
            return {}
        text = latest_text(tracker)
        reading = read_phone(text)
        if reading.phone:
            return {"phone": reading.phone} if reading.phone != tracker.get_slot("phone") else {}
        if tracker.get_slot("requested_slot") == "phone" and text and not question and not self._time_changed(tracker):
            return {"phone": text}  # not a usable number: validate_phone says why
        return {}

    async def extract_booking_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        """A plain yes or no to the summary ("ok book it", "dạ đúng rồi"), however NLU labelled it."""
        if tracker.get_slot("requested_slot") != "booking_confirmed" or latest_intent(tracker) in ("affirm", "deny"):
            return {}
        answer = read_yes_no(latest_text(tracker))
        return {} if answer is None else {"booking_confirmed": answer}

    def _time_changed(self, tracker: Tracker) -> bool:
        """Did this message move the date/time (e.g. "actually 4pm" at the phone prompt)?"""
        text = latest_text(tracker)
        reading = read_customer_when(text, tracker, business()) if text else None
        return bool(reading and reading.when and not read_phone(text).phone)

    # --- validation -----------------------------------------------------------------------------------
    def validate_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        biz = business()
        name = biz.match_service(first_value(value))
        if name is None:
            dispatcher.utter_message(
                response="utter_service_not_offered", asked=str(first_value(value))[:60], buttons=service_buttons(biz)
            )
            return {"service": None}
        result: dict[str, Any] = {"service": name}
        staff = tracker.get_slot("staff")
        if staff and staff not in biz.staff_for(name):
            dispatcher.utter_message(
                response="utter_staff_does_not_do_service_anyone",
                staff=staff,
                service=name,
                who=" / ".join(biz.staff_for(name)),
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
            dispatcher.utter_message(response="utter_staff_unknown", asked=str(wanted)[:40], team=", ".join(biz.staff))
            return {"staff": None}
        service = biz.match_service(tracker.get_slot("service"))
        if service and name not in biz.staff_for(service):
            dispatcher.utter_message(
                response="utter_staff_does_not_do_service", staff=name, service=service,
                who=" / ".join(biz.staff_for(service)),
            )  # fmt: skip
            return {"staff": None}
        return {"staff": name}

    def validate_person_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        name = clean_name(first_value(value))
        if tracker.get_slot("requested_slot") != "person_name":
            # a name the customer did not give as an answer (DIET reads "192" of "+84 953 815 192" as one):
            # only a real name replaces the one we have
            before = slot_before_message(tracker, "person_name")
            if before and (name is None or read_phone(latest_text(tracker)).phone):
                return {"person_name": before}
            return {"person_name": name}
        if name is None:
            if not self._time_changed(tracker):
                dispatcher.utter_message(response="utter_name_not_understood")
            return {"person_name": None}
        return {"person_name": name}

    def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        reading = read_phone(first_value(value))
        if reading.phone is None:
            dispatcher.utter_message(response=f"utter_phone_{reading.problem or 'not_a_number'}")
            return {"phone": None}
        return {"phone": reading.phone}

    def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        changed_now = CHANGES & set(tracker.slots_to_validate())
        if changed_now:  # "no, with Linh instead": a change, not a refusal
            return {"booking_confirmed": None, "change_requested": False}
        if value is False or value is None:
            if tracker.get_slot("change_requested"):
                dispatcher.utter_message(response="utter_booking_stopped")
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
                customer_email=tracker.get_slot("email"),
                language=language(tracker),
                service=service,
                start=start,
                staff=tracker.get_slot("staff"),
                actor=f"customer:{tracker.sender_id}",
                biz=biz,
            )
        except db.SlotTaken:
            return {"booking_confirmed": None, "when": None, "when_problem": "taken", "when_wanted": start.isoformat()}
        except db.CustomerLimitReached:
            upcoming = db.upcoming_bookings(tracker.sender_id, biz.now())
            dispatcher.utter_message(
                response="utter_customer_limit",
                count=len(upcoming),
                lines=bullet_list(booking_line(tracker, biz, b) for b in upcoming),
                **contact_values(biz),
            )
            return {"booking_confirmed": False, "requested_slot": None}
        except bookings.Refused as refused:  # a rule the time broke since it was checked (e.g. notice)
            return {
                "booking_confirmed": None,
                "when": None,
                "when_problem": refused.code,
                "when_wanted": start.isoformat(),
            }
        log.info(
            "booked %s for sender %s (phone %s)",
            booking.reference,
            tracker.sender_id,
            mask_phone(booking.customer_phone),
        )
        return {"booking_confirmed": True, "made_reference": booking.reference, "change_requested": False}


def _named(button: dict[str, str], names: list[str]) -> bool:
    return any(f'"{name}"' in button["payload"] for name in names)


# --- asking -------------------------------------------------------------------------------------------


class ActionAskService(Action):
    def name(self) -> str:
        return "action_ask_service"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        dispatcher.utter_message(response="utter_ask_service", buttons=service_buttons(business()))
        return []


class ActionAskWhen(Action):
    """Ask for a day and time, offering free slots: around a refused time, in a named day, or the next ones."""

    def name(self) -> str:
        return "action_ask_when"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        service = biz.match_service(first_value(tracker.get_slot("service")))
        return offer_times(dispatcher, tracker, service, tracker.get_slot("staff"), None, "utter_ask_when")


class ActionAskBookingConfirmed(Action):
    def name(self) -> str:
        return "action_ask_booking_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        if tracker.get_slot("change_requested"):
            dispatcher.utter_message(response="utter_ask_what_to_change")
            return []
        biz = business()
        service = biz.match_service(tracker.get_slot("service"))
        start = from_iso(tracker.get_slot("when"), biz)
        if service is None or start is None:
            return []
        svc = biz.services[service]
        staff = tracker.get_slot("staff")
        if not staff:
            check = bookings.check_time(service, start, biz=biz)
            staff = check.slot.staff if check.slot else None
        dispatcher.utter_message(
            response="utter_booking_summary",
            service=svc.name,
            staff=staff or "-",
            when=biz.when_text(start, language(tracker)),
            minutes=svc.duration_minutes,
            price=biz.price_text(svc.price),
            person_name=tracker.get_slot("person_name"),
            phone=tracker.get_slot("phone"),
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
            booking = db.get_booking(reference)
            dispatcher.utter_message(
                response="utter_booked",
                service=booking.service,
                staff=booking.staff,
                when=biz.when_text(booking.starts_at, language(tracker)),
                reference=booking.reference,
                hours=biz.rules.free_cancellation_hours,
            )
        return [SlotSet(slot, None) for slot in BOOKING_SLOTS]
