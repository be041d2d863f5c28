"""Turn the dates and times customers write into local, timezone-aware ranges.

No single library reads chat phrasing well (DESIGN.md, "Known pitfalls"), so
this is a small rule layer: regular-expression atoms ("tomorrow", "3pm",
"next friday", "in the evening", "3/12", ...) are found left to right, folded
into expressions, and resolved against `now` in the business time zone.
dateparser (tested with 1.5.0) is only a last resort for a whole entity value
that no rule reads ("next month", "in a fortnight"); find_when never uses it,
because on free text it makes dates of prices and stray numbers.

Interpretations chosen (each one is pinned by tests/test_timeparse.py):
- Weeks run Monday to Sunday. "friday" and "this friday" are the next Friday,
  today included; "next friday" is the Friday of next week, so on a Tuesday it
  is 10 days away, and on a Saturday 6. "next weekend" is likewise the weekend
  of next week; "this weekend" is the current one (on a Sunday it started
  yesterday), "the coming weekend" the next one not yet begun.
- A bare weekday that names today, with a time already past ("tuesday at 9"
  said on Tuesday at 10:00), means the same weekday next week.
- An hour without am/pm ("at 2", "3:30", "15h" aside) is read inside the
  opening hours: the morning reading if it is at or after opening, else the
  afternoon reading if it is at or before closing (with 9-20: 1-8 are pm,
  9-12 are am). Next to a part of the day, the nearer reading to that part
  wins ("7 in the morning" is 07:00, "8 in the evening" 20:00).
- A date without a year is the next such date, today included; "the 20th" is
  the next 20th. A time without a date is today if still ahead, else
  tomorrow; a part of the day is today until its window has ended.
- A time next to a span of several days ("next week at 3pm") keeps the span:
  the day is still open, so the result is the span with has_time=True.
- In a sentence with several dates, the first expression that has both a date
  and a time wins, else the first one ("not tomorrow, friday at 3" is Friday).

Vietnamese ("chiều mai 3h", "thứ 7 tuần sau", "3 rưỡi", "ngày 10 tháng 12", with or without diacritics)
is rewritten into the phrasing these rules read (see the end of this module), so both languages share one
set of interpretations.

Not read, on purpose: "wednesday week", "at 3 30", holidays ("christmas", "tet"), "asap".
A hyphenated pair of small numbers is a day-first date, so "open 9-8?" is 9 August.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser

Kind = Literal["exact", "day", "window"]


@dataclass(frozen=True)
class When:
    start: datetime  # timezone-aware, in the business time zone
    end: datetime  # exclusive; exact: == start; day: midnight after the last day
    kind: Kind
    has_date: bool  # the text named a date or day ("4pm" and "in the evening" do not)
    has_time: bool  # the text named a time of day or a part of the day
    text: str  # the matched expression, as written
    relative: bool = False  # counted from now ("in 2 hours"): never moved to another day


def resolve_when(
    text: str,
    now: datetime,
    *,
    tz: str,
    day_first: bool = True,
    open_hour: int = 9,
    close_hour: int = 20,
) -> When | None:
    """Read a date/time entity value (the whole text is the expression)."""
    if not isinstance(text, str):  # a slot can hold a list when an entity repeats
        return None
    ctx = _context(now, tz, day_first, open_hour, close_hour)
    try:
        return _either_language(text, lambda t: _find(t, ctx) or _whole_text(t, ctx))
    except OverflowError:  # calendar maths past the year 9999
        return None


def find_when(
    text: str,
    now: datetime,
    *,
    tz: str,
    day_first: bool = True,
    open_hour: int = 9,
    close_hour: int = 20,
) -> When | None:
    """Find the date/time expression in a customer sentence, if there is one.

    Unlike resolve_when it never guesses: no bare numbers, no library fallback.
    """
    if not isinstance(text, str):
        return None
    ctx = _context(now, tz, day_first, open_hour, close_hour)
    try:
        return _either_language(text, lambda t: _find(t, ctx))
    except OverflowError:  # calendar maths past the year 9999
        return None


def combine(base: When, time_only: When) -> When:
    """Keep base's date and take time_only's time of day ("make it 4pm").

    A time_only without a time of day (or spanning whole days) changes nothing; one counted from now
    ("in 2 hours") is kept as it is.
    """
    if time_only.relative:
        return time_only
    length = time_only.end - time_only.start
    if not time_only.has_time or time_only.kind == "day" or length >= timedelta(days=1):
        return base
    zone = base.start.tzinfo
    clock = time_only.start.astimezone(zone).time()
    start = datetime.combine(base.start.date(), clock, zone)
    text = f"{base.text} {time_only.text}".strip()
    return When(start, start + length, time_only.kind, base.has_date, True, text)


# --- what the atoms produce -------------------------------------------------


@dataclass(frozen=True)
class _Ctx:
    now: datetime  # in tz
    tz: ZoneInfo
    day_first: bool
    open_hour: int
    close_hour: int

    @property
    def today(self) -> date:
        return self.now.date()


@dataclass(frozen=True)
class _Days:
    """One date or a run of whole dates, both ends included."""

    first: date
    last: date
    window: bool = False  # weeks and weekends are windows, not whole "day"s
    week: bool = False  # a Monday-Sunday week: "friday next week" narrows it
    weekday: bool = False  # named by weekday alone: may roll on a week


@dataclass(frozen=True)
class _Clock:
    hour: int
    minute: int
    bare: bool = False  # no am/pm: a part of the day or the opening hours decide


@dataclass(frozen=True)
class _Span:
    """Part of a day, in minutes after midnight (end may be 1440)."""

    start: int
    end: int
    part: bool = False  # morning/afternoon/...: gives a bare hour its am or pm


@dataclass(frozen=True)
class _Moment:
    at: datetime
    has_date: bool


_Value = _Days | _Clock | _Span | _Moment


@dataclass(frozen=True)
class _Piece:
    begin: int
    end: int
    value: _Value


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    read: Callable[[re.Match[str], _Ctx], list[_Value]]


# Rules are tried in the order they are defined: at one position the first
# rule that matches (and accepts) wins.
_RULES: list[_Rule] = []


def _rule(pattern: str) -> Callable:
    def register(read: Callable) -> Callable:
        _RULES.append(_Rule(re.compile(pattern, re.I | re.A), read))
        return read

    return register


# --- vocabulary ---------------------------------------------------------------


def _alternatives(words: list[str]) -> str:
    # longest first: an alternation takes the first word that fits, and "eighteen"
    # must be tried before "eight", "twenty one" before "twenty"
    ordered = sorted(words, key=len, reverse=True)
    return "(?:" + "|".join(w.replace(" ", r"[\s-]+") for w in ordered) + ")"


_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
_TEENS = ["thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_WORD_NUMBERS = {w: i for i, w in enumerate(_UNITS + _TEENS)}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90}
_NUM = (
    r"(?:\d{1,3}|"
    + _alternatives([f"{t} {u}" for t in _TENS for u in _UNITS[1:10]])
    + "|"
    + _alternatives(list(_TENS) + _UNITS[1:] + _TEENS)
    + r"|(?:a\s+)?couple(?:\s+of)?|an?)"
)
_HOUR_WORD = _alternatives(_UNITS[1:13])

_ORDINAL_LIST = [
    *["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"],
    *["eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth"],
    *["eighteenth", "nineteenth", "twentieth"],
]
_ORDINALS = {w: i + 1 for i, w in enumerate(_ORDINAL_LIST)}
_ORDINALS |= {f"twenty {w}": 21 + i for i, w in enumerate(_ORDINAL_LIST[:9])}
_ORDINALS |= {"thirtieth": 30, "thirty first": 31}
_DAY = r"(?P<d>\d{1,2}(?:st|nd|rd|th)?|" + _alternatives(list(_ORDINALS)) + r")(?![\w:])"

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])\.?"
)
_MONTH_ABBREVIATIONS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_WEEKDAY = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:r(?:s(?:day)?)?)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?)"
)
_WEEKDAY_PREFIXES = ["mo", "tu", "we", "th", "fr", "sa", "su"]
_TOMORROW = r"(?:tomorrow|tomorow|tommorow|tommorrow|tomorrw|tmrw|tmrow|tmr|tmw|2moro|2morrow|2mrw)"
_PART = r"(?:morning|afternoon|arvo|evening|night|lunch\s*time|lunch)"

_ON_THE = r"(?:\b(?:on\s+)?the\s+|\bon\s+)?"
# A number is not a date or time when glued to another number, a price or a code.
_NUMBER_START = r"(?<![\w$.,:/+#-])"
# ... nor when a count, a duration or money follows it ("2 people", "3 hours", "12 usd").
_NOT_A_TIME_AFTER = (
    r"(?:\s*(?:people|persons?|guests?|pax|ladies|of|x|more|times?|point|hours?|hrs?|h"
    r"|mins?|minutes?|days?|weeks?|months?|years?|usd|dollars?|bucks|vnd|dong|k|massages?"
    r"|treatments?|services?|sessions?|rooms?)\b|\s*[%$])"
)
# Clock text as written inside ranges and "after"/"before".
_T = r"(?:noon|midday|lunch(?:\s*time)?|(?:\d{1,2}(?:[:.h]\d{2})?(?!\d)|" + _HOUR_WORD + r")(?:\s*[ap]\.?m\b\.?)?)"


def _number(text: str) -> int | None:
    words = re.sub(r"[\s-]+", " ", text.lower()).strip()
    if words.isdigit():
        return int(words)
    if words in ("a", "an"):
        return 1
    if "couple" in words:
        return 2
    total = 0
    for word in words.split():
        if word in _TENS:
            total += _TENS[word]
        elif word in _WORD_NUMBERS:
            total += _WORD_NUMBERS[word]
        else:
            return None
    return total


def _read_clock(text: str) -> _Clock | None:
    m = re.fullmatch(
        r"\s*(?:(?P<noon>noon|midday)|(?P<h>\d{1,2}|[a-z]+)(?:[:.h](?P<mi>\d{2})|h)?"
        r"\s*(?:(?P<ap>[ap])\.?m\.?)?)\s*",
        text,
        re.I | re.A,
    )
    if m is None:
        return None
    if m["noon"]:
        return _Clock(12, 0)
    hour = _number(m["h"])
    minute = int(m["mi"] or 0)
    if hour is None or hour > 23 or minute > 59:
        return None
    if m["ap"] and 1 <= hour <= 12:
        return _Clock(hour % 12 + (12 if m["ap"].lower() == "p" else 0), minute)
    # "09:00" and "03:00" are 24-hour clock; "9:00" and "3" leave am/pm open
    return _Clock(hour, minute, bare=1 <= hour <= 12 and not m["h"].startswith("0"))


def _month_number(text: str) -> int:
    return _MONTH_ABBREVIATIONS.index(text[:3].lower()) + 1


def _day_number(text: str) -> int:
    key = re.sub(r"[\s-]+", " ", text.lower())
    return _ORDINALS.get(key) or int(re.sub(r"\D", "", key))


def _next_date(month: int, day: int, ctx: _Ctx) -> date:
    """The next month/day on or after today (29 February can be years away)."""
    for year in range(ctx.today.year, ctx.today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= ctx.today:
            return candidate
    raise ValueError(f"no {month}/{day} ahead")


def _dated(month: int, day: int, year: str | None, ctx: _Ctx) -> date:
    if year is None:
        return _next_date(month, day, ctx)
    return date(int(year) + (2000 if len(year) == 2 else 0), month, day)


def _whole_month(month: int, year: int | None, ctx: _Ctx) -> _Days:
    if year is None:
        year = ctx.today.year + (month < ctx.today.month)
    return _Days(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _part_span(name: str, ctx: _Ctx) -> _Span:
    name = name.lower()
    if name.startswith("morning"):
        return _Span(min(max(ctx.open_hour, 6), 11) * 60, 12 * 60, part=True)
    if name.startswith(("afternoon", "arvo")):
        return _Span(12 * 60, 17 * 60, part=True)
    if name.startswith("lunch"):
        return _Span(11 * 60, 14 * 60, part=True)
    # evening and night run to closing; a business closing by 17:00 has no
    # evening hours, so the plain meaning (until 21:00) is used instead
    return _Span(17 * 60, (ctx.close_hour if ctx.close_hour > 17 else 21) * 60, part=True)


def _before(m: re.Match[str], words: str) -> bool:
    return re.search(r"\b(?:" + words + r")\W*$", m.string[: m.start()][-20:], re.I) is not None


def _after(m: re.Match[str], words: str) -> bool:
    return re.match(r"\s*(?:" + words + r")\b", m.string[m.end() :], re.I) is not None


# --- the rules, in priority order -------------------------------------------


@_rule(
    r"(?<![\w.:/-])(?P<y>\d{4})(?P<sep>[-/.])(?P<mo>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?:(?:T|\s+)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::\d{2}(?:\.\d+)?)?(?P<off>Z|[+-]\d{2}:?\d{2})?)?"
    r"(?![\w:/-]|\.\d)"
)
def _iso(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    day = date(int(m["y"]), int(m["mo"]), int(m["d"]))
    if m["h"] is None:
        return [_Days(day, day)]
    clock = time(int(m["h"]), int(m["mi"]))
    offset = m["off"]
    if not offset:
        return [_Moment(datetime.combine(day, clock, ctx.tz), has_date=True)]
    if offset.upper() == "Z":
        zone = timezone.utc
    else:
        sign, hours, minutes = re.fullmatch(r"([+-])(\d\d):?(\d\d)", offset).groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        zone = timezone(-delta if sign == "-" else delta)
    return [_Moment(datetime.combine(day, clock, zone).astimezone(ctx.tz), has_date=True)]


_DAY_RANGE = r"(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s*(?:-|to|until|till|through)\s*(?P<d2>\d{1,2})(?:st|nd|rd|th)?"


@_rule(_NUMBER_START + _DAY_RANGE + r"\s+(?:of\s+)?(?P<month>" + _MONTH + r")(?:,?\s*(?P<y>\d{4}))?(?![\w:])")
def _day_range_in_month(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    first = _dated(_month_number(m["month"]), int(m["d1"]), m["y"], ctx)
    last = first.replace(day=int(m["d2"]))
    return [_Days(first, last)] if last > first else []


@_rule(r"\b(?P<month>" + _MONTH + r")\s*" + _DAY_RANGE + r"(?:,?\s*(?P<y>\d{4}))?(?![\w:]|" + _NOT_A_TIME_AFTER + ")")
def _month_day_range(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    return _day_range_in_month(m, ctx)


@_rule(
    _ON_THE + _NUMBER_START + _DAY + r"\s*(?:of\s+)?(?P<month>" + _MONTH + r")"
    r"(?:,?\s*(?P<y>\d{4})(?!\w))?(?![\w:]|\s+(?:i|we|you|he|she|they|it)\b)"
)
def _day_month(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    day = _dated(_month_number(m["month"]), _day_number(m["d"]), m["y"], ctx)
    return [_Days(day, day)]


@_rule(
    r"\b(?P<month>" + _MONTH + r")\s*(?:the\s+)?" + _DAY + r"(?:,?\s*(?P<y>\d{4})(?!\w))?"
    r"(?![.,/-]\d|\s*[ap]\.?m\b|" + _NOT_A_TIME_AFTER + ")"
)
def _month_day(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    return _day_month(m, ctx)


@_rule(
    r"\b(?:(?:in|during|throughout)\s+(?:the\s+month\s+of\s+|early\s+|mid[\s-]*|late\s+)?"
    r"(?P<month>" + _MONTH + r")(?:\s+(?P<y>\d{4}))?|(?P<month_y>" + _MONTH + r")\s+(?P<y2>\d{4}))(?![\w:])"
)
def _in_month(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    year = m["y"] or m["y2"]
    return [_whole_month(_month_number(m["month"] or m["month_y"]), year and int(year), ctx)]


# unlike _NUMBER_START a "-" may come before, so "3/12-5/12" is a range of two dates
@_rule(
    r"(?<![\w$.,:/+#])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?"
    r"(?![\w%$]|[.,:/]\d|\s*[ap]\.?m\b|" + _NOT_A_TIME_AFTER + r"|\s+" + _MONTH + ")"
)
def _numeric_date(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    if m[0] == "24/7":  # "open 24/7?"
        return []
    if m["sep"] == "." and len(m["b"]) < 2 and not m["y"]:  # "4.5 stars" is a decimal; "3.12", "03.01" are dates
        return []
    a, b = int(m["a"]), int(m["b"])
    day, month = (a, b) if ctx.day_first else (b, a)
    found = _dated(month, day, m["y"], ctx)
    return [_Days(found, found)]


@_rule(
    r"\b(?P<w>today|tonight|tonite|to-night|(?:the\s+)?day\s+after\s+" + _TOMORROW + "|" + _TOMORROW + r"|yesterday)\b"
)
def _relative_day(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    word = m["w"].lower()
    if word in ("tonight", "tonite", "to-night"):
        return [_Days(ctx.today, ctx.today), _part_span("evening", ctx)]
    offset = {"today": 0, "yesterday": -1}.get(word, 2 if "after" in word else 1)
    day = ctx.today + timedelta(days=offset)
    return [_Days(day, day)]


@_rule(
    r"\bin\s+(?:(?P<half>half\s+an)|(?P<n>" + _NUM + r"))\s+"
    r"(?P<unit>days?|weeks?|months?|hours?|hrs?|h|minutes?|mins?)\b"
    r"|\b(?P<n2>" + _NUM + r")\s+(?P<unit2>days?|weeks?)\s+from\s+(?:now|today|(?P<tmrw>" + _TOMORROW + r"))\b"
)
def _offset(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    unit = (m["unit"] or m["unit2"]).lower()
    n = 30 if m["half"] else _number(m["n"] or m["n2"])
    if n is None:
        return []
    base = ctx.today + timedelta(days=1 if m["tmrw"] else 0)
    if unit.startswith("d"):
        day = base + timedelta(days=n)
    elif unit.startswith("w"):
        day = base + timedelta(weeks=n)
    elif unit.startswith("mo"):
        day = _add_months(base, n)
    else:
        minutes = n if m["half"] or unit.startswith("m") else n * 60
        # elapsed time, so count in UTC (a DST change must not stretch it)
        at = (ctx.now.astimezone(timezone.utc) + timedelta(minutes=minutes)).astimezone(ctx.tz)
        return [_Moment(at.replace(second=0, microsecond=0), has_date=False)]
    return [_Days(day, day)]


@_rule(
    r"\b(?:(?P<which>this|next|coming|the\s+coming|following|the\s+following)\s+)?"
    r"(?P<what>weekend|week)\b"
)
def _week(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    which = re.sub(r"^the\s+", "", (m["which"] or "this").lower())
    monday = ctx.today - timedelta(days=ctx.today.weekday())
    if m["what"].lower() == "week":
        if not m["which"]:  # "a week", "per week": a length, not a date
            return []
        if which == "this":
            return [_Days(ctx.today, monday + timedelta(days=6), window=True, week=True)]
        first = monday + timedelta(days=7)
        return [_Days(first, first + timedelta(days=6), window=True, week=True)]
    saturday = monday + timedelta(days=5)
    # "the coming weekend" is the next one not yet begun; "this weekend" may be under way
    if which in ("next", "following") or (which == "coming" and ctx.today >= saturday):
        saturday += timedelta(days=7)
    return [_Days(saturday, saturday + timedelta(days=1), window=True)]


@_rule(r"\b(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?(?P<next>next\s+)?month\b")
def _end_of_month(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    first = _add_months(ctx.today.replace(day=1), 1 if m["next"] else 0)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return [_Days(last, last)]


@_rule(r"\b(?:(?P<which>this|next|coming|the\s+coming)\s+)?(?P<wd>" + _WEEKDAY + r")\b")
def _weekday(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    index = _WEEKDAY_PREFIXES.index(m["wd"][:2].lower())
    if (m["which"] or "").lower() == "next":
        monday = ctx.today - timedelta(days=ctx.today.weekday())
        day = monday + timedelta(days=7 + index)
        return [_Days(day, day)]
    day = ctx.today + timedelta(days=(index - ctx.today.weekday()) % 7)
    return [_Days(day, day, weekday=True)]


_RANGE_END = r"(?![\w:]|" + _NOT_A_TIME_AFTER + ")"


@_rule(r"\bbetween\s+(?P<a>" + _T + r")\s*(?:and|-|to)\s*(?P<b>" + _T + ")" + _RANGE_END)
def _between(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    return _time_range(m, ctx)


@_rule(r"\bfrom\s+(?P<a>" + _T + r")\s*(?:-|to|till|until)\s*(?P<b>" + _T + ")" + _RANGE_END)
def _from_to(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    return _time_range(m, ctx)


@_rule(
    _NUMBER_START
    + r"(?P<a>"
    + _T
    + r")\s*(?:-|to)\s*(?P<b>\d{1,2}(?:[:.]\d{2})?\s*[ap]\.?m\b\.?|\d{1,2}:\d{2})"
    + _RANGE_END
)
def _clock_range(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    return _time_range(m, ctx)


def _time_range(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    a, b = _read_clock(m["a"]), _read_clock(m["b"])
    if a is None or b is None:
        return []
    start = _hour(a, ctx) * 60 + a.minute
    end = _hour(b, ctx) * 60 + b.minute
    morning_start = (a.hour % 12) * 60 + a.minute
    if start >= end and a.bare and morning_start < end:  # "from 8 to 10" is 08:00-10:00
        start = morning_start
    if start >= end and b.bare and b.hour < 12:  # "from 2pm to 4"
        end += 12 * 60
    return [_Span(start, end)] if start < end else []


@_rule(
    r"\b(?P<rel>after|before|not\s+before|not\s+after|no\s+later\s+than|no\s+earlier\s+than"
    r"|later\s+than|earlier\s+than)\s+(?P<t>" + _T + ")" + _RANGE_END
)
def _after_before(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    rel = " ".join(m["rel"].lower().split())
    after = rel in ("after", "not before", "no earlier than", "later than")
    if m["t"].lower().startswith("lunch"):
        lunch = _part_span("lunch", ctx)
        at = lunch.end if after else lunch.start
    else:
        clock = _read_clock(m["t"])
        if clock is None:
            return []
        at = _hour(clock, ctx) * 60 + clock.minute
    if after:
        close = ctx.close_hour * 60
        return [_Span(at, close if at < close else 24 * 60)]
    opening = ctx.open_hour * 60
    return [_Span(opening if at > opening else 0, at)] if at > 0 else []


@_rule(_NUMBER_START + r"(?P<t>(?:\d{1,2}|" + _HOUR_WORD + r")(?:[:.]\d{2})?\s*[ap]\.?m\.?)(?!\w)")
def _meridiem_clock(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    clock = _read_clock(m["t"])
    return [clock] if clock else []


@_rule(
    r"(?:(?:\b(?:at|around|about)|@)\s*)?" + _NUMBER_START + r"(?P<t>\d{1,2}|" + _HOUR_WORD + r")"
    r"\s*o['\u2019]?\s?clock\b"
)
def _oclock(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    clock = _read_clock(m["t"])
    return [clock] if clock else []


@_rule(
    r"\b(?P<q>half|quarter|five|ten|twenty|twenty[\s-]five)\s+(?P<rel>past|after|to|till|til)\s+"
    r"(?P<h>\d{1,2}|" + _HOUR_WORD + r")(?![\w:]|" + _NOT_A_TIME_AFTER + ")"
)
def _past_to(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    words = re.sub(r"[\s-]+", " ", m["q"].lower())
    minutes = {"half": 30, "quarter": 15, "twenty five": 25}.get(words) or _number(words)
    hour = _number(m["h"])
    if hour is None or not 1 <= hour <= 12:
        return []
    if m["rel"].lower() in ("to", "till", "til"):
        hour, minutes = (hour - 1) or 12, 60 - minutes
    return [_Clock(hour, minutes, bare=True)]


# words that put a bare hour in place of the time under discussion: "make it 11", "move it to 2"
_TO_HOUR = r"at|around|about|make\s+it|(?:change|move|push|switch|shift)\s+(?:it\s+|that\s+)?to"


@_rule(
    r"(?:\b(?:" + _TO_HOUR + r")|@)\s*(?P<t>\d{1,2}(?:[:.]\d{2})?|" + _HOUR_WORD + r")"
    r"(?![\w:]|[.,]\d|\s*(?:[ap]\.?m\b|noon|midday|o['\u2019]?\s?clock|\d)|" + _NOT_A_TIME_AFTER + ")"
)
def _at_hour(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    clock = _read_clock(m["t"])
    return [clock] if clock else []


@_rule(_NUMBER_START + r"(?P<t>\d{1,2}(?::\d{2}|h\d{2}|h))(?![\w:]|[.,]\d)")
def _colon_clock(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    # "15h" is a time in Vietnam, but "a 1h massage" and "for 2h" are durations
    if "h" in m["t"].lower() and (
        _before(m, r"for|an?|of|takes?|lasts?|lasting|about|approx\w*")
        or _after(m, r"\w*massage|sessions?|treatments?|facials?|long")
    ):
        return []
    clock = _read_clock(m["t"])
    return [clock] if clock else []


@_rule(r"\b(?:12\s*)?(?P<w>noon|midday|mid-day|midnight)\b")
def _noon(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    # midnight closes the day it is named with: "tomorrow at midnight" is 00:00 the day after
    return [_Clock(24, 0) if m["w"].lower() == "midnight" else _Clock(12, 0)]


# "3 in the afternoon": digits may stand right before a part of the day; a word
# needs the linking phrase, so "one morning" stays a story, not 1:00
_LINKED_PART = r"\s+(?:in\s+the|at|this|tomorrow)\s+" + _PART + r"\b"


@_rule(
    _NUMBER_START
    + r"(?P<t>\d{1,2}(?=\s+"
    + _PART
    + r"\b|"
    + _LINKED_PART
    + ")|"
    + _HOUR_WORD
    + "(?="
    + _LINKED_PART
    + "))"
)
def _hour_before_part(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    clock = _read_clock(m["t"])
    return [clock] if clock and clock.bare else []


@_rule(
    r"\b(?:(?P<this>this)\s+|(?:in|during|over)\s+the\s+|at\s+|over\s+)?(?:(?:early|late)[\s-]+|mid-)?"
    r"(?P<part>" + _PART + r")s?\b"
)
def _part_of_day(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    if _before(m, "good"):  # a greeting, not a time
        return []
    span = _part_span(m["part"], ctx)
    return [_Days(ctx.today, ctx.today), span] if m["this"] else [span]


@_rule(_ON_THE + _NUMBER_START + r"(?P<d>\d{1,2})(?:st|nd|rd|th)\b(?!\s*(?:of\s+)?" + _MONTH + ")")
def _ordinal_day(m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    # "my 2nd visit", "the 3rd floor": an ordinal is a day only when nothing says otherwise
    if _before(m, r"my|your|our|his|her|their|its|an?|every|each|per") or _after(
        m,
        r"times?|visits?|floors?|bookings?|appointments?|ones?|persons?|guests?|sessions?"
        r"|treatments?|massages?|place|row|choice|option|birthday|anniversary|year|week",
    ):
        return []
    n = int(m["d"])
    for ahead in range(13):
        first = _add_months(ctx.today.replace(day=1), ahead)
        try:
            day = first.replace(day=n)
        except ValueError:
            continue
        if day >= ctx.today:
            return [_Days(day, day)]
    return []


# "friday 10", "tomorrow 2": a bare number right after a single day is its hour.
_TRAILING_HOUR = re.compile(
    r"(?:\s*,\s*|\s+)(?P<t>\d{1,2})(?![\w:%$]|[.,/-]\d|\s*[ap]\.?m\b|" + _NOT_A_TIME_AFTER + r"|\s+" + _MONTH + ")",
    re.I | re.A,
)


# --- scanning, folding, resolving ----------------------------------------------


def _context(now: datetime, tz: str, day_first: bool, open_hour: int, close_hour: int) -> _Ctx:
    zone = ZoneInfo(tz)
    # a naive "now" is taken as wall-clock time in the business zone
    local = now.replace(tzinfo=zone) if now.tzinfo is None else now.astimezone(zone)
    return _Ctx(local, zone, day_first, open_hour, close_hour)


def _read(rule: _Rule, m: re.Match[str], ctx: _Ctx) -> list[_Value]:
    try:
        return rule.read(m, ctx)
    except (ValueError, OverflowError):
        # 31 June, month 13, year 10000: calendar maths failing means "not a date"
        return []


def _scan(text: str, ctx: _Ctx) -> list[_Piece]:
    pieces: list[_Piece] = []
    # each rule's next match is cached, so a long message is scanned once per rule
    upcoming = [rule.pattern.search(text) for rule in _RULES]
    pos = 0
    while True:
        for i, rule in enumerate(_RULES):
            found = upcoming[i]
            if found is not None and found.start() < pos:
                upcoming[i] = rule.pattern.search(text, pos)
        candidates = [(found.start(), i) for i, found in enumerate(upcoming) if found is not None]
        if not candidates:
            return pieces
        start, i = min(candidates)
        m = upcoming[i]
        values = _read(_RULES[i], m, ctx)
        if not values:  # rejected: let the other rules try this position
            upcoming[i] = _RULES[i].pattern.search(text, start + 1)
            continue
        pieces += [_Piece(m.start(), m.end(), value) for value in values]
        pos = m.end()
        if any(isinstance(v, _Days) and v.first == v.last for v in values) and not any(
            isinstance(v, _Clock) for v in values
        ):
            tail = _TRAILING_HOUR.match(text, pos)
            clock = _read_clock(tail["t"]) if tail else None
            if clock:
                pieces.append(_Piece(tail.start("t"), tail.end("t"), clock))
                pos = tail.end()


@dataclass
class _Expr:
    begin: int
    end: int
    days: _Days | None = None
    clock: _Clock | None = None
    span: _Span | None = None
    moment: _Moment | None = None

    @property
    def complete(self) -> bool:
        timed = self.clock is not None or self.span is not None
        return self.moment is not None or (self.days is not None and timed)


_RANGE_GAP = re.compile(r"\s*(?:-|\u2013|to|until|till|through|thru)\s*", re.I)


def _merge_days(a: _Days, b: _Days, gap: str) -> _Days | None:
    if _RANGE_GAP.fullmatch(gap) and not (a.window or b.window):
        last = b.last
        while b.weekday and last <= a.last:  # "friday to monday": the monday after
            last += timedelta(days=7)
        return _Days(a.first, last) if last > a.last else None  # "3/12 - 5/12"
    single_days = a.first == a.last and b.first == b.last
    if single_days and a.weekday != b.weekday and re.fullmatch(r"[\s,]*", gap):
        dated, weekday = (b, a) if a.weekday else (a, b)
        if dated.first.weekday() == weekday.first.weekday():
            return dated  # "thursday 10th dec": the weekday only confirms the date
        return None  # "not tomorrow, friday": two days
    week, single = (a, b) if a.week else (b, a)
    if week.week and single.weekday:  # "friday next week"
        monday = week.first - timedelta(days=week.first.weekday())
        day = monday + timedelta(days=single.first.weekday())
        return _Days(day, day)
    return None


def _absorb(expr: _Expr, piece: _Piece, gap: str) -> bool:
    """Add a piece to the expression; False when it clashes (a second date, a second time)."""
    value = piece.value
    if expr.moment is not None:
        return False
    if isinstance(value, _Moment):
        if expr.days or expr.clock or expr.span:
            return False
        expr.moment = value
    elif isinstance(value, _Days):
        merged = value if expr.days is None else _merge_days(expr.days, value, gap)
        if merged is None:
            return False
        expr.days = merged
    elif isinstance(value, _Clock):
        if expr.clock or (expr.span and not expr.span.part):
            return False
        expr.clock = value
    else:
        if expr.span or (expr.clock and not value.part):
            return False
        expr.span = value
    expr.end = piece.end
    return True


def _hour(clock: _Clock, ctx: _Ctx, part: _Span | None = None) -> int:
    if not clock.bare:
        return clock.hour
    am, pm = clock.hour % 12, clock.hour % 12 + 12
    if part is not None:

        def distance(hour: int) -> int:
            at = hour * 60 + clock.minute
            return max(part.start - at, at - part.end, 0)

        return min((am, pm), key=distance)
    if am >= ctx.open_hour:
        return am
    if pm <= ctx.close_hour:
        return pm
    return am


def _local(day: date, minutes: int, ctx: _Ctx) -> datetime:
    return datetime.combine(day, time(), ctx.tz) + timedelta(minutes=minutes)


def _pick_day(days: _Days | None, minutes: int, ctx: _Ctx) -> date:
    """The day a time of day lands on; minutes is when it must still be ahead."""
    if days is None:
        ahead = _local(ctx.today, minutes, ctx) > ctx.now
        return ctx.today if ahead else ctx.today + timedelta(days=1)
    if days.weekday and days.first == ctx.today and _local(ctx.today, minutes, ctx) <= ctx.now:
        return days.first + timedelta(days=7)
    return days.first


def _build(expr: _Expr, text: str, ctx: _Ctx) -> When | None:
    matched = text[expr.begin : expr.end]
    if expr.moment is not None:
        at = expr.moment.at
        return When(at, at, "exact", expr.moment.has_date, True, matched, relative=not expr.moment.has_date)
    days, clock, span = expr.days, expr.clock, expr.span
    has_date, has_time = days is not None, clock is not None or span is not None
    if days is not None and (days.window or days.first != days.last):
        start, end = _local(days.first, 0, ctx), _local(days.last + timedelta(days=1), 0, ctx)
        return When(start, end, "window" if days.window else "day", True, has_time, matched)
    if clock is not None:
        minutes = _hour(clock, ctx, span) * 60 + clock.minute
        start = _local(_pick_day(days, minutes, ctx), minutes, ctx)
        return When(start, start, "exact", has_date, True, matched)
    if span is not None:
        day = _pick_day(days, span.end, ctx)
        start, end = _local(day, span.start, ctx), _local(day, span.end, ctx)
        return When(start, end, "window", has_date, True, matched)
    if days is not None:
        start, end = _local(days.first, 0, ctx), _local(days.first + timedelta(days=1), 0, ctx)
        return When(start, end, "day", True, False, matched)
    return None


def _expressions(text: str, ctx: _Ctx) -> list[_Expr]:
    exprs: list[_Expr] = []
    for piece in _scan(text, ctx):
        if not exprs or not _absorb(exprs[-1], piece, text[exprs[-1].end : piece.begin]):
            exprs.append(_Expr(piece.begin, piece.begin))
            _absorb(exprs[-1], piece, "")
    return exprs


def _find(text: str, ctx: _Ctx) -> When | None:
    exprs = _expressions(text, ctx)
    if not exprs:
        return None
    return _build(next((e for e in exprs if e.complete), exprs[0]), text, ctx)


def find_all_when(
    text: str,
    now: datetime,
    *,
    tz: str,
    day_first: bool = True,
    open_hour: int = 9,
    close_hour: int = 20,
) -> list[tuple[int, int, When]]:
    """Every date/time expression of a sentence, in order, as (begin, end, When): to tell "tomorrow or
    friday?" (two options: ask) from "not tomorrow, friday" (a correction)."""
    if not isinstance(text, str):
        return []
    ctx = _context(now, tz, day_first, open_hour, close_hour)
    english = vietnamese_to_english(text)
    translated = _find(english, ctx) if english is not None else None
    if english is not None and (
        _score(translated) >= _score(_find(text, ctx)) or (translated is not None and _VI_ONLY.search(_fold(text)))
    ):
        text = english
    try:
        found = [(e.begin, e.end, _build(e, text, ctx)) for e in _expressions(text, ctx)]
    except OverflowError:
        return []
    return [(begin, end, when) for begin, end, when in found if when is not None]


