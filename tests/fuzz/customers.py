"""Customers generated from a seed: what each one says, and what each one expects to happen.

A customer wants a service (named the way customers name it), maybe a staff member, and a day and time
written in one of many forms, given all at once or spread over turns; gives a name and a phone in one of
the Vietnamese formats, sometimes an email; may ask something in the middle, correct the time at a
prompt, or pick one of the offered times. Each customer knows the booking it expects (service, staff if
named, local start, phone) or the refusal it expects (the response that names the rule broken).

The dates are built from the business's "now" (BOOKING_NOW) and its configuration, so the expectation
is known by construction, never by asking the code under test.
"""

from __future__ import annotations

import calendar
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from core.business import Business, business

# --- what a customer expects ----------------------------------------------------------------------


@dataclass
class Expect:
    """A booking (service, start, staff if named) or a refusal (the response that names the problem).

    `pick` says the start is the customer's choice among the offered times: the offered time it chose is
    then what it expects; `window` bounds that choice (a part of a day asked for).
    """

    service: str | None = None
    start: datetime | None = None
    staff: str | None = None
    refusal: str | None = None  # a response name: utter_refusal_<code> or utter_when_<problem>
    pick: bool = False
    window: tuple[datetime, datetime] | None = None
    day: date | None = None  # the day a time alone must land on


@dataclass
class Customer:
    key: str
    language: str
    klass: str
    opening: list[str]  # the first messages, each sent on its own turn
    service_text: str
    when_text: str | None  # the date/time as written, if not in the opening
    name: str
    phone_text: str
    phone_digits: str  # the national number: what any stored form of the phone must reduce to
    email: str | None = None
    confirm: str = "yes"
    interrupt: tuple[str, str] | None = None  # (prompt, message) asked once at that prompt
    correction: tuple[str, str, datetime] | None = None  # (prompt, message, the start it moves to)
    pick_text: str | None = None  # "the {time} one": how the customer names an offered time, if typed
    blockers: list[tuple[str, datetime]] = field(default_factory=list)  # (staff, start) taken beforehand
    expect: Expect = field(default_factory=Expect)


# --- words -------------------------------------------------------------------------------------------

EN_SERVICE_WORDS = {
    "Swedish Massage": ["massage", "swedish massage", "relaxing massage", "body massage", "Swedish Massage", "masage"],
    "Hot Stone Massage": ["hot stone massage", "hot stones", "stone massage", "Hot Stone Massage"],
    "Foot Reflexology": ["foot massage", "reflexology", "foot reflexology", "reflexolgy"],
    "Classic Facial": ["facial", "face treatment", "Classic Facial", "facail"],
    "Manicure": ["manicure", "mani", "nails", "Manicure"],
    "Pedicure": ["pedicure", "pedi", "Pedicure", "pedicur"],
    "Haircut & Styling": ["haircut", "hair cut", "trim", "blow dry", "Haircut & Styling"],
}
VI_SERVICE_WORDS = {
    "Swedish Massage": ["massage thư giãn", "mát xa", "massage body", "massage toàn thân"],
    "Hot Stone Massage": ["massage đá nóng", "đá nóng"],
    "Foot Reflexology": ["massage chân", "mát xa chân"],
    "Classic Facial": ["chăm sóc da mặt", "làm mặt"],
    "Manicure": ["làm móng", "làm móng tay", "sơn móng tay"],
    "Pedicure": ["làm móng chân", "sơn móng chân"],
    "Haircut & Styling": ["cắt tóc", "làm tóc"],
}
EN_NAMES = [
    "Lan Nguyen", "Minh Tran", "Sarah Miller", "Hoa Le", "David Chen", "Thu Pham", "Emma Wilson",
    "Quang Vo", "Linh Dang", "James Brown", "Ngoc Anh Bui", "Olivia Park",
]  # fmt: skip
VI_NAMES = ["Nguyễn Thị Lan", "Trần Văn Minh", "Lê Thu Hà", "Phạm Ngọc Ánh", "Võ Quang Huy", "Đặng Thị Hoa"]
PREFIXES = [90, 91, 93, 94, 96, 97, 98, 32, 33, 35, 37, 39, 70, 77, 79, 81, 83, 85, 86, 88, 89]
EN_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
EN_MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
]  # fmt: skip
VI_WEEKDAYS = [["thứ 2", "t2", "thứ hai"], ["thứ 3", "t3", "thứ ba"], ["thứ 4", "t4", "thứ tư"],
               ["thứ 5", "t5", "thứ năm"], ["thứ 6", "t6", "thứ sáu"], ["thứ 7", "t7", "thứ bảy"],
               ["chủ nhật", "cn"]]  # fmt: skip

