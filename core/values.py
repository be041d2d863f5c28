"""Values read from what customers write, by deterministic code over the whole message, and masked for logs.

Dates and times (read in the business's time zone), phone numbers, emails, booking references and names.
NLU entity spans are hints at most: DIET often cuts one date or one phone number into two entities, so
every reader here sees the whole text. A reader that finds something it cannot use says why (a
`problem` code), so the reply can name the problem instead of guessing.
"""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core import timeparse
from core.business import Business, business

log = logging.getLogger(__name__)

PHONE_PATTERN = re.compile(r"\+?\d[\d\s().-]{6,20}\d")
REFERENCE_PATTERN = re.compile(r"\b([A-Za-z]{1,4})-?([A-HJ-NP-Za-hj-np-z2-9]{6})\b")
EMAIL_PATTERN = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# a date written with separators (15.12.2026, 3/12) is never a phone number
# digits with a letter in the middle: "0903 12a 456", "09O3 123 456"
_LETTER_IN_NUMBER = re.compile(r"(?:\d[\s.-]?){3,}[A-Za-z](?:[\s.-]?\d){3,}")
# a year-first date and a clock time are never part of a phone number
_NOT_A_PHONE = re.compile(
    r"(?<!\d)\d{4}\s*[./-]\s*\d{1,2}\s*[./-]\s*\d{1,2}(?!\d)|(?<!\d)\d{1,2}[./-]\d{1,2}[./-]\d{4}(?!\d)"
    r"|(?<!\d)\d{1,2}:\d{2}(?!\d)"
)
_DATE_LIKE = re.compile(r"^\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?$")


# --- masking, for logs ---------------------------------------------------------------------------


def mask_phone(phone: str | None) -> str:
    """Personal data in logs: all but the last 3 digits hidden."""
    digits = re.sub(r"\D", "", phone or "")
    return f"***{digits[-3:]}" if digits else ""


def mask_email(email: str | None) -> str:
    if not email or "@" not in email:
        return ""
    name, domain = email.split("@", 1)
    return f"{name[:1]}***@{domain}"


def mask_text(text: str | None, limit: int = 120) -> str:
    """A customer message fit for a log line: emails and runs of digits (phones, cards) masked, cut short."""
    text = EMAIL_PATTERN.sub(lambda m: mask_email(m.group(0)), text or "")
    text = re.sub(r"\d[\d\s().-]{4,}\d", lambda m: mask_phone(m.group(0)), text)
    return text[:limit] + ("…" if len(text) > limit else "")


# --- phones ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhoneReading:
    phone: str | None  # digits with an optional leading +
    problem: str | None = None  # letters, too_short, too_long (when a number was meant but is not usable)


def _phone_from(raw: str) -> str | None:
    digits = re.sub(r"\D", "", raw)
    plus = raw.strip().startswith("+")
    if plus and digits.startswith("84") or digits.startswith("84") and len(digits) in (11, 12):
        national = digits[2:]
        return ("+" if plus else "") + digits if 9 <= len(national) <= 10 else None
    if digits.startswith("0") and not plus:
        return digits if len(digits) in (10, 11) else None  # Vietnamese mobiles and landlines
    return ("+" if plus else "") + digits if 8 <= len(digits) <= 15 else None


def _phone_in(raw: str) -> str | None:
    """The number a run of digits holds, or its longest leading groups that are one ("0903 123 456 15")."""
    groups = re.split(r"\s+", raw)
    for end in range(len(groups), 0, -1):
        if len(re.sub(r"\D", "", "".join(groups[end:]))) > 2:
            return None  # more than a stray day or hour after it: one long number, not a phone and a date
        phone = _phone_from(" ".join(groups[:end]))
        if phone:
            return phone
    return None