_BARE_HOUR = re.compile(r"\s*(?P<t>\d{1,2})\s*")
_BARE_MONTH = re.compile(r"\s*(?P<month>" + _MONTH + r")\s*", re.I | re.A)


def _whole_text(text: str, ctx: _Ctx) -> When | None:
    """Entity values the sentence rules leave alone: "2", "december", library phrasings."""
    expr = None
    if m := _BARE_HOUR.fullmatch(text):
        expr = _Expr(m.start("t"), m.end("t"), clock=_read_clock(m["t"]))
    elif m := _BARE_MONTH.fullmatch(text):
        expr = _Expr(m.start("month"), m.end("month"), days=_whole_month(_month_number(m["month"]), None, ctx))
    if expr is not None:
        return _build(expr, text, ctx) if expr.clock or expr.days else None
    return _fallback(text, ctx)


def _fallback(text: str, ctx: _Ctx) -> When | None:
    phrase = text.strip()
    # dateparser makes dates of stray numbers and short words ("$45" is 2045,
    # "an" is today), so it only sees short text with a real word in it
    if len(phrase) > 60 or not re.search(r"[a-z]{3}", phrase, re.I):
        return None
    settings = {
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY" if ctx.day_first else "MDY",
        "RELATIVE_BASE": ctx.now.replace(tzinfo=None),
        "TIMEZONE": ctx.tz.key,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "RETURN_TIME_AS_PERIOD": True,
    }
    try:
        data = DateDataParser(languages=["en"], settings=settings).get_date_data(phrase)
    except Exception:  # a library failure on odd text means "no date", never an error
        return None
    found = data.date_obj
    if found is None or data.period not in ("time", "day", "week", "month"):
        return None
    found = found.astimezone(ctx.tz)
    if found.date() < ctx.today:  # it reads "two weeks from today" backwards
        return None
    if data.period == "time":
        return When(found, found, "exact", True, True, phrase)
    days = _whole_month(found.month, found.year, ctx) if data.period == "month" else _Days(found.date(), found.date())
    start, end = _local(days.first, 0, ctx), _local(days.last + timedelta(days=1), 0, ctx)
    return When(start, end, "day", True, False, phrase)


