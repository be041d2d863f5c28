"""Helpers shared by the action modules: reading the tracker, the conversation's language, buttons.

Replies are responses of domain.yml (`dispatcher.utter_message(response="utter_...", **values)`); the
values that depend on the language (dates, button titles) are formatted here in the conversation's
language, the words around them stay in the YAML. No Action classes live here (rasa-sdk would register
them).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from core import responses
from core.business import Business, business
from core.db import Booking
from core.scheduling import Slot

log = logging.getLogger(__name__)

# Messenger cuts quick-reply and button titles at 20 characters
TITLE_LIMIT = 20


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [str(e["value"]) for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity]


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    values = entity_values(tracker, entity)
    return values[0] if values else None


def slot_before_message(tracker: Tracker, slot: str) -> Any:
    """The value `slot` had before the customer's latest message (what its extraction may have overwritten)."""
    events = tracker.events
    latest = next((i for i in range(len(events) - 1, -1, -1) if events[i].get("event") == "user"), 0)
    for event in reversed(events[:latest]):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
    return None


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def latest_text(tracker: Tracker) -> str:
    """What the customer wrote; a button payload ("/affirm", "/inform{...}") counts as no text."""
    text = tracker.latest_message.get("text") or ""
    return "" if text.lstrip().startswith("/") else text


def language(tracker: Tracker) -> str:
    """The conversation's language (the `language` slot, set on every message), English until known."""
    value = tracker.get_slot("language")
    return value if value in responses.LANGUAGES else responses.DEFAULT_LANGUAGE


def words(tracker: Tracker, name: str, /, **values: Any) -> str:
    """A response's text in the conversation's language, for a piece of a reply (a line, a title)."""
    return responses.render(name, language(tracker), **values)


def payload(intent: str, **entities: Any) -> str:
    """A button payload that Rasa reads as an intent with entities."""
    values = {key: value for key, value in entities.items() if value is not None}
    return f"/{intent}{json.dumps(values, ensure_ascii=False)}" if values else f"/{intent}"


def title(text: str) -> str:
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1].rstrip() + "…"


def button(tracker: Tracker, label: str, intent: str, **entities: Any) -> dict[str, str]:
    """A button whose title is the response `label` (in the conversation's language)."""
    return {"title": title(words(tracker, label, **entities)), "payload": payload(intent, **entities)}


def slot_button(tracker: Tracker, biz: Business, slot: Slot, intent: str, **extra: Any) -> dict[str, str]:
    return {
        "title": title(biz.slot_text(slot.start, language(tracker))),
        "payload": payload(intent, when=slot.start.astimezone(biz.tz).isoformat(), **extra),
    }


def service_buttons(biz: Business, intent: str = "inform") -> list[dict[str, str]]:
    return [{"title": title(name), "payload": payload(intent, service=name)} for name in biz.services]


def booking_line(tracker: Tracker, biz: Business, booking: Booking) -> str:
    return words(
        tracker,
        "utter_line_booking",
        service=booking.service,
        staff=booking.staff,
        when=biz.when_text(booking.starts_at, language(tracker)),
        reference=booking.reference,
    )


def booking_button(tracker: Tracker, biz: Business, booking: Booking, intent: str = "inform") -> dict[str, str]:
    return {
        "title": title(f"{biz.slot_text(booking.starts_at, language(tracker))} {booking.service}"),
        "payload": payload(intent, booking_ref=booking.reference),
    }


def contact_values(biz: Business | None = None) -> dict[str, str]:
    """The business's phone and email, for the responses that hand over to a person."""
    ident = (biz or business()).identity
    return {"phone": ident.phone, "email": ident.email}


def apologise_database_down(dispatcher: CollectingDispatcher, biz: Business | None = None) -> None:
    dispatcher.utter_message(response="utter_database_down", **contact_values(biz))


def bullet_list(lines: Iterable[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)
