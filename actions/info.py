"""Answers about the business: greeting, services, prices, hours, location, a person to talk to.

Every fact comes from the business configuration.
"""

from __future__ import annotations

from datetime import timedelta

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import (
    bullet_list,
    contact_line,
    latest_entity,
    latest_text,
    payload,
)
from core.business import business
from core.values import parse_when


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        first_name = ((tracker.latest_message.get("metadata") or {}).get("first_name") or "").strip()
        hello = f"Hi {first_name}!" if first_name else "Hi there!"
        dispatcher.utter_message(
            text=f"{hello} Welcome to {biz.name}. I can book, move or cancel an appointment, "
            "check free times, or answer your questions. What can I do for you?",
            buttons=[
                {"title": "Book", "payload": "/book_appointment"},
                {"title": "Services & prices", "payload": "/ask_services"},
                {"title": "My bookings", "payload": "/list_bookings"},
            ],
        )
        return []


class ActionAnswerServices(Action):
    def name(self) -> str:
        return "action_answer_services"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        lines = [f"{s.name}: {s.duration_minutes} min, {biz.price_text(s.price)}" for s in biz.config.services]
        dispatcher.utter_message(
            text=f"Here's what we offer at {biz.name}:\n{bullet_list(lines)}\nWhich one would you like?",
            buttons=[
                {"title": name[:20], "payload": payload("book_appointment", service=name)} for name in biz.services
            ],
        )
        return []


class ActionAnswerPrice(Action):
    def name(self) -> str:
        return "action_answer_price"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        service = biz.match_service(latest_entity(tracker, "service")) or biz.match_service(latest_text(tracker))
        if service:
            svc = biz.services[service]
            dispatcher.utter_message(
                text=f"A {svc.name} takes {svc.duration_minutes} minutes and costs {biz.price_text(svc.price)}. "
                "Would you like to book one?",
                buttons=[{"title": f"Book {svc.name}"[:20], "payload": payload("book_appointment", service=service)}],
            )
            return [SlotSet("offer", "book"), SlotSet("service", service)]
        lines = [f"{s.name} ({s.duration_minutes} min): {biz.price_text(s.price)}" for s in biz.config.services]
        note = f"\nPrices are in {biz.identity.currency}"
        note += f"; {biz.identity.payment_note}." if biz.identity.payment_note else "."
        dispatcher.utter_message(text=f"Our prices:\n{bullet_list(lines)}{note}")
        return []


class ActionAnswerHours(Action):
    def name(self) -> str:
        return "action_answer_hours"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        asked = parse_when(latest_entity(tracker, "when"), biz) or parse_when(latest_text(tracker), biz, search=True)
        if asked and asked.has_date and asked.end - asked.start <= timedelta(days=1):
            day = asked.start.date()
            hours = biz.hours_on(day)
            closure = biz.closure_name(day)
            if hours:
                text = f"On {biz.day_text(day)} we're open {hours[0]:%H:%M} - {hours[1]:%H:%M}."
            elif closure:
                text = f"We're closed on {biz.day_text(day)} ({closure})."
            else:
                text = f"We're closed on {biz.day_text(day)}."
            dispatcher.utter_message(text=text)
            return []
        closed = [f"{c.date[3:]}/{c.date[:2]} ({c.name})" for c in biz.config.closures.recurring]
        ranges = [f"{r.from_:%d/%m} - {r.to:%d/%m/%Y} ({r.name})" for r in biz.config.closures.ranges]
        text = f"Our opening hours:\n{bullet_list(biz.hours_lines())}"
        if closed or ranges:
            text += f"\nWe're closed on public holidays: {', '.join(closed + ranges)}."
        dispatcher.utter_message(text=text)
        return []


class ActionAnswerLocation(Action):
    def name(self) -> str:
        return "action_answer_location"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        ident = business().identity
        where = ident.address + (f" ({ident.address_note})" if ident.address_note else "")
        dispatcher.utter_message(
            text=f"You'll find us at {where}. Phone: {ident.phone}"
            + (f" ({ident.phone_note})" if ident.phone_note else "")
            + "."
        )
        return []


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        ident = biz.identity
        manager = f" Our manager, {ident.manager}, handles complaints and anything I can't." if ident.manager else ""
        hours = "; ".join(biz.hours_lines())
        dispatcher.utter_message(
            text=f"Of course. To talk to a person, {contact_line(biz)} (phone during opening hours: {hours}; "
            f"we answer email within one working day).{manager}"
        )
        return []