# --- Vietnamese ------------------------------------------------------------------------------------
#
# Vietnamese date and time words are rewritten into the English phrasing the rules above read, then read
# by the same rules: one resolution layer, one set of interpretations. dateparser's Vietnamese was
# measured and not used ("15 giờ ngày mai" came out as 01:00 two days on). Words that mean something else
# without their diacritics are only taken next to a time: "sang" is "to" ("đổi sang 4h"), "sáng" morning;
# "toi" is "I" ("toi muon dat lich"), "tối" evening; "mai" after "chị", "với" is Mai the therapist.

_VI_NUMBER_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8,
                    "chin": 9, "muoi": 10, "muoi mot": 11, "muoi hai": 12}  # fmt: skip
_VI_WEEKDAYS = {"2": "monday", "3": "tuesday", "4": "wednesday", "5": "thursday", "6": "friday", "7": "saturday",
                "hai": "monday", "ba": "tuesday", "tu": "wednesday", "nam": "thursday", "sau": "friday",
                "bay": "saturday"}  # fmt: skip
_VI_MARKERS = re.compile(
    r"\b(?:hom nay|ngay mai|mai|mot|ngay kia|thu\s*[2-7]|thu (?:hai|ba|tu|nam|sau|bay)|t[2-7]|chu nhat|cn|tuan"
    r"|cuoi tuan|sang|trua|chieu|toi|dem|gio|ruoi|luc|ngay \d{1,2}|thang \d{1,2}|\d{1,2}h)\b"
)

