"""Helpers shared by the action modules: reading the tracker, formatting replies.

No Action classes live here (rasa-sdk would register them).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from core import db
from core.business import Business, business
from core.db import Booking
from core.scheduling import Slot

log = logging.getLogger(__name__)


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [str(e["value"]) for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity]


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    values = entity_values(tracker, entity)
    return values[0] if values else None


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def payload(intent: str, **entities: Any) -> str:
    """A button payload that Rasa reads as an intent with entities."""
    values = {key: value for key, value in entities.items() if value is not None}
    return f"/{intent}{json.dumps(values, ensure_ascii=False)}" if values else f"/{intent}"


def slot_button(biz: Business, slot: Slot, intent: str, **extra: Any) -> dict[str, str]:
    start = slot.start.astimezone(biz.tz)
    return {
        "title": f"{start:%a} {start.day} {start:%b} {start:%H:%M}",
        "payload": payload(intent, when=start.isoformat(), **extra),
    }


def yes_no_buttons() -> list[dict[str, str]]:
    return [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


def service_buttons(biz: Business, intent: str = "inform") -> list[dict[str, str]]:
    return [{"title": name, "payload": payload(intent, service=name)} for name in biz.services]


def booking_line(biz: Business, booking: Booking) -> str:
    return f"{booking.service} with {booking.staff} on {biz.when_text(booking.starts_at)} (ref {booking.reference})"


def booking_button(biz: Business, booking: Booking, intent: str = "inform") -> dict[str, str]:
    start = booking.starts_at.astimezone(biz.tz)
    return {
        "title": f"{booking.service[:20]} {start:%a} {start.day} {start:%b} {start:%H:%M}",
        "payload": payload(intent, booking_ref=booking.reference),
    }


def contact_line(biz: Business) -> str:
    ident = biz.identity
    return f"call us on {ident.phone} or email {ident.email}"


def apologise_database_down(dispatcher: CollectingDispatcher, biz: Business | None = None) -> None:
    biz = biz or business()
    dispatcher.utter_message(
        text=(
            "Sorry, I can't reach our booking system right now, so nothing has been changed. "
            f"Please try again in a few minutes, or {contact_line(biz)}."
        )
    )


def guarded(action_run: Callable) -> Callable:
    """Wrap an action's run: a database outage becomes an apology, never a crash."""

    @wraps(action_run)
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        try:
            return await action_run(self, dispatcher, tracker, domain)
        except db.DatabaseUnavailable as err:
            log.error("database unavailable in %s: %s", self.name(), err)
            apologise_database_down(dispatcher)
            return []

    return run


def bullet_list(lines: Iterable[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)
