"""One generated customer talking to the real assistant through the Rasa REST channel, then the checks.

The customer answers the prompt the assistant last asked (known by the response's name in the tracker's
bot events), the way a customer would: the service, the time, the name, the phone; yes to the summary;
an offered time when it has to pick one. Then: the booking in PostgreSQL is exactly the one expected
(service, local start, staff if named, phone, email), or the first refusal names the rule broken and
nothing was written; no question is asked more than three times in a row; a summary shows the expected
date and time.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import requests

from core import bookings, db
from core.business import business
from deploy.connector import rasa_client
from tests.fuzz.customers import Customer, en_time, vi_time

MAX_TURNS = 16
MAX_ASKED = 3
# the prompt a response asks for
PROMPTS = {
    "utter_ask_service": "service",
    "utter_which_service": "service",
    "utter_service_not_offered": "service",
    "utter_ask_when": "when",
    "utter_ask_when_next": "when",
    "utter_ask_when_any": "when",
    "utter_offer_nearest": "when",
    "utter_offer_none_near": "when",
    "utter_offer_in_window": "when",
    "utter_ask_person_name": "person_name",
    "utter_name_not_understood": "person_name",
    "utter_ask_phone": "phone",
    "utter_phone_not_a_number": "phone",
    "utter_phone_letters": "phone",
    "utter_phone_too_short": "phone",
    "utter_phone_too_long": "phone",
    "utter_time_free": "summary",  # "Friday 15:00 is free; shall I book it?" is answered like the summary
    "utter_booking_summary": "summary",
    "utter_ask_what_to_change": "summary",
}
_WHEN_IN_PAYLOAD = re.compile(r'"when"\s*:\s*"([^"]+)"')


@dataclass
class Result:
    key: str
    language: str
    klass: str
    ok: bool
    reason: str = ""
    turns: int = 0
    seconds: float = 0.0
    transcript: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def story(self) -> str:
        return f"[{self.key} {self.klass}] {self.reason}\n" + "\n".join(f"    {line}" for line in self.transcript)


class Failed(Exception):
    pass


@dataclass
class Reply:
    name: str | None
    text: str
    buttons: list[dict[str, str]]


def reset_bookings() -> None:
    """No customers or bookings: each conversation starts from the same free calendar."""
    with db.transaction() as cur:
        cur.execute("TRUNCATE booking_history, bookings, customers RESTART IDENTITY CASCADE")


class Conversation:
    def __init__(self, rasa_url: str, customer: Customer):
        self.url = rasa_url
        self.c = customer
        self.sender = f"fuzz-{customer.key}-{uuid.uuid4().hex[:6]}"
        self.transcript: list[str] = []
        self.seen = 0  # tracker events already read
        self.turns = 0

    # --- talking -------------------------------------------------------------------------------------
    def say(self, text: str) -> list[Reply]:
        self.turns += 1
        self.transcript.append(f"customer: {text}")
        rasa_client.send_message(self.url, self.sender, text, timeout=120)
        response = requests.get(f"{self.url}/conversations/{self.sender}/tracker", timeout=60)
        response.raise_for_status()
        events = response.json()["events"]
        new, self.seen = events[self.seen :], len(events)
        replies = []
        for event in new:
            if event.get("event") != "bot":
                continue
            name = (event.get("metadata") or {}).get("utter_action")
            buttons = (event.get("data") or {}).get("buttons") or []
            replies.append(Reply(name, event.get("text") or "", buttons))
            shown = " | ".join(b.get("title", "") for b in buttons)
            self.transcript.append(
                f"bot [{name}]: {(event.get('text') or '')[:160]}" + (f" [{shown}]" if shown else "")
            )
        return replies

    # --- the customer's side -------------------------------------------------------------------------
    def run(self) -> Result:
        started = time.perf_counter()
        try:
            self._block()
            self._talk()
            self._check()
            ok, reason = True, ""
        except Failed as failure:
            ok, reason = False, str(failure)
        except Exception as error:  # a crash of the stack is a failure of the conversation, with its story
            ok, reason = False, f"error: {type(error).__name__}: {error}"
        return Result(
            self.c.key, self.c.language, self.c.klass, ok, reason, self.turns,
            round(time.perf_counter() - started, 2), self.transcript,
        )  # fmt: skip

    def _block(self) -> None:
        biz = business()
        for i, (staff, start) in enumerate(self.c.blockers):
            bookings.book(
                sender_id=f"{self.sender}-other{i}", customer_name="Other Guest", customer_phone="0909000000",
                service=self.c.expect.service, start=start, staff=staff, actor="test", biz=biz,
            )  # fmt: skip

    def _talk(self) -> None:
        c, expect = self.c, self.c.expect
        pending = list(c.opening)
        when_said = c.when_text is None
        interrupted = corrected = False
        prompt, buttons = None, []
        streak, streak_prompt = 0, None
        refusals: list[str] = []
        for _ in range(MAX_TURNS):
            if pending:
                message = pending.pop(0)
            elif prompt is None:
                raise Failed("the assistant asked nothing and booked nothing")
            elif c.interrupt and c.interrupt[0] == prompt and not interrupted:
                message, interrupted = c.interrupt[1], True
            elif c.correction and c.correction[0] == prompt and not corrected:
                message, corrected = c.correction[1], True
                expect.start = c.correction[2]
            elif prompt == "service":
                message = c.service_text
            elif prompt == "when":
                if not when_said:
                    message, when_said = c.when_text, True
                elif expect.pick and expect.start is None:
                    message = self._pick(buttons)
                else:
                    raise Failed(f"asked for the time again after {refusals or 'a usable time'}")
            elif prompt == "person_name":
                message = c.name
            elif prompt == "phone":
                message = c.phone_text
            else:
                message = c.confirm
            replies = self.say(message)
            names = [r.name for r in replies]
            for name in names:
                if name and (name.startswith("utter_refusal_") or name.startswith("utter_when_")):
                    refusals.append(name)
            if expect.refusal and refusals:
                return
            if refusals and not (c.blockers and refusals == ["utter_refusal_taken"]):
                raise Failed(f"refused: {', '.join(refusals)}")
            if "utter_give_up" in names:
                raise Failed("gave up asking")
            if "utter_booked" in names:
                return
            asking = [r for r in replies if r.name in PROMPTS]
            if asking:
                prompt, buttons = PROMPTS[asking[-1].name], asking[-1].buttons
                streak = streak + 1 if prompt == streak_prompt else 1
                streak_prompt = prompt
                if streak > MAX_ASKED:
                    raise Failed(f"asked for {prompt} {streak} times in a row")
                if prompt == "summary" and asking[-1].name == "utter_booking_summary":
                    self._check_summary(asking[-1].text)
            elif not pending and not (interrupted and prompt):
                raise Failed(f"no question and no booking after {message!r}: {names}")
        raise Failed(f"no booking after {MAX_TURNS} turns")

    def _pick(self, buttons: list[dict[str, str]]) -> str:
        """An offered time: typed ("the 3pm one") on the day under discussion, or the button pressed."""
        biz, expect = business(), self.c.expect
        offered = [(b, _button_time(b)) for b in buttons]
        offered = [(b, t) for b, t in offered if t is not None]
        if not offered:
            raise Failed("no times offered to pick from")
        for _, moment in offered:
            if expect.window and not expect.window[0] <= moment < expect.window[1]:
                raise Failed(f"offered {moment:%a %d %b %H:%M}, outside the part of the day asked")
            if expect.day and moment.date() != expect.day:
                raise Failed(f"offered {moment:%a %d %b %H:%M} for {expect.day:%a %d %b}")
        button, moment = self.c_rng_choice(offered)
        expect.start = moment.astimezone(biz.tz)
        if self.c.pick_text:
            words = en_time(moment, _Plain()) if self.c.language == "en" else vi_time(moment, _Plain())
            return self.c.pick_text.format(t=words)
        return button["payload"]

    def c_rng_choice(self, offered: list) -> Any:
        # the same customer picks the same way on every run: by its key
        return offered[sum(map(ord, self.c.key)) % len(offered)]

    def _check_summary(self, text: str) -> None:
        expect, biz = self.c.expect, business()
        if expect.start is None:
            return
        shown = [biz.when_text(expect.start, lang) for lang in ("en", "vi")]
        if not any(s in text for s in shown):
            raise Failed(f"summary does not show {shown[0]}: {text[:200]!r}")

    # --- what was stored -----------------------------------------------------------------------------
    def _check(self) -> None:
        biz, expect = business(), self.c.expect
        with db.transaction() as cur:
            cur.execute(
                "SELECT b.reference FROM bookings b JOIN customers c ON c.id = b.customer_id WHERE c.sender_id = %s",
                (self.sender,),
            )
            references = [row["reference"] for row in cur.fetchall()]
        made = [db.get_booking(r) for r in references]
        if expect.refusal:
            if made:
                raise Failed(f"booked {made[0].reference} at {made[0].starts_at:%Y-%m-%d %H:%M} instead of refusing")
            first = next((line for line in self.transcript if "[utter_refusal_" in line or "[utter_when_" in line), "")
            if f"[{expect.refusal}]" not in first:
                raise Failed(f"expected {expect.refusal}, got {first[:120] or 'no refusal'}")
            return
        if len(made) != 1:
            raise Failed(f"{len(made)} bookings stored")
        booking = made[0]
        got = (booking.service, booking.starts_at.astimezone(biz.tz))
        wanted = (expect.service, expect.start)
        if got != wanted:
            raise Failed(f"booked {got[0]} {got[1]:%a %d %b %H:%M}, expected {wanted[0]} {_fmt(wanted[1])}")
        if expect.staff and booking.staff != expect.staff:
            raise Failed(f"booked with {booking.staff}, expected {expect.staff}")
        if _national(booking.customer_phone) != self.c.phone_digits:
            raise Failed(f"stored phone {booking.customer_phone}, expected ...{self.c.phone_digits}")
        if self.c.email:
            customer = db.find_customer(self.sender)
            if customer is None or (customer.email or "").lower() != self.c.email:
                raise Failed(f"stored email {customer.email if customer else None!r}, expected {self.c.email}")


class _Plain:
    """A chooser that always takes the first form (how a customer names an offered time)."""

    def choice(self, options: list[str]) -> str:
        return options[0]


def _fmt(moment: datetime | None) -> str:
    return f"{moment:%a %d %b %H:%M}" if moment else "?"


def _national(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("84") and len(digits) >= 11:
        return digits[2:]
    return digits[1:] if digits.startswith("0") else digits


def _button_time(button: dict[str, str]) -> datetime | None:
    match = _WHEN_IN_PAYLOAD.search(button.get("payload", ""))
    if not match:
        return None
    try:
        return datetime.fromisoformat(match.group(1))
    except ValueError:
        return None


def run_all(rasa_url: str, customers: list[Customer], reset: bool = True) -> list[Result]:
    results = []
    for customer in customers:
        if reset:
            reset_bookings()
        results.append(Conversation(rasa_url, customer).run())
    return results


FAILURE_KINDS = [
    ("wrong date or time", re.compile(r"^summary does not show|^booked \S.* expected|offered .* (outside|for)")),
    ("wrong refusal", re.compile(r"^expected utter_|instead of refusing|^refused:")),
    ("request not understood", re.compile(r"^no question and no booking")),
    ("time not taken", re.compile(r"^asked for the time again")),
    ("stuck on a question", re.compile(r"times in a row|^gave up|^no booking after")),
    ("wrong phone or email", re.compile(r"^stored (phone|email)")),
]


def failure_kind(reason: str) -> str:
    return next((kind for kind, pattern in FAILURE_KINDS if pattern.search(reason)), "other")


def summary(results: list[Result]) -> dict[str, Any]:
    """Success rate per language and per class, and the kinds of failure."""
    out: dict[str, Any] = {}
    for lang in sorted({r.language for r in results}):
        mine = [r for r in results if r.language == lang]
        classes: dict[str, dict[str, int]] = {}
        for r in mine:
            entry = classes.setdefault(r.klass, {"n": 0, "ok": 0})
            entry["n"] += 1
            entry["ok"] += r.ok
        out[lang] = {
            "n": len(mine),
            "ok": sum(r.ok for r in mine),
            "rate": round(sum(r.ok for r in mine) / len(mine), 3),
            "classes": {k: {**v, "rate": round(v["ok"] / v["n"], 3)} for k, v in sorted(classes.items())},
            "failure_kinds": dict(Counter(failure_kind(r.reason) for r in mine if not r.ok).most_common()),
        }
    return out


def dumps(results: list[Result]) -> str:
    return json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=1)
