"""Bookings as the dashboard shows them: lists with masked phones, a detail with the whole phone and history."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from core import bookings, db
from core.business import business
from core.values import mask_phone

STATUSES = ("confirmed", "cancelled", "completed", "no_show")


def _local(moment: datetime) -> str:
    return moment.astimezone(business().tz).isoformat(timespec="minutes")


def booking_summary(booking: db.Booking) -> dict[str, Any]:
    """A booking as a list row: the phone masked."""
    return {
        "reference": booking.reference,
        "sender_id": booking.sender_id,
        "customer_name": booking.customer_name,
        "customer_phone": mask_phone(booking.customer_phone),
        "service": booking.service,
        "staff": booking.staff,
        "starts_at": _local(booking.starts_at),
        "ends_at": _local(booking.ends_at),
        "price": str(booking.price),
        "status": booking.status,
        "cancellation_fee": None if booking.cancellation_fee is None else str(booking.cancellation_fee),
        "created_at": _local(booking.created_at),
    }


def booking_detail(booking: db.Booking) -> dict[str, Any]:
    """One booking in full: the whole phone number and the history of changes."""
    history = [
        {"action": h["action"], "actor": h["actor"], "at": _local(h["at"]), "details": h["details"]}
        for h in db.booking_history(booking.reference)
    ]
    return {**booking_summary(booking), "customer_phone": booking.customer_phone, "history": history}


def find(start: date | None = None, end: date | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """Bookings starting on local days start..end (both included), of one status or all, soonest first."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    if start and end and end < start:
        raise ValueError("'to' is before 'from'")
    tz = business().tz
    since = datetime.combine(start, time(), tzinfo=tz) if start else None
    until = datetime.combine(end + timedelta(days=1), time(), tzinfo=tz) if end else None
    return [booking_summary(b) for b in db.list_bookings(since, until, status)]


def detail(reference: str) -> dict[str, Any]:
    return booking_detail(db.get_booking(reference))


def cancel(reference: str, staff_name: str) -> dict[str, Any]:
    """Cancel through the booking rules (fee, already started, already cancelled), as the actions do."""
    return booking_detail(bookings.cancel(reference, actor=f"dashboard:{staff_name}"))
