"""Conversation control outside the forms: a bare yes or no, and leaving a form."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking_form import BOOKING_SLOTS

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


class ActionYes(Action):
    """ "yes" outside a form: take up the booking just offered, else ask what they'd like."""

    def name(self) -> str:
        return "action_yes"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        if offer_pending(tracker):
            return [SlotSet("offer", None), FollowupAction("booking_form")]
        dispatcher.utter_message(
            text="Sure! What can I do for you? I can book, move or cancel an appointment, check free times, "
            "or answer a question."
        )
        return [SlotSet("offer", None)]


class ActionNo(Action):
    def name(self) -> str:
        return "action_no"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        if offer_pending(tracker):
            dispatcher.utter_message(text="No problem. Is there anything else I can help with?")
            return [SlotSet("offer", None), SlotSet("when", None)]
        dispatcher.utter_message(text="Alright. If you need anything else, just write.")
        return [SlotSet("offer", None)]


class ActionStopForm(Action):
    """The customer doesn't want to go on: leave the form and forget its half-made answers."""

    def name(self) -> str:
        return "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        form = tracker.active_loop_name
        what = {"booking_form": "nothing was booked", "cancel_form": "your booking is unchanged",
                "reschedule_form": "your booking is unchanged"}.get(form or "", "nothing was changed")  # fmt: skip
        dispatcher.utter_message(text=f"OK, I've stopped there; {what}. Anything else I can do for you?")
        slots = set(BOOKING_SLOTS) | {"booking_ref", "cancel_confirmed", "reschedule_confirmed", "offer"}
        return [ActiveLoop(None), SlotSet("requested_slot", None), *[SlotSet(s, None) for s in sorted(slots)]]
