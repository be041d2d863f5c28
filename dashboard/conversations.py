"""Conversations as staff read them: the list, and one transcript with what the assistant understood and did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core import db, handoffs, tracker_events
from core.business import business
from core.tracker_events import TRY_SENDER_PREFIX
from core.values import mask_phone
from dashboard.bookings import booking_summary
from dashboard.handoffs import staff_lines

MAX_PER_PAGE = 100


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, business().tz).isoformat(timespec="seconds")


def page(search: str | None = None, page_number: int = 1, per_page: int = 25) -> dict[str, Any]:
    """One page of conversations, newest first; customers' phones masked."""
    if page_number < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"page must be 1 or more and per_page between 1 and {MAX_PER_PAGE}")
    search = (search or "").strip() or None
    rows, total = tracker_events.list_conversations(search, per_page, (page_number - 1) * per_page)
    customers = db.customers_by_sender([r["sender_id"] for r in rows]) if rows else {}
    languages = tracker_events.conversation_languages([r["sender_id"] for r in rows]) if rows else {}
    items = []
    for row in rows:
        customer = customers.get(row["sender_id"])
        items.append(
            {
                "sender_id": row["sender_id"],
                "started_at": _iso(row["started"]),
                "last_active_at": _iso(row["last_active"]),
                "messages": row["messages"],
                "last_message": row["last_message"],
                "last_intent": row["last_intent"],
                "customer_name": customer.name if customer else None,
                "customer_phone": mask_phone(customer.phone) if customer else "",
                "language": languages.get(row["sender_id"]) or (customer.language if customer else None),
                "test": row["sender_id"].startswith(TRY_SENDER_PREFIX),
            }
        )
    return {"items": items, "total": total, "page": page_number, "per_page": per_page, "search": search}


def _entities(parse_data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "entity": e.get("entity"),
            "value": e.get("value"),
            "text": e.get("text") if "text" in e else None,
            "confidence": e.get("confidence_entity"),
            "extractor": e.get("extractor"),
        }
        for e in parse_data.get("entities") or []
    ]


def transcript_item(row: dict[str, Any]) -> dict[str, Any]:
    """One stored Rasa event as a transcript line."""
    data = row["data"]
    kind = row["type_name"]
    item: dict[str, Any] = {"id": row["id"], "kind": kind, "at": _iso(row["timestamp"])}
    if kind == "user":
        parse = data.get("parse_data") or {}
        intent = parse.get("intent") or {}
        item.update(
            text=data.get("text"),
            intent=intent.get("name") or row["intent_name"],
            confidence=intent.get("confidence"),
            entities=_entities(parse),
            channel=data.get("input_channel"),
        )
    elif kind == "bot":
        extra = data.get("data") or {}
        item.update(
            text=data.get("text"),
            buttons=[{"title": b.get("title"), "payload": b.get("payload")} for b in extra.get("buttons") or []],
            image=extra.get("image"),
            response=(data.get("metadata") or {}).get("utter_action"),
        )
    elif kind == "action":
        item.update(name=data.get("name") or row["action_name"], policy=data.get("policy"))
        item["confidence"] = data.get("confidence")
    elif kind == "slot":
        item.update(name=data.get("name"), value=data.get("value"))
    elif kind == "active_loop":
        item.update(name=data.get("name"))
    return item


def transcript(sender_id: str) -> dict[str, Any] | None:
    """The whole conversation of one sender, or None when there is none."""
    rows = tracker_events.conversation_events(sender_id)
    if not rows:
        return None
    customer = db.customers_by_sender([sender_id]).get(sender_id)
    # what staff wrote, in time order among the assistant's events, marked as staff
    lines = [(r["timestamp"], transcript_item(r)) for r in rows]
    lines += [(staff.pop("epoch"), staff) for staff in staff_lines(sender_id)]
    lines.sort(key=lambda line: line[0])
    handoff = handoffs.active_handoff(sender_id)
    return {
        "sender_id": sender_id,
        "customer_name": customer.name if customer else None,
        "customer_phone": mask_phone(customer.phone) if customer else "",
        "test": sender_id.startswith(TRY_SENDER_PREFIX),
        "events": [item for _, item in lines],
        "handoff": {"reason": handoff.reason, "opened_at": _iso(handoff.opened_at.timestamp())} if handoff else None,
        "bookings": [booking_summary(b) for b in db.bookings_of_sender(sender_id)],
        "truncated": len(rows) >= tracker_events.MAX_TRANSCRIPT_EVENTS,
    }
