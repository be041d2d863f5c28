"""Booking rules and slot finding, on literals (no database)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import scheduling
from core.business import business

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=TZ)  # Tuesday


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.mark.parametrize(
    ("service", "start", "code"),
    [
        ("Swedish Massage", at(2, 15), None),
        ("Swedish Massage", at(1, 9), "past"),
        ("Swedish Massage", at(1, 11), "too_soon"),  # 1 h notice
        ("Swedish Massage", at(1, 12), None),  # exactly 2 h
        ("Swedish Massage", at(2, 15, 15), "not_on_step"),
        ("Swedish Massage", at(2, 15, 30), None),
        ("Swedish Massage", at(6, 11), "closed_day"),  # Sunday
        ("Swedish Massage", at(1, 10, month=1, year=2027), "holiday"),
        ("Swedish Massage", at(2, 19, 30), "outside_hours"),  # would end 20:30
        ("Foot Reflexology", at(2, 19, 30), None),  # ends 20:00 exactly
        ("Swedish Massage", at(5, 17, 30), "outside_hours"),  # Saturday closes 18:00
        ("Swedish Massage", at(2, 8, 30), "outside_hours"),
        ("Swedish Massage", at(30, 10, month=1, year=2027), None),  # day 60
        ("Swedish Massage", at(1, 10, month=2, year=2027), "too_far"),  # day 62
    ],
)
def test_check_start(service, start, code):
    rejection = scheduling.check_start(business(), service, start, NOW)
    assert (rejection.code if rejection else None) == code
    if rejection:
        assert rejection.values["start"] == start


def test_staff_days_and_skills():
    biz = business()
    monday = at(7, 10)
    assert scheduling.free_staff(biz, "Swedish Massage", monday, []) == ["Mai"]  # Tuan is off on Mondays
    saturday = at(5, 10)
    assert scheduling.free_staff(biz, "Classic Facial", saturday, []) == []  # Linh is off on Saturdays
    assert scheduling.free_staff(biz, "Manicure", saturday, []) == ["An"]
    assert scheduling.free_staff(biz, "Swedish Massage", at(2, 10), [], wanted="Linh") == []


def test_busy_staff_is_skipped_and_overlap_is_whole_duration():
    biz = business()
    busy = [("Mai", at(2, 10, 30), at(2, 11, 30))]
    # a 60-minute massage at 10:00 would overlap Mai's 10:30 booking
    assert scheduling.free_staff(biz, "Swedish Massage", at(2, 10), busy) == ["Tuan"]
    # back to back is fine
    assert "Mai" in scheduling.free_staff(biz, "Swedish Massage", at(2, 11, 30), busy)


def test_find_slots_in_a_window_and_spread():
    biz = business()
    afternoon = (at(5, 12), at(5, 17))
    slots = scheduling.find_slots(biz, "Classic Facial", *afternoon, NOW, [])
    assert slots == []  # Linh doesn't work Saturdays
    slots = scheduling.find_slots(biz, "Manicure", *afternoon, NOW, [])
    assert [s.start.hour for s in slots][:3] == [12, 12, 13]
    assert all(s.staff == "An" for s in slots)
    picked = scheduling.spread(slots, 5)
    assert len(picked) == 5 and picked[0] == slots[0] and picked[-1] == slots[-1]


def test_nearest_slots_surround_the_wanted_time():
    biz = business()
    busy = [("Mai", at(2, 14), at(2, 16)), ("Tuan", at(2, 14), at(2, 16))]
    slots = scheduling.nearest_slots(biz, "Swedish Massage", at(2, 15), NOW, busy, count=4)
    starts = [s.start for s in slots]
    assert starts == sorted(starts)
    assert at(2, 15) not in starts
    assert at(2, 13) in starts and at(2, 16) in starts


@pytest.mark.parametrize(
    ("hours_before", "fee"),
    [(48, "0.00"), (24, "0.00"), (23.5, "22.50"), (1, "22.50")],
)
def test_cancellation_fee(hours_before, fee):
    start = NOW + timedelta(hours=hours_before)
    assert scheduling.cancellation_fee(business(), Decimal("45"), start, NOW) == Decimal(fee)


def test_reschedule_limit():
    assert scheduling.can_reschedule(business(), NOW + timedelta(hours=12), NOW)
    assert not scheduling.can_reschedule(business(), NOW + timedelta(hours=11, minutes=59), NOW)


staff_names = st.sampled_from(["Mai", "Tuan", "Linh", "An"])
busy_entries = st.tuples(
    staff_names,
    st.integers(min_value=0, max_value=6 * 24 * 2),  # half hours from now
    st.integers(min_value=1, max_value=6),
)


@settings(max_examples=60, deadline=None)
@given(
    service=st.sampled_from(list(business().services)),
    entries=st.lists(busy_entries, max_size=25),
    window_days=st.integers(min_value=1, max_value=6),
)
def test_offered_slots_never_overlap_bookings_or_leave_opening_hours(service, entries, window_days):
    biz = business()
    busy = [
        (who, NOW + timedelta(minutes=30 * offset), NOW + timedelta(minutes=30 * (offset + length)))
        for who, offset, length in entries
    ]
    slots = scheduling.find_slots(biz, service, NOW, NOW + timedelta(days=window_days), NOW, busy)
    for slot in slots:
        opens, closes = biz.hours_on(slot.start.date())
        assert opens <= slot.start and slot.end <= closes
        assert slot.staff in biz.staff_for(service) and biz.works_on(slot.staff, slot.start.date())
        assert slot.start - NOW >= timedelta(hours=2)
        assert not any(who == slot.staff and s < slot.end and slot.start < e for who, s, e in busy)
        assert scheduling.check_start(biz, service, slot.start, NOW) is None
