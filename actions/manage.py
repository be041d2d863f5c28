"""Cancelling, rescheduling and listing a customer's bookings."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import (
    apologise_database_down,
    booking_button,
    booking_line,
    contact_line,
    entity_values,
    guarded,
    latest_text,
    yes_no_buttons,
)
from actions.date_time import DateTimeValidation, first_value
from core import bookings, db
from core.business import Business, business
from core.values import find_reference, from_iso

MANAGE_SLOTS = (
    "booking_ref",
    "cancel_confirmed",
    "reschedule_confirmed",
    "when",
    "when_problem",
    "when_wanted",
    "last_date",
)


def _lookup(value: Any, dispatcher: CollectingDispatcher, biz: Business) -> db.Booking | None:
    """The confirmed, upcoming booking a customer named, or None after saying why not."""
    reference = find_reference(str(first_value(value) or ""), biz)
    if reference is None:
        dispatcher.utter_message(
            text=f"That doesn't look like a booking reference; ours look like {biz.rules.reference_prefix}-7K3Q9X."
        )
        return None
    try:
        booking = db.get_booking(reference)
    except db.BookingNotFound:
        dispatcher.utter_message(
            text=f"I couldn't find a booking with reference {reference}. Please check it, or {contact_line(biz)}."
        )
        return None
    if booking.status != "confirmed":
        dispatcher.utter_message(text=f"Booking {reference} is already {booking.status.replace('_', ' ')}.")
        return None
    if booking.starts_at <= biz.now():
        dispatcher.utter_message(
            text=f"Booking {reference} was on {biz.when_text(booking.starts_at)}, so it's in the past."
        )
        return None
    return booking


class ActionPickBooking(Action):
    """Before cancelling or moving: take the reference given, or the customer's only upcoming booking."""

    def name(self) -> str:
        return "action_pick_booking"

    @guarded
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

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        verb = "cancel" if tracker.active_loop_name == "cancel_form" else "move"
        upcoming = db.upcoming_bookings(tracker.sender_id, biz.now())
        if upcoming:
            dispatcher.utter_message(
                text=f"Which booking would you like to {verb}?",
                buttons=[booking_button(biz, b) for b in upcoming],
            )
        else:
            dispatcher.utter_message(
                text=f"I can't see any upcoming bookings made in this chat. What's the booking reference? "
                f"It looks like {biz.rules.reference_prefix}-7K3Q9X."
            )
        return []


def reference_in_message(tracker: Tracker) -> dict:
    """A booking reference typed in a message NLU didn't tag (e.g. "ls7k3q9x")."""
    if entity_values(tracker, "booking_ref"):
        return {}
    found = find_reference(latest_text(tracker), business())
    return {"booking_ref": found} if found and found != tracker.get_slot("booking_ref") else {}


