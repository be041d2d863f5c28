"""Talking to a person: the way to the staff, with the opening hours."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import contact_values, language
from core.business import business


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        dispatcher.utter_message(
            response="utter_handoff",
            hours="; ".join(biz.hours_lines(language(tracker))),
            manager=biz.identity.manager,
            **contact_values(biz),
        )
        return []
