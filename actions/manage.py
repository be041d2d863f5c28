"""Cancelling, rescheduling and listing a customer's bookings: only their own.

A booking belongs to the sender that made it; a quoted reference is not a key (references travel in
confirmations, reminders and screenshots). A customer writing from another chat proves ownership with the
last 4 digits of the phone number on the booking: three tries, then the way to a person. Until then no
detail is shown, and "not found" and "not yours" read the same.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import (
    booking_button,
    booking_line,
    bullet_list,
    contact_values,
    entity_values,
    language,
    latest_text,
)
from actions.date_time import (
    AskingValidation,
    DateTimeValidation,
    discussing,
    first_value,
    offer_times,
    refusal_values,
)
from core import bookings, db, scheduling
from core.business import business
from core.values import find_reference, from_iso

MANAGE_SLOTS = (
    "booking_ref", "owner_digits", "owner_verified", "cancel_confirmed", "reschedule_confirmed", "when",
    "when_problem", "when_wanted", "discussed_when", "unusable_answers",
)  # fmt: skip


def _booking(reference: str | None) -> db.Booking | None:
    if not reference:
        return None
    try:
        return db.get_booking(reference)
    except db.BookingNotFound:
        return None


def may_manage(tracker: Tracker, booking: db.Booking | None) -> bool:
    """The booking is this customer's: made from this chat, or ownership proven in it."""
    if booking is None:
        return False
    return bookings.owned_by(booking, tracker.sender_id) or tracker.get_slot("owner_verified") == booking.reference


def say_not_changeable(dispatcher: CollectingDispatcher, refused: bookings.Refused, tracker: Tracker) -> None:
    biz = business()
    values = refusal_values(refused.values, tracker, biz)
    if refused.code == "not_confirmed":
        values["status"] = refused.values.get("status", "")
        dispatcher.utter_message(response=f"utter_booking_{refused.values.get('status', 'cancelled')}", **values)
    else:
        dispatcher.utter_message(response=f"utter_booking_{refused.code}", **values)


