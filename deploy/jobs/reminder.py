"""ReminderJob: one Messenger reminder per confirmed appointment, about 24 hours before it starts.

Each hourly run messages every confirmed, not yet reminded booking that starts 23 to 25 hours ahead (the
window is wider than the schedule, so a late or failed run is caught up by the next one). The customer is
the booking's sender id (a Messenger PSID). Outside Messenger's 24-hour window a message needs a tag:
`MESSAGE_TAG` / `CONFIRMED_EVENT_UPDATE`, the tag for a reminder of a confirmed appointment.

Never twice, even when runs overlap or one dies mid-send: each booking is claimed and marked reminded
(`FOR UPDATE SKIP LOCKED`, `reminded_at` committed) before its message is sent, so no other run and no
rerun sees it again (core.db.claim_due_reminder).

When sending fails:
- it surely did not arrive (no connection, 429, 5xx, after the Graph client's own retries), or the Page
  token or a permission was refused (the `GraphAuthRefused` alarm fires): the mark is taken back, the
  next hourly run tries again while the booking is still in the window; this run moves on;
- the message went out but its answer was lost (a read timeout): it may have arrived, so the booking stays
  reminded (history: `sent: null`, unconfirmed) and is never sent again;
- permanent (the customer blocked the page, the tag is not allowed...): the booking is marked reminded
  with the refusal's code in its history, so it is never retried (retrying cannot help).
A run that dies between the mark and the send leaves that booking unreminded: at most once, never twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from core import db, responses
from core.business import Business, business
from deploy.connector.clients import graph_client
from deploy.connector.graph import GraphAuthRefused, GraphClient, GraphRejected, GraphUnavailable, GraphUncertain
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
    unconfirmed: list[str] = field(default_factory=list)  # sent, its answer lost: never sent again

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": len(self.sent),
            "refused": len(self.refused),
            "failed": len(self.failed),
            "unconfirmed": len(self.unconfirmed),
        }


def reminder_text(booking: db.Booking, biz: Business) -> str:
    """The reminder (response `utter_reminder` of domain.yml) in the language the customer writes in."""
    return responses.render(
        "utter_reminder",
        booking.language,
        name=booking.customer_name,
        business=biz.name,
        service=booking.service,
        staff=booking.staff,
        when=biz.when_text(booking.starts_at, booking.language),
        reference=booking.reference,
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
                except GraphUncertain:
                    claim.details.update(sent=None, unconfirmed=True)
                    summary.unconfirmed.append(claimed.reference)
                    logger.warning("reminder unconfirmed, not sent again", reference=claimed.reference)
                except GraphRejected as err:
                    claim.details.update(sent=False, status=err.status, code=err.code, subcode=err.subcode)
                    summary.refused.append(claimed.reference)
                    logger.warning("reminder refused", reference=claimed.reference, code=err.code, subcode=err.subcode)
        except (GraphUnavailable, GraphAuthRefused) as err:
            assert claimed is not None
            failed_ids.append(claimed.id)
            summary.failed.append(claimed.reference)
            logger.warning(
                "reminder not sent, retried next run", reference=claimed.reference, status=err.status, code=err.code
            )
    logger.info("reminders", **summary.as_dict())
    return summary


def run(event: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Lambda's one call."""
    use_database_secret()
    return send_due_reminders(graph_client()).as_dict()