class ValidateCancelForm(FormValidationAction):
    def name(self) -> str:
        return "validate_cancel_form"

    async def extract_booking_ref(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        return reference_in_message(tracker)

    def validate_booking_ref(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        try:
            booking = _lookup(value, dispatcher, business())
        except db.DatabaseUnavailable:
            apologise_database_down(dispatcher)
            return {"booking_ref": None, "requested_slot": None}
        return {"booking_ref": booking.reference if booking else None}

    def validate_cancel_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        biz = business()
        reference = tracker.get_slot("booking_ref")
        if not value:
            dispatcher.utter_message(text=f"OK, booking {reference} stays as it is.")
            return {"cancel_confirmed": False}
        try:
            booking = bookings.cancel(reference, actor=f"customer:{tracker.sender_id}", biz=biz)
        except db.DatabaseUnavailable:
            apologise_database_down(dispatcher, biz)
            return {"cancel_confirmed": None}
        except (ValueError, db.BookingNotFound) as err:
            dispatcher.utter_message(text=str(err))
            return {"cancel_confirmed": False}
        fee = booking.cancellation_fee or 0
        charge = f" A late-cancellation fee of {biz.price_text(fee)} applies." if fee else " There's no charge."
        dispatcher.utter_message(
            text=f"Done: your {booking.service} on {biz.when_text(booking.starts_at)} ({booking.reference}) is cancelled.{charge}"
        )
        return {"cancel_confirmed": True}


class ActionAskCancelConfirmed(Action):
    def name(self) -> str:
        return "action_ask_cancel_confirmed"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        booking = db.get_booking(tracker.get_slot("booking_ref"))
        fee = bookings.cancellation_terms(booking, biz)
        rules = biz.rules
        if fee:
            terms = (
                f"It starts in less than {rules.free_cancellation_hours} hours, so a late-cancellation fee of "
                f"{biz.price_text(fee)} ({rules.late_cancellation_fee_percent}% of {biz.price_text(booking.price)}) applies."
            )
        else:
            terms = "Cancelling it is free."
        dispatcher.utter_message(
            text=f"Cancel your {booking_line(biz, booking)}? {terms}",
            buttons=yes_no_buttons(),
        )
        return []


class ValidateRescheduleForm(DateTimeValidation):
    def name(self) -> str:
        return "validate_reschedule_form"

    def service_for(self, tracker: Tracker) -> str | None:
        reference = tracker.get_slot("booking_ref")
        if not reference:
            return None
        try:
            return db.get_booking(reference).service
        except db.BookingNotFound:
            return None

    def exclude_reference(self, tracker: Tracker) -> str | None:
        return tracker.get_slot("booking_ref")

    def staff_for(self, tracker: Tracker) -> str | None:
        return None

    async def extract_booking_ref(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        return reference_in_message(tracker)

    def validate_booking_ref(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        biz = business()
        try:
            booking = _lookup(value, dispatcher, biz)
        except db.DatabaseUnavailable:
            apologise_database_down(dispatcher, biz)
            return {"booking_ref": None, "requested_slot": None}
        if booking is None:
            return {"booking_ref": None}
        if not bookings.scheduling.can_reschedule(biz, booking.starts_at, biz.now()):
            fee = bookings.cancellation_terms(booking, biz)
            cancel = f"cancel it (a fee of {biz.price_text(fee)} applies)" if fee else "cancel it for free"
            dispatcher.utter_message(
                text=f"Your {booking_line(biz, booking)} starts in less than {biz.rules.reschedule_until_hours} hours, "
                f"so it can't be moved any more. You can {cancel}, or {contact_line(biz)}."
            )
            return {"booking_ref": None, "requested_slot": None}
        return {"booking_ref": booking.reference, "last_date": booking.starts_at.astimezone(biz.tz).date().isoformat()}

    def validate_reschedule_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        biz = business()
        reference = tracker.get_slot("booking_ref")
        if not value:
            dispatcher.utter_message(text=f"OK, booking {reference} stays as it is.")
            return {"reschedule_confirmed": False}
        start = from_iso(tracker.get_slot("when"), biz)
        try:
            booking = bookings.reschedule(reference, start, actor=f"customer:{tracker.sender_id}", biz=biz)
        except db.DatabaseUnavailable:
            apologise_database_down(dispatcher, biz)
            return {"reschedule_confirmed": None}
        except db.SlotTaken:
            return {
                "reschedule_confirmed": None,
                "when": None,
                "when_problem": f"Sorry, {biz.when_text(start)} was just taken.",
                "when_wanted": start.isoformat(),
            }
        except (ValueError, db.BookingNotFound) as err:
            dispatcher.utter_message(text=str(err))
            return {"reschedule_confirmed": False}
        dispatcher.utter_message(
            text=f"Done: your {booking.service} is now on {biz.when_text(booking.starts_at)} with {booking.staff} "
            f"(ref {booking.reference})."
        )
        return {"reschedule_confirmed": True}


class ActionAskRescheduleConfirmed(Action):
    def name(self) -> str:
        return "action_ask_reschedule_confirmed"

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        booking = db.get_booking(tracker.get_slot("booking_ref"))
        start = from_iso(tracker.get_slot("when"), biz)
        if start is None:
            return []
        dispatcher.utter_message(
            text=f"Move your {booking.service} ({booking.reference}) from {biz.when_text(booking.starts_at)} "
            f"to {biz.when_text(start)}?",
            buttons=yes_no_buttons(),
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

    @guarded
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        biz = business()
        upcoming = db.upcoming_bookings(tracker.sender_id, biz.now())
        if not upcoming:
            dispatcher.utter_message(
                text="You have no upcoming bookings with us. Would you like to make one?",
                buttons=[{"title": "Book", "payload": "/book_appointment"}],
            )
            return [SlotSet("offer", "book")]
        lines = "\n".join(f"• {booking_line(biz, b)}" for b in upcoming)
        plural = "s" if len(upcoming) > 1 else ""
        dispatcher.utter_message(
            text=f'Your upcoming booking{plural}:\n{lines}\nTo change one, tell me "reschedule" or "cancel".',
            buttons=[
                {"title": "Reschedule", "payload": "/reschedule_booking"},
                {"title": "Cancel a booking", "payload": "/cancel_booking"},
            ],
        )
        return []
