"""Rasa's REST-channel responses -> Send API `message` objects.

- Text longer than 640 characters is split on sentence boundaries (then on spaces, then hard).
- Buttons, the rule: a link button (`url`) cannot be a quick reply, so a response with a link becomes a
  button template (at most 3 buttons: postback buttons for payloads, `web_url` for links). Every other
  response with buttons becomes quick replies (at most 13, titles cut to 20 characters) on its last text
  chunk. This assistant's buttons answer the question just asked (yes/no, a slot, a service); quick replies
  vanish once the customer moves on, so a stale choice can never be tapped later, which persistent
  template buttons would allow.
- `image` -> an image attachment; `custom` is passed through as the Send API `message` object.
"""

from __future__ import annotations

import re
from typing import Any

TEXT_LIMIT = 640
QUICK_REPLY_LIMIT = 13
TEMPLATE_BUTTON_LIMIT = 3
TITLE_LIMIT = 20
PAYLOAD_LIMIT = 1000
CHOOSE_PROMPT = "Please choose:"

# a sentence (or a line) with the punctuation and whitespace that end it; the pieces join back to the text
_PIECE = re.compile(r"[^.!?\n]*(?:[.!?]+|\n+|$)\s*")


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Chunks of at most `limit` characters, cut after a sentence where possible, never losing a word."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        if len(current) + len(piece.rstrip()) > limit and current.strip():
            chunks.append(current.strip())
            current = ""
        current += piece
    if current.strip():
        chunks.append(current.strip())
    return chunks


def _pieces(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for sentence in _PIECE.findall(text):
        if not sentence:
            continue
        if len(sentence.rstrip()) <= limit:
            pieces.append(sentence)
            continue
        for word in re.findall(r"\S+\s*", sentence):  # an over-long sentence: by words
            while len(word.rstrip()) > limit:  # an over-long word: hard cut
                pieces.append(word[:limit])
                word = word[limit:]
            pieces.append(word)
    return pieces


def _is_link(button: dict[str, Any]) -> bool:
    return bool(button.get("url")) or button.get("type") == "web_url"


def quick_replies(buttons: list[dict[str, Any]]) -> list[dict[str, str]]:
    replies = []
    for button in buttons:
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or title)
        if not title or len(payload) > PAYLOAD_LIMIT:
            continue
        replies.append({"content_type": "text", "title": title[:TITLE_LIMIT], "payload": payload})
    return replies[:QUICK_REPLY_LIMIT]


def template_buttons(buttons: list[dict[str, Any]]) -> list[dict[str, str]]:
    result = []
    for button in buttons[:TEMPLATE_BUTTON_LIMIT]:
        title = str(button.get("title") or "").strip()[:TITLE_LIMIT] or "Open"
        if _is_link(button):
            result.append({"type": "web_url", "url": str(button.get("url") or button.get("payload")), "title": title})
        else:
            payload = str(button.get("payload") or title)[:PAYLOAD_LIMIT]
            result.append({"type": "postback", "title": title, "payload": payload})
    return result


def to_send_api(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The Send API `message` objects for one Rasa response, in the order to send them."""
    messages: list[dict[str, Any]] = []
    custom = response.get("custom")
    if isinstance(custom, dict) and custom:
        return [custom]
    chunks = split_text(str(response.get("text") or ""))
    buttons = [b for b in response.get("buttons") or [] if isinstance(b, dict)]
    if buttons and any(_is_link(b) for b in buttons):
        *first, last = chunks or [CHOOSE_PROMPT]
        messages += [{"text": chunk} for chunk in first]
        payload = {"template_type": "button", "text": last, "buttons": template_buttons(buttons)}
        messages.append({"attachment": {"type": "template", "payload": payload}})
    elif buttons and (replies := quick_replies(buttons)):
        *first, last = chunks or [CHOOSE_PROMPT]
        messages += [{"text": chunk} for chunk in first]
        messages.append({"text": last, "quick_replies": replies})
    else:
        messages += [{"text": chunk} for chunk in chunks]
    image = response.get("image")
    if isinstance(image, str) and image:
        messages.append({"attachment": {"type": "image", "payload": {"url": image, "is_reusable": True}}})
    return messages


def to_send_api_all(responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [message for response in responses for message in to_send_api(response)]