def read_phone(text: str | None) -> PhoneReading:
    """The phone number in a message, or why the number written can't be one."""
    text = str(text or "")
    digits_only = _NOT_A_PHONE.sub(" ", text)  # "2026-12-03 at 18:30" holds no phone number
    candidates = [m.group(0).strip() for m in PHONE_PATTERN.finditer(digits_only)]
    found = [phone for raw in candidates if not _DATE_LIKE.match(raw) and (phone := _phone_in(raw))]
    if found:
        return PhoneReading(max(found, key=len))
    if _LETTER_IN_NUMBER.search(text):
        return PhoneReading(None, "letters")
    digits = max((len(re.sub(r"\D", "", raw)) for raw in candidates), default=len(re.sub(r"\D", "", text)))
    if digits > 15:
        return PhoneReading(None, "too_long")
    if digits >= 3:
        return PhoneReading(None, "too_short")
    return PhoneReading(None)


def normalise_phone(text: str | None) -> str | None:
    """A phone number as digits with an optional leading +, or None when the text holds none."""
    return read_phone(text).phone


# --- emails, references, names ----------------------------------------------------------------------


def find_email(text: str | None) -> str | None:
    match = EMAIL_PATTERN.search(str(text or ""))
    return match.group(0).lower() if match else None


def find_reference(text: str | None, biz: Business) -> str | None:
    if not text:
        return None
    prefix = biz.rules.reference_prefix.upper()
    for match in REFERENCE_PATTERN.finditer(str(text)):
        if match.group(1).upper() == prefix:
            return f"{prefix}-{match.group(2).upper()}"
    return None


NAME_PREFIXES = re.compile(
    r"^\s*(my name is|my name's|name is|name's|i am|i'm|im|it's|its|this is|call me|it is|name:|under"
    r"|tên (?:em|mình|tôi|anh|chị|của (?:em|mình|tôi))(?: là)?|ten (?:em|minh|toi|anh|chi)(?: la)?"
    r"|em (?:là|la|tên|ten)|mình (?:là|tên)|minh (?:la|ten)|tôi (?:là|tên)|toi (?:la|ten)|tên|ten)\s+",
    re.IGNORECASE,
)


# Words that show a message is a sentence, not a name ("I want to book", "đặt lịch").
NOT_NAME_WORDS = frozenset(
    [
        "i",
        "me",
        "my",
        "you",
        "your",
        "we",
        "want",
        "need",
        "would",
        "like",
        "please",
        "book",
        "booking",
        "appointment",
        "the",
        "to",
        "for",
        "at",
        "on",
        "in",
        "what",
        "how",
        "why",
        "when",
        "where",
        "can",
        "could",
        "do",
        "does",
        "is",
        "are",
        "not",
        "no",
        "yes",
        "ok",
        "okay",
        "thanks",
        "thank",
        "hello",
        "hi",
        "tomorrow",
        "today",
        "tonight",
        "morning",
        "afternoon",
        "evening",
        "time",
        "later",
        "cancel",
        "change",
        "actually",
        "instead",
        "make",
        "wait",
        "đặt",
        "dat",
        "lịch",
        "lich",
        "hẹn",
        "hen",
        "muốn",
        "muon",
        "cho",
        "không",
        "khong",
        "ko",
        "được",
        "dc",
        "đc",
        "ạ",
        "nhé",
        "nha",
        "giờ",
        "gio",
        "chiều",
        "chieu",
        "sáng",
        "sang",
        "hôm",
        "hom",
        "nay",
        "thứ",
        "tối",
        "toi",
        "đổi",
        "doi",
        "hủy",
    ]
)


def clean_name(text: str | None) -> str | None:
    """A person's name from a short answer, or None when the text isn't one."""
    if not text:
        return None
    name = NAME_PREFIXES.sub("", str(text)).strip(" .!,;:\"'")
    name = re.sub(r"\s+", " ", name)
    if not name or len(name) > 60 or re.search(r"[\d@#$%^&*()_+=<>/\\|{}\[\]?]", name):
        return None
    words = name.split(" ")
    if len(words) > 5 or not all(re.fullmatch(r"[^\W\d_][\w.'-]*", w) for w in words):
        return None
    if any(w.lower() in NOT_NAME_WORDS for w in words) or business().match_service(name):
        return None
    return name.title() if name.islower() or name.isupper() else name


