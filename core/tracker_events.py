"""Rasa's SQL tracker store (the `events` table): the one module that queries it.

Rasa writes the table (one row per event: sender_id, type_name, a float epoch timestamp, intent_name,
action_name and the event as JSON text) and creates it with its first conversation; this project only
reads it, through the project's database connections: the dashboard's figures and transcripts, and the
nightly archive. Figures are computed in SQL so they stay fast on many events. Senders of the
dashboard's own "try the bot" panel are left out of the figures.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import psycopg2
import psycopg2.errors

from core import db

TRY_SENDER_PREFIX = "dashboard-try-"  # senders of the dashboard's "try the bot" panel, left out of the figures

FALLBACK_INTENTS = ("nlu_fallback", "out_of_scope")
HANDOFF_INTENT = "request_human"
MAX_TRANSCRIPT_EVENTS = 5000


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(text: str) -> str:
    """`text` as a LIKE/ILIKE pattern matching it anywhere, with its own wildcards taken literally."""
    return f"%{_escape_like(text)}%"


_NOT_TRY = "sender_id NOT LIKE %(try_prefix)s"


def _window(since: float, until: float, tz: str) -> dict[str, Any]:
    return {"since": since, "until": until, "tz": tz, "try_prefix": _escape_like(TRY_SENDER_PREFIX) + "%"}


def _present(cur: Any) -> bool:
    cur.execute("SELECT to_regclass('events') IS NOT NULL AS present")
    return bool(cur.fetchone()["present"])


def exists() -> bool:
    """Has Rasa's SQL tracker store created its `events` table yet?"""
    with db.transaction() as cur:
        return _present(cur)


class _NoTable(Exception):
    """Raised inside `_cursor` when Rasa has not created its table (yet): the reader returns nothing."""


@contextmanager
def _cursor() -> Iterator[Any]:
    """A cursor on a database where the table exists; `_NoTable` when it does not (see `_reads`)."""
    with db.transaction() as cur:
        if not _present(cur):
            raise _NoTable
        yield cur


def _reads(empty: Any):
    """A reader of the table that answers `empty` while there is no table (nor when it was just dropped)."""

    def wrap(read):
        @wraps(read)
        def reader(*args: Any, **kwargs: Any) -> Any:
            try:
                return read(*args, **kwargs)
            except (_NoTable, psycopg2.errors.UndefinedTable):
                return empty() if callable(empty) else empty

        return reader

    return wrap


@_reads(list)
def messages_per_day(since: float, until: float, tz: str) -> list[dict[str, Any]]:
    """Per local day: conversations (distinct senders), customer messages, fallbacks and handoff requests."""
    with _cursor() as cur:
        cur.execute(
            "SELECT (to_timestamp(timestamp) AT TIME ZONE %(tz)s)::date AS day,"
            ' count(DISTINCT sender_id COLLATE "C") AS conversations, count(*) AS messages,'
            " count(*) FILTER (WHERE intent_name = ANY(%(fallbacks)s)) AS fallbacks,"
            " count(*) FILTER (WHERE intent_name = %(handoff)s) AS handoffs"
            f" FROM events WHERE type_name = 'user' AND timestamp >= %(since)s AND timestamp < %(until)s AND {_NOT_TRY}"
            " GROUP BY 1 ORDER BY 1",
            {**_window(since, until, tz), "fallbacks": list(FALLBACK_INTENTS), "handoff": HANDOFF_INTENT},
        )
        return [dict(r) for r in cur.fetchall()]


@_reads(0)
def conversation_count(since: float, until: float) -> int:
    """Distinct senders who wrote at least once in the window."""
    with _cursor() as cur:
        cur.execute(
            "SELECT count(DISTINCT sender_id COLLATE \"C\") AS n FROM events WHERE type_name = 'user'"
            f" AND timestamp >= %(since)s AND timestamp < %(until)s AND {_NOT_TRY}",
            _window(since, until, "UTC"),
        )
        return cur.fetchone()["n"]


@_reads(list)
def top_intents(since: float, until: float, limit: int = 10) -> list[dict[str, Any]]:
    with _cursor() as cur:
        cur.execute(
            "SELECT COALESCE(intent_name, '(none)') AS intent, count(*) AS count FROM events"
            f" WHERE type_name = 'user' AND timestamp >= %(since)s AND timestamp < %(until)s AND {_NOT_TRY}"
            " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %(limit)s",
            {**_window(since, until, "UTC"), "limit": limit},
        )
        return [dict(r) for r in cur.fetchall()]


@_reads(list)
def response_times(since: float, until: float, tz: str) -> list[dict[str, Any]]:
    """Seconds from each customer message to the bot's first reply: median and p95 per local day, and overall.

    The overall row has day None. Messages the bot did not answer are not counted.
    """
    with _cursor() as cur:
        cur.execute(
            "WITH ordered AS ("
            "  SELECT sender_id, type_name, timestamp, max(CASE WHEN type_name = 'user' THEN timestamp END)"
            '    OVER (PARTITION BY sender_id COLLATE "C" ORDER BY timestamp, id ROWS UNBOUNDED PRECEDING) AS asked_at'
            "  FROM events WHERE type_name IN ('user', 'bot')"
            f"  AND timestamp >= %(since)s AND timestamp < %(until)s AND {_NOT_TRY}"
            "), answers AS ("
            "  SELECT asked_at, min(timestamp) - asked_at AS seconds FROM ordered"
            "  WHERE type_name = 'bot' AND asked_at IS NOT NULL GROUP BY sender_id COLLATE \"C\", asked_at"
            ")"
            " SELECT (to_timestamp(asked_at) AT TIME ZONE %(tz)s)::date AS day, count(*) AS answered,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median,"
            " percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95"
            " FROM answers GROUP BY GROUPING SETS ((1), ()) ORDER BY 1 NULLS LAST",
            _window(since, until, tz),
        )
        return [dict(r) for r in cur.fetchall()]


