"""Conversation control outside the forms: a bare yes or no (or "no wait, 5pm"), leaving a form, and the
language and details read from every message."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.availability import check_availability
from actions.booking_form import BOOKING_SLOTS
from actions.conversation import latest_text
from actions.manage import MANAGE_SLOTS
from core import db
from core.business import business
from core.language import detect
from core.values import clean_name, find_email, read_when

# The actions that end with "shall I book it?" and set the `offer` slot.
OFFERING_ACTIONS = {"action_check_availability", "action_answer_price", "action_list_bookings"}


def offer_pending(tracker: Tracker) -> bool:
    """The bot's last words before this message offered to book (and the customer answers that)."""
    if tracker.get_slot("offer") != "book":
        return False
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return False
            seen_user = True
        elif event.get("event") == "action" and seen_user and event.get("name") not in ("action_listen", None):
            return event.get("name") in OFFERING_ACTIONS
    return False


def names_a_time(tracker: Tracker) -> bool:
    text = latest_text(tracker)
    return bool(text) and read_when(text, business()).when is not None


class ActionYes(Action):
    """ "yes" outside a form: take up the booking just offered, else ask what they'd like."""

    def name(self) -> str:
        return "action_yes"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        if names_a_time(tracker):  # "yes, but at 5pm": check that time (on the day under discussion)
            return [SlotSet("offer", None), *check_availability(dispatcher, tracker)]
        if offer_pending(tracker):
            return [SlotSet("offer", None), FollowupAction("booking_form")]
        dispatcher.utter_message(response="utter_what_can_i_do")
        return [SlotSet("offer", None)]


class ActionNo(Action):
    def name(self) -> str:
        return "action_no"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        if names_a_time(tracker):  # "no wait, 5pm": another time, not a no
            return [SlotSet("offer", None), *check_availability(dispatcher, tracker)]
        if offer_pending(tracker):
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("offer", None), SlotSet("when", None)]
        dispatcher.utter_message(response="utter_alright")
        return [SlotSet("offer", None)]


class ActionStopForm(Action):
    """The customer doesn't want to go on: leave the form and forget its half-made answers."""

    def name(self) -> str:
        return "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        form = tracker.active_loop_name
        dispatcher.utter_message(
            response="utter_stopped_booking" if form == "booking_form" else "utter_stopped_unchanged"
        )
        slots = set(BOOKING_SLOTS) | set(MANAGE_SLOTS) | {"offer"}
        return [ActiveLoop(None), SlotSet("requested_slot", None), *[SlotSet(s, None) for s in sorted(slots)]]


def _answers_the_name_question(tracker: Tracker, text: str) -> bool:
    """The message is a name alone (no "tên mình là ..." around it), given when the form asks for one."""
    if tracker.get_slot("requested_slot") != "person_name" or len(text.split()) > 4:
        return False
    name = clean_name(text)
    return bool(name) and len(name.split()) == len(text.split())


class ActionReadMessage(Action):
    """Run on every customer message (a custom slot mapping): the language it is written in, and an email
    address if it holds one (kept on the customer for their bookings)."""

    def name(self) -> str:
        return "action_read_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        text = tracker.latest_message.get("text") or ""
        previous = tracker.get_slot("language")
        # a name answers the name question in any language ("Minh", "Bao Le"): it keeps the conversation's
        language = previous if previous and _answers_the_name_question(tracker, text) else detect(text, previous)
        events = [] if language == previous else [SlotSet("language", language)]
        email = find_email(text)
        if email and email != tracker.get_slot("email"):
            events.append(SlotSet("email", email))
            db.remember_customer(tracker.sender_id, email=email)
        return events
