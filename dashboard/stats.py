"""The overview's figures over the last N days, in the business's time zone, from the tracker store and bookings."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core import db, tracker_events
from core.business import business

BOOKING_INTENTS = ["book_appointment"]
MAX_DAYS = 366


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def day_window(days: int, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime, list[date]]:
    """[start of the first day, start of tomorrow) and the days in it: today and the days - 1 before."""
    today = now.astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(), tzinfo=tz)
    until = datetime.combine(today + timedelta(days=1), time(), tzinfo=tz)
    return since, until, [first + timedelta(days=i) for i in range(days)]


def overview(days: int = 14, now: datetime | None = None) -> dict[str, Any]:
    """Per day: conversations, customer messages, fallbacks, handoffs, bookings created and cancelled,
    bot response time; and over the whole window: totals, top intents, fallback rate, response time
    median and p95, and booking conversion.

    Events carry real time stamps, so the window follows the clock (not BOOKING_NOW).
    """
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    tz = business().tz
    zone = business().identity.timezone
    since, until, day_list = day_window(days, now or datetime.now(tz), tz)
    start, end = since.timestamp(), until.timestamp()

    # independent scans, run side by side on separate connections
    with ThreadPoolExecutor(max_workers=4) as pool:
        asked = {
            "messages": pool.submit(tracker_events.messages_per_day, start, end, zone),
            "booked": pool.submit(db.booking_activity_per_day, since, until, zone),
            "timing": pool.submit(tracker_events.response_times, start, end, zone),
            "conversations": pool.submit(tracker_events.conversation_count, start, end),
            "intents": pool.submit(tracker_events.top_intents, start, end),
            "intending": pool.submit(tracker_events.senders_with_intent, start, end, BOOKING_INTENTS),
            "booked_senders": pool.submit(db.senders_who_booked, since, until),
        }
        answers = {name: future.result() for name, future in asked.items()}
    messages = {r["day"]: r for r in answers["messages"]}
    booked = {r["day"]: r for r in answers["booked"]}
    timing = answers["timing"]
    timing_by_day = {r["day"]: r for r in timing if r["day"] is not None}
    overall_timing = next((r for r in timing if r["day"] is None), {})

    rows = []
    for day in day_list:
        m, b, t = messages.get(day, {}), booked.get(day, {}), timing_by_day.get(day, {})
        rows.append(
            {
                "day": day.isoformat(),
                "conversations": m.get("conversations", 0),
                "messages": m.get("messages", 0),
                "fallbacks": m.get("fallbacks", 0),
                "fallback_rate": _rate(m.get("fallbacks", 0), m.get("messages", 0)),
                "handoffs": m.get("handoffs", 0),
                "bookings_created": b.get("created", 0),
                "bookings_cancelled": b.get("cancelled", 0),
                "response_median": _seconds(t.get("median")),
                "response_p95": _seconds(t.get("p95")),
            }
        )

    total_messages = sum(r["messages"] for r in rows)
    total_fallbacks = sum(r["fallbacks"] for r in rows)
    intending = answers["intending"]
    converted = intending & answers["booked_senders"]
    return {
        "days": days,
        "from": day_list[0].isoformat(),
        "to": day_list[-1].isoformat(),
        "timezone": zone,
        "per_day": rows,
        "totals": {
            "conversations": answers["conversations"],
            "messages": total_messages,
            "fallbacks": total_fallbacks,
            "handoffs": sum(r["handoffs"] for r in rows),
            "bookings_created": sum(r["bookings_created"] for r in rows),
            "bookings_cancelled": sum(r["bookings_cancelled"] for r in rows),
        },
        "fallback_rate": _rate(total_fallbacks, total_messages),
        "top_intents": answers["intents"],
        "response_time": {
            "answered": overall_timing.get("answered", 0),
            "median": _seconds(overall_timing.get("median")),
            "p95": _seconds(overall_timing.get("p95")),
        },
        "booking_conversion": {
            "conversations_with_booking_intent": len(intending),
            "booked": len(converted),
            "rate": _rate(len(converted), len(intending)),
        },
    }
