"""Handoffs to a person: opened when the customer asks for one (or the bot gives up), closed by staff,
by the Page inbox passing the thread back, or on their own after a quiet time; and what staff wrote.

The one module that writes the `handoffs` and `staff_messages` tables. Times are real clock times
(`now` may be given for tests); a handoff is quiet once nobody has touched it for
`HANDOFF_QUIET_HOURS` (its opening or the last staff message).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core import db
from core.settings import settings

REASONS = ("request_human", "complaint", "failed")
QUIET = "quiet"  # `closed_by` of a handoff that went back to the bot on its own


@dataclass(frozen=True)
class Handoff:
    id: int
    sender_id: str
    reason: str
    language: str | None
    opened_at: datetime
    last_activity_at: datetime
    closed_at: datetime | None
    closed_by: str | None

    def waiting_seconds(self, now: datetime | None = None) -> int:
        return max(0, int(((now or utcnow()) - self.opened_at).total_seconds()))


@dataclass(frozen=True)
class StaffMessage:
    id: int
    sender_id: str
    author: str
    text: str
    sent_at: datetime
    messaging_type: str
    tag: str | None


def utcnow() -> datetime:
    return datetime.now(UTC)


def quiet_time() -> timedelta:
    return timedelta(hours=settings().handoff_quiet_hours)


_COLUMNS = "id, sender_id, reason, language, opened_at, last_activity_at, closed_at, closed_by"


def _handoff(row: dict[str, Any]) -> Handoff:
    return Handoff(**{name: row[name] for name in Handoff.__dataclass_fields__})


def _close_quiet(cur: Any, now: datetime, sender_id: str | None = None) -> None:
    cur.execute(
        "UPDATE handoffs SET closed_at = last_activity_at + %(quiet)s, closed_by = %(by)s"
        " WHERE closed_at IS NULL AND last_activity_at + %(quiet)s <= %(now)s"
        " AND (%(sender)s::text IS NULL OR sender_id = %(sender)s)",
        {"quiet": quiet_time(), "by": QUIET, "now": now, "sender": sender_id},
    )


def open_handoff(sender_id: str, reason: str, language: str | None = None, now: datetime | None = None) -> Handoff:
    """Open a handoff for the conversation; an open one is kept (and touched), never doubled."""
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(REASONS)}, got {reason!r}")
    now = now or utcnow()
    with db.transaction() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('handoff:' || %s))", (sender_id,))
        _close_quiet(cur, now, sender_id)
        cur.execute(
            f"UPDATE handoffs SET last_activity_at = %s WHERE sender_id = %s AND closed_at IS NULL RETURNING {_COLUMNS}",
            (now, sender_id),
        )
        row = cur.fetchone()
        if row is None:
            cur.execute(
                "INSERT INTO handoffs (sender_id, reason, language, opened_at, last_activity_at)"
                f" VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                (sender_id, reason, language, now, now),
            )
            row = cur.fetchone()
    return _handoff(row)


def active_handoff(sender_id: str, now: datetime | None = None) -> Handoff | None:
    """The conversation's open handoff, or None (a quiet one is closed on the way)."""
    now = now or utcnow()
    with db.transaction() as cur:
        _close_quiet(cur, now, sender_id)
        cur.execute(f"SELECT {_COLUMNS} FROM handoffs WHERE sender_id = %s AND closed_at IS NULL", (sender_id,))
        row = cur.fetchone()
    return _handoff(row) if row else None


def open_handoffs(now: datetime | None = None) -> list[Handoff]:
    """Every open handoff, longest waiting first (quiet ones are closed on the way)."""
    now = now or utcnow()
    with db.transaction() as cur:
        _close_quiet(cur, now)
        cur.execute(f"SELECT {_COLUMNS} FROM handoffs WHERE closed_at IS NULL ORDER BY opened_at, id")
        return [_handoff(row) for row in cur.fetchall()]


def close_handoff(sender_id: str, closed_by: str, now: datetime | None = None) -> Handoff | None:
    """Close the conversation's open handoff; the closed handoff, or None when none was open."""
    now = now or utcnow()
    with db.transaction() as cur:
        _close_quiet(cur, now, sender_id)
        cur.execute(
            "UPDATE handoffs SET closed_at = %s, closed_by = %s WHERE sender_id = %s AND closed_at IS NULL"
            f" RETURNING {_COLUMNS}",
            (now, closed_by, sender_id),
        )
        row = cur.fetchone()
    return _handoff(row) if row else None


def record_staff_message(
    sender_id: str,
    author: str,
    text: str,
    messaging_type: str,
    tag: str | None = None,
    message_id: str | None = None,
    now: datetime | None = None,
) -> StaffMessage:
    """Keep what staff sent; it also counts as activity on the open handoff (the quiet time starts again)."""
    now = now or utcnow()
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO staff_messages (sender_id, author, text, sent_at, messaging_type, tag, message_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id, sender_id, author, text, sent_at, messaging_type, tag",
            (sender_id, author, text, now, messaging_type, tag, message_id),
        )
        row = cur.fetchone()
        cur.execute(
            "UPDATE handoffs SET last_activity_at = %s WHERE sender_id = %s AND closed_at IS NULL", (now, sender_id)
        )
    return StaffMessage(**{name: row[name] for name in StaffMessage.__dataclass_fields__})


def staff_messages(sender_id: str) -> list[StaffMessage]:
    with db.transaction() as cur:
        cur.execute(
            "SELECT id, sender_id, author, text, sent_at, messaging_type, tag FROM staff_messages"
            " WHERE sender_id = %s ORDER BY sent_at, id",
            (sender_id,),
        )
        return [StaffMessage(**row) for row in cur.fetchall()]
