"""The live inbox: conversations waiting for a person, staff replies through the Send API, and handing a
conversation back to the assistant."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from core import db, handoffs, tracker_events
from core.business import business
from deploy.connector import rasa_client
from deploy.connector.clients import graph_client
from deploy.connector.graph import GraphError
from deploy.connector.window import Purpose, require

log = logging.getLogger(__name__)

MAX_TEXT = 2000
RELEASE_ACTION = "action_handoff_release"
STAFF_REPLIED_ACTION = "action_handoff_staff_replied"  # the quiet time starts again (actions/handoff.py)


class NoHandoff(LookupError):
    """There is no such conversation to hand back."""


class SendFailed(RuntimeError):
    """Messenger did not take the staff reply; the text says why."""


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(business().tz).isoformat(timespec="seconds") if moment else None


def waiting(now: datetime | None = None) -> dict[str, Any]:
    """Open handoffs, longest waiting first: customer, reason, waiting time."""
    now = now or handoffs.utcnow()
    found = handoffs.open_handoffs(now)
    customers = db.customers_by_sender([h.sender_id for h in found]) if found else {}
    items = []
    for handoff in found:
        customer = customers.get(handoff.sender_id)
        items.append(
            {
                "sender_id": handoff.sender_id,
                "customer_name": customer.name if customer else None,
                "reason": handoff.reason,
                "language": handoff.language,
                "opened_at": _iso(handoff.opened_at),
                "waiting_seconds": handoff.waiting_seconds(now),
            }
        )
    return {"items": items, "count": len(items)}


def reply(sender_id: str, text: str, author: str, rasa_url: str, now: datetime | None = None) -> dict[str, Any]:
    """Send a staff text to the customer as Messenger allows it now (see deploy.connector.window)."""
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise ValueError(f"the reply must have between 1 and {MAX_TEXT} characters")
    now = now or handoffs.utcnow()
    last = tracker_events.last_customer_message(sender_id)
    how = require(Purpose.STAFF, datetime.fromtimestamp(last, UTC) if last else None, now, psid=sender_id)
    try:
        sent = graph_client().send_message(sender_id, {"text": text}, messaging_type=how.messaging_type, tag=how.tag)
    except GraphError as err:
        log.error("staff reply not sent: sender %s, HTTP %s, code %s/%s", sender_id, err.status, err.code, err.subcode)
        raise SendFailed(f"Messenger did not take the reply: {err}") from err
    message = handoffs.record_staff_message(
        sender_id, author, text, how.messaging_type or "", how.tag, sent.get("message_id"), now
    )
    if handoffs.active_handoff(sender_id, now) is not None:
        # the assistant's quiet time starts again from this reply
        rasa_client.execute_action(rasa_url, sender_id, STAFF_REPLIED_ACTION)
    log.info("staff reply sent: sender %s, %s %s", sender_id, how.messaging_type, how.tag or "")
    return {
        "sender_id": sender_id,
        "messaging_type": how.messaging_type,
        "tag": how.tag,
        "sent_at": _iso(message.sent_at),
        "message_id": sent.get("message_id"),
    }


def release(sender_id: str, author: str, rasa_url: str, now: datetime | None = None) -> dict[str, Any]:
    """Back to the assistant: the handoff closes, Rasa's quiet state ends, the thread comes back from the
    Page inbox. The assistant says nothing until the customer writes. Safe to repeat (after a failure)."""
    if tracker_events.last_customer_message(sender_id) is None:
        raise NoHandoff(f"no conversation with sender {sender_id!r}")
    closed = handoffs.close_handoff(sender_id, author, now)
    rasa_client.execute_action(rasa_url, sender_id, RELEASE_ACTION)
    try:
        graph_client().take_thread_control(sender_id, metadata="released from the dashboard")
    except GraphError as err:  # the assistant is back either way; Messenger may not have passed the thread
        log.warning("take_thread_control failed: sender %s, HTTP %s, code %s", sender_id, err.status, err.code)
    log.info("handoff released from the dashboard: sender %s", sender_id)
    return {
        "sender_id": sender_id,
        "released": closed is not None,
        "closed_at": _iso(closed.closed_at) if closed else None,
        "closed_by": closed.closed_by if closed else None,
    }


def staff_lines(sender_id: str) -> list[dict[str, Any]]:
    """The staff messages of a conversation as transcript lines (marked as staff)."""
    return [
        {
            "id": f"staff-{m.id}",
            "kind": "staff",
            "at": _iso(m.sent_at),
            "epoch": m.sent_at.timestamp(),
            "text": m.text,
            "author": m.author,
            "tag": m.tag,
        }
        for m in handoffs.staff_messages(sender_id)
    ]
