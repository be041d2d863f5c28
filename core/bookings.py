"""Booking operations: the rules of `scheduling` applied to what the database holds.

The actions, the dashboard and the jobs all book, cancel and reschedule
through these functions, so the rules and the history hold whoever acts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from core import db, scheduling
from core.business import Business, business
from core.scheduling import Rejection, Slot

if TYPE_CHECKING:
    from core.timeparse import When


@dataclass(frozen=True)
class Check:
    """The answer to "can I have this?": a slot, or why not and what is near."""

    slot: Slot | None
    rejection: Rejection | None = None
    alternatives: list[Slot] = field(default_factory=list)


def _busy(start: datetime, end: datetime, exclude_reference: str | None = None) -> scheduling.Busy:
    return db.busy_intervals(start - timedelta(days=1), end + timedelta(days=1), exclude_reference)


def check_time(
    service: str,
    start: datetime,
    *,
    staff: str | None = None,
    exclude_reference: str | None = None,
    biz: Business | None = None,
) -> Check:
    biz = biz or business()
    now = biz.now()
    count = biz.rules.slots_offered
    busy = _busy(start, start + timedelta(days=8), exclude_reference)
    rejection = scheduling.check_start(biz, service, start, now)
    if rejection is None:
        people = scheduling.free_staff(biz, service, start, busy, staff)
        if people:
            return Check(Slot(start, start + biz.duration(service), people[0]))
        who = staff or "anyone who does it"
        rejection = Rejection("taken", f"{biz.when_text(start)} is already taken for {who}.")
        if staff and not biz.works_on(staff, start.date()):
            rejection = Rejection("staff_off", f"{staff} doesn't work on {start.astimezone(biz.tz):%A}s.")
    alternatives = scheduling.nearest_slots(biz, service, start, now, busy, staff, count)
    if not alternatives and staff:
        alternatives = scheduling.nearest_slots(biz, service, start, now, busy, None, count)
    return Check(None, rejection, alternatives)


def slots_in(service: str, when: When, *, staff: str | None = None, biz: Business | None = None) -> list[Slot]:
    """Free slots for a day or a window ("Saturday afternoon"), spread over it."""
    biz = biz or business()
    now = biz.now()
    busy = _busy(when.start, when.end)
    slots = scheduling.find_slots(biz, service, when.start, when.end, now, busy, staff)
    return scheduling.spread(slots, biz.rules.slots_offered)


def next_slots(service: str, *, staff: str | None = None, days: int = 14, biz: Business | None = None) -> list[Slot]:
    """The first free slots from now on, for "when can I come?"."""
    biz = biz or business()
    now = biz.now()
    end = now + timedelta(days=days)
    slots = scheduling.find_slots(biz, service, now, end, now, _busy(now, end), staff)
    return slots[: biz.rules.slots_offered]


def book(
    *,
    sender_id: str,
    customer_name: str,
    customer_phone: str,
    service: str,
    start: datetime,
    staff: str | None,
    actor: str,
    biz: Business | None = None,
) -> db.Booking:
    """Book `service` at `start`; with no staff wish, the first free qualified staff member.

    Raises db.SlotTaken when nobody is free (any more), db.CustomerLimitReached,
    or ValueError with a Rejection's reason when a rule forbids the time.
    """
    biz = biz or business()
    now = biz.now()
    rejection = scheduling.check_start(biz, service, start, now)
    if rejection:
        raise ValueError(rejection.reason)
    candidates = [staff] if staff else biz.staff_for(service)
    busy = _busy(start, start)
    free = scheduling.free_staff(biz, service, start, busy, staff)
    # try the free ones first; the database has the last word under concurrency
    ordered = free + [p for p in candidates if p not in free and biz.works_on(p, start.date())]
    last_error: Exception | None = None
    for person in ordered:
        try:
            return db.create_booking(
                sender_id=sender_id,
                customer_name=customer_name,
                customer_phone=customer_phone,
                service=service,
                staff=person,
                starts_at=start,
                ends_at=start + biz.duration(service),
                price=biz.services[service].price,
                reference_prefix=biz.rules.reference_prefix,
                max_upcoming=biz.rules.max_upcoming_per_customer,
                now=now,
                actor=actor,
            )
        except db.SlotTaken as err:
            last_error = err
    raise last_error or db.SlotTaken(f"nobody is free at {start:%Y-%m-%d %H:%M}")


def cancellation_terms(booking: db.Booking, biz: Business | None = None) -> Decimal:
    biz = biz or business()
    return scheduling.cancellation_fee(biz, booking.price, booking.starts_at, biz.now())


def cancel(reference: str, *, actor: str, biz: Business | None = None) -> db.Booking:
    """Cancel a confirmed, upcoming booking with the fee its timing calls for."""
    biz = biz or business()
    booking = db.get_booking(reference)
    if booking.status != "confirmed":
        raise ValueError(f"Booking {booking.reference} is already {booking.status.replace('_', ' ')}.")
    if booking.starts_at <= biz.now():
        raise ValueError(f"Booking {booking.reference} has already started, so it can't be cancelled.")
    return db.cancel_booking(reference, fee=cancellation_terms(booking, biz), actor=actor)


def reschedule(
    reference: str, start: datetime, *, actor: str, staff: str | None = None, biz: Business | None = None
) -> db.Booking:
    """Move a booking to `start`, keeping its staff member when free, else another qualified one."""
    biz = biz or business()
    now = biz.now()
    booking = db.get_booking(reference)
    if booking.status != "confirmed" or booking.starts_at <= now:
        raise ValueError(f"Booking {booking.reference} can't be changed any more.")
    if not scheduling.can_reschedule(biz, booking.starts_at, now):
        raise ValueError(f"Bookings can be moved until {biz.rules.reschedule_until_hours} hours before they start.")
    rejection = scheduling.check_start(biz, booking.service, start, now)
    if rejection:
        raise ValueError(rejection.reason)
    busy = _busy(start, start, exclude_reference=booking.reference)
    people = scheduling.free_staff(biz, booking.service, start, busy, staff)
    if booking.staff in people and not staff:
        people.remove(booking.staff)
        people.insert(0, booking.staff)
    if not people:
        raise db.SlotTaken(f"nobody is free at {start:%Y-%m-%d %H:%M}")
    last_error: Exception | None = None
    for person in people:
        try:
            return db.reschedule_booking(
                booking.reference,
                starts_at=start,
                ends_at=start + biz.duration(booking.service),
                staff=person,
                actor=actor,
            )
        except db.SlotTaken as err:
            last_error = err
    raise last_error  # type: ignore[misc]


def seed_catalogue(biz: Business | None = None) -> None:
    """Make the database's catalogue match the business file (idempotent)."""
    biz = biz or business()
    db.seed_catalogue(
        [
            {"name": s.name, "duration_minutes": s.duration_minutes, "price": s.price, "staff": s.staff}
            for s in biz.config.services
        ],
        list(biz.staff),
    )