# --- yes and no ---------------------------------------------------------------------------------------

_YES = re.compile(
    r"(?:yes|yess|yeah|yea|ya|yep|yup|y|ok|okay|okie|sure|correct|confirm|confirmed|right|perfect|great|fine"
    r"|alright|absolutely|definitely|exactly|good|sounds good|looks good|all good|that's right|thats right"
    r"|that's correct|thats correct|that works|go ahead|do it|book it|book that|please book|let's do it"
    r"|lets do it|vâng|vang|dạ|da|ừ|có|co|đúng|dung|đúng rồi|dung roi|chuẩn|chuan|được|duoc|dc|đc"
    r"|xác nhận|xac nhan|chốt|chot|đặt đi|dat di|oke|okê)"
)
_NO = re.compile(r"(?:no|nope|nah|n|not really|don't|dont|không|khong|ko|k0|thôi|thoi|chưa|chua)")
_FILLER = re.compile(
    r"(?:please|pls|plz|thanks|thank you|thx|it|that|then|now|sir|em|ạ|a|nhé|nhe|nha|nhá|luôn|luon|giúp em|giup em"
    r"|cho em|cho mình|cho minh|mình|minh|rồi|roi|nhé bạn|the booking|and|so|oh|ah|uh|well)"
)


def read_yes_no(text: str | None) -> bool | None:
    """A short reply that is only a yes ("ok book it", "yes that's right", "dạ đúng rồi") or only a no
    ("nope", "không"), whatever else the message could be taken for; None for anything more."""
    words = re.sub(r"[\s,.!?:;~]+", " ", str(text or "").lower()).strip()
    if not words or len(words) > 40:
        return None
    for pattern, answer in ((_YES, True), (_NO, False)):
        rest = re.sub(rf"\b{pattern.pattern}\b", " ", words)
        rest = re.sub(rf"\b{_FILLER.pattern}\b", " ", rest).strip()
        if not rest and re.search(rf"\b{pattern.pattern}\b", words):
            other = _NO if answer else _YES
            return None if re.search(rf"\b{other.pattern}\b", words) else answer
    return None


# --- dates and times -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhenReading:
    """The date/time expression of a message, or why what was written can't be used.

    problem codes: impossible_date (values: day, month), impossible_time (values: text), year_only
    (values: year), ambiguous (values: options, the expressions as written).
    """

    when: timeparse.When | None
    problem: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def _options(biz: Business) -> dict[str, Any]:
    opens, closes = biz.typical_hours()
    return {
        "tz": biz.identity.timezone,
        "day_first": biz.identity.day_first_dates,
        "open_hour": opens,
        "close_hour": closes,
    }


def parse_when(text: str | None, biz: Business, *, search: bool = False) -> timeparse.When | None:
    """A customer's date/time words (or an ISO value from a button) read in the business's time zone."""
    if not text:
        return None
    options, now = _options(biz), biz.now()
    try:
        if search:
            return timeparse.find_when(text, now, **options)
        return timeparse.resolve_when(text, now, **options) or timeparse.find_when(text, now, **options)
    except Exception:  # a parser bug must never take the conversation down
        log.exception("time expression could not be read")
        return None


_NUMERIC_DATE = re.compile(r"(?<![\d/.:+])(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{4}|\d{2}))?(?![\d/])")
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_WORD_DATE = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b"
    r"|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+(\d{1,2})(?:st|nd|rd|th)?\b"
    r"|(?<![\d/.:])\b(\d{1,2})\s+(?:tháng|thang)\s+(\d{1,2})\b",  # "ngày 15 tháng 12", "15 thang 12"
    re.IGNORECASE,
)
_ISO_BEFORE = re.compile(r"(?<![\d/.:])\d{4}\s*[-/.]\s*$")
_DOTTED_CLOCK = re.compile(r"^\d{1,2}\.\d{2}$")
_CLOCK = re.compile(r"(?<![\d/.:])(\d{1,2})\s*[:h]\s*(\d{2})(?!\d)|(?<![\d:.])(\d{1,2})\s*([ap])\.?m\b", re.IGNORECASE)
_YEAR = re.compile(r"(?<![\d/.:+-])(20\d{2})(?![\d/.:-])")
_ALTERNATIVE = re.compile(r"\b(or|hoặc|hoac|hay|hay là)\b", re.IGNORECASE)


