"""The date and time a form asks for, the day under discussion, and never asking a question a fourth time.

Shared by the booking and the rescheduling forms:
- the date and time are read from the customer's whole message at every prompt (NLU spans are hints),
  so "actually 4pm" while the form asks for the phone changes the time;
- one slot, `discussed_when`, holds the day (and time) under discussion: the one offered, refused or
  accepted last; a time alone ("the 3pm one", "make it 5pm", "half past then") lands on it, in every
  state (any prompt, after a refusal, after an availability offer, when moving a booking);
- after two answers the bot could not use for the same question it explains with an example and offers
  a way out; a third ends the form with the way to a person. Unusable answers are logged, masked.
"""

from __future__ import annotations

import abc
import logging
import re
from datetime import date, datetime, timedelta
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import contact_values, entity_values, language, latest_intent, latest_text, slot_button
from core import bookings
from core.business import Business, business
from core.timeparse import When, combine
from core.values import WhenReading, clean_name, from_iso, mask_text, parse_when, read_phone, read_when

log = logging.getLogger(__name__)

# Intents under which a message may fill a slot from its plain text; a question or another request during
# the form is answered instead (the rules for interruptions).
NOT_AN_ANSWER = {
    "ask_services", "ask_price", "ask_opening_hours", "ask_location", "ask_question",
    "request_human", "bot_challenge", "list_bookings", "goodbye", "thank", "greet",
    "cancel_booking", "out_of_scope",
}  # fmt: skip
# the slots a form asks for whose answers count towards "asked three times, then a way out"
COUNTED = ("service", "when", "person_name", "phone", "booking_ref", "owner_digits")
MAX_UNUSABLE = 3
# slots the extract methods set beside the form's own (kept through rasa-sdk's validation step)
CARRIED = ("when_wanted", "when_problem", "discussed_when", "unusable_answers", "owner_verified", "change_requested")


# --- the day under discussion ----------------------------------------------------------------------


def discussed(tracker: Tracker, biz: Business) -> tuple[date | None, datetime | None]:
    """The day, and the exact time if there is one, under discussion."""
    value = tracker.get_slot("discussed_when")
    if not isinstance(value, str) or not value:
        return None, None
    moment = from_iso(value, biz)
    if moment is not None:
        return moment.date(), moment
    try:
        return date.fromisoformat(value[:10]), None
    except ValueError:
        return None, None


def discussing(day: date | datetime | None) -> dict[str, Any]:
    """The slot change that makes `day` (a date, or an exact time) the one under discussion."""
    if day is None:
        return {}
    return {"discussed_when": day.isoformat()}


_HALF_PAST = re.compile(r"^\W*(?:(?:ok|okay|then|so|and)\W+)*(half|quarter)\s+(past|to)\b", re.I)


def read_customer_when(text: str, tracker: Tracker, biz: Business) -> WhenReading:
    """The date/time of this message, with a time alone placed on the day under discussion."""
    reading = read_when(text, biz)
    day, moment = discussed(tracker, biz)
    if reading.when is None and reading.problem is None and moment is not None:
        half = _HALF_PAST.match(text)  # "half past then": of the hour under discussion
        if half:
            minutes = 30 if half.group(1).lower() == "half" else 15
            base = moment.replace(minute=0) + (
                timedelta(minutes=minutes) if half.group(2).lower() == "past" else timedelta(minutes=-minutes)
            )
            return WhenReading(When(base, base, "exact", True, True, half.group(0)))
    when = reading.when
    if when is not None and when.has_time and not when.has_date and day is not None:
        base = parse_day(day, biz)
        return WhenReading(combine(base, when))
    return reading


def parse_day(day: date, biz: Business) -> When:
    start = datetime.combine(day, datetime.min.time(), biz.tz)
    return When(start, start + timedelta(days=1), "day", True, False, day.isoformat())


def button_when(tracker: Tracker, biz: Business) -> datetime | None:
    """An exact time carried by a button (`/inform{"when": "<ISO>"}`)."""
    for value in entity_values(tracker, "when"):
        moment = from_iso(value, biz)
        if moment is not None:
            return moment
    return None


def first_value(value: Any) -> Any:
    """Slots filled from several entities of one type hold a list; use what the customer meant."""
    if isinstance(value, list):
        return (
            " ".join(str(v) for v in value)
            if value and all(isinstance(v, str) for v in value)
            else (value or [None])[0]
        )
    return value


