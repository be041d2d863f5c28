"""Values read from what customers write, by deterministic code over the whole text, and masked for logs.

Dates and times (read in the business's time zone), phone numbers, booking references and names. NLU
entity spans are hints at most: these readers see the whole message.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from core import timeparse
from core.business import Business, business

log = logging.getLogger(__name__)

PHONE_PATTERN = re.compile(r"\+?\d[\d\s().-]{6,20}\d")
REFERENCE_PATTERN = re.compile(r"\b([A-Za-z]{1,4})-?([A-HJ-NP-Za-hj-np-z2-9]{6})\b")


def mask_phone(phone: str | None) -> str:
    """Personal data in logs: all but the last 3 digits hidden."""
    digits = re.sub(r"\D", "", phone or "")
    return f"***{digits[-3:]}" if digits else ""


def parse_when(text: str | None, biz: Business, *, search: bool = False) -> timeparse.When | None:
    """A customer's date/time words (or an ISO value from a button) read in the business's time zone."""
    if not text:
        return None
    opens, closes = biz.typical_hours()
    options = {
        "tz": biz.identity.timezone,
        "day_first": biz.identity.day_first_dates,
        "open_hour": opens,
        "close_hour": closes,
    }
    now = biz.now()
    try:
        if search:
            return timeparse.find_when(text, now, **options)
        return timeparse.resolve_when(text, now, **options) or timeparse.find_when(text, now, **options)
    except Exception:  # a parser bug must never take the conversation down
        log.exception("time expression could not be read")
        return None


def from_iso(value: Any, biz: Business) -> datetime | None:
    """The datetime in a slot that holds a validated ISO value, else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(biz.tz)


def normalise_phone(text: str | None) -> str | None:
    """A phone number as digits with an optional leading +, or None when it isn't one."""
    if not text:
        return None
    match = PHONE_PATTERN.search(str(text))
    if not match:
        return None
    raw = match.group(0)
    digits = re.sub(r"\D", "", raw)
    if not 8 <= len(digits) <= 15:
        return None
    return ("+" if raw.strip().startswith("+") else "") + digits


def find_reference(text: str | None, biz: Business) -> str | None:
    if not text:
        return None
    prefix = biz.rules.reference_prefix.upper()
    for match in REFERENCE_PATTERN.finditer(str(text)):
        if match.group(1).upper() == prefix:
            return f"{prefix}-{match.group(2).upper()}"
    return None


NAME_PREFIXES = re.compile(
    r"^\s*(my name is|my name's|name is|name's|i am|i'm|im|it's|its|this is|call me|it is|name:|under)\s+",
    re.IGNORECASE,
)


# Words that show a message is a sentence, not a name ("I want to book").
NOT_NAME_WORDS = frozenset(
    [
        "i",
        "me",
        "my",
        "you",
        "your",
        "we",
        "want",
        "need",
        "would",
        "like",
        "please",
        "book",
        "booking",
        "appointment",
        "the",
        "to",
        "for",
        "at",
        "on",
        "in",
        "what",
        "how",
        "why",
        "when",
        "where",
        "can",
        "could",
        "do",
        "does",
        "is",
        "are",
        "not",
        "no",
        "yes",
        "ok",
        "okay",
        "thanks",
        "thank",
        "hello",
        "hi",
        "tomorrow",
        "today",
        "tonight",
        "morning",
        "afternoon",
        "evening",
        "time",
        "later",
        "cancel",
        "change",
    ]
)


def clean_name(text: str | None) -> str | None:
    """A person's name from a short answer, or None when the text isn't one."""
    if not text:
        return None
    name = NAME_PREFIXES.sub("", str(text)).strip(" .!,;:\"'")
    name = re.sub(r"\s+", " ", name)
    if not name or len(name) > 60 or re.search(r"[\d@#$%^&*()_+=<>/\\|{}\[\]?]", name):
        return None
    words = name.split(" ")
    if len(words) > 5 or not all(re.fullmatch(r"[^\W\d_][\w.'-]*", w) for w in words):
        return None
    if any(w.lower() in NOT_NAME_WORDS for w in words) or business().match_service(name):
        return None
    return name.title() if name.islower() or name.isupper() else name
