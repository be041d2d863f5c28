"""Booking rules and free-slot finding: plain functions over the business and a busy list.

No database and no Rasa here; `bookings.py` feeds these functions what the
database holds, and the tests feed them literals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.business import Business

Busy = Sequence[tuple[str, datetime, datetime]]  # (staff, starts_at, ends_at)


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    staff: str


@dataclass(frozen=True)
class Rejection:
    """Why a start time cannot be booked: a code for logic and tests, and the values a reply words it with.

    The codes: past, not_on_step, too_soon, too_far, holiday, closed_day, outside_hours (the rules below),
    taken and staff_off (core.bookings: nobody, or not the wanted person, is free). The words are the
    dialogue's (a response per code in domain.yml), so every language and the dashboard say it their way.
    """

    code: str
    values: dict[str, Any] = field(default_factory=dict)


def check_start(biz: Business, service: str, start: datetime, now: datetime) -> Rejection | None:
    """The first booking rule that `start` breaks for `service`, or None when it is bookable in principle."""
    start = start.astimezone(biz.tz)
    rules = biz.rules
    end = start + biz.duration(service)
    if start <= now:
        return Rejection("past", {"start": start})
    step = rules.slot_step_minutes
    if start.second or start.microsecond or (start.hour * 60 + start.minute) % step:
        return Rejection("not_on_step", {"start": start, "step_minutes": step})
    if start - now < timedelta(minutes=rules.min_notice_minutes):
        return Rejection("too_soon", {"start": start, "notice_hours": rules.min_notice_minutes / 60})
    if start.date() > (now + timedelta(days=rules.max_days_ahead)).date():
        return Rejection("too_far", {"start": start, "max_days": rules.max_days_ahead})
    holiday = biz.closure_name(start.date())
    if holiday:
        return Rejection("holiday", {"start": start, "day": start.date(), "holiday": holiday})
    hours = biz.hours_on(start.date())
    if hours is None:
        return Rejection("closed_day", {"start": start, "day": start.date()})
    opens, closes = hours
    if start < opens or end > closes:
        return Rejection(
            "outside_hours",
            {"start": start, "day": start.date(), "opens": opens, "closes": closes, "service": service,
             "minutes": biz.services[service].duration_minutes},
        )  # fmt: skip
    return None


def check_window(biz: Business, service: str, start: datetime, end: datetime, now: datetime) -> Rejection:
    """Why a day or part of a day has no bookable start, for a window that has none free: the first rule
    that holds for the whole window, else "taken" (open, but full)."""
    start, end = start.astimezone(biz.tz), end.astimezone(biz.tz)
    if end <= now:
        return Rejection("past", {"start": start})
    if start.date() > (now + timedelta(days=biz.rules.max_days_ahead)).date():
        return Rejection("too_far", {"start": start, "max_days": biz.rules.max_days_ahead})
    days = [start.date() + timedelta(days=n) for n in range(max(1, (end.date() - start.date()).days))]
    holiday = biz.closure_name(days[0])
    if all(biz.closure_name(d) for d in days):
        return Rejection("holiday", {"start": start, "day": days[0], "holiday": holiday})
    if all(biz.hours_on(d) is None for d in days):
        return Rejection("closed_day", {"start": start, "day": days[0]})
    if len(days) == 1:
        hours = biz.hours_on(days[0])
        if hours and (end <= hours[0] or start >= hours[1]):
            opens, closes = hours
            return Rejection(
                "outside_hours",
                {"start": start, "day": days[0], "opens": opens, "closes": closes, "service": service,
                 "minutes": biz.services[service].duration_minutes},
            )  # fmt: skip
        if hours and end - now < timedelta(minutes=biz.rules.min_notice_minutes) + biz.duration(service):
            return Rejection("too_soon", {"start": start, "notice_hours": biz.rules.min_notice_minutes / 60})
    return Rejection("taken", {"start": start, "staff": None})


def _overlaps(busy: Busy, staff: str, start: datetime, end: datetime) -> bool:
    return any(who == staff and b_start < end and start < b_end for who, b_start, b_end in busy)


def free_staff(biz: Business, service: str, start: datetime, busy: Busy, wanted: str | None = None) -> list[str]:
    """Staff who can do `service` and are free for its whole duration from `start`."""
    end = start + biz.duration(service)
    candidates = [wanted] if wanted else biz.staff_for(service)
    return [
        person
        for person in candidates
        if person in biz.staff_for(service)
        and biz.works_on(person, start.date())
        and not _overlaps(busy, person, start, end)
    ]


def _candidate_starts(biz: Business, start: datetime, end: datetime, now: datetime) -> Iterable[datetime]:
    step = timedelta(minutes=biz.rules.slot_step_minutes)
    day = start.astimezone(biz.tz).date()
    last_day = min(end.astimezone(biz.tz).date(), (now + timedelta(days=biz.rules.max_days_ahead)).date())
    while day <= last_day:
        hours = biz.hours_on(day)
        if hours:
            moment = hours[0]
            while moment < hours[1]:
                if start <= moment < end:
                    yield moment
                moment += step
        day += timedelta(days=1)


def find_slots(
    biz: Business,
    service: str,
    start: datetime,
    end: datetime,
    now: datetime,
    busy: Busy,
    staff: str | None = None,
) -> list[Slot]:
    """Every bookable start in [start, end), one slot per start time, first free staff member."""
    slots = []
    duration = biz.duration(service)
    for moment in _candidate_starts(biz, start, end, now):
        if check_start(biz, service, moment, now) is not None:
            continue
        people = free_staff(biz, service, moment, busy, staff)
        if people:
            slots.append(Slot(moment, moment + duration, people[0]))
    return slots


def spread(slots: Sequence[Slot], count: int) -> list[Slot]:
    """`count` slots spread evenly over the list, so a whole day's offer isn't just its first hour."""
    if len(slots) <= count:
        return list(slots)
    if count == 1:
        return [slots[0]]
    picks = sorted({round(i * (len(slots) - 1) / (count - 1)) for i in range(count)})
    return [slots[i] for i in picks]


def nearest_slots(
    biz: Business,
    service: str,
    around: datetime,
    now: datetime,
    busy: Busy,
    staff: str | None = None,
    count: int = 5,
    search_days: int = 7,
) -> list[Slot]:
    """The `count` free slots closest to `around` (before or after it), in time order."""
    window_start = max(now, around - timedelta(days=1))
    window_end = around + timedelta(days=search_days)
    slots = find_slots(biz, service, window_start, window_end, now, busy, staff)
    closest = sorted(slots, key=lambda s: abs((s.start - around).total_seconds()))[:count]
    return sorted(closest, key=lambda s: s.start)


def cancellation_fee(biz: Business, price: Decimal, starts_at: datetime, now: datetime) -> Decimal:
    """Nothing until the free-cancellation limit; then the late fee share of the price."""
    if starts_at - now >= timedelta(hours=biz.rules.free_cancellation_hours):
        return Decimal("0.00")
    fee = Decimal(price) * biz.rules.late_cancellation_fee_percent / 100
    return fee.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def can_reschedule(biz: Business, starts_at: datetime, now: datetime) -> bool:
    return starts_at - now >= timedelta(hours=biz.rules.reschedule_until_hours)