EN_CONFIRM = ["yes", "yes please", "yep", "correct", "sounds good", "ok book it", "yes that's right", "sure"]
VI_CONFIRM = ["vâng", "đúng rồi", "ok", "dạ đúng rồi", "xác nhận", "ok chốt nhé", "dc"]
EN_SMALL_TALK = ["thanks", "are you a bot?", "thank you!", "ok"]
EN_QUESTIONS = [
    "is there somewhere to park my motorbike?", "do you take credit cards?", "what time do you close on saturday?",
    "how much is a pedicure?", "where are you located?",
]  # fmt: skip
VI_QUESTIONS = ["có chỗ để xe máy không?", "mấy giờ đóng cửa vậy?", "có nhận thẻ không ạ", "spa ở đâu vậy"]

EN_CLASSES = [
    "weekday", "next_weekday", "relative", "ordinal", "numeric", "month_name", "with_year", "spread",
    "service_first", "part_of_day", "time_followup", "correction_summary", "correction_phone",
    "correction_name", "taken", "staff", "interruption", "email",
    "refuse_closed_day", "refuse_holiday", "refuse_too_far", "refuse_past", "refuse_too_soon",
    "refuse_outside_hours", "refuse_not_on_step", "impossible_date", "impossible_time",
]  # fmt: skip
VI_CLASSES = [
    "weekday", "relative", "numeric", "month_name", "spread", "part_of_day", "time_followup",
    "correction_summary", "staff", "interruption", "refuse_closed_day", "refuse_outside_hours",
    "impossible_date",
]  # fmt: skip


