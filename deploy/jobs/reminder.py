"""ReminderJob: one Messenger reminder per confirmed appointment, about 24 hours before it starts.

Each hourly run messages every confirmed, not yet reminded booking that starts 23 to 25 hours ahead (the
window is wider than the schedule, so a late or failed run is caught up by the next one). The customer is
the booking's sender id (a Messenger PSID). Outside Messenger's 24-hour window a message needs a tag:
`MESSAGE_TAG` / `CONFIRMED_EVENT_UPDATE`, the tag for a reminder of a confirmed appointment.

Exactly once, even when runs overlap: each booking is claimed in its own transaction (`FOR UPDATE SKIP
LOCKED`, `reminded_at` set), the message is sent while the row is locked, and only then is the mark
committed. A run never sees a booking another run holds or has committed.

When sending fails:
- transient (timeouts, 429, 5xx, after the Graph client's own retries): the transaction rolls back, the
  booking stays unreminded and the next hourly run tries again while it is still in the window; this run
  moves on to the other bookings;
- permanent (Messenger refuses: the customer blocked the page, the tag is not allowed...): the booking is
  marked reminded with the refusal's code in its history, so it is never retried (retrying cannot help).
One case can still send twice: Messenger accepted a message but its answer was lost (a timeout after
delivery) or the commit failed after the send; the booking is then reminded again on the next run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from core import db
from core.business import Business, business
from deploy.connector.clients import graph_client
from deploy.connector.graph import GraphClient, GraphRejected, GraphUnavailable
from deploy.connector.window import Purpose, decide
from deploy.jobs.config import use_database_secret

logger = Logger(service="lotus-jobs", child=True)

WINDOW_START = timedelta(hours=23)
WINDOW_END = timedelta(hours=25)
ACTOR = "reminder"


@dataclass
class RunSummary:
    sent: list[str] = field(default_factory=list)  # booking references
    refused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": len(self.sent), "refused": len(self.refused), "failed": len(self.failed)}


def reminder_text(booking: db.Booking, biz: Business) -> str:
    return (
        f"Hi {booking.customer_name}, a reminder from {biz.name}: your {booking.service} with {booking.staff}"
        f" is on {biz.when_text(booking.starts_at)}. Your booking reference is {booking.reference}."
        f" If you can't make it, just reply \"cancel my booking\" and I'll cancel it for you."
    )


def send_due_reminders(graph: GraphClient, now: datetime | None = None) -> RunSummary:
    """Message every due booking once; see the module's docstring for what a failure does."""
    biz = business()
    now = now or biz.now()
    start, end = now + WINDOW_START, now + WINDOW_END
    summary = RunSummary()
    failed_ids: list[int] = []
    while True:
        claimed: db.Booking | None = None
        try:
            with db.claim_due_reminder(start, end, now, skip=failed_ids, actor=ACTOR) as claim:
                if claim is None:
                    break
                claimed = claim.booking
                how = decide(Purpose.REMINDER, None, now)  # the messaging window's rule for reminders
                try:
                    graph.send_message(
                        claimed.sender_id,
                        {"text": reminder_text(claimed, biz)},
                        messaging_type=how.messaging_type,
                        tag=how.tag,
                    )
                    claim.details.update(sent=True)
                    summary.sent.append(claimed.reference)
                except GraphRejected as err:
                    claim.details.update(sent=False, status=err.status, code=err.code, subcode=err.subcode)
                    summary.refused.append(claimed.reference)
                    logger.warning("reminder refused", reference=claimed.reference, code=err.code, subcode=err.subcode)
        except GraphUnavailable as err:
            assert claimed is not None
            failed_ids.append(claimed.id)
            summary.failed.append(claimed.reference)
            logger.warning("reminder not sent, retried next run", reference=claimed.reference, status=err.status)
    logger.info("reminders", **summary.as_dict())
    return summary


def run(event: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Lambda's one call."""
    use_database_secret()
    return send_due_reminders(graph_client()).as_dict()