def refusal_values(rejection_values: dict[str, Any], tracker: Tracker, biz: Business) -> dict[str, Any]:
    """A refusal's values as a reply words them, in the conversation's language."""
    lang = language(tracker)
    values: dict[str, Any] = {}
    for key, value in rejection_values.items():
        if isinstance(value, datetime):
            values[key] = f"{value.astimezone(biz.tz):%H:%M}" if key in ("opens", "closes") else None
            if key == "start":
                values["when"] = biz.when_text(value, lang)
                values["weekday"] = biz.weekday_text(value, lang)
        elif isinstance(value, date):
            values[key] = biz.day_text(value, lang)
        elif isinstance(value, float):
            values[key] = f"{value:g}"
        else:
            values[key] = value
    return {key: value for key, value in values.items() if value is not None}


def say_refusal(
    dispatcher: CollectingDispatcher, code: str, values: dict[str, Any], tracker: Tracker, biz: Business
) -> None:
    dispatcher.utter_message(response=f"utter_refusal_{code}", **refusal_values(values, tracker, biz))


def say_reading_problem(dispatcher: CollectingDispatcher, reading: WhenReading) -> None:
    values = dict(reading.values)
    if "options" in values:
        values["first"], values["second"] = values.pop("options")[:2]
    dispatcher.utter_message(response=f"utter_when_{reading.problem}", **values)


# --- the shared form validation ------------------------------------------------------------------------


def _unusable(tracker: Tracker) -> tuple[str | None, int]:
    value = tracker.get_slot("unusable_answers") or ""
    slot, _, count = str(value).partition(":")
    return (slot or None), int(count) if count.isdigit() else 0


class AskingValidation(FormValidationAction, abc.ABC):
    """A form's validation that counts unusable answers to the question asked, and leaves after three."""

    @abc.abstractmethod
    def name(self) -> str: ...

    def answered(self, requested: str, events: list, tracker: Tracker) -> bool:
        """Did this turn answer (or usefully change) something? A time refused by a rule was understood."""
        useful = {*COUNTED, requested, "when_wanted", "when_problem"}
        return any(e.get("event") == "slot" and e["name"] in useful and e["value"] is not None for e in events)

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list:
        extracted = tracker.slots_to_validate()
        events = await super().get_validation_events(dispatcher, tracker, domain)
        # rasa-sdk keeps only the form's own slots of what the extract methods returned: keep ours too
        validated = {e["name"] for e in events if e.get("event") == "slot"}
        events = [SlotSet(k, v) for k, v in extracted.items() if k in CARRIED and k not in validated] + events
        changed = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
        events += self.after_validation(dispatcher, tracker, changed)
        return events + self.count_unusable(dispatcher, tracker, events)

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict | None:
        """rasa-sdk names the next slot when `required_slots` is overridden; a validation that ended the form
        (requested_slot set to None this turn) keeps it ended."""
        if "requested_slot" in tracker.slots_to_validate() and tracker.slots_to_validate()["requested_slot"] is None:
            return None
        return await super().next_requested_slot(dispatcher, tracker, domain)

    def after_validation(self, dispatcher: CollectingDispatcher, tracker: Tracker, changed: dict) -> list:
        """Events that depend on the slots validated this turn as a whole."""
        return []

    def count_unusable(self, dispatcher: CollectingDispatcher, tracker: Tracker, events: list) -> list:
        requested = tracker.get_slot("requested_slot")
        if requested not in COUNTED or latest_intent(tracker) in NOT_AN_ANSWER:
            return []
        changed = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
        if any(e.get("event") == "active_loop" for e in events) or changed.get("requested_slot", "") is None:
            return []  # the form is ending anyway
        counted_slot, count = _unusable(tracker)
        if self.answered(requested, events, tracker):
            return [SlotSet("unusable_answers", None)] if counted_slot else []
        count = count + 1 if counted_slot == requested else 1
        log.info("unusable answer %d for %s in %s: %r", count, requested, self.name(), mask_text(latest_text(tracker)))
        if count >= MAX_UNUSABLE:
            dispatcher.utter_message(response="utter_give_up", **contact_values())
            return [SlotSet("unusable_answers", None), SlotSet("requested_slot", None)]
        if count == MAX_UNUSABLE - 1:
            dispatcher.utter_message(response=f"utter_explain_{requested}")
        return [SlotSet("unusable_answers", f"{requested}:{count}")]


