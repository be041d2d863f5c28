"""The date and time a form asks for: read from the customer's whole message, placed on the day under discussion,
and checked against the booking rules. Shared by the booking and the rescheduling forms.
"""

from __future__ import annotations

import abc
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import apologise_database_down, entity_values, latest_intent, latest_text
from core import bookings, db
from core.business import Business, business
from core.timeparse import When, combine
from core.values import from_iso, parse_when

# Intents under which a message may fill a slot from its plain text; a
# question or another request during the form is answered instead.
NOT_AN_ANSWER = {
    "ask_services", "ask_price", "ask_opening_hours", "ask_location", "ask_question",
    "request_human", "bot_challenge", "list_bookings", "goodbye", "thank", "greet",
    "cancel_booking", "out_of_scope",
}  # fmt: skip
TIME_INTENTS = {
    "book_appointment",
    "check_availability",
    "reschedule_booking",
    "inform",
    "deny",
    "affirm",
    "nlu_fallback",
}


def first_value(value: Any) -> Any:
    """Slots filled from several entities of one type hold a list; use what the customer meant."""
    if isinstance(value, list):
        return (
            " ".join(str(v) for v in value)
            if value and all(isinstance(v, str) for v in value)
            else (value or [None])[0]
        )
    return value


def resolve_customer_when(raw: Any, tracker: Tracker, biz: Business) -> When | None:
    """The customer's date/time words, with a time alone ("4pm") placed on the day already under discussion."""
    raw = first_value(raw)
    when = parse_when(str(raw), biz) if raw else None
    if when is None:
        return None
    last_date = tracker.get_slot("last_date")
    if when.has_time and not when.has_date and last_date:
        base = parse_when(last_date, biz)
        if base is not None:
            return combine(base, when)
    return when


class DateTimeValidation(FormValidationAction, abc.ABC):
    """Validation shared by the forms that ask for a date and time (booking, rescheduling)."""

    @abc.abstractmethod
    def name(self) -> str: ...

    def service_for(self, tracker: Tracker) -> str | None:
        return business().match_service(first_value(tracker.get_slot("service")))

    def exclude_reference(self, tracker: Tracker) -> str | None:
        return None

    def staff_for(self, tracker: Tracker) -> str | None:
        return tracker.get_slot("staff")

    async def extract_when(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        """The date/time read from the whole message, when NLU tagged none."""
        if entity_values(tracker, "when"):
            return {}
        intent = latest_intent(tracker)
        requested = tracker.get_slot("requested_slot")
        if intent in NOT_AN_ANSWER or requested in ("person_name", "phone", "booking_ref"):
            return {}
        if requested != "when" and intent not in TIME_INTENTS:
            return {}
        found = parse_when(latest_text(tracker), business(), search=True)
        return {"when": found.text} if found else {}

    def validate_when(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        biz = business()
        moment = from_iso(first_value(value), biz)
        if moment is not None:  # a button or an already checked value
            return {"when": moment.isoformat(), "last_date": moment.date().isoformat()}
        when = resolve_customer_when(value, tracker, biz)
        if when is None:
            dispatcher.utter_message(
                text='Sorry, I couldn\'t work out the day and time. You can write e.g. "tomorrow at 3pm", '
                '"Friday morning" or "5/12 at 10:30".'
            )
            return {"when": None}
        day = when.start.date().isoformat() if when.has_date else tracker.get_slot("last_date")
        if when.kind == "exact":
            return {"when": when.start.isoformat(), "last_date": day or when.start.date().isoformat()}
        # a whole day or a part of one: offer its free times
        return {"when": None, "when_wanted": when.text, "when_problem": None, "last_date": day}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        changed = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
        if {"service", "when", "staff", "booking_ref"} & changed.keys():
            try:
                events.extend(self._check_time(dispatcher, tracker, changed))
            except db.DatabaseUnavailable:
                apologise_database_down(dispatcher)
                events.append(SlotSet("requested_slot", None))
        return events

    def _check_time(self, dispatcher: CollectingDispatcher, tracker: Tracker, changed: dict) -> list:
        """Whether the chosen time is free for the chosen service (and staff): one check after all slots."""
        biz = business()
        tracker.slots.update(changed)
        start = from_iso(tracker.get_slot("when"), biz)
        service = self.service_for(tracker)
        if start is None or service is None:
            return []
        check = bookings.check_time(
            service,
            start,
            staff=self.staff_for(tracker),
            exclude_reference=self.exclude_reference(tracker),
            biz=biz,
        )
        if check.slot is not None:
            return [SlotSet("when_problem", None), SlotSet("when_wanted", None)]
        return [
            SlotSet("when", None),
            SlotSet("when_problem", check.rejection.reason if check.rejection else "That time isn't available."),
            SlotSet("when_wanted", start.isoformat()),
        ]
