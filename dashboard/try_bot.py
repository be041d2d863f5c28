"""The "try the bot" panel: staff talk to the assistant as a dashboard test sender through the REST channel."""

from __future__ import annotations

import re
from typing import Any

from core.tracker_events import TRY_SENDER_PREFIX
from deploy.connector import rasa_client

SESSION_PATTERN = re.compile(r"[A-Za-z0-9-]{1,40}")
MAX_TEXT = 2000


def send(rasa_url: str, session: str, text: str) -> dict[str, Any]:
    """Send `text` as the session's test sender; Rasa's replies as text, buttons and images."""
    if not SESSION_PATTERN.fullmatch(session):
        raise ValueError("session must be 1-40 letters, digits or dashes")
    if len(text) > MAX_TEXT:
        raise ValueError(f"a message is at most {MAX_TEXT} characters")
    sender = f"{TRY_SENDER_PREFIX}{session}"
    replies = rasa_client.send_message(rasa_url, sender, text, metadata={"source": "dashboard"}, timeout=30)
    return {
        "sender_id": sender,
        "replies": [
            {
                "text": r.get("text"),
                "buttons": [{"title": b.get("title"), "payload": b.get("payload")} for b in r.get("buttons") or []],
                "image": r.get("image"),
            }
            for r in replies
        ],
    }