def _impossible_date(text: str) -> dict[str, int] | None:
    for m in _NUMERIC_DATE.finditer(text):
        day, month = int(m.group(1)), int(m.group(2))
        if ":" in text[max(0, m.start() - 1) : m.start()] or _ISO_BEFORE.search(text[: m.start()]):
            continue  # a clock ("10:30-11"), or the month and day of a year-first date ("2027-01-20")
        if _DOTTED_CLOCK.match(m.group(0)) and month > 12:
            continue  # "10.30am", "at 9.45": a time written with a dot
        impossible = _days_in(month, m.group(3)) < day or not 1 <= month <= 12 or day == 0
        if impossible and (day <= 31 and month <= 31 or day <= 39 and month <= 12):  # "31/02", "12/13", "32/12"
            return {"day": day, "month": month}
    for m in _WORD_DATE.finditer(text):
        if m.group(1):
            day, month = int(m.group(1)), _MONTHS.index(m.group(2)[:3].lower()) + 1
        elif m.group(3):
            day, month = int(m.group(4)), _MONTHS.index(m.group(3)[:3].lower()) + 1
        else:
            day, month = int(m.group(5)), int(m.group(6))
        if not 1 <= month <= 12 or not 1 <= day <= _days_in(month, None):
            return {"day": day, "month": month}
    return None


def _days_in(month: int, year: str | None) -> int:
    if not 1 <= month <= 12:
        return 0
    if year is None:
        return 29 if month == 2 else calendar.monthrange(2027, month)[1]
    full = int(year) + (2000 if len(year) == 2 else 0)
    return calendar.monthrange(full, month)[1]


def _impossible_time(text: str) -> str | None:
    for m in _CLOCK.finditer(text):
        if m.group(1) is not None:
            hour, minute = int(m.group(1)), int(m.group(2))
            if hour > 24 or minute > 59 or hour == 24 and minute:  # "25:00", "9:75", "24:30"
                return m.group(0).strip()
        elif int(m.group(3)) > 12 or int(m.group(3)) == 0:  # "13pm", "0am"
            return m.group(0).strip()
    return None


def read_when(text: str | None, biz: Business | None = None) -> WhenReading:
    """The date/time a customer wrote in a whole message, or what is wrong with it."""
    biz = biz or business()
    text = str(text or "")
    if not text.strip() or text.lstrip().startswith("/"):
        return WhenReading(None)
    date = _impossible_date(text)
    if date:
        return WhenReading(None, "impossible_date", date)
    clock = _impossible_time(text)
    if clock:
        return WhenReading(None, "impossible_time", {"text": clock})
    try:
        found = timeparse.find_all_when(text, biz.now(), **_options(biz))
    except Exception:  # a parser bug must never take the conversation down
        log.exception("time expression could not be read")
        found = []
    dated = [(begin, end, when) for begin, end, when in found if when.has_date]
    if len(dated) >= 2:
        between = text[dated[0][1] : dated[1][0]]
        if _ALTERNATIVE.search(between) and dated[0][2].start.date() != dated[1][2].start.date():
            return WhenReading(None, "ambiguous", {"options": [text[b:e] for b, e, _ in dated[:2]]})
    when = parse_when(text, biz, search=True)
    year = _YEAR.search(text)
    if year and not (when and when.has_date and year.group(1) in when.text):
        covered = when is not None and when.has_date
        if not covered:
            return WhenReading(None, "year_only", {"year": int(year.group(1))})
    return WhenReading(when)


def from_iso(value: Any, biz: Business) -> datetime | None:
    """The datetime in a slot that holds a validated ISO value, else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(biz.tz)
