"""The date/time layer against pinned clocks (interpretations: see core/timeparse.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.timeparse import When, combine, find_when, resolve_when

TZ = "Asia/Ho_Chi_Minh"
ZONE = ZoneInfo(TZ)
HOURS = {"tz": TZ, "open_hour": 9, "close_hour": 20}
TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=ZONE)
SATURDAY = datetime(2026, 12, 26, 16, 30, tzinfo=ZONE)
SUNDAY = datetime(2026, 12, 27, 12, 0, tzinfo=ZONE)

Summary = tuple[datetime, datetime, str, bool, bool]


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)


def exact(at: str, *, has_date: bool = True) -> Summary:
    return (local(at), local(at), "exact", has_date, True)


def day(first: str, last: str | None = None) -> Summary:
    end = date.fromisoformat(last or first) + timedelta(days=1)
    return (local(f"{first} 00:00"), local(f"{end} 00:00"), "day", True, False)


def window(start: str, end: str, *, has_date: bool = True, has_time: bool = True) -> Summary:
    return (local(start), local(end), "window", has_date, has_time)


def summary(when: When | None) -> Summary | None:
    if when is None:
        return None
    assert when.start.tzinfo.key == TZ and when.end.tzinfo.key == TZ
    return (when.start, when.end, when.kind, when.has_date, when.has_time)


# now = Tuesday 1 December 2026, 10:00 local; open 9-20
TUESDAY_CASES = [
    # relative days
    ("today", day("2026-12-01")),
    ("tonight", window("2026-12-01 17:00", "2026-12-01 20:00")),
    ("tomorrow", day("2026-12-02")),
    ("Tomorrow", day("2026-12-02")),
    ("tmrw", day("2026-12-02")),
    ("tmr", day("2026-12-02")),
    ("tomorow", day("2026-12-02")),
    ("day after tomorrow", day("2026-12-03")),
    ("the day after tomorrow at 3pm", exact("2026-12-03 15:00")),
    ("anytime tomorrow", day("2026-12-02")),
    # weekdays: the next one, today included; "next" is the one in next week
    ("friday", day("2026-12-04")),
    ("fri", day("2026-12-04")),
    ("this friday", day("2026-12-04")),
    ("on Friday", day("2026-12-04")),
    ("coming friday", day("2026-12-04")),
    ("next friday", day("2026-12-11")),
    ("tuesday", day("2026-12-01")),
    ("tues", day("2026-12-01")),
    ("next tuesday", day("2026-12-08")),
    ("next tue", day("2026-12-08")),
    ("tuesday at 3pm", exact("2026-12-01 15:00")),
    ("tue at 9", exact("2026-12-08 09:00")),  # today's 9:00 has passed
    ("mon", day("2026-12-07")),
    ("next monday", day("2026-12-07")),
    ("wed", day("2026-12-02")),
    ("thu", day("2026-12-03")),
    ("thurs", day("2026-12-03")),
    ("sat", day("2026-12-05")),
    ("sun", day("2026-12-06")),
    ("sunday at 9", exact("2026-12-06 09:00")),
    ("friday 10", exact("2026-12-04 10:00")),
    ("friday @ 3", exact("2026-12-04 15:00")),
    # offsets
    ("in 2 days", day("2026-12-03")),
    ("in two days", day("2026-12-03")),
    ("in a week", day("2026-12-08")),
    ("in 2 weeks", day("2026-12-15")),
    ("3 days from now", day("2026-12-04")),
    ("a week from tomorrow", day("2026-12-09")),
    ("in 2 days at noon", exact("2026-12-03 12:00")),
    ("in two hours", exact("2026-12-01 12:00", has_date=False)),
    ("in 30 mins", exact("2026-12-01 10:30", has_date=False)),
    ("in half an hour", exact("2026-12-01 10:30", has_date=False)),
    ("in an hour", exact("2026-12-01 11:00", has_date=False)),
    # weeks, weekends, month end
    ("next week", window("2026-12-07 00:00", "2026-12-14 00:00", has_time=False)),
    ("this week", window("2026-12-01 00:00", "2026-12-07 00:00", has_time=False)),
    ("this weekend", window("2026-12-05 00:00", "2026-12-07 00:00", has_time=False)),
    ("the weekend", window("2026-12-05 00:00", "2026-12-07 00:00", has_time=False)),
    ("the coming weekend", window("2026-12-05 00:00", "2026-12-07 00:00", has_time=False)),
    ("next weekend", window("2026-12-12 00:00", "2026-12-14 00:00", has_time=False)),
    ("friday next week", day("2026-12-11")),
    ("next week at 3pm", window("2026-12-07 00:00", "2026-12-14 00:00")),  # the day is still open
    ("end of the month", day("2026-12-31")),
    # day-first numeric dates; no year = the next one, today included
    ("3/12", day("2026-12-03")),
    ("03/12/2026", day("2026-12-03")),
    ("3-12", day("2026-12-03")),
    ("3.12", day("2026-12-03")),
    ("3/12/26", day("2026-12-03")),
    ("1/12", day("2026-12-01")),
    ("30/11", day("2027-11-30")),
    ("29/2", day("2028-02-29")),
    ("25/12 at 10am", exact("2026-12-25 10:00")),
    ("3/12 15:00", exact("2026-12-03 15:00")),
    # month names and ordinals
    ("Dec 3", day("2026-12-03")),
    ("3 December", day("2026-12-03")),
    ("december 3rd", day("2026-12-03")),
    ("the 3rd of December", day("2026-12-03")),
    ("December the third", day("2026-12-03")),
    ("3 dec 2027", day("2027-12-03")),
    ("jan 5", day("2027-01-05")),
    ("Dec 3rd, 2026 at 4:15pm", exact("2026-12-03 16:15")),
    ("the 20th", day("2026-12-20")),
    ("the 20th at 11am", exact("2026-12-20 11:00")),
    ("on the 1st", day("2026-12-01")),
    ("the 31st", day("2026-12-31")),
    # ISO values from buttons
    ("2026-12-03T15:00", exact("2026-12-03 15:00")),
    ("2026-12-03 15:00", exact("2026-12-03 15:00")),
    ("2026-12-03", day("2026-12-03")),
    ("2026-12-03T15:00:00+07:00", exact("2026-12-03 15:00")),
    ("2026-12-03T08:00:00Z", exact("2026-12-03 15:00")),
    # times without a date: today if still ahead, else tomorrow
    ("3pm", exact("2026-12-01 15:00", has_date=False)),
    ("3 pm", exact("2026-12-01 15:00", has_date=False)),
    ("3p.m.", exact("2026-12-01 15:00", has_date=False)),
    ("15:00", exact("2026-12-01 15:00", has_date=False)),
    ("15h", exact("2026-12-01 15:00", has_date=False)),
    ("15h30", exact("2026-12-01 15:30", has_date=False)),
    ("3:30", exact("2026-12-01 15:30", has_date=False)),
    ("09:30", exact("2026-12-02 09:30", has_date=False)),
    ("noon", exact("2026-12-01 12:00", has_date=False)),
    ("midday", exact("2026-12-01 12:00", has_date=False)),
    ("12 noon", exact("2026-12-01 12:00", has_date=False)),
    ("12pm", exact("2026-12-01 12:00", has_date=False)),
    ("12am", exact("2026-12-02 00:00", has_date=False)),
    ("midnight", exact("2026-12-02 00:00", has_date=False)),
    ("9am", exact("2026-12-02 09:00", has_date=False)),
    ("half past 3", exact("2026-12-01 15:30", has_date=False)),
    ("quarter past 10", exact("2026-12-01 10:15", has_date=False)),
    ("quarter to 4", exact("2026-12-01 15:45", has_date=False)),
    ("3 o'clock", exact("2026-12-01 15:00", has_date=False)),
    # bare hours read inside opening hours (9-20)
    ("at 2", exact("2026-12-01 14:00", has_date=False)),
    ("at two", exact("2026-12-01 14:00", has_date=False)),
    ("at 7", exact("2026-12-01 19:00", has_date=False)),
    ("at 8", exact("2026-12-01 20:00", has_date=False)),
    # a bare hour that replaces the time under discussion
    ("actually make it 11", exact("2026-12-01 11:00", has_date=False)),
    ("can we move it to 2?", exact("2026-12-01 14:00", has_date=False)),
    ("change that to 4 then", exact("2026-12-01 16:00", has_date=False)),
    ("make it 2 people", None),
    ("at 11", exact("2026-12-01 11:00", has_date=False)),
    ("at 9", exact("2026-12-02 09:00", has_date=False)),
    ("at 10", exact("2026-12-02 10:00", has_date=False)),  # exactly now is not ahead
    ("at 3.30", exact("2026-12-01 15:30", has_date=False)),
    ("12", exact("2026-12-01 12:00", has_date=False)),
    ("2", exact("2026-12-01 14:00", has_date=False)),
    # parts of the day
    ("in the morning", window("2026-12-01 09:00", "2026-12-01 12:00", has_date=False)),
    ("this morning", window("2026-12-01 09:00", "2026-12-01 12:00")),
    ("tomorrow morning", window("2026-12-02 09:00", "2026-12-02 12:00")),
    ("tomorrow afternoon", window("2026-12-02 12:00", "2026-12-02 17:00")),
    ("tomorrow evening", window("2026-12-02 17:00", "2026-12-02 20:00")),
    ("tomorrow night", window("2026-12-02 17:00", "2026-12-02 20:00")),
    ("in the evening", window("2026-12-01 17:00", "2026-12-01 20:00", has_date=False)),
    ("saturday morning", window("2026-12-05 09:00", "2026-12-05 12:00")),
    ("lunchtime", window("2026-12-01 11:00", "2026-12-01 14:00", has_date=False)),
    ("tomorrow at lunch", window("2026-12-02 11:00", "2026-12-02 14:00")),
    # before / after / between
    ("after 5pm", window("2026-12-01 17:00", "2026-12-01 20:00", has_date=False)),
    ("after 5pm tomorrow", window("2026-12-02 17:00", "2026-12-02 20:00")),
    ("after 8pm", window("2026-12-01 20:00", "2026-12-02 00:00", has_date=False)),
    ("after lunch", window("2026-12-01 14:00", "2026-12-01 20:00", has_date=False)),
    ("before noon", window("2026-12-01 09:00", "2026-12-01 12:00", has_date=False)),
    ("before noon on friday", window("2026-12-04 09:00", "2026-12-04 12:00")),
    ("between 2 and 4pm tomorrow", window("2026-12-02 14:00", "2026-12-02 16:00")),
    ("from 10 to 2 on friday", window("2026-12-04 10:00", "2026-12-04 14:00")),
    ("from 8 to 10", window("2026-12-02 08:00", "2026-12-02 10:00", has_date=False)),
    ("2-4pm", window("2026-12-01 14:00", "2026-12-01 16:00", has_date=False)),
    ("10:00-12:00", window("2026-12-01 10:00", "2026-12-01 12:00", has_date=False)),
    # a time with a date or a part of the day
    ("tonight at 7", exact("2026-12-01 19:00")),
    ("tomorrow at 9", exact("2026-12-02 09:00")),
    ("tomorrow at 2", exact("2026-12-02 14:00")),
    ("tomorrow 2", exact("2026-12-02 14:00")),
    ("tmrw 3pm", exact("2026-12-02 15:00")),
    ("3pm tomorrow", exact("2026-12-02 15:00")),
    ("Tomorrow At 3PM", exact("2026-12-02 15:00")),
    ("tomorrow morning at 10", exact("2026-12-02 10:00")),
    ("7 in the morning", exact("2026-12-02 07:00", has_date=False)),
    ("at 8 in the evening", exact("2026-12-01 20:00", has_date=False)),
    ("3 in the afternoon", exact("2026-12-01 15:00", has_date=False)),
    # several whole days
    ("3/12 to 5/12", day("2026-12-03", "2026-12-05")),
    ("monday to wednesday", day("2026-12-07", "2026-12-09")),
    ("3-5 december", day("2026-12-03", "2026-12-05")),
    ("dec 3-5", day("2026-12-03", "2026-12-05")),
    ("3rd to 5th of december", day("2026-12-03", "2026-12-05")),
    ("in december", day("2026-12-01", "2026-12-31")),
    ("january", day("2027-01-01", "2027-01-31")),
    ("next month", day("2027-01-01", "2027-01-31")),
    ("in a fortnight", day("2026-12-15")),
    # nothing to read
    ("", None),
    ("   ", None),
    ("hello", None),
    ("I want a massage", None),
    ("\U0001f642", None),
    ("0903 123 456", None),
    ("LS-7K3Q9X", None),
    ("$45", None),
    ("good morning", None),
    ("anytime", None),
    ("asap", None),
    ("open 24/7", None),
    ("2 people", None),
    ("for 2h", None),
    ("31/4", None),
    ("\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8", None),
    ("x" * 5000, None),
]


@pytest.mark.parametrize(("text", "expected"), TUESDAY_CASES)
def test_resolve_on_a_tuesday_morning(text: str, expected: Summary | None) -> None:
    assert summary(resolve_when(text, TUESDAY, **HOURS)) == expected


# Vietnamese, with and without diacritics, in Messenger shorthand; now = Tuesday 1 December 2026, 10:00
VIETNAMESE_CASES = [
    ("hôm nay", day("2026-12-01")),
    ("hom nay", day("2026-12-01")),
    ("ngày mai", day("2026-12-02")),
    ("ngay mai", day("2026-12-02")),
    ("mai", day("2026-12-02")),
    ("mốt", day("2026-12-03")),
    ("ngày kia", day("2026-12-03")),
    ("ngay kia", day("2026-12-03")),
    ("thứ 2", day("2026-12-07")),
    ("thu 2", day("2026-12-07")),
    ("t2", day("2026-12-07")),
    ("thứ ba", day("2026-12-01")),
    ("thứ 4", day("2026-12-02")),
    ("t5", day("2026-12-03")),
    ("thứ sáu", day("2026-12-04")),
    ("thu 6", day("2026-12-04")),
    ("thứ 7", day("2026-12-05")),
    ("t7", day("2026-12-05")),
    ("chủ nhật", day("2026-12-06")),
    ("chu nhat", day("2026-12-06")),
    ("cn", day("2026-12-06")),
    ("tuần sau", window("2026-12-07 00:00", "2026-12-14 00:00", has_time=False)),
    ("tuan sau", window("2026-12-07 00:00", "2026-12-14 00:00", has_time=False)),
    ("cuối tuần", window("2026-12-05 00:00", "2026-12-07 00:00", has_time=False)),
    ("cuoi tuan sau", window("2026-12-12 00:00", "2026-12-14 00:00", has_time=False)),
    ("sáng mai", window("2026-12-02 09:00", "2026-12-02 12:00")),
    ("sang mai", window("2026-12-02 09:00", "2026-12-02 12:00")),
    ("trưa mai", exact("2026-12-02 12:00")),
    ("chiều mai", window("2026-12-02 12:00", "2026-12-02 17:00")),
    ("chieu mai", window("2026-12-02 12:00", "2026-12-02 17:00")),
    ("tối nay", window("2026-12-01 17:00", "2026-12-01 20:00")),
    ("toi nay", window("2026-12-01 17:00", "2026-12-01 20:00")),
    ("chiều nay", window("2026-12-01 12:00", "2026-12-01 17:00")),
    ("chiều thứ 3", window("2026-12-01 12:00", "2026-12-01 17:00")),
    ("sáng thứ 7", window("2026-12-05 09:00", "2026-12-05 12:00")),
    ("sang t7", window("2026-12-05 09:00", "2026-12-05 12:00")),
    ("3 giờ chiều", exact("2026-12-01 15:00", has_date=False)),
    ("3 gio chieu", exact("2026-12-01 15:00", has_date=False)),
    ("3h chiều", exact("2026-12-01 15:00", has_date=False)),
    ("3h chieu", exact("2026-12-01 15:00", has_date=False)),
    ("15h", exact("2026-12-01 15:00", has_date=False)),
    ("15h30", exact("2026-12-01 15:30", has_date=False)),
    ("3 rưỡi", exact("2026-12-01 15:30", has_date=False)),
    ("3h rưỡi chiều", exact("2026-12-01 15:30", has_date=False)),
    ("10/12", day("2026-12-10")),
    ("ngày 10/12", day("2026-12-10")),
    ("ngày 10 tháng 12", day("2026-12-10")),
    ("ngay 10 thang 12", day("2026-12-10")),
    ("ngày 15/12 lúc 14h", exact("2026-12-15 14:00")),
    ("sáng mai 9 giờ", exact("2026-12-02 09:00")),
    ("9h sáng mai", exact("2026-12-02 09:00")),
    ("mai 3h chieu dc ko", exact("2026-12-02 15:00")),
    ("3h chiều mai nha", exact("2026-12-02 15:00")),
    ("8 giờ tối thứ 6", exact("2026-12-04 20:00")),
    ("thứ 7 tuần sau lúc 10h sáng", exact("2026-12-12 10:00")),
    ("thu 7 tuan sau luc 10h sang", exact("2026-12-12 10:00")),
    ("t3 tuan sau 2h chieu", exact("2026-12-08 14:00")),
    ("chieu nay 4h", exact("2026-12-01 16:00")),
    ("11h trưa mai", exact("2026-12-02 11:00")),
    ("dat lich t6 2h chieu", exact("2026-12-04 14:00")),
    ("đặt với chị Mai mai lúc 3h", exact("2026-12-02 15:00")),
    ("toi muon dat lich luc 5h chieu mai", exact("2026-12-02 17:00")),
    ("3h15 chiều mai", exact("2026-12-02 15:15")),
    ("ngày 20", day("2026-12-20")),
    ("sau 5h chiều mai", window("2026-12-02 17:00", "2026-12-02 20:00")),
    ("tôi muốn đặt lịch", None),
    ("toi muon dat lich", None),
    ("đổi sang 4h chiều", exact("2026-12-01 16:00", has_date=False)),
    ("15 tháng 12 lúc 3 giờ chiều", exact("2026-12-15 15:00")),
    ("8 thang 1 1h chieu", exact("2027-01-08 13:00")),
    ("trong 3 tháng", None),
    ("massage thư giãn ngày mai", day("2026-12-02")),
    ("dat lich massage thu gian 2 gio ruoi chieu t2", exact("2026-12-07 14:30")),
]


@pytest.mark.parametrize(("text", "expected"), VIETNAMESE_CASES)
def test_vietnamese_on_a_tuesday_morning(text: str, expected: Summary | None) -> None:
    assert summary(find_when(text, TUESDAY, **HOURS)) == expected


def test_mai_the_therapist_is_not_tomorrow() -> None:
    found = find_when("cho em đặt với chị Mai thứ 6 lúc 3h chiều", TUESDAY, **HOURS)
    assert summary(found) == exact("2026-12-04 15:00")


# now = Saturday 26 December 2026, 16:30: the year rolls over, "tomorrow" is a Sunday
SATURDAY_CASES = [
    ("3/1", day("2027-01-03")),
    ("31/12/2026", day("2026-12-31")),
    ("26/12", day("2026-12-26")),
    ("dec 25", day("2027-12-25")),
    ("jan 1", day("2027-01-01")),
    ("the 20th", day("2027-01-20")),
    ("tomorrow", day("2026-12-27")),
    ("in 2 days", day("2026-12-28")),
    ("in 2 hours", exact("2026-12-26 18:30", has_date=False)),
    ("saturday", day("2026-12-26")),
    ("saturday at 5pm", exact("2026-12-26 17:00")),
    ("saturday at 3pm", exact("2027-01-02 15:00")),  # today's 15:00 has passed
    ("monday", day("2026-12-28")),
    ("next monday", day("2026-12-28")),
    ("next friday", day("2027-01-01")),
    ("tue", day("2026-12-29")),
    ("this weekend", window("2026-12-26 00:00", "2026-12-28 00:00", has_time=False)),
    ("the coming weekend", window("2027-01-02 00:00", "2027-01-04 00:00", has_time=False)),
    ("next weekend", window("2027-01-02 00:00", "2027-01-04 00:00", has_time=False)),
    ("next week", window("2026-12-28 00:00", "2027-01-04 00:00", has_time=False)),
    ("friday to monday", day("2027-01-01", "2027-01-04")),
    ("at 2", exact("2026-12-27 14:00", has_date=False)),
    ("4pm", exact("2026-12-27 16:00", has_date=False)),
    ("in the morning", window("2026-12-27 09:00", "2026-12-27 12:00", has_date=False)),
    ("in the evening", window("2026-12-26 17:00", "2026-12-26 20:00", has_date=False)),
    ("tonight", window("2026-12-26 17:00", "2026-12-26 20:00")),
    ("in december", day("2026-12-01", "2026-12-31")),
    ("end of the month", day("2026-12-31")),
]


@pytest.mark.parametrize(("text", "expected"), SATURDAY_CASES)
def test_resolve_on_a_saturday_afternoon_at_year_end(text: str, expected: Summary) -> None:
    assert summary(resolve_when(text, SATURDAY, **HOURS)) == expected


# now = Sunday 27 December 2026, 12:00: "this weekend" is the one under way
SUNDAY_CASES = [
    ("this weekend", window("2026-12-26 00:00", "2026-12-28 00:00", has_time=False)),
    ("next weekend", window("2027-01-02 00:00", "2027-01-04 00:00", has_time=False)),
    ("sunday", day("2026-12-27")),
    ("next sunday", day("2027-01-03")),
    ("sunday at 10", exact("2027-01-03 10:00")),
    ("in the afternoon", window("2026-12-27 12:00", "2026-12-27 17:00", has_date=False)),
]


@pytest.mark.parametrize(("text", "expected"), SUNDAY_CASES)
def test_resolve_on_a_sunday_noon(text: str, expected: Summary) -> None:
    assert summary(resolve_when(text, SUNDAY, **HOURS)) == expected


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        ("12/3", {"day_first": False}, day("2026-12-03")),
        ("3/12", {"day_first": False}, day("2027-03-12")),
        ("in the evening", {"close_hour": 18}, window("2026-12-01 17:00", "2026-12-01 18:00", has_date=False)),
        ("in the evening", {"close_hour": 16}, window("2026-12-01 17:00", "2026-12-01 21:00", has_date=False)),
        ("in the morning", {"open_hour": 10}, window("2026-12-01 10:00", "2026-12-01 12:00", has_date=False)),
        ("before noon", {"open_hour": 10}, window("2026-12-01 10:00", "2026-12-01 12:00", has_date=False)),
        ("at 7", {"close_hour": 18}, exact("2026-12-02 07:00", has_date=False)),  # 19:00 is after closing
        ("at 6", {"close_hour": 18}, exact("2026-12-01 18:00", has_date=False)),
    ],
)
def test_business_settings_come_in_as_parameters(text: str, options: dict, expected: Summary) -> None:
    assert summary(resolve_when(text, TUESDAY, **(HOURS | options))) == expected


def test_now_in_another_zone_or_naive_is_read_in_the_business_zone() -> None:
    utc_now = TUESDAY.astimezone(ZoneInfo("UTC"))  # 03:00 UTC, same instant
    assert summary(resolve_when("at 2", utc_now, **HOURS)) == exact("2026-12-01 14:00", has_date=False)
    naive_now = TUESDAY.replace(tzinfo=None)
    assert summary(resolve_when("tomorrow", naive_now, **HOURS)) == day("2026-12-02")


SENTENCES = [
    (
        "can I book a massage tomorrow at 3pm with Mai",
        exact("2026-12-02 15:00"),
        "tomorrow at 3pm",
    ),
    (
        "Hi, my number is 0903 123 456, can I come friday at 2?",
        exact("2026-12-04 14:00"),
        "friday at 2",
    ),
    (
        "I'd like to move booking LS-7K3Q9X to next tuesday afternoon",
        window("2026-12-08 12:00", "2026-12-08 17:00"),
        "next tuesday afternoon",
    ),
    (
        "Do you have a 60 min slot on 3/12 after 5pm?",
        window("2026-12-03 17:00", "2026-12-03 20:00"),
        "3/12 after 5pm",
    ),
    ("book me in for 1h at 4pm", exact("2026-12-01 16:00", has_date=False), "4pm"),
    ("a 1h30 massage tomorrow", day("2026-12-02"), "tomorrow"),
    (
        "good morning! any slots this saturday morning?",
        window("2026-12-05 09:00", "2026-12-05 12:00"),
        "this saturday morning",
    ),
    ("I can't do tomorrow, how about friday at 3?", exact("2026-12-04 15:00"), "friday at 3"),
    ("my 2nd visit, booking for the 5th at 10am", exact("2026-12-05 10:00"), "the 5th at 10am"),
    ("we are 3 people, around 6 tonight", exact("2026-12-01 18:00"), "around 6 tonight"),
    ("call me on +84 28 3822 0000 about my booking on the 20th", day("2026-12-20"), "on the 20th"),
    ("Can I book for the 3rd time? maybe on dec 10", day("2026-12-10"), "dec 10"),
    (
        "I'd like to come on the 2nd of january at half past ten",
        exact("2027-01-02 10:30"),
        "on the 2nd of january at half past ten",
    ),
    ("Thursday 10th Dec at 3:30pm?", exact("2026-12-10 15:30"), "Thursday 10th Dec at 3:30pm"),
    ("may I book at 3", exact("2026-12-01 15:00", has_date=False), "at 3"),
    ("sunday 9am or monday 3pm", exact("2026-12-06 09:00"), "sunday 9am"),
    ("is there anything in 2 hours?", exact("2026-12-01 12:00", has_date=False), "in 2 hours"),
    ("How much is a Swedish massage? Is it $45?", None, None),
    ("My phone: 0903.123.456, ref LS-3K12QX", None, None),
    ("call me at 12 34 56 78", None, None),
    ("a 90 minute hot stone massage for 2 people", None, None),
    ("Is 450.000 VND ok? I can pay 12.50 usd or $3.12", None, None),
    ("are you open 24/7?", None, None),
    ("you are rated 4.5 stars, I'm 25 years old", None, None),
    ("good evening, do you do facials?", None, None),
    ("reference LS-TUE4QX please", None, None),
    ("2 hours massage please, and 3 rooms", None, None),
]


@pytest.mark.parametrize(("sentence", "expected", "matched"), SENTENCES)
def test_find_when_in_a_sentence(sentence: str, expected: Summary | None, matched: str | None) -> None:
    when = find_when(sentence, TUESDAY, **HOURS)
    assert summary(when) == expected
    assert (when.text if when else None) == matched


def test_find_when_does_not_guess_a_bare_number() -> None:
    assert find_when("2", TUESDAY, **HOURS) is None
    assert resolve_when("2", TUESDAY, **HOURS) is not None


@pytest.mark.parametrize(
    ("base", "change", "expected"),
    [
        ("friday", "4pm", exact("2026-12-04 16:00")),
        ("tomorrow at 3pm", "at 5", exact("2026-12-02 17:00")),
        ("3/12 at 10am", "half past 2", exact("2026-12-03 14:30")),
        ("saturday", "in the afternoon", window("2026-12-05 12:00", "2026-12-05 17:00")),
        ("next friday", "after 5pm", window("2026-12-11 17:00", "2026-12-11 20:00")),
    ],
)
def test_combine_keeps_the_date_and_takes_the_time(base: str, change: str, expected: Summary) -> None:
    first = resolve_when(base, TUESDAY, **HOURS)
    second = resolve_when(change, TUESDAY, **HOURS)
    assert summary(combine(first, second)) == expected


def test_combine_without_a_time_changes_nothing() -> None:
    base = resolve_when("friday at 4pm", TUESDAY, **HOURS)
    assert combine(base, resolve_when("saturday", TUESDAY, **HOURS)) == base
    assert combine(base, resolve_when("next week at 3pm", TUESDAY, **HOURS)) == base


def check(when: When | None, tz: str) -> None:
    if when is None:
        return
    for moment in (when.start, when.end):
        assert moment.tzinfo is not None and moment.tzinfo.key == tz
    assert when.end >= when.start
    assert when.kind in ("exact", "day", "window")
    if when.kind == "exact":
        assert when.end == when.start and when.has_time
    if when.kind == "day":
        assert when.start.time() == when.end.time() == datetime.min.time()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_never_raises_on_any_text(text: str) -> None:
    check(resolve_when(text, TUESDAY, **HOURS), TZ)
    check(find_when(text, TUESDAY, **HOURS), TZ)


# fragments that reach every rule, including broken dates and calendar edges
TOKENS = [
    *["tomorrow", "tonight", "next", "this", "friday", "sat", "weekend", "week", "december", "jan", "end"],
    *["of", "month", "at", "3pm", "12am", "15h30", "9:30", "12", "7", "noon", "midnight", "half", "quarter"],
    *["past", "o'clock", "lunch", "morning", "evening", "after", "before", "between", "and", "to", "from"],
    *["-", ",", ".", ":", "/", "the", "20th", "31st", "in", "2", "a", "days", "hours", "mins", "people"],
    *["for", "1h", "$45", "0903", "123", "LS-7K3Q9X", "3/12", "31/12/2025", "29/2", "2026-12-03T15:00"],
    *["9999-12-31", "2026-02-30T25:61+99:00", "0001-01-01T00:00Z"],
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(TOKENS), max_size=8).map(" ".join),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from([TZ, "Europe/London", "America/New_York", "UTC"]),
    st.booleans(),
)
def test_phrases_resolve_to_sane_ranges_in_any_zone(text: str, now: datetime, tz: str, day_first: bool) -> None:
    options = {"tz": tz, "day_first": day_first, "open_hour": 9, "close_hour": 20}
    aware_now = now.replace(tzinfo=ZoneInfo(tz))
    check(resolve_when(text, aware_now, **options), tz)
    check(find_when(text, aware_now, **options), tz)
