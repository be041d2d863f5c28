"""The business configuration (data/business.yml): load, validate, and ask it questions.

Everything the assistant knows about the catalogue, the staff, the opening
hours and the booking rules comes from here, so another business is a matter
of editing that file.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.settings import settings

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class BusinessConfigError(ValueError):
    """The business file is missing or wrong; the message names the field."""


def _hhmm(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"expected a time like 09:00, got {value!r}") from err


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Identity(_Strict):
    name: str
    address: str
    address_note: str = ""
    phone: str
    phone_note: str = ""
    email: str
    timezone: str
    day_first_dates: bool = True
    languages: list[str] = []
    currency: str = "USD"
    currency_symbol: str = "$"
    payment_note: str = ""
    manager: str = ""
    # the notes in Vietnamese (the language of most customers); empty: the English note is used
    address_note_vi: str = ""
    phone_note_vi: str = ""
    payment_note_vi: str = ""

    def note(self, field: str, language: str) -> str:
        """`address_note`, `phone_note` or `payment_note` in `language` (English when not translated)."""
        return (getattr(self, f"{field}_vi", "") if language == "vi" else "") or getattr(self, field)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}") from err
        return value


class RecurringClosure(_Strict):
    date: Annotated[str, Field(pattern=r"^\d{2}-\d{2}$")]
    name: str
    name_vi: str = ""


class ClosureRange(_Strict):
    from_: date = Field(alias="from")
    to: date
    name: str
    name_vi: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> ClosureRange:
        if self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        return self


class PublicHolidays(_Strict):
    """Holidays from the `holidays` package (lunar ones included, for any year): the ones the business closes on."""

    country: str
    include: Annotated[list[str], Field(min_length=1)]  # the package's English holiday names

    @model_validator(mode="after")
    def _known(self) -> PublicHolidays:
        try:
            calendar = holidays.country_holidays(self.country, years=range(2025, 2031))
        except NotImplementedError as err:
            raise ValueError(f"the holidays package has no country {self.country!r}") from err
        known = {name for name in calendar.values()}
        unknown = [name for name in self.include if name not in known]
        if unknown:
            raise ValueError(f"unknown holiday names for {self.country}: {unknown}")
        return self


class Closures(_Strict):
    public_holidays: PublicHolidays | None = None
    recurring: list[RecurringClosure] = []
    ranges: list[ClosureRange] = []


class Service(_Strict):
    name: str
    duration_minutes: Annotated[int, Field(gt=0, le=24 * 60)]
    price: Annotated[Decimal, Field(ge=0)]
    staff: Annotated[list[str], Field(min_length=1)]
    synonyms: list[str] = []


class StaffMember(_Strict):
    name: str
    days: list[str]

    @field_validator("days")
    @classmethod
    def _weekdays(cls, days: list[str]) -> list[str]:
        bad = [d for d in days if d.lower() not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown weekday(s) {bad}")
        return [d.lower() for d in days]


class BookingRules(_Strict):
    slot_step_minutes: Annotated[int, Field(gt=0, le=240)] = 30
    min_notice_minutes: Annotated[int, Field(ge=0)] = 120
    max_days_ahead: Annotated[int, Field(gt=0)] = 60
    max_upcoming_per_customer: Annotated[int, Field(gt=0)] = 3
    free_cancellation_hours: Annotated[int, Field(ge=0)] = 24
    late_cancellation_fee_percent: Annotated[int, Field(ge=0, le=100)] = 50
    reschedule_until_hours: Annotated[int, Field(ge=0)] = 12
    reference_prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,4}$")] = "BK"
    slots_offered: Annotated[int, Field(gt=0, le=13)] = 5


class BusinessFile(_Strict):
    business: Identity
    opening_hours: dict[str, tuple[str, str]]
    closures: Closures = Closures()
    services: Annotated[list[Service], Field(min_length=1)]
    staff: Annotated[list[StaffMember], Field(min_length=1)]
    booking_rules: BookingRules = BookingRules()

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, hours: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        for day, (start, end) in hours.items():
            if day.lower() not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}")
            if _hhmm(start) >= _hhmm(end):
                raise ValueError(f"{day}: opening {start} is not before closing {end}")
        return {day.lower(): span for day, span in hours.items()}

    @model_validator(mode="after")
    def _cross_references(self) -> BusinessFile:
        staff_names = {s.name for s in self.staff}
        for index, service in enumerate(self.services):
            unknown = [name for name in service.staff if name not in staff_names]
            if unknown:
                raise ValueError(f"services.{index}.staff: unknown staff {unknown} for {service.name}")
        names = [s.name.lower() for s in self.services]
        if len(set(names)) != len(names):
            raise ValueError("services: two services share a name")
        return self


def normalise_words(text: str) -> str:
    """Lower case, accents removed, punctuation to spaces: for matching customer words."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9&]+", " ", text.lower()).strip()