@_reads(set)
def senders_with_intent(since: float, until: float, intents: list[str]) -> set[str]:
    with _cursor() as cur:
        cur.execute(
            "SELECT DISTINCT sender_id FROM events WHERE type_name = 'user' AND intent_name = ANY(%(intents)s)"
            f" AND timestamp >= %(since)s AND timestamp < %(until)s AND {_NOT_TRY}",
            {**_window(since, until, "UTC"), "intents": intents},
        )
        return {r["sender_id"] for r in cur.fetchall()}


@_reads(lambda: ([], 0))
def list_conversations(search: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Conversations newest first (by last event), with the last customer message; and how many match.

    `search` matches the sender id or the text of any customer or bot message, case-insensitively.
    """
    with _cursor() as cur:
        cur.execute(
            "WITH conversations AS ("
            "  SELECT sender_id, min(timestamp) AS started, max(timestamp) AS last_active,"
            "   count(*) FILTER (WHERE type_name = 'user') AS messages, max(id) AS last_id"
            "  FROM events GROUP BY sender_id"
            "), matching AS ("
            "  SELECT * FROM conversations c WHERE %(pattern)s::text IS NULL OR c.sender_id ILIKE %(pattern)s"
            "  OR c.sender_id IN (SELECT e.sender_id FROM events e WHERE e.type_name IN ('user', 'bot')"
            "   AND (e.data::json ->> 'text') ILIKE %(pattern)s)"
            ")"
            " SELECT m.sender_id, m.started, m.last_active, m.messages, count(*) OVER () AS total,"
            "  last_user.text AS last_message, last_user.intent_name AS last_intent"
            " FROM matching m LEFT JOIN LATERAL ("
            "  SELECT e.data::json ->> 'text' AS text, e.intent_name FROM events e"
            "  WHERE e.sender_id = m.sender_id AND e.type_name = 'user' ORDER BY e.id DESC LIMIT 1"
            " ) last_user ON true"
            " ORDER BY m.last_active DESC NULLS LAST, m.last_id DESC LIMIT %(limit)s OFFSET %(offset)s",
            {"pattern": like_pattern(search) if search else None, "limit": limit, "offset": offset},
        )
        rows = [dict(r) for r in cur.fetchall()]
        if rows or offset == 0:
            return rows, rows[0]["total"] if rows else 0
    # a page past the end: still say how many there are
    total = list_conversations(search, 1, 0)[1]
    return [], total


@_reads(list)
def conversation_events(sender_id: str) -> list[dict[str, Any]]:
    """Every stored event of one sender, oldest first, with its JSON parsed."""
    with _cursor() as cur:
        cur.execute(
            "SELECT id, type_name, timestamp, intent_name, action_name, data FROM events"
            " WHERE sender_id = %s ORDER BY id LIMIT %s",
            (sender_id, MAX_TRANSCRIPT_EVENTS),
        )
        rows = [dict(r) for r in cur.fetchall()]
    for row in rows:
        try:
            row["data"] = json.loads(row["data"] or "{}")
        except ValueError:
            row["data"] = {}
    return rows


@_reads(dict)
def conversation_languages(sender_ids: list[str]) -> dict[str, str]:
    """The language each conversation is in now: the latest value of its `language` slot."""
    with _cursor() as cur:
        cur.execute(
            "SELECT DISTINCT ON (sender_id) sender_id, data::jsonb ->> 'value' AS language FROM events"
            " WHERE sender_id = ANY(%s) AND type_name = 'slot' AND data::jsonb ->> 'name' = 'language'"
            " ORDER BY sender_id, id DESC",
            (list(sender_ids),),
        )
        return {row["sender_id"]: row["language"] for row in cur.fetchall() if row["language"]}


@_reads(None)
def last_customer_message(sender_id: str) -> float | None:
    """When the customer last wrote (epoch seconds), or None: Messenger's 24-hour window counts from it."""
    with _cursor() as cur:
        cur.execute(
            "SELECT max(timestamp) AS latest FROM events WHERE sender_id = %s AND type_name = 'user'", (sender_id,)
        )
        row = cur.fetchone()
    return row["latest"] if row else None


# --- the nightly archive (deploy/jobs/archive.py) ---------------------------------------------------


def ensure_events_time_index() -> None:
    """An index on Rasa's `events.timestamp`, so a day's export reads one day, not the whole table.

    The table is Rasa's (created by its tracker store), so the index is made here when present, concurrently:
    Rasa keeps writing while it builds.
    """
    if not exists():
        return
    conn = psycopg2.connect(db.database_url(), **db.connection_options("lotus-archive"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS events_timestamp ON events (timestamp)")
    finally:
        conn.close()


def archive_events(since: float, until: float, batch_size: int = 5000) -> Iterator[dict[str, Any]]:
    """Rasa's tracker events with `since <= timestamp < until` (epoch seconds), in (timestamp, id) order."""
    if not exists():
        return iter(())
    return db.stream(
        "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events"
        " WHERE timestamp >= %s AND timestamp < %s ORDER BY timestamp, id",
        (since, until),
        batch_size,
    )
