"""ReminderJob against a real PostgreSQL and the local Graph API stand-in (BOOKING_NOW: Tue 1 Dec 2026 10:00)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

from core import db
from core.business import business
from deploy.connector.graph import GraphClient
from deploy.connector.retry import RetryPolicy
from deploy.jobs import reminder
from tests.connector.conftest import PAGE_TOKEN
from tests.deploy.conftest import make_booking


def due_and_not_due() -> tuple[list[db.Booking], list[db.Booking]]:
    now = business().now()
    due = [
        make_booking("psid-due-1", "Foot Reflexology", "Mai", now + timedelta(hours=23)),  # window start: inclusive
        make_booking("psid-due-2", "Foot Reflexology", "Mai", now + timedelta(hours=23, minutes=30)),
        make_booking("psid-due-3", "Foot Reflexology", "Mai", now + timedelta(hours=24)),
        make_booking("psid-due-4", "Manicure", "An", now + timedelta(hours=24)),
        make_booking("psid-due-5", "Foot Reflexology", "Tuan", now + timedelta(hours=24, minutes=59)),
    ]
    cancelled = make_booking("psid-cancelled", "Manicure", "Linh", now + timedelta(hours=24))
    db.cancel_booking(cancelled.reference, decide=lambda locked: locked.price * 0, actor="test")
    not_due = [
        make_booking("psid-early", "Foot Reflexology", "Tuan", now + timedelta(hours=22, minutes=59)),
        make_booking("psid-late", "Manicure", "An", now + timedelta(hours=25)),  # window end: exclusive
        make_booking("psid-next-week", "Manicure", "An", now + timedelta(days=7)),
        cancelled,
    ]
    return due, not_due


def fresh_client(graph_url: str) -> GraphClient:
    return GraphClient(graph_url, PAGE_TOKEN, policy=RetryPolicy(2, 0.01, 0.02), timeout=5)


def test_two_overlapping_runs_message_each_due_booking_exactly_once(reminder_env, monkeypatch):
    graph = reminder_env
    due, not_due = due_and_not_due()
    answer = graph.respond

    def slow_answer(call):  # each send takes a while, so the two runs really overlap
        time.sleep(0.25)
        return answer(call)

    monkeypatch.setattr(graph, "respond", slow_answer)
    start = threading.Barrier(2)
    results = {}

    def one_run(name: str) -> None:
        start.wait()
        results[name] = reminder.send_due_reminders(fresh_client(graph.url))

    runs = [threading.Thread(target=one_run, args=(name,)) for name in ("a", "b")]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=60)

    sent = results["a"].sent + results["b"].sent
    assert sorted(sent) == sorted(b.reference for b in due)
    assert results["a"].sent and results["b"].sent, "both runs should have sent some reminders"
    for booking in due:
        assert len(graph.sends(booking.sender_id)) == 1, booking.sender_id
        assert db.reminded_at(booking.reference) == business().now()
    for booking in not_due:
        assert graph.sends(booking.sender_id) == []
        assert db.reminded_at(booking.reference) is None
    assert len(graph.sends()) == len(due)

    # a third run of the same hour finds nothing left to send
    again = reminder.send_due_reminders(fresh_client(graph.url))
    assert again.as_dict() == {"sent": 0, "refused": 0, "failed": 0, "unconfirmed": 0}
    assert len(graph.sends()) == len(due)


def test_the_reminder_is_a_tagged_message_with_service_time_reference_and_how_to_cancel(reminder_env):
    graph = reminder_env
    booking = make_booking("psid-tagged", "Manicure", "Linh", business().now() + timedelta(hours=24))
    summary = reminder.send_due_reminders(fresh_client(graph.url))
    assert summary.as_dict() == {"sent": 1, "refused": 0, "failed": 0, "unconfirmed": 0}
    (call,) = graph.sends("psid-tagged")
    body = call["json"]
    assert body["messaging_type"] == "MESSAGE_TAG"
    assert body["tag"] == "CONFIRMED_EVENT_UPDATE"
    assert body["recipient"] == {"id": "psid-tagged"}
    text = body["message"]["text"]
    assert "Manicure" in text
    assert "Wednesday 2 December at 10:00" in text  # local time (Asia/Ho_Chi_Minh)
    assert booking.reference in text
    assert "cancel my booking" in text
    assert call["query"]["access_token"] == PAGE_TOKEN
    history = db.booking_history(booking.reference)
    assert history[-1]["action"] == "reminded"
    assert history[-1]["details"] == {"sent": True}


def test_a_transient_failure_rolls_back_and_the_next_run_sends(reminder_env):
    graph = reminder_env
    booking = make_booking("psid-flaky", "Manicure", "Linh", business().now() + timedelta(hours=24))
    other = make_booking("psid-fine", "Manicure", "An", business().now() + timedelta(hours=24, minutes=30))
    graph.failures.extend([(503, {"message": "down", "code": 2})] * 2)  # both attempts of the first send
    first = reminder.send_due_reminders(fresh_client(graph.url))
    assert first.failed == [booking.reference]
    assert first.sent == [other.reference]  # the run went on with the other booking
    assert db.reminded_at(booking.reference) is None
    assert [h["action"] for h in db.booking_history(booking.reference)] == ["created"]

    second = reminder.send_due_reminders(fresh_client(graph.url), now=business().now() + timedelta(hours=1))
    assert second.sent == [booking.reference]
    assert len(graph.sends("psid-flaky")) == 3  # two failed attempts, then the one that arrived
    assert len(graph.sends("psid-fine")) == 1


def test_a_permanent_refusal_is_recorded_and_never_retried(reminder_env):
    graph = reminder_env
    booking = make_booking("psid-blocked", "Manicure", "Linh", business().now() + timedelta(hours=24))
    graph.failures.append((400, {"message": "outside the allowed window", "code": 10, "error_subcode": 2018278}))
    first = reminder.send_due_reminders(fresh_client(graph.url))
    assert first.refused == [booking.reference]
    assert db.reminded_at(booking.reference) is not None
    assert db.booking_history(booking.reference)[-1]["details"] == {
        "sent": False,
        "status": 400,
        "code": 10,
        "subcode": 2018278,
    }
    again = reminder.send_due_reminders(fresh_client(graph.url))
    assert again.as_dict() == {"sent": 0, "refused": 0, "failed": 0, "unconfirmed": 0}
    assert len(graph.sends("psid-blocked")) == 1


def test_a_rescheduled_booking_is_reminded_again_for_its_new_time(reminder_env):
    graph = reminder_env
    now = business().now()
    booking = make_booking("psid-moved", "Manicure", "Linh", now + timedelta(hours=24))
    assert reminder.send_due_reminders(fresh_client(graph.url)).sent == [booking.reference]
    moved_to = now + timedelta(days=2, hours=1)
    db.reschedule_booking(
        booking.reference,
        starts_at=moved_to,
        ends_at=moved_to + timedelta(minutes=30),
        staff="Linh",
        actor="test",
        decide=lambda locked: None,
    )
    assert db.reminded_at(booking.reference) is None
    one_day_before = reminder.send_due_reminders(fresh_client(graph.url), now=now + timedelta(days=1, hours=1))
    assert one_day_before.sent == [booking.reference]
    assert len(graph.sends("psid-moved")) == 2


def test_the_job_entry_reads_the_settings_and_sends(reminder_env):
    make_booking("psid-entry", "Manicure", "Linh", business().now() + timedelta(hours=24))
    assert reminder.run({}) == {"sent": 1, "refused": 0, "failed": 0, "unconfirmed": 0}
    assert len(reminder_env.sends("psid-entry")) == 1


def test_a_send_accepted_but_answered_after_the_timeout_is_never_sent_again(reminder_env):
    graph = reminder_env
    booking = make_booking("psid-slow-graph", "Manicure", "Linh", business().now() + timedelta(hours=24))
    graph.stalls, graph.stall_seconds = 1, 1.5  # Messenger has the message; its answer comes too late
    client = GraphClient(graph.url, PAGE_TOKEN, policy=RetryPolicy(3, 0.01, 0.02), timeout=0.5)
    first = reminder.send_due_reminders(client)
    assert first.as_dict() == {"sent": 0, "refused": 0, "failed": 0, "unconfirmed": 1}
    assert len(graph.sends("psid-slow-graph")) == 1  # no retry of the unanswered send
    assert db.reminded_at(booking.reference) is not None
    assert db.booking_history(booking.reference)[-1]["details"] == {"sent": None, "unconfirmed": True}
    for hours in (0, 1):  # the same hour rerun, and the next hourly run still inside the window
        rerun = reminder.send_due_reminders(fresh_client(graph.url), now=business().now() + timedelta(hours=hours))
        assert rerun.as_dict() == {"sent": 0, "refused": 0, "failed": 0, "unconfirmed": 0}
    assert len(graph.sends("psid-slow-graph")) == 1


def test_a_run_that_dies_after_marking_never_sends_that_reminder_twice(reminder_env):
    """The mark is committed before the send: a run killed mid-send leaves nothing for a rerun to resend."""
    graph = reminder_env
    booking = make_booking("psid-killed", "Manicure", "Linh", business().now() + timedelta(hours=24))
    start, end = business().now() + reminder.WINDOW_START, business().now() + reminder.WINDOW_END
    claims = db.claim_due_reminder(start, end, business().now())
    claim = claims.__enter__()  # the run sends here... and dies before leaving the block
    assert claim is not None and claim.booking.reference == booking.reference
    assert db.reminded_at(booking.reference) is not None  # already committed, seen by every other run
    rerun = reminder.send_due_reminders(fresh_client(graph.url))
    assert rerun.as_dict() == {"sent": 0, "refused": 0, "failed": 0, "unconfirmed": 0}
    assert graph.sends("psid-killed") == []


def test_a_refused_page_token_raises_the_metric_and_the_next_run_sends(reminder_env, capfd):
    graph = reminder_env
    booking = make_booking("psid-token", "Manicure", "Linh", business().now() + timedelta(hours=24))
    graph.failures.append((400, {"message": "Error validating access token", "code": 190, "error_subcode": 463}))
    first = reminder.send_due_reminders(fresh_client(graph.url))
    assert first.failed == [booking.reference]
    assert len(graph.sends("psid-token")) == 1  # not retried within the run: the token will not heal itself
    assert db.reminded_at(booking.reference) is None  # the mark was taken back
    [metric] = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"GraphAuthRefused"' in line]
    assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Lotus"
    assert metric["service"] == "messenger-connector" and metric["GraphAuthRefused"] == [1.0]

    second = reminder.send_due_reminders(fresh_client(graph.url), now=business().now() + timedelta(hours=1))
    assert second.sent == [booking.reference]
    assert len(graph.sends("psid-token")) == 2


def test_a_customer_who_blocked_the_page_is_tried_once(reminder_env, capfd):
    graph = reminder_env
    booking = make_booking("psid-gone", "Manicure", "Linh", business().now() + timedelta(hours=24))
    graph.failures.append(
        (400, {"message": "This person isn't available right now.", "code": 551, "error_subcode": 1545041})
    )
    first = reminder.send_due_reminders(fresh_client(graph.url))
    assert first.refused == [booking.reference]
    again = reminder.send_due_reminders(fresh_client(graph.url), now=business().now() + timedelta(hours=1))
    assert again.as_dict() == {"sent": 0, "refused": 0, "failed": 0, "unconfirmed": 0}
    assert len(graph.sends("psid-gone")) == 1
    assert "GraphAuthRefused" not in capfd.readouterr().out


def test_each_customer_is_reminded_in_the_language_they_write_in(reminder_env):
    graph = reminder_env
    now = business().now()
    english = make_booking("psid-reminder-en", "Manicure", "An", now + timedelta(hours=24))
    vietnamese = make_booking("psid-reminder-vi", "Foot Reflexology", "Mai", now + timedelta(hours=24))
    db.remember_customer(vietnamese.sender_id, language="vi")
    reminder.send_due_reminders(fresh_client(graph.url))

    def text_to(booking: db.Booking) -> str:
        (call,) = graph.sends(booking.sender_id)
        return call["json"]["message"]["text"]

    assert text_to(english) == reminder.responses.render(
        "utter_reminder", "en", name="Lan", business=business().name, service="Manicure", staff="An",
        when=business().when_text(english.starts_at, "en"), reference=english.reference,
    )  # fmt: skip
    vi_text = text_to(vietnamese)
    assert vi_text.startswith("Chào Lan") and vietnamese.reference in vi_text
    assert business().when_text(vietnamese.starts_at, "vi") in vi_text  # "Thứ Tư 2/12 lúc 10:00"