class Business:
    """Read-only questions about the business, answered from its configuration."""

    def __init__(self, config: BusinessFile):
        self.config = config
        self.tz = ZoneInfo(config.business.timezone)
        self.rules = config.booking_rules
        self.services = {s.name: s for s in config.services}
        self.staff = {s.name: s for s in config.staff}
        self._service_words = self._build_service_words()

    # --- identity -----------------------------------------------------------
    @property
    def name(self) -> str:
        return self.config.business.name

    @property
    def identity(self) -> Identity:
        return self.config.business

    def now(self) -> datetime:
        """The current time in the business time zone; BOOKING_NOW pins it."""
        pinned = settings().booking_now
        if pinned is not None:
            return pinned.replace(tzinfo=self.tz) if pinned.tzinfo is None else pinned.astimezone(self.tz)
        return datetime.now(self.tz)

    def when_text(self, moment: datetime, language: str = "en") -> str:
        """A local date and time as customers read it: 'Friday 4 December at 15:00', 'Thứ Sáu 4/12 lúc 15:00'."""
        moment = moment.astimezone(self.tz)
        return LOCALES[_lang(language)].when(moment)

    def day_text(self, day: date | datetime, language: str = "en") -> str:
        """A local date: 'Friday 4 December', 'Thứ Sáu 4/12'."""
        if isinstance(day, datetime):
            day = day.astimezone(self.tz).date()
        return LOCALES[_lang(language)].day(day)

    def weekday_text(self, day: date | datetime, language: str = "en") -> str:
        if isinstance(day, datetime):
            day = day.astimezone(self.tz).date()
        return LOCALES[_lang(language)].weekdays[day.weekday()]

    def slot_text(self, moment: datetime, language: str = "en") -> str:
        """A start time short enough for a Messenger button (20 characters): 'Fri 4 Dec 15:00', 'T6 4/12 15:00'."""
        return LOCALES[_lang(language)].short(moment.astimezone(self.tz))

    def price_text(self, amount: Decimal | float | int) -> str:
        amount = Decimal(str(amount))
        shown = f"{amount:.2f}".removesuffix(".00")
        return f"{self.identity.currency_symbol}{shown}"

    # --- catalogue ------------------------------------------------------------
    def _build_service_words(self) -> list[tuple[str, str]]:
        words: dict[str, str] = {}
        for service in self.config.services:
            for alias in [service.name, *service.synonyms]:
                words[normalise_words(alias)] = service.name
        # longest alias first, so "hot stone massage" wins over "massage"
        return sorted(words.items(), key=lambda item: -len(item[0]))

    def match_service(self, text: str | None) -> str | None:
        """The catalogue name for a customer's words: an alias, an alias inside a sentence, or a near miss."""
        if not text:
            return None
        wanted = normalise_words(str(text))
        if not wanted:
            return None
        singular = " ".join(
            w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in wanted.split()
        )
        for candidate in (wanted, singular):
            for alias, name in self._service_words:
                if candidate == alias:
                    return name
        for candidate in (wanted, singular):
            padded = f" {candidate} "
            for alias, name in self._service_words:
                if f" {alias} " in padded:
                    return name
        # typos ("masage", "pedicur"): the closest alias, if close enough
        if 5 <= len(singular) <= 40:
            aliases = [alias for alias, _ in self._service_words]
            close = difflib.get_close_matches(singular, aliases, n=1, cutoff=0.8)
            if close:
                return dict(self._service_words)[close[0]]
            for word in singular.split():
                close = difflib.get_close_matches(word, [a for a in aliases if len(a) >= 5], n=1, cutoff=0.84)
                if close and len(word) >= 5:
                    return dict(self._service_words)[close[0]]
        return None

    def services_mentioned(self, text: str | None) -> list[str]:
        """Every catalogue service a sentence names (by any alias), in order, leaving out the negated ones
        ("a massage, not a facial", "pedicure instead of nails")."""
        words = normalise_words(str(text or ""))
        if not words:
            return []
        padded, taken, found = f" {words} ", [], []
        for alias, name in self._service_words:  # longest first: "hot stone massage" before "massage"
            start = padded.find(f" {alias} ")
            while start >= 0:
                span = (start, start + len(alias) + 1)
                # an alias cut off by a later one that runs past it yields: "lam mat xa" is "làm mát-xa"
                # (do a massage), not "làm mặt" (a facial) followed by "xa"
                cut = [t for t in taken if t[0] < span[0] < t[1] < span[1]]
                for t in cut:
                    taken.remove(t)
                    found = [f for f in found if f[0] != t[0]]
                if not any(a < span[1] and span[0] < b for a, b in taken):
                    taken.append(span)
                    before = padded[max(0, start - 24) : start]
                    if not re.search(
                        r"\b(not|no|instead of|rather than|khong phai|ko phai|thay vi)\s*(an?|the)?\s*$", before
                    ):
                        found.append((start, name))
                start = padded.find(f" {alias} ", start + 1)
        ordered = [name for _, name in sorted(found)]
        return list(dict.fromkeys(ordered))

    def match_staff(self, text: str | None) -> str | None:
        if not text:
            return None
        wanted = normalise_words(str(text))
        for name in self.staff:
            key = normalise_words(name)
            if wanted == key or f" {key} " in f" {wanted} ":
                return name
        return None

    def staff_for(self, service: str) -> list[str]:
        return list(self.services[service].staff)

    def duration(self, service: str) -> timedelta:
        return timedelta(minutes=self.services[service].duration_minutes)

    # --- calendar -------------------------------------------------------------
    def closure_name(self, day: date, language: str = "en") -> str | None:
        """The name of the closure on `day` (a fixed date, a range of the business's, a public holiday), or None."""
        found = self._closure(day, _lang(language))
        return found[0] if found else None

    def _closure(self, day: date, language: str) -> tuple[str, str] | None:
        """(name, source): the source tells one closure from the next, so consecutive days of one merge."""
        vi = language == "vi"
        for rec in self.config.closures.recurring:
            if day.strftime("%m-%d") == rec.date:
                return (rec.name_vi if vi else "") or rec.name, f"recurring {rec.date}"
        for index, span in enumerate(self.config.closures.ranges):
            if span.from_ <= day <= span.to:
                return (span.name_vi if vi else "") or span.name, f"range {index}"
        public = self.config.closures.public_holidays
        if public is None:
            return None
        name = _public_holidays(public.country, day.year, "en_US").get(day)
        if name is None or name not in public.include:
            return None
        if vi:
            name = _public_holidays(public.country, day.year, "vi").get(day, name)
        return name, "public holidays"

    def closures_ahead(self, start: date, days: int, language: str = "en") -> list[tuple[date, date, str]]:
        """The closures from `start` for `days` days as (first, last, name); the days of one closure merged.

        Tet's days each have a name of their own ("Lunar New Year's Eve", ...): a run of public holidays is
        one closure, named by its shortest name ("Lunar New Year").
        """
        found: list[tuple[date, date, str, str]] = []
        for offset in range(days):
            day = start + timedelta(days=offset)
            closure = self._closure(day, _lang(language))
            if closure is None:
                continue
            name, source = closure
            if found and found[-1][1] == day - timedelta(days=1) and found[-1][3] == source:
                first, _, previous, _ = found[-1]
                found[-1] = (first, day, min(previous, name, key=len), source)
            else:
                found.append((day, day, name, source))
        return [(first, last, name) for first, last, name, _ in found]

    def hours_on(self, day: date) -> tuple[datetime, datetime] | None:
        """Opening and closing time on a date, or None when closed."""
        if self.closure_name(day):
            return None
        span = self.config.opening_hours.get(WEEKDAYS[day.weekday()])
        if span is None:
            return None
        opens, closes = (_hhmm(t) for t in span)
        return (
            datetime.combine(day, opens, tzinfo=self.tz),
            datetime.combine(day, closes, tzinfo=self.tz),
        )

    def works_on(self, staff: str, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.staff[staff].days

    def typical_hours(self) -> tuple[int, int]:
        """Earliest opening hour and latest closing hour: reading bare hours like "at 2"."""
        opens = min(_hhmm(s).hour for s, _ in self.config.opening_hours.values())
        closes = max(_hhmm(e).hour for _, e in self.config.opening_hours.values())
        return opens, closes

    def hours_lines(self, language: str = "en") -> list[str]:
        """Opening hours grouped into readable lines, e.g. 'Monday - Friday: 09:00 - 20:00'."""
        locale = LOCALES[_lang(language)]
        lines: list[str] = []
        groups: list[tuple[list[int], tuple[str, str] | None]] = []
        for index, day in enumerate(WEEKDAYS):
            span = self.config.opening_hours.get(day)
            span = tuple(span) if span else None
            if groups and groups[-1][1] == span:
                groups[-1][0].append(index)
            else:
                groups.append(([index], span))
        for days, span in groups:
            first, last = locale.weekdays[days[0]], locale.weekdays[days[-1]]
            label = first if len(days) == 1 else f"{first} - {last}"
            lines.append(f"{label}: {span[0]} - {span[1]}" if span else f"{label}: {locale.closed}")
        return lines


@lru_cache(maxsize=64)
def _public_holidays(country: str, year: int, language: str) -> dict[date, str]:
    return dict(holidays.country_holidays(country, years=year, language=language, observed=False))


# --- how dates read in each language: locale data, like a calendar library's ------------------------


def _lang(language: str | None) -> str:
    return language if language in LOCALES else "en"


@dataclass(frozen=True)
class Locale:
    weekdays: tuple[str, ...]
    short_weekdays: tuple[str, ...]
    months: tuple[str, ...]
    closed: str
    at: str  # between a date and a time

    def day(self, day: date) -> str:
        if self.months:
            return f"{self.weekdays[day.weekday()]} {day.day} {self.months[day.month - 1]}"
        return f"{self.weekdays[day.weekday()]} {day.day}/{day.month}"

    def when(self, moment: datetime) -> str:
        return f"{self.day(moment.date())} {self.at} {moment:%H:%M}"

    def short(self, moment: datetime) -> str:
        day = moment.date()
        if self.months:
            return f"{self.short_weekdays[day.weekday()]} {day.day} {self.months[day.month - 1][:3]} {moment:%H:%M}"
        return f"{self.short_weekdays[day.weekday()]} {day.day}/{day.month} {moment:%H:%M}"


LOCALES = {
    "en": Locale(
        weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        short_weekdays=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        months=(
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        closed="closed",
        at="at",
    ),  # fmt: skip
    "vi": Locale(
        weekdays=("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"),
        short_weekdays=("T2", "T3", "T4", "T5", "T6", "T7", "CN"),
        months=(),  # day first, numeric: 8/12
        closed="nghỉ",
        at="lúc",
    ),
}


def load_business(path: Path) -> Business:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise BusinessConfigError(f"business file not found: {path}") from err
    except yaml.YAMLError as err:
        raise BusinessConfigError(f"business file {path} is not valid YAML: {err}") from err
    try:
        return Business(BusinessFile.model_validate(raw))
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in err.errors())
        raise BusinessConfigError(f"business file {path}: {problems}") from err


@lru_cache(maxsize=1)
def business() -> Business:
    """The business of this process, loaded once from BUSINESS_FILE."""
    return load_business(settings().business_file)
