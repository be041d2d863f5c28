"""Booking operations: the rules of `scheduling` applied to what the database holds.

The actions, the dashboard and the jobs all book, cancel and reschedule through these functions, so the
rules and the history hold whoever acts. A refusal is typed (`Refused`: a code and its values), so the
dialogue words it in the customer's language, the dashboard shows it and the tests assert it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core import db, scheduling
from core.business import Business, business
from core.scheduling import Rejection, Slot

if TYPE_CHECKING:
    from core.timeparse import When


class Refused(Exception):
    """A booking rule said no. `code` is one of the scheduling codes (see `Rejection`) or, for a booking
    that exists: `not_confirmed` (values: status), `started`, `too_late_to_move` (values: hours)."""

    def __init__(self, code: str, **values: Any):
        super().__init__(code)
        self.code = code
        self.values = values

    @classmethod
    def of(cls, rejection: Rejection) -> Refused:
        return cls(rejection.code, **rejection.values)

    def describe(self) -> str:
        """For staff and logs (the dashboard's error, in English); customers get the dialogue's words."""
        values = self.values
        reference = values.get("reference", "the booking")
        if self.code == "not_confirmed":
            return f"Booking {reference} is already {str(values.get('status', '')).replace('_', ' ')}."
        if self.code == "started":
            return f"Booking {reference} has already started."
        if self.code == "too_late_to_move":
            return f"Booking {reference} starts in less than {values.get('hours')} hours and can't be moved."
        details = ", ".join(f"{key}={value}" for key, value in values.items() if key != "start")
        return f"The booking rules refuse this time: {self.code}" + (f" ({details})." if details else ".")


@dataclass(frozen=True)
class Check:
    """The answer to "can I have this?": a slot, or why not and what is near."""

    slot: Slot | None
    rejection: Rejection | None = None
    alternatives: list[Slot] = field(default_factory=list)


@dataclass(frozen=True)
class Offer:
    """What to offer a customer who asked about a time: the slot itself, or why not and free times.

    `kind`: "free" (the exact time asked is free: `slots` is that one slot), "refused" (an exact time that
    can't be booked: `rejection` says why, `slots` are the nearest free times), "in_window" (free times in
    the day or part of day asked), "none_in_window" (nothing free there: `slots` are the next free times),
    "next" (no time asked: the next free times).
    """

    kind: str
    slots: list[Slot]
    rejection: Rejection | None = None


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
        if staff and not biz.works_on(staff, start.astimezone(biz.tz).date()):
            rejection = Rejection("staff_off", {"start": start, "staff": staff, "day": start.date()})
        else:
            rejection = Rejection("taken", {"start": start, "staff": staff})
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


def offer(
    service: str,
    when: When | None,
    *,
    staff: str | None = None,
    exclude_reference: str | None = None,
    biz: Business | None = None,
) -> Offer:
    """The one decision of what to offer for a time asked (or none): used by every form and by "is it free?"."""
    biz = biz or business()
    if when is not None and when.kind == "exact":
        check = check_time(service, when.start, staff=staff, exclude_reference=exclude_reference, biz=biz)
        if check.slot is not None:
            return Offer("free", [check.slot])
        return Offer("refused", check.alternatives, check.rejection)
    if when is not None:
        slots = slots_in(service, when, staff=staff, biz=biz)
        if slots:
            return Offer("in_window", slots)
        # why the window has nothing: a closed day or beyond the booking horizon says more than "full"
        rejection = scheduling.check_window(biz, service, when.start, when.end, biz.now())
        return Offer("none_in_window", next_slots(service, staff=staff, biz=biz), rejection)
    return Offer("next", next_slots(service, staff=staff, biz=biz))


def book(
    *,
    sender_id: str,
    customer_name: str,
    customer_phone: str,
    service: str,
    start: datetime,
    staff: str | None,
    actor: str,
    customer_email: str | None = None,
    language: str | None = None,
    biz: Business | None = None,
) -> db.Booking:
    """Book `service` at `start`; with no staff wish, the first free qualified staff member.

    Raises Refused when a rule forbids the time, db.SlotTaken when nobody is free (any more),
    db.CustomerLimitReached.
    """
    biz = biz or business()
    now = biz.now()
    rejection = scheduling.check_start(biz, service, start, now)
    if rejection:
        raise Refused.of(rejection)
    candidates = [staff] if staff else biz.staff_for(service)
    busy = _busy(start, start)
    free = scheduling.free_staff(biz, service, start, busy, staff)
    # try the free ones first; the database has the last word under concurrency
    day = start.astimezone(biz.tz).date()
    ordered = free + [p for p in candidates if p not in free and biz.works_on(p, day)]
    last_error: Exception | None = None
    for person in ordered:
        try:
            return db.create_booking(
                sender_id=sender_id,
                customer_name=customer_name,
                customer_phone=customer_phone,
                customer_email=customer_email,
                language=language,
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


def require_changeable(booking: db.Booking, now: datetime) -> None:
    """The one check that a booking can still be changed: confirmed, and not yet started."""
    if booking.status != "confirmed":
        raise Refused("not_confirmed", status=booking.status, reference=booking.reference)
    if booking.starts_at <= now:
        raise Refused("started", start=booking.starts_at, reference=booking.reference)


def cancel(reference: str, *, actor: str, biz: Business | None = None) -> db.Booking:
    """Cancel a confirmed, upcoming booking with the fee its timing calls for.

    Status and fee are read from the row as locked for the change, so a booking cancelled or moved by
    someone else in the meantime is refused (Refused "not_confirmed"/"started"), never cancelled twice.
    """
    biz = biz or business()

    def decide(locked: db.Booking) -> Decimal:
        require_changeable(locked, biz.now())
        return cancellation_terms(locked, biz)

    return db.cancel_booking(reference, decide=decide, actor=actor)


def reschedule(
    reference: str, start: datetime, *, actor: str, staff: str | None = None, biz: Business | None = None
) -> db.Booking:
    """Move a booking to `start`, keeping its staff member when free, else another qualified one.

    The status and the rescheduling limit are checked on the locked row, so a booking cancelled by staff
    while the customer confirms the move stays cancelled.
    """
    biz = biz or business()
    now = biz.now()
    booking = db.get_booking(reference)
    require_changeable(booking, now)
    if not scheduling.can_reschedule(biz, booking.starts_at, now):
        raise Refused("too_late_to_move", hours=biz.rules.reschedule_until_hours, reference=booking.reference)
    rejection = scheduling.check_start(biz, booking.service, start, now)
    if rejection:
        raise Refused.of(rejection)
    busy = _busy(start, start, exclude_reference=booking.reference)
    people = scheduling.free_staff(biz, booking.service, start, busy, staff)
    if booking.staff in people and not staff:
        people.remove(booking.staff)
        people.insert(0, booking.staff)
    if not people:
        raise db.SlotTaken(f"nobody is free at {start:%Y-%m-%d %H:%M}")

    def decide(locked: db.Booking) -> None:
        require_changeable(locked, biz.now())
        if not scheduling.can_reschedule(biz, locked.starts_at, biz.now()):
            raise Refused("too_late_to_move", hours=biz.rules.reschedule_until_hours, reference=locked.reference)

    last_error: Exception | None = None
    for person in people:
        try:
            return db.reschedule_booking(
                booking.reference,
                starts_at=start,
                ends_at=start + biz.duration(booking.service),
                staff=person,
                actor=actor,
                decide=decide,
            )
        except db.SlotTaken as err:
            last_error = err
    raise last_error  # type: ignore[misc]


def owned_by(booking: db.Booking, sender_id: str) -> bool:
    """A booking belongs to the sender that made it; a quoted reference is not a key."""
    return booking.sender_id == sender_id


def phone_digits_match(booking: db.Booking, given: str, digits: int = 4) -> bool:
    """Does `given` end with the last `digits` digits of the booking's phone? (Proof of ownership from
    another chat.)"""
    import hmac
    import re

    wanted = re.sub(r"\D", "", booking.customer_phone or "")[-digits:]
    typed = re.sub(r"\D", "", given or "")[-digits:]
    return len(wanted) == digits and len(typed) == digits and hmac.compare_digest(wanted, typed)


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
