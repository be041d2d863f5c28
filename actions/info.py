"""Answers about the business: greeting, services, prices, hours, location; what it does not offer.

Every fact comes from the business configuration; every word from the responses in domain.yml.
"""

from __future__ import annotations

import re
from datetime import timedelta

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import bullet_list, button, entity_values, language, latest_text, payload, title, words
from actions.date_time import read_customer_when
from core.business import Business, business

# "do you do eyelash extensions?", "co lam nail gel ko": the thing asked for, when it is not in the catalogue
_DO_YOU_OFFER = re.compile(
    r"\b(?:do|does|can)\s+(?:you|u|ya|the spa|lotus)(?:\s+guys)?\s+(?:do|offer|have|provide|sell|give|make)\s+"
    r"(?:any\s+|a\s+|an\s+)?(?P<thing>[\w' -]{3,40}?)(?:\s+(?:there|here|too|as well|at all|treatments?|services?))?\s*[?.!]*$"
    r"|\b(?:is|are)\s+(?:there\s+)?(?:any\s+)?(?P<thing2>[\w' -]{3,40}?)\s+(?:available|offered|on offer)\b"
    r"|\b(?:có|co)\s+(?:làm|lam|dịch vụ|dich vu|nhận|nhan)\s+(?P<thing3>[\w' -]{2,40}?)\s+(?:không|khong|ko|k|hok|hông)\b",
    re.IGNORECASE,
)
_GENERIC = re.compile(r"^(?:it|that|this|them|bookings?|appointments?|massages?|treatments?|services?|any)$", re.I)


def not_offered(tracker: Tracker, biz: Business) -> str | None:
    """What the customer asked for that the business does not offer, or None (offered, or nothing asked)."""
    text = latest_text(tracker)
    candidates = [v for v in entity_values(tracker, "service") if not biz.match_service(v)]
    match = _DO_YOU_OFFER.search(text)
    if match:
        thing = (match.group("thing") or match.group("thing2") or match.group("thing3") or "").strip(" -'")
        if thing and not _GENERIC.match(thing) and not biz.match_service(thing) and not biz.services_mentioned(text):
            candidates.append(thing)
    return candidates[0] if candidates else None


def say_not_offered(dispatcher: CollectingDispatcher, tracker: Tracker, asked: str, biz: Business) -> None:
    dispatcher.utter_message(
        response="utter_not_offered",
        asked=asked[:60],
        services=", ".join(biz.services),
        buttons=[{"title": title(n), "payload": payload("book_appointment", service=n)} for n in biz.services][:13],
    )


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        first_name = ((tracker.latest_message.get("metadata") or {}).get("first_name") or "").strip()
        buttons = [
            button(tracker, "utter_label_book", "book_appointment"),
            button(tracker, "utter_label_services", "ask_services"),
            button(tracker, "utter_label_my_bookings", "list_bookings"),
        ]
        values = {"business": business().name, "first_name": first_name}
        dispatcher.utter_message(
            response="utter_greet_named" if first_name else "utter_greet", buttons=buttons, **values
        )
        return []


class ActionAnswerServices(Action):
    def name(self) -> str:
        return "action_answer_services"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        asked = not_offered(tracker, biz)
        if asked:
            say_not_offered(dispatcher, tracker, asked, biz)
            return []
        lines = [
            words(
                tracker, "utter_line_service", service=s.name, minutes=s.duration_minutes, price=biz.price_text(s.price)
            )
            for s in biz.config.services
        ]
        dispatcher.utter_message(
            response="utter_services",
            business=biz.name,
            lines=bullet_list(lines),
            buttons=[{"title": title(n), "payload": payload("book_appointment", service=n)} for n in biz.services],
        )
        return []


class ActionAnswerPrice(Action):
    def name(self) -> str:
        return "action_answer_price"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        text = latest_text(tracker)
        named = [s for s in (biz.match_service(v) for v in entity_values(tracker, "service")) if s]
        named = named or biz.services_mentioned(text)
        if named:
            svc = biz.services[named[0]]
            dispatcher.utter_message(
                response="utter_price_one",
                service=svc.name,
                minutes=svc.duration_minutes,
                price=biz.price_text(svc.price),
                buttons=[
                    {
                        "title": words(tracker, "utter_label_book_it"),
                        "payload": payload("book_appointment", service=svc.name),
                    }
                ],
            )
            return [SlotSet("offer", "book"), SlotSet("service", svc.name)]
        asked = not_offered(tracker, biz)
        if asked:
            say_not_offered(dispatcher, tracker, asked, biz)
            return []
        lines = [
            words(
                tracker, "utter_line_price", service=s.name, minutes=s.duration_minutes, price=biz.price_text(s.price)
            )
            for s in biz.config.services
        ]
        dispatcher.utter_message(
            response="utter_price_list",
            lines=bullet_list(lines),
            currency=biz.identity.currency,
            payment_note=biz.identity.note("payment_note", language(tracker)),
        )
        return []


class ActionAnswerHours(Action):
    def name(self) -> str:
        return "action_answer_hours"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        lang = language(tracker)
        asked = read_customer_when(latest_text(tracker), tracker, biz).when if latest_text(tracker) else None
        if asked and asked.has_date and asked.end - asked.start <= timedelta(days=1):
            day = asked.start.date()
            hours = biz.hours_on(day)
            closure = biz.closure_name(day, lang)
            values = {"day": biz.day_text(day, lang)}
            if hours:
                dispatcher.utter_message(
                    response="utter_hours_on_day", opens=f"{hours[0]:%H:%M}", closes=f"{hours[1]:%H:%M}", **values
                )
            elif closure:
                dispatcher.utter_message(response="utter_closed_holiday", holiday=closure, **values)
            else:
                dispatcher.utter_message(response="utter_closed_day", **values)
            return []
        today = biz.now().date()
        closures = [
            words(
                tracker,
                "utter_line_closure",
                name=name,
                days=biz.day_text(first, lang)
                if first == last
                else f"{biz.day_text(first, lang)} - {biz.day_text(last, lang)}",
            )
            for first, last, name in biz.closures_ahead(today, 366, lang)
        ]
        dispatcher.utter_message(
            response="utter_hours", lines=bullet_list(biz.hours_lines(lang)), closures=bullet_list(closures)
        )
        return []
