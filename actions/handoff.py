"""Talking to a person: the handoff is recorded, the customer told a person will reply (with the opening
hours when the spa is closed), and the connector told to pass the thread to the Page inbox. Until it is
handed back the assistant stays quiet (components/handoff_policy.py reads the `handoff_active` slot)."""

from __future__ import annotations

import logging
import time

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import contact_values, language
from core import handoffs
from core.business import business

log = logging.getLogger(__name__)

SLOT = "handoff_active"
# responses that offer a person after the assistant could not read an answer three times
OFFERS_AFTER_FAILING = "utter_explain_"


def reason_of(tracker: Tracker) -> str:
    """Why the customer is handed over: after a failed question offered a person, or on request."""
    events = list(tracker.events)
    latest_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    for event in reversed(events[:latest_user]):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            response = (event.get("metadata") or {}).get("utter_action") or ""
            if response.startswith(OFFERS_AFTER_FAILING):
                return "failed"
    return "request_human"


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        lang = language(tracker)
        reason = reason_of(tracker)
        handoff = handoffs.open_handoff(tracker.sender_id, reason, lang)
        log.info("handoff opened: sender %s, reason %s", tracker.sender_id, reason)
        now = biz.now()
        hours = biz.hours_on(now.date())
        is_open = hours is not None and hours[0] <= now < hours[1]
        dispatcher.utter_message(
            response="utter_handoff" if is_open else "utter_handoff_closed",
            hours="; ".join(biz.hours_lines(lang)),
            **contact_values(biz),
        )
        # for the connector: pass the thread to the Page inbox, tell the staff
        dispatcher.utter_message(json_message={"handoff": {"reason": handoff.reason}})
        return [SlotSet(SLOT, time.time())]


class ActionHandoffStaffReplied(Action):
    """A staff member answered (run by the dashboard through the channel's control route): the quiet time
    starts again from now. Says nothing."""

    def name(self) -> str:
        return "action_handoff_staff_replied"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        if not tracker.get_slot(SLOT):
            return [ActionExecuted("action_listen")]
        return [SlotSet(SLOT, time.time()), ActionExecuted("action_listen")]


class ActionHandoffRelease(Action):
    """Back to the assistant (run by the connector or the dashboard through the channel's control route):
    says nothing."""

    def name(self) -> str:
        return "action_handoff_release"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        closed = handoffs.close_handoff(tracker.sender_id, "inbox")
        if closed is not None:
            log.info("handoff closed: sender %s", tracker.sender_id)
        # run from outside (no prediction follows): waiting for the customer, as after any bot turn, so the
        # next message is read like every other one
        return [SlotSet(SLOT, None), ActionExecuted("action_listen")]
