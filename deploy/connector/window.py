"""What may be sent to a customer, and how, given Messenger's 24-hour standard messaging window.

The one place that decides it. Inside 24 hours of the customer's last message anything goes as a
normal reply (`RESPONSE`). Outside it:
- an appointment reminder, only with the tag `CONFIRMED_EVENT_UPDATE` (always sent with it);
- a staff reply, only with the tag `HUMAN_AGENT`, and only up to 7 days after the customer's last message;
- nothing else. A refusal is logged with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from aws_lambda_powertools import Logger

logger = Logger(service="messenger-connector", child=True)

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
REMINDER_TAG = "CONFIRMED_EVENT_UPDATE"
HUMAN_AGENT_TAG = "HUMAN_AGENT"


class Purpose(Enum):
    REPLY = "reply"  # the assistant answering
    STAFF = "staff"  # a person at the business writing
    REMINDER = "reminder"  # the appointment reminder job


@dataclass(frozen=True)
class Decision:
    allowed: bool
    messaging_type: str | None = None
    tag: str | None = None
    reason: str = ""


class OutsideWindow(Exception):
    """Messenger's rules forbid this message now; the text says why."""


def decide(purpose: Purpose, last_customer_message: datetime | None, now: datetime) -> Decision:
    if purpose is Purpose.REMINDER:
        return Decision(True, "MESSAGE_TAG", REMINDER_TAG, "a reminder of a confirmed appointment")
    age = now - last_customer_message if last_customer_message is not None else None
    if age is not None and age <= STANDARD_WINDOW:
        return Decision(True, "RESPONSE", None, "inside the 24-hour window")
    if purpose is Purpose.STAFF and age is not None and age <= HUMAN_AGENT_WINDOW:
        return Decision(True, "MESSAGE_TAG", HUMAN_AGENT_TAG, "a person replying within 7 days")
    if age is None:
        reason = "the customer has never written to the page"
    elif purpose is Purpose.STAFF:
        reason = "the customer last wrote more than 7 days ago: Messenger allows no staff reply now"
    else:
        reason = "the customer last wrote more than 24 hours ago: only tagged messages may be sent"
    return Decision(False, reason=reason)


def require(purpose: Purpose, last_customer_message: datetime | None, now: datetime, psid: str = "") -> Decision:
    """`decide`, raising `OutsideWindow` (logged with its reason) when the message may not be sent."""
    decision = decide(purpose, last_customer_message, now)
    if not decision.allowed:
        logger.warning("send refused by the messaging window", psid=psid, purpose=purpose.value, reason=decision.reason)
        raise OutsideWindow(decision.reason)
    return decision