def strip_marks(text: str) -> str:
    """Vietnamese as typed without diacritics: "đặt lịch" -> "dat lich"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


# --- dates and times, as written ----------------------------------------------------------------------


def en_time(moment: datetime, rng: random.Random) -> str:
    h, m = moment.hour, moment.minute
    h12 = h % 12 or 12
    suffix = "am" if h < 12 else "pm"
    forms = [f"{h12}{suffix}" if not m else f"{h12}:{m:02d}{suffix}", f"{h:02d}:{m:02d}"]
    forms.append(f"{h12}:{m:02d} {suffix}" if m else f"{h12} {suffix}")
    if h == 12 and not m:
        forms.append("noon")
    if m == 30:
        forms.append(f"half past {h12}" + (" in the afternoon" if h >= 12 else " in the morning"))
    if m == 0 and 1 <= h12 <= 7 and h >= 13:
        forms.append(f"{h12} o'clock in the afternoon" if h < 17 else f"{h12} in the evening")
    return rng.choice(forms)


def vi_time(moment: datetime, rng: random.Random) -> str:
    h, m = moment.hour, moment.minute
    part = "sáng" if h < 12 else ("trưa" if h < 13 else ("chiều" if h < 18 else "tối"))
    h12 = h if h <= 12 else h - 12
    # a bare hour before opening ("7:00", "8h") is read inside opening hours (19:00, 20:00): say "sáng"
    forms = [f"{h}h" if not m else f"{h}h{m:02d}", f"{h:02d}:{m:02d}"] if h >= 9 else [f"{h:02d}:{m:02d}"]
    forms.append(f"{h12}h {part}" if not m else f"{h12}h{m:02d} {part}")
    forms.append(f"{h12} giờ {part}" if not m else f"{h12} giờ rưỡi {part}")
    return rng.choice(forms)


def en_date(day: date, today: date, rng: random.Random, kind: str) -> str:
    """`day` written the way `kind` says (a kind that cannot write it falls back to a numeric date)."""
    delta = (day - today).days
    weekday = EN_WEEKDAYS[day.weekday()]
    month = EN_MONTHS[day.month - 1]
    if kind == "weekday" and 1 <= delta <= 6:
        return rng.choice([f"on {weekday}", weekday, f"this {weekday}", f"on {weekday[:3]}"])
    if kind == "next_weekday" and delta == 7:
        return rng.choice([f"next {weekday}", f"{weekday} next week"])
    if kind == "relative" and 1 <= delta <= 10:
        if delta == 1:
            return rng.choice(["tomorrow", "tmrw", "tmr", "tomorow"])
        if delta == 2 and rng.random() < 0.5:
            return "the day after tomorrow"
        return f"in {delta} days"
    if kind == "ordinal" and day.month == today.month and day.year == today.year:
        n = day.day
        th = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return rng.choice([f"the {n}{th}", f"on the {n}{th}"])
    if kind == "month_name":
        return rng.choice(
            [f"{month} {day.day}", f"{day.day} {month}", f"{month[:3]} {day.day}th", f"the {day.day}th of {month}"]
        )
    if kind == "with_year":
        return rng.choice(
            [f"{month} {day.day} {day.year}", f"{day.day} {month} {day.year}", f"{day.day}/{day.month}/{day.year}",
             f"{day.isoformat()}", f"{month} {day.day}, {day.year}"]
        )  # fmt: skip
    sep = rng.choice(["/", "/", "-", "."])
    return rng.choice([f"{day.day}{sep}{day.month}", f"on {day.day}/{day.month}", f"{day.day}/{day.month}/{day.year}"])


def vi_date(day: date, today: date, rng: random.Random, kind: str) -> str:
    delta = (day - today).days
    if kind == "weekday" and 1 <= delta <= 6:
        return rng.choice(VI_WEEKDAYS[day.weekday()])
    if kind == "relative" and delta == 1:
        return rng.choice(["mai", "ngày mai"])
    if kind == "month_name":
        return rng.choice([f"ngày {day.day} tháng {day.month}", f"{day.day} tháng {day.month}"])
    return rng.choice([f"{day.day}/{day.month}", f"ngày {day.day}/{day.month}"])


def en_when(moment: datetime, today: date, rng: random.Random, kind: str) -> str:
    d, t = en_date(moment.date(), today, rng, kind), en_time(moment, rng)
    return rng.choice([f"{d} at {t}", f"{t} {d}", f"{d} {t}", f"{d} at {t}"])


def vi_when(moment: datetime, today: date, rng: random.Random, kind: str) -> str:
    d, t = vi_date(moment.date(), today, rng, kind), vi_time(moment, rng)
    return rng.choice([f"{t} {d}", f"{d} lúc {t}", f"{d} {t}"])


# --- choosing days and times -------------------------------------------------------------------------


def bookable_starts(biz: Business, service: str, day: date, staff: str | None) -> list[datetime]:
    """Starts on `day` that every rule allows (for a customer to ask for), from the configuration."""
    hours = biz.hours_on(day)
    if hours is None or biz.closure_name(day):
        return []
    people = [staff] if staff else biz.staff_for(service)
    if not any(biz.works_on(p, day) for p in people):
        return []
    opens, closes = hours
    step = timedelta(minutes=biz.rules.slot_step_minutes)
    notice = biz.now() + timedelta(minutes=biz.rules.min_notice_minutes)
    starts, moment = [], opens
    while moment + biz.duration(service) <= closes:
        if moment >= notice:
            starts.append(moment)
        moment += step
    return starts


def open_days(biz: Business, service: str, staff: str | None, first: int, last: int) -> list[date]:
    today = biz.now().date()
    days = [today + timedelta(days=n) for n in range(first, last + 1)]
    return [d for d in days if bookable_starts(biz, service, d, staff)]


# --- the generator -------------------------------------------------------------------------------------


class Generator:
    def __init__(self, seed: int, biz: Business | None = None):
        self.rng = random.Random(seed)
        self.biz = biz or business()
        self.now = self.biz.now()
        self.today = self.now.date()

    # small pieces
    def phone(self) -> tuple[str, str]:
        rng = self.rng
        national = f"{rng.choice(PREFIXES)}{rng.randrange(10**7):07d}"
        a, b, c = national[:2], national[2:5], national[5:]
        local = "0" + national
        forms = [
            f"{local[:4]} {local[4:7]} {local[7:]}", f"{local[:4]}.{local[4:7]}.{local[7:]}",
            f"{local[:4]}-{local[4:7]}-{local[7:]}", local, f"+84 {a}{b[0]} {b[1:]}{c[0]} {c[1:]}",
            f"+84{national}", f"+84 {national[:3]} {national[3:6]} {national[6:]}", f"(+84) {national}",
            f"{local[:3]} {local[3:6]} {local[6:]}",
        ]  # fmt: skip
        return rng.choice(forms), national

    def service(self, lang: str) -> tuple[str, str]:
        name = self.rng.choice(list(self.biz.services))
        words = VI_SERVICE_WORDS if lang == "vi" and self.rng.random() < 0.8 else EN_SERVICE_WORDS
        return name, self.rng.choice(words[name])

    def valid_start(self, service: str, staff: str | None, first: int = 1, last: int = 40) -> datetime:
        day = self.rng.choice(open_days(self.biz, service, staff, first, last))
        return self.rng.choice(bookable_starts(self.biz, service, day, staff))

    def text(self, lang: str, text: str, plain: bool) -> str:
        return strip_marks(text) if lang == "vi" and plain else text

    # one customer
    def customer(self, index: int, lang: str, klass: str | None = None) -> Customer:
        rng, biz = self.rng, self.biz
        klass = klass or rng.choice(VI_CLASSES if lang == "vi" else EN_CLASSES)
        plain = lang == "vi" and rng.random() < 0.5  # Vietnamese without diacritics
        service, service_text = self.service(lang)
        staff = None
        if klass == "staff":
            staff = rng.choice(biz.staff_for(service))
        phone_text, national = self.phone()
        name = rng.choice(VI_NAMES if lang == "vi" else EN_NAMES)
        if plain:
            name = strip_marks(name)
        expect = Expect(service=service, staff=staff)
        kinds = ["weekday", "relative", "numeric", "month_name", "with_year", "ordinal", "next_weekday"]
        date_kind = klass if klass in kinds else rng.choice(kinds[:5] if lang == "en" else kinds[:4])
        write = en_when if lang == "en" else vi_when
        start = self._start_for(date_kind, service, staff)
        when_text = write(start, self.today, rng, date_kind)
        expect.start = start
        c = Customer(
            key=f"{lang}-{index}",
            language=lang,
            klass=klass,
            opening=[],
            service_text=service_text,
            when_text=None,
            name=name,
            phone_text=self._phone_message(phone_text, lang),
            phone_digits=national,
            confirm=rng.choice(VI_CONFIRM if lang == "vi" else EN_CONFIRM),
            expect=expect,
        )
        staff_words = ""
        if staff:
            staff_words = rng.choice([f" with {staff}", f" with {staff} please", f" by {staff}"])
            if lang == "vi":
                staff_words = rng.choice([f" với chị {staff}", f" với {staff}"])

        if klass in ("spread", "service_first"):
            if klass == "spread":
                c.opening = [rng.choice(["I'd like to book an appointment", "can I make a booking?", "book pls"])]
                if lang == "vi":
                    c.opening = [rng.choice(["cho em đặt lịch", "mình muốn đặt lịch hẹn", "đặt lịch"])]
            else:
                c.opening = [self._opening(lang, service_text, "", "")]
            c.when_text = when_text
        elif klass in ("part_of_day", "time_followup"):
            day = start.date()
            expect.pick, expect.start, expect.day = True, None, day
            day_text = (en_date if lang == "en" else vi_date)(day, self.today, rng, date_kind)
            if klass == "part_of_day":
                part, span = self._part(service, day, lang)
                expect.window = span
                c.opening = [self._opening(lang, service_text, f"{day_text} {part}" if lang == "vi" else
                                           f"{day_text} {part}".replace("tomorrow ", "tomorrow ")
                                           , staff_words)]  # fmt: skip
            else:
                c.opening = [self._opening(lang, service_text, day_text, staff_words)]
                c.pick_text = rng.choice(
                    ["the {t} one", "{t} please", "{t} works", "ok {t}", "let's do {t}"]
                    if lang == "en"
                    else ["{t} nhé", "lấy {t}", "{t} đi", "ok {t}"]
                )
        else:
            c.opening = [self._opening(lang, service_text, when_text, staff_words)]

        if klass.startswith("refuse_") or klass.startswith("impossible"):
            self._refusal(c, klass, service, service_text, lang)
        elif klass == "taken":
            people = [staff] if staff else [p for p in biz.staff_for(service) if biz.works_on(p, start.date())]
            c.blockers = [(p, start) for p in people]
            expect.pick, expect.start, expect.day = True, None, None
        elif klass.startswith("correction"):
            prompt = {"correction_summary": "summary", "correction_phone": "phone", "correction_name": "person_name"}[
                klass
            ]
            options = [s for s in bookable_starts(biz, service, start.date(), staff) if s != start]
            new = rng.choice(options)
            if lang == "en":
                t = en_time(new, rng)
                message = rng.choice(
                    [f"no wait, {t}", f"actually {t}", f"actually can we do {t} instead?", f"sorry, make it {t}"]
                )
            else:
                message = rng.choice([f"à không, {vi_time(new, rng)} nhé", f"đổi sang {vi_time(new, rng)} được không"])
            c.correction = (prompt, self.text(lang, message, plain), new)
        elif klass == "interruption":
            prompt = rng.choice(["person_name", "phone", "summary"])
            message = rng.choice((EN_SMALL_TALK + EN_QUESTIONS) if lang == "en" else VI_QUESTIONS)
            c.interrupt = (prompt, self.text(lang, message, plain))
        elif klass == "email":
            c.email = f"{name.split()[0].lower()}.{rng.randrange(10, 99)}@example.com"
            c.phone_text = rng.choice([f"{phone_text}, email {c.email}", f"{phone_text} and my email is {c.email}"])
        c.opening = [self.text(lang, m, plain) for m in c.opening]
        if c.when_text:
            c.when_text = self.text(lang, c.when_text, plain)
        c.phone_text = self.text(lang, c.phone_text, plain)
        c.confirm = self.text(lang, c.confirm, plain)
        c.service_text = self.text(lang, c.service_text, plain)
        return c

    def _start_for(self, kind: str, service: str, staff: str | None) -> datetime:
        today = self.today
        if kind == "weekday":
            return self.valid_start(service, staff, 1, 6)
        if kind == "next_weekday":
            days = open_days(self.biz, service, staff, 7, 7)
            return self.valid_start(service, staff, 7, 7) if days else self.valid_start(service, staff, 1, 6)
        if kind == "relative":
            return self.valid_start(service, staff, 1, 1 if self.rng.random() < 0.6 else 8)
        if kind == "ordinal":
            last = calendar.monthrange(today.year, today.month)[1] - today.day
            return self.valid_start(service, staff, 1, max(1, last))
        return self.valid_start(service, staff, 1, 55)

    def _part(self, service: str, day: date, lang: str) -> tuple[str, tuple[datetime, datetime]]:
        starts = bookable_starts(self.biz, service, day, None)
        tz = self.biz.tz
        parts = [("morning", "sáng", 9, 12), ("afternoon", "chiều", 12, 17)]
        if starts and starts[-1].hour >= 17:
            parts.append(("evening", "tối", 17, 20))
        en, vi, a, b = self.rng.choice(parts)
        span = (datetime.combine(day, datetime.min.time(), tz) + timedelta(hours=a),
                datetime.combine(day, datetime.min.time(), tz) + timedelta(hours=b))  # fmt: skip
        return (en if lang == "en" else vi), span

    def _opening(self, lang: str, service_text: str, when_text: str, staff_words: str) -> str:
        rng = self.rng
        when = f" {when_text}" if when_text else ""
        if lang == "vi":
            return rng.choice(
                [f"đặt lịch {service_text}{when}{staff_words}", f"cho em đặt {service_text}{when}{staff_words} nhé",
                 f"mình muốn đặt lịch {service_text}{when}{staff_words}", f"em muốn làm {service_text}{when}{staff_words}"]
            )  # fmt: skip
        article = "" if service_text.endswith("s") or service_text[0].isupper() else "a "
        return rng.choice(
            [f"I'd like to book {article}{service_text}{when}{staff_words}",
             f"can I get {article}{service_text}{when}{staff_words} pls",
             f"book {service_text}{staff_words}{when}",
             f"hi, I want to book {article}{service_text}{staff_words}{when}",
             f"I need an appointment for {article}{service_text}{when}{staff_words}"]
        )  # fmt: skip

    def _phone_message(self, phone: str, lang: str) -> str:
        if lang == "vi":
            return self.rng.choice([phone, f"sđt của em là {phone}", f"sdt {phone}", f"{phone} nhé"])
        return self.rng.choice([phone, f"my number is {phone}", f"it's {phone}", f"{phone} thanks", phone])

    def _refusal(self, c: Customer, klass: str, service: str, service_text: str, lang: str) -> None:
        rng, biz, today = self.rng, self.biz, self.today
        tz = biz.tz
        write = en_when if lang == "en" else vi_when

        def at(day: date, hour: int, minute: int = 0) -> datetime:
            return datetime.combine(day, datetime.min.time(), tz).replace(hour=hour, minute=minute)

        code = klass.removeprefix("refuse_")
        if klass == "refuse_closed_day":
            sunday = today + timedelta(days=(6 - today.weekday()) % 7 or 7)
            moment = at(sunday + timedelta(days=7 * rng.randrange(2)), rng.choice([10, 11, 14, 15]))
            kind = "weekday" if (moment.date() - today).days <= 6 else "numeric"
            text = write(moment, today, rng, kind)
        elif klass == "refuse_holiday":
            holidays = [today + timedelta(days=n) for n in range(1, 59)]
            day = rng.choice([d for d in holidays if biz.closure_name(d) and d.weekday() != 6])
            text = write(
                at(day, rng.choice([10, 11, 14])), today, rng, rng.choice(["numeric", "month_name", "with_year"])
            )
        elif klass == "refuse_too_far":
            day = today + timedelta(days=rng.randrange(70, 150))
            text = write(at(day, rng.choice([10, 14, 15])), today, rng, "with_year")
        elif klass == "refuse_past":
            day = today - timedelta(days=rng.randrange(1, 20))
            text = rng.choice(
                [f"yesterday at {en_time(at(day, 15), rng)}", write(at(day, 14), today, rng, "with_year")]
            ) if lang == "en" else write(at(day, 14), today, rng, "with_year")  # fmt: skip
        elif klass == "refuse_too_soon":
            soon = self.now + timedelta(minutes=30 * rng.randrange(2, 4))
            soon = soon.replace(minute=30 if soon.minute >= 30 else 0)
            text = f"today at {en_time(soon, rng)}"
        elif klass == "refuse_outside_hours":
            day = rng.choice(open_days(biz, service, None, 1, 6))
            opens, closes = biz.hours_on(day)
            late = closes.replace(minute=0) + timedelta(hours=rng.choice([0, 1]))
            early = opens - timedelta(hours=rng.choice([1, 2]))
            text = write(rng.choice([late, early]), today, rng, "weekday")
        elif klass == "refuse_not_on_step":
            day = rng.choice(open_days(biz, service, None, 1, 6))
            text = write(at(day, rng.choice([10, 11, 14, 15]), rng.choice([15, 45, 10])), today, rng, "weekday")
        elif klass == "impossible_date":
            code = None
            day, month = rng.choice([(31, 11), (30, 2), (31, 4), (31, 6), (31, 9), (32, 12)])
            hour = rng.choice(["3pm", "10am", "14:00"]) if lang == "en" else rng.choice(["15h", "10h sáng"])
            text = rng.choice([f"{day}/{month} at {hour}", f"on {day}/{month} {hour}"]) if lang == "en" else (
                f"{day}/{month} lúc {hour}"
            )  # fmt: skip
            c.expect = Expect(refusal="utter_when_impossible_date")
        else:  # impossible_time
            code = None
            day = rng.choice(open_days(biz, service, None, 1, 6))
            text = en_date(day, today, rng, "weekday") + " at " + rng.choice(["25:00", "13pm", "24:30", "9:75"])
            c.expect = Expect(refusal="utter_when_impossible_time")
        if code:
            c.expect = Expect(refusal=f"utter_refusal_{code}")
        c.opening = [self._opening(lang, service_text, text, "")]


def generate(seed: int, count: int, language: str = "en", klass: str | None = None) -> list[Customer]:
    """`count` customers from `seed`, the classes in turn so every class is met."""
    gen = Generator(seed)
    classes = VI_CLASSES if language == "vi" else EN_CLASSES
    return [gen.customer(i, language, klass or classes[i % len(classes)]) for i in range(count)]