# the markers that cannot be English
_VI_ONLY = re.compile(
    r"\b(?:hom nay|ngay mai|ngay kia|thu\s*[2-7]|thu (?:hai|ba|tu|nam|sau|bay)|t[2-7]|chu nhat|tuan (?:sau|toi|nay)"
    r"|cuoi tuan|chieu|trua|gio|ruoi|luc|ngay \d{1,2}|thang \d{1,2})\b"
)


def _fold(text: str) -> str:
    """Lower case without diacritics ("Thứ Bảy" -> "thu bay"), same length as far as it matters."""
    import unicodedata

    text = unicodedata.normalize("NFC", text).replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn").lower()


def vietnamese_to_english(text: str) -> str | None:
    """The date/time words of a Vietnamese message in the English the rules read; None when it has none."""
    if not isinstance(text, str) or not text.strip():
        return None
    original = unicodedata_nfc(text)
    # words whose diacritics tell them apart: decide on the accented text first
    accented = re.sub(r"\bsáng\b", " morning ", original, flags=re.I)
    accented = re.sub(r"\btối\b", " evening ", accented, flags=re.I)
    accented = re.sub(r"\bmốt\b", " day after tomorrow ", accented, flags=re.I)
    folded = _fold(accented)
    if accented == original and not _VI_MARKERS.search(folded):
        return None
    s = " " + re.sub(r"\s+", " ", folded) + " "
    hour = r"(\d{1,2})\s*(?:h|g|gio)\b"
    rules: list[tuple[str, str]] = [
        (
            r"(?<!tuan )\b(sau|truoc)\s+(\d{1,2})\s*(?:h|g|gio)\s+(chieu|toi|sang)\b",
            lambda m: f" {'after' if m[1] == 'sau' else 'before'} {m[2]}{'am' if m[3] == 'sang' else 'pm'} ",
        ),
        (
            r"\bngay\s+(\d{1,2})\s+thang\s+(\d{1,2})(?:\s+nam\s+(\d{4}))?",
            lambda m: f" {m[1]}/{m[2]}" + (f"/{m[3]}" if m[3] else "") + " ",
        ),
        (  # "15 tháng 12" without "ngày"
            r"(?<![\d/.:])\b(\d{1,2})\s+thang\s+(\d{1,2})\b(?:\s+nam\s+(\d{4}))?",
            lambda m: f" {m[1]}/{m[2]}" + (f"/{m[3]}" if m[3] else "") + " ",
        ),
        (r"\bngay\s+(\d{1,2})\s*[/.-]\s*(\d{1,2})", r" \1/\2 "),
        (r"\bthu gian\b", " relaxing "),  # "massage thư giãn": relaxing, not Thursday
        (r"\bngay\s+(\d{1,2})\b(?!\s*[/.-])", r" the \1th "),
        (r"\b(?:ngay kia|ngay mot|bua kia)\b", " day after tomorrow "),
        (r"\b(?:hom nay|bua nay|ngay hom nay)\b", " today "),
        (
            r"\b(?:ngay mai|sang mai|trua mai|chieu mai|toi mai)\b",
            lambda m: {
                "ngay mai": " tomorrow ",
                "sang mai": " tomorrow morning ",
                "trua mai": " tomorrow at noon ",
                "chieu mai": " tomorrow afternoon ",
                "toi mai": " tomorrow evening ",
            }[m[0]],
        ),
        (r"\b(chi|anh|em|ban|voi|co|with|nhan vien|ky thuat vien|ktv)\s+mai\b", r" \1 Mai "),  # the therapist
        (r"\bmai\b(?! [A-Z])", " tomorrow "),
        (
            r"\b(?:sang|trua|chieu|toi) nay\b",
            lambda m: {
                "sang nay": " this morning ",
                "trua nay": " today at noon ",
                "chieu nay": " this afternoon ",
                "toi nay": " tonight ",
            }[m[0]],
        ),
        (r"\b(morning|evening|afternoon) nay\b", r" this \1 "),
        (r"\b(morning|evening) mai\b", r" tomorrow \1 "),
        (r"\bcuoi tuan (?:sau|toi)\b", " next weekend "),
        (r"\bcuoi tuan(?: nay)?\b", " this weekend "),
        (r"\b(?:thu|t)\s*([2-7])\s+tuan\s+(?:sau|toi)\b", lambda m: f" {_VI_WEEKDAYS[m[1]]} next week "),
        (r"\bthu\s+(hai|ba|tu|nam|sau|bay)\s+tuan\s+(?:sau|toi)\b", lambda m: f" {_VI_WEEKDAYS[m[1]]} next week "),
        (r"\b(?:chu nhat|cn)\s+tuan\s+(?:sau|toi)\b", " sunday next week "),
        (r"\btuan\s+(?:sau|toi)\b", " next week "),
        (r"\btuan nay\b", " this week "),
        (r"\b(?:thu|t)\s*([2-7])\b", lambda m: f" {_VI_WEEKDAYS[m[1]]} "),
        (r"\bthu\s+(hai|ba|tu|nam|sau|bay)\b", lambda m: f" {_VI_WEEKDAYS[m[1]]} "),
        (r"\b(?:chu nhat|cn)\b", " sunday "),
        (hour + r"\s*(\d{1,2})\s*(?:p|phut)?\b(?!\s*[/.])", r" \1:\2 "),  # "3h15", "3 gio 15 phut"
        (hour + r"\s*(?:ruoi|30)\b", r" \1:30 "),
        (r"(?<![\d:])(\d{1,2})\s+ruoi\b", r" \1:30 "),
        (hour + r"\s+(?:sang|buoi sang)\b", r" \1 in the morning "),
        (hour + r"\s+(?:trua|buoi trua)\b", r" \1 at noon "),
        (hour + r"\s+(?:chieu|buoi chieu)\b", r" \1 in the afternoon "),
        (hour + r"\s+(?:toi|dem|buoi toi)\b", r" \1 in the evening "),
        (r"(\d{1,2}:\d{2})\s+(?:sang|buoi sang)\b", r" \1 in the morning "),
        (r"(\d{1,2}:\d{2})\s+(?:chieu|buoi chieu)\b", r" \1 in the afternoon "),
        (r"(\d{1,2}:\d{2})\s+(?:toi|buoi toi)\b", r" \1 in the evening "),
        (hour + r"(?!\s*[:\d])", r" \1h "),
        (
            r"\b(?:buoi )?sang (?=(?:tomorrow|today|monday|tuesday|wednesday|thursday|friday|saturday|sunday|the \d))",
            " morning ",
        ),
        (r"\b(?:buoi )?chieu\b", " afternoon "),
        (r"\b(?:buoi )?trua\b", " lunchtime "),
        (r"\bbuoi (?:toi|sang)\b", lambda m: " evening " if m[0].endswith("toi") else " morning "),
        (r"\b(?:toi|dem) (?=(?:tomorrow|today|monday|tuesday|wednesday|thursday|friday|saturday|sunday))", " evening "),
        (r"\bsau\s+(\d{1,2})h\b", r" after \1h "),
        (r"\btruoc\s+(\d{1,2})h\b", r" before \1h "),
        (r"\bluc\b", " at "),
    ]
    for pattern, replacement in rules:
        s = re.sub(r"\s+", " ", re.sub(pattern, replacement, s))
    return s.strip()


def _score(when: When | None) -> int:
    if when is None:
        return 0
    return 1 + when.has_date + when.has_time + (when.kind == "exact")


def _either_language(text: str, read: Callable[[str], When | None]) -> When | None:
    """The reading of the text as written, or of its Vietnamese date words in English when that reads more."""
    found = read(text)
    english = vietnamese_to_english(text)
    if english is None:
        return found
    translated = read(english)
    # a tie goes to the Vietnamese reading, and so does any reading of words only Vietnamese uses:
    # "thu 7" is Saturday, not Thursday at 7
    if _score(translated) >= _score(found) or (translated is not None and _VI_ONLY.search(_fold(text))):
        return translated
    return found


def unicodedata_nfc(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", text)
