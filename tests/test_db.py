"""The database as system of record, on a real PostgreSQL: constraints, limits, history."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg2
import pytest

from core import bookings, db
from core.business import business
from core.settings import settings

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=TZ)


def book(sender: str, start: datetime, service: str = "Swedish Massage", staff: str | None = "Mai") -> db.Booking:
    return bookings.book(
        sender_id=sender,
        customer_name=f"Customer {sender}",
        customer_phone="0903123456",
        service=service,
        start=start,
        staff=staff,
        actor=f"customer:{sender}",
    )


def test_migrations_are_idempotent(database):
    assert db.migrate() == []
    with db.transaction() as cur:
        cur.execute("SELECT version FROM schema_migrations")
        applied = [r["version"] for r in cur.fetchall()]
    assert applied == sorted(p.stem for p in (Path(db.__file__).parent / "migrations").glob("*.sql"))
    assert applied[0] == "001_bookings"


def test_catalogue_is_seeded_from_the_business_file(database):
    bookings.seed_catalogue()  # a second time changes nothing
    with db.transaction() as cur:
        cur.execute("SELECT name, duration_minutes, price FROM services WHERE active ORDER BY name")
        rows = {r["name"]: (r["duration_minutes"], r["price"]) for r in cur.fetchall()}
        cur.execute("SELECT staff FROM staff_services WHERE service = 'Manicure' ORDER BY staff")
        manicurists = [r["staff"] for r in cur.fetchall()]
    assert rows["Hot Stone Massage"] == (90, Decimal("70.00"))
    assert len(rows) == 7
    assert manicurists == ["An", "Linh"]


def test_booking_is_written_with_reference_and_history(clean_db):
    made = book("psid-1", at(2, 15))
    assert made.reference.startswith("LS-") and len(made.reference) == 9
    assert made.ends_at == at(2, 16)
    assert made.price == Decimal("45.00")
    assert db.get_booking(made.reference.lower()).id == made.id
    assert [h["action"] for h in db.booking_history(made.reference)] == ["created"]
    customer = db.find_customer("psid-1")
    assert (customer.name, customer.phone) == ("Customer psid-1", "0903123456")


def test_any_staff_picks_a_free_qualified_person(clean_db):
    first = book("a", at(2, 15), staff=None)
    second = book("b", at(2, 15), staff=None)
    assert {first.staff, second.staff} == {"Mai", "Tuan"}
    with pytest.raises(db.SlotTaken):
        book("c", at(2, 15), staff=None)


def test_twenty_concurrent_attempts_at_one_slot_give_one_booking(clean_db):
    barrier = threading.Barrier(20)

    def attempt(n: int) -> str:
        barrier.wait()
        try:
            book(f"racer-{n}", at(3, 10), staff="Mai")
            return "booked"
        except db.SlotTaken:
            return "taken"

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(attempt, range(20)))
    assert results.count("booked") == 1 and results.count("taken") == 19
    with db.transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM bookings WHERE staff = 'Mai' AND status = 'confirmed'")
        assert cur.fetchone()["n"] == 1


def test_customer_limit_holds_under_concurrent_requests(clean_db):
    barrier = threading.Barrier(8)
    starts = [at(day, 10) for day in (2, 3, 4, 5, 8, 9, 10, 11)]

    def attempt(start: datetime) -> str:
        barrier.wait()
        try:
            book("greedy", start, staff=None)
            return "booked"
        except db.CustomerLimitReached:
            return "limit"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, starts))
    assert results.count("booked") == 3
    assert len(db.upcoming_bookings("greedy", business().now())) == 3


def test_the_database_itself_refuses_overlaps(clean_db):
    made = book("x", at(2, 15))
    with pytest.raises(psycopg2.errors.ExclusionViolation), db.transaction() as cur:
        cur.execute(
            "INSERT INTO bookings (reference, customer_id, customer_name, customer_phone, service, staff,"
            " starts_at, ends_at, price) VALUES ('LS-ZZZZZZ', %s, 'n', 'p', 'Swedish Massage', 'Mai', %s, %s, 45)",
            (made.customer_id, at(2, 15, 30), at(2, 16, 30)),
        )


def test_cancel_and_reschedule_keep_history_and_free_the_slot(clean_db):
    made = book("y", at(3, 15))
    moved = bookings.reschedule(made.reference, at(4, 11), actor="customer:y")
    assert (moved.starts_at, moved.staff) == (at(4, 11), "Mai")
    other = book("z", at(3, 15))  # the old slot is free again
    assert other.staff == "Mai"
    cancelled = bookings.cancel(made.reference, actor="staff:dashboard")
    assert cancelled.status == "cancelled" and cancelled.cancellation_fee == Decimal("0.00")
    history = db.booking_history(made.reference)
    assert [h["action"] for h in history] == ["created", "rescheduled", "cancelled"]
    assert history[-1]["actor"] == "staff:dashboard"
    assert history[1]["details"]["from"].startswith("2026-12-03T")
    with pytest.raises(bookings.Refused) as refused:
        bookings.cancel(made.reference, actor="customer:y")
    assert refused.value.code == "not_confirmed" and refused.value.values["status"] == "cancelled"


def test_late_cancellation_costs_half(clean_db):
    made = book("late", at(2, 9))  # 23 hours ahead of the pinned now
    assert bookings.cancel(made.reference, actor="customer:late").cancellation_fee == Decimal("22.50")


def test_bookings_and_history_are_never_deleted(clean_db):
    made = book("keep", at(2, 15))
    for statement in ("DELETE FROM bookings WHERE id = %s", "DELETE FROM booking_history WHERE booking_id = %s"):
        with pytest.raises(psycopg2.errors.RaiseException, match="kept for good"), db.transaction() as cur:
            cur.execute(statement, (made.id,))
    assert db.get_booking(made.reference).status == "confirmed"


def test_rules_are_checked_before_writing(clean_db):
    with pytest.raises(bookings.Refused) as refused:
        book("sun", at(6, 11))
    assert refused.value.code == "closed_day"
    with pytest.raises(bookings.Refused) as refused:
        book("soon", at(1, 11))
    assert refused.value.code == "too_soon"
    assert db.list_bookings() == []


def _hold_row_then(reference: str, change, started: threading.Event, release: threading.Event) -> None:
    """Another writer (staff, say): lock the booking's row, wait, apply `change`, commit."""
    with db.transaction() as cur:
        cur.execute("SELECT id FROM bookings WHERE reference = %s FOR UPDATE", (reference,))
        started.set()
        release.wait(10)
        change(cur)