class ManageValidation(AskingValidation):
    """What the cancel and reschedule forms share: which booking, and whose."""

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        booking = _booking(tracker.get_slot("booking_ref"))
        if tracker.get_slot("booking_ref") and not may_manage(tracker, booking):
            return list(domain_slots)  # the phone digits are asked for before anything else
        return [s for s in domain_slots if s != "owner_digits"]

    async def extract_booking_ref(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        """A booking reference typed in a message NLU didn't tag (e.g. "ls7k3q9x")."""
        if entity_values(tracker, "booking_ref"):
            return {}
        found = find_reference(latest_text(tracker), business())
        return {"booking_ref": found} if found and found != tracker.get_slot("booking_ref") else {}

    async def extract_owner_digits(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        if tracker.get_slot("requested_slot") != "owner_digits":
            return {}
        return {"owner_digits": latest_text(tracker).strip() or None}

    def validate_booking_ref(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        biz = business()
        reference = find_reference(str(first_value(value) or ""), biz)
        if reference is None:
            dispatcher.utter_message(response="utter_not_a_reference", example=f"{biz.rules.reference_prefix}-7K3Q9X")
            return {"booking_ref": None}
        booking = _booking(reference)
        if not may_manage(tracker, booking):
            # not found or not this chat's: the same words either way; the form asks for the phone digits
            return {"booking_ref": reference, "owner_digits": None}
        return self.usable(booking, dispatcher, tracker)

    def validate_owner_digits(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        booking = _booking(tracker.get_slot("booking_ref"))
        if booking is None or not bookings.phone_digits_match(booking, str(value or "")):
            dispatcher.utter_message(response="utter_owner_digits_wrong")
            return {"owner_digits": None}
        events = {"owner_digits": "verified", "owner_verified": booking.reference}
        result = self.usable(booking, dispatcher, tracker)
        return {**events, **result} if result.get("booking_ref") else {**result, "owner_verified": None}

    def usable(self, booking: db.Booking, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict:
        """The booking, once it is the customer's: can it still be changed?"""
        try:
            bookings.require_changeable(booking, business().now())
        except bookings.Refused as refused:
            say_not_changeable(dispatcher, refused, tracker)
            return {"booking_ref": None, "requested_slot": None}
        return {"booking_ref": booking.reference}


class ActionPickBooking(Action):
    """Before cancelling or moving: take the reference given, or the customer's only upcoming booking."""

    def name(self) -> str:
        return "action_pick_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        given = tracker.get_slot("booking_ref") or find_reference(latest_text(tracker), biz)
        if given:
            return [SlotSet("booking_ref", given)]
        upcoming = db.upcoming_bookings(tracker.sender_id, biz.now())
        if len(upcoming) == 1:
            return [SlotSet("booking_ref", upcoming[0].reference)]
        return []


class ActionAskBookingRef(Action):
    def name(self) -> str:
        return "action_ask_booking_ref"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        verb = "cancel" if tracker.active_loop_name == "cancel_form" else "move"
        upcoming = db.upcoming_bookings(tracker.sender_id, biz.now())
        if upcoming:
            dispatcher.utter_message(
                response=f"utter_ask_booking_ref_{verb}", buttons=[booking_button(tracker, biz, b) for b in upcoming]
            )
        else:
            dispatcher.utter_message(
                response="utter_ask_booking_ref_none", example=f"{biz.rules.reference_prefix}-7K3Q9X"
            )
        return []


class ValidateCancelForm(ManageValidation):
    def name(self) -> str:
        return "validate_cancel_form"

    def validate_cancel_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        biz = business()
        reference = tracker.get_slot("booking_ref")
        if not may_manage(tracker, _booking(reference)):
            return {"cancel_confirmed": None, "booking_ref": None}
        if not value:
            dispatcher.utter_message(response="utter_booking_unchanged", reference=reference)
            return {"cancel_confirmed": False}
        try:
            booking = bookings.cancel(reference, actor=f"customer:{tracker.sender_id}", biz=biz)
        except bookings.Refused as refused:
            say_not_changeable(dispatcher, refused, tracker)
            return {"cancel_confirmed": False}
        fee = booking.cancellation_fee or 0
        dispatcher.utter_message(
            response="utter_cancelled_with_fee" if fee else "utter_cancelled_free",
            service=booking.service,
            when=biz.when_text(booking.starts_at, language(tracker)),
            reference=booking.reference,
            fee=biz.price_text(fee),
        )
        return {"cancel_confirmed": True}


class ActionAskCancelConfirmed(Action):
    def name(self) -> str:
        return "action_ask_cancel_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        booking = _booking(tracker.get_slot("booking_ref"))
        if not may_manage(tracker, booking):
            return [SlotSet("booking_ref", None)]
        fee = bookings.cancellation_terms(booking, biz)
        rules = biz.rules
        dispatcher.utter_message(
            response="utter_ask_cancel_confirmed_fee" if fee else "utter_ask_cancel_confirmed_free",
            booking=booking_line(tracker, biz, booking),
            hours=rules.free_cancellation_hours,
            fee=biz.price_text(fee),
            percent=rules.late_cancellation_fee_percent,
            price=biz.price_text(booking.price),
        )
        return []


class ValidateRescheduleForm(ManageValidation, DateTimeValidation):
    def name(self) -> str:
        return "validate_reschedule_form"

    def service_for(self, tracker: Tracker) -> str | None:
        booking = _booking(tracker.get_slot("booking_ref"))
        return booking.service if booking is not None and may_manage(tracker, booking) else None

    def exclude_reference(self, tracker: Tracker) -> str | None:
        return tracker.get_slot("booking_ref")

    def staff_for(self, tracker: Tracker) -> str | None:
        return None

    def when_allowed(self, tracker: Tracker) -> bool:
        return may_manage(tracker, _booking(tracker.get_slot("booking_ref")))

    def usable(self, booking: db.Booking, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict:
        result = super().usable(booking, dispatcher, tracker)
        if not result.get("booking_ref"):
            return result
        biz = business()
        if not scheduling.can_reschedule(biz, booking.starts_at, biz.now()):
            fee = bookings.cancellation_terms(booking, biz)
            dispatcher.utter_message(
                response="utter_booking_too_late_to_move_fee" if fee else "utter_booking_too_late_to_move",
                booking=booking_line(tracker, biz, booking),
                hours=biz.rules.reschedule_until_hours,
                fee=biz.price_text(fee),
                **contact_values(biz),
            )
            return {"booking_ref": None, "requested_slot": None}
        return {**result, **discussing(booking.starts_at.astimezone(biz.tz).date())}

    def validate_reschedule_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        biz = business()
        reference = tracker.get_slot("booking_ref")
        if not may_manage(tracker, _booking(reference)):
            return {"reschedule_confirmed": None, "booking_ref": None}
        if tracker.slots_to_validate().get("when"):  # "no, 5pm instead": a new time, not a refusal
            return {"reschedule_confirmed": None}
        if not value:
            dispatcher.utter_message(response="utter_booking_unchanged", reference=reference)
            return {"reschedule_confirmed": False}
        start = from_iso(tracker.get_slot("when"), biz)
        try:
            booking = bookings.reschedule(reference, start, actor=f"customer:{tracker.sender_id}", biz=biz)
        except db.SlotTaken:
            return {
                "reschedule_confirmed": None, "when": None, "when_problem": "taken", "when_wanted": start.isoformat(),
            }  # fmt: skip
        except bookings.Refused as refused:
            if refused.code in ("not_confirmed", "started", "too_late_to_move"):
                say_not_changeable(dispatcher, refused, tracker)
                return {"reschedule_confirmed": False}
            return {
                "reschedule_confirmed": None, "when": None, "when_problem": refused.code,
                "when_wanted": start.isoformat(),
            }  # fmt: skip
        dispatcher.utter_message(
            response="utter_rescheduled",
            service=booking.service,
            when=biz.when_text(booking.starts_at, language(tracker)),
            staff=booking.staff,
            reference=booking.reference,
        )
        return {"reschedule_confirmed": True}


class ActionAskRescheduleWhen(Action):
    """The reschedule form's own question for the new time, with free slots for the booking's service."""

    def name(self) -> str:
        return "action_ask_reschedule_form_when"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        booking = _booking(tracker.get_slot("booking_ref"))
        if not may_manage(tracker, booking):
            return [SlotSet("booking_ref", None)]
        return offer_times(dispatcher, tracker, booking.service, None, booking.reference, "utter_ask_new_when")


class ActionAskRescheduleConfirmed(Action):
    def name(self) -> str:
        return "action_ask_reschedule_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        booking = _booking(tracker.get_slot("booking_ref"))
        start = from_iso(tracker.get_slot("when"), biz)
        if start is None or not may_manage(tracker, booking):
            return []
        lang = language(tracker)
        dispatcher.utter_message(
            response="utter_ask_reschedule_confirmed",
            service=booking.service,
            reference=booking.reference,
            old=biz.when_text(booking.starts_at, lang),
            new=biz.when_text(start, lang),
        )
        return []


class ActionManageDone(Action):
    def name(self) -> str:
        return "action_manage_done"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return [SlotSet(slot, None) for slot in MANAGE_SLOTS]


class ActionListBookings(Action):
    def name(self) -> str:
        return "action_list_bookings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        upcoming = db.upcoming_bookings(tracker.sender_id, biz.now())
        if not upcoming:
            dispatcher.utter_message(response="utter_no_bookings")
            return [SlotSet("offer", "book")]
        dispatcher.utter_message(
            response="utter_your_bookings",
            count=len(upcoming),
            lines=bullet_list(booking_line(tracker, biz, b) for b in upcoming),
        )
        return []