class DateTimeValidation(AskingValidation, abc.ABC):
    """Validation shared by the forms that ask for a date and time (booking, rescheduling)."""

    def service_for(self, tracker: Tracker) -> str | None:
        return business().match_service(first_value(tracker.get_slot("service")))

    def exclude_reference(self, tracker: Tracker) -> str | None:
        return None

    def staff_for(self, tracker: Tracker) -> str | None:
        return tracker.get_slot("staff")

    def when_allowed(self, tracker: Tracker) -> bool:
        """May this message set the date and time? Not before the form knows what it is about."""
        return True

    async def extract_when(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        """The date/time read from the whole message (or a button), at any prompt of the form."""
        biz = business()
        pressed = button_when(tracker, biz)
        if pressed is not None:
            return {"when": pressed.isoformat(), **discussing(pressed)}
        text = latest_text(tracker)
        requested = tracker.get_slot("requested_slot")
        if not text or latest_intent(tracker) in NOT_AN_ANSWER or not self.when_allowed(tracker):
            return {}
        if requested == "phone" and read_phone(text).phone:
            return {}  # a phone number is not a time
        if requested in ("booking_ref", "owner_digits"):
            return {}
        reading = read_customer_when(text, tracker, biz)
        if requested == "person_name" and clean_name(text) and not (reading.when and reading.when.has_time):
            return {}  # a name is not a date: "Thu Pham" is not Thursday, "Mai" not tomorrow
        if reading.problem:
            say_reading_problem(dispatcher, reading)
            return {"when": None} if requested == "when" else {}
        when = reading.when
        if when is None:
            return {}
        if when.kind == "exact":
            return {"when": when.start.isoformat(), **discussing(when.start)}
        # a whole day or a part of one: offer its free times
        day = when.start.date() if when.has_date and when.end - when.start <= timedelta(days=1) else None
        return {"when": None, "when_wanted": when.text, "when_problem": None, **discussing(day)}

    def validate_when(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        moment = from_iso(first_value(value), business())
        if moment is None:
            return {"when": None}
        return {"when": moment.isoformat(), **discussing(moment)}

    def after_validation(self, dispatcher: CollectingDispatcher, tracker: Tracker, changed: dict) -> list:
        if {"service", "when", "staff", "booking_ref"} & changed.keys():
            return self._check_time(tracker, changed)
        return []

    def _check_time(self, tracker: Tracker, changed: dict) -> list:
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
            SlotSet("when_problem", check.rejection.code if check.rejection else "taken"),
            SlotSet("when_wanted", start.isoformat()),
        ]


# --- offering times ------------------------------------------------------------------------------------


def offer_times(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    service: str | None,
    staff: str | None,
    exclude: str | None,
    question: str,
) -> list:
    """The one way a form asks for a time: say why the last one can't be booked, then offer free times."""
    biz = business()
    lang = language(tracker)
    if service is None:
        dispatcher.utter_message(response=question + "_any")
        return []
    problem = tracker.get_slot("when_problem")
    wanted = tracker.get_slot("when_wanted")
    when: When | None = parse_when(wanted, biz) if wanted else None
    offer = bookings.offer(service, when, staff=staff, exclude_reference=exclude, biz=biz)
    if problem and offer.rejection is not None:
        say_refusal(dispatcher, offer.rejection.code, offer.rejection.values, tracker, biz)
    elif problem:  # e.g. taken while the customer confirmed
        say_refusal(dispatcher, problem, {"start": when.start} if when else {}, tracker, biz)
    buttons = [slot_button(tracker, biz, s, "inform") for s in offer.slots]
    values = {"service": service, "asked": when.text if when else ""}
    if offer.kind == "refused" or (offer.kind == "free" and problem):
        response = "utter_offer_nearest" if buttons else "utter_offer_none_near"
    elif offer.kind == "in_window":
        response = "utter_offer_in_window"
        values["asked"] = window_text(when, biz, lang)
    elif offer.kind == "none_in_window":
        if offer.rejection is not None and not problem:
            say_refusal(dispatcher, offer.rejection.code, offer.rejection.values, tracker, biz)
        response = question + ("_next" if buttons else "")
    else:
        response = question + ("_next" if buttons else "")
    dispatcher.utter_message(response=response, buttons=buttons, **values)
    day = offer.slots[0].start.date() if offer.kind == "in_window" and offer.slots else None
    return [SlotSet("when_problem", None), SlotSet("when_wanted", None), *_slot_events(discussing(day))]


def window_text(when: When | None, biz: Business, lang: str) -> str:
    if when is None:
        return ""
    if when.end - when.start <= timedelta(days=1):
        return biz.day_text(when.start, lang) + (
            f" {when.start:%H:%M}-{when.end:%H:%M}" if when.kind == "window" else ""
        )
    return f"{biz.day_text(when.start, lang)} - {biz.day_text(when.end - timedelta(days=1), lang)}"


def _slot_events(values: dict[str, Any]) -> list:
    return [SlotSet(key, value) for key, value in values.items()]