def test_staff_cancel_racing_a_customer_move_leaves_the_booking_cancelled(clean_db):
    made = book("mover", at(4, 11))
    started, release = threading.Event(), threading.Event()

    def cancel(cur) -> None:
        cur.execute("UPDATE bookings SET status = 'cancelled' WHERE reference = %s", (made.reference,))

    staff = threading.Thread(target=_hold_row_then, args=(made.reference, cancel, started, release))
    staff.start()
    started.wait(10)
    outcome: dict[str, Exception] = {}

    def move() -> None:
        try:
            bookings.reschedule(made.reference, at(4, 15), actor="customer:mover")
        except Exception as err:  # noqa: BLE001 - the outcome is what the test checks
            outcome["error"] = err

    customer = threading.Thread(target=move)
    customer.start()  # checked the status before the lock: confirmed; now it waits for the row
    time.sleep(0.5)
    release.set()
    staff.join(10)
    customer.join(10)
    assert isinstance(outcome.get("error"), bookings.Refused) and outcome["error"].code == "not_confirmed"
    stored = db.get_booking(made.reference)
    assert stored.status == "cancelled" and stored.starts_at == at(4, 11)


def test_the_cancellation_fee_is_read_from_the_locked_row(clean_db):
    made = book("late", at(5, 10))  # days ahead: free to cancel, until staff move it to tomorrow morning
    started, release = threading.Event(), threading.Event()

    def move_closer(cur) -> None:
        cur.execute(
            "UPDATE bookings SET starts_at = %s, ends_at = %s WHERE reference = %s",
            (at(2, 9), at(2, 10), made.reference),
        )

    staff = threading.Thread(target=_hold_row_then, args=(made.reference, move_closer, started, release))
    staff.start()
    started.wait(10)
    result: dict[str, db.Booking] = {}
    customer = threading.Thread(target=lambda: result.update(b=bookings.cancel(made.reference, actor="customer:late")))
    customer.start()
    time.sleep(0.5)
    release.set()
    staff.join(10)
    customer.join(10)
    assert result["b"].status == "cancelled" and result["b"].cancellation_fee == Decimal("22.50")


def test_a_hung_statement_times_out_instead_of_freezing(clean_db, monkeypatch):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "300")
    settings.cache_clear()
    db.reset_pool()
    try:
        with pytest.raises(db.DatabaseUnavailable, match="statement timeout"), db.transaction() as cur:
            cur.execute("SELECT pg_sleep(30)")  # cut after 300 ms
    finally:
        monkeypatch.undo()
        settings.cache_clear()
        db.reset_pool()


def test_unreachable_database_is_a_clear_error(monkeypatch, database):
    monkeypatch.setattr(db, "_url", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setattr(db, "_pool", None)
    with pytest.raises(db.DatabaseUnavailable):
        db.upcoming_bookings("anyone", business().now())
