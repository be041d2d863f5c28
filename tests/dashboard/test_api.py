"""The dashboard's JSON API over a real PostgreSQL: conversations stored by Rasa, bookings made by the booking module."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import requests

from core import db
from core.business import business
from core.values import mask_phone
from dashboard import health
from dashboard.app import create_app
from dashboard.settings import load_dashboard_settings
from tests.conftest import free_port
from tests.dashboard.conftest import (
    PAST_DAYS,
    PER_DAY,
    REAL_CONVERSATIONS,
    SCRIPT_MESSAGE,
    Api,
    Seeded,
    serve_in_thread,
)
from tests.dashboard.synthetic import percentile_cont

pytestmark = pytest.mark.e2e

ROUTES = [
    ("GET", "/api/health"),
    ("GET", "/api/stats"),
    ("GET", "/api/conversations"),
    ("GET", "/api/conversations/anyone"),
    ("GET", "/api/bookings"),
    ("GET", "/api/bookings/LTS-AAAAAA"),
    ("POST", "/api/bookings/LTS-AAAAAA/cancel"),
    ("GET", "/api/knowledge"),
    ("POST", "/api/knowledge/rebuild"),
    ("POST", "/api/try"),
    ("GET", "/api/me"),
    ("GET", "/api/no-such-route"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_api_route_refuses_a_missing_or_wrong_token(api: Api, method: str, path: str):
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": "Basic c3RhZmY6c3RhZmY="}):
        response = requests.request(method, api.base + path, headers=headers, json={}, timeout=30)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"
    if path != "/api/knowledge/rebuild":  # the knowledge tests own the first build
        with_token = requests.request(method, api.base + path, headers=api.headers, json={}, timeout=300)
        assert with_token.status_code != 401


def _today() -> str:
    return datetime.now(business().tz).date().isoformat()


def test_stats_count_what_rasa_stored(api: Api, seeded: Seeded):
    stats = api.get("/api/stats", days=14).json()
    figures = seeded.figures()
    rows = {r["day"]: r for r in stats["per_day"]}
    assert len(rows) == 14 and stats["to"] == _today()

    # the real conversations of today: every message sent, the "try the bot" sender left out
    sent_today = sum(len(messages) for messages in REAL_CONVERSATIONS.values())
    assert figures["per_day"][_today()]["messages"] == sent_today
    for day, expected in figures["per_day"].items():
        row = rows[day]
        assert row["conversations"] == len(expected["senders"]), day
        assert row["messages"] == expected["messages"], day
        assert row["fallbacks"] == expected["fallbacks"], day
        assert row["handoffs"] == expected["handoffs"], day
        assert row["fallback_rate"] == pytest.approx(expected["fallbacks"] / expected["messages"], abs=1e-4)
        assert row["response_median"] == pytest.approx(percentile_cont(expected["delays"], 0.5), abs=2e-3)
        assert row["response_p95"] == pytest.approx(percentile_cont(expected["delays"], 0.95), abs=2e-3)
    for day, row in rows.items():
        if day not in figures["per_day"]:
            assert (row["messages"], row["conversations"], row["response_median"]) == (0, 0, None), day
    assert {d: rows[d]["conversations"] for d in rows if rows[d]["conversations"]} == {
        (datetime.now(business().tz).date() - timedelta(days=ago)).isoformat(): PER_DAY for ago in PAST_DAYS
    } | {_today(): len(REAL_CONVERSATIONS)}

    totals = stats["totals"]
    all_messages = sum(d["messages"] for d in figures["per_day"].values())
    assert totals["messages"] == all_messages
    assert totals["conversations"] == len(seeded.synthetic) + len(REAL_CONVERSATIONS)
    assert totals["fallbacks"] == sum(d["fallbacks"] for d in figures["per_day"].values())
    assert totals["handoffs"] == sum(d["handoffs"] for d in figures["per_day"].values())
    assert stats["fallback_rate"] == pytest.approx(totals["fallbacks"] / all_messages, abs=1e-4)

    ranked = sorted(figures["intents"].items(), key=lambda item: (-item[1], item[0]))[:10]
    assert [(i["intent"], i["count"]) for i in stats["top_intents"]] == ranked

    delays = figures["delays"]
    assert stats["response_time"]["answered"] == len(delays)
    assert stats["response_time"]["median"] == pytest.approx(percentile_cont(delays, 0.5), abs=2e-3)
    assert stats["response_time"]["p95"] == pytest.approx(percentile_cont(delays, 0.95), abs=2e-3)

    made_today = [h for ref in seeded.booking_references for h in db.booking_history(ref) if h["action"] == "created"]
    assert rows[_today()]["bookings_created"] == totals["bookings_created"] == len(made_today) == 5
    cancelled = db.list_bookings(status="cancelled")
    assert rows[_today()]["bookings_cancelled"] == len(cancelled)

    intending = figures["booking_intent_senders"]
    booked = {b.sender_id for b in db.list_bookings()} & intending
    assert seeded.real_senders["booking"] in booked
    assert stats["booking_conversion"] == {
        "conversations_with_booking_intent": len(intending),
        "booked": len(booked),
        "rate": round(len(booked) / len(intending), 4),
    }


def test_stats_window_follows_days(api: Api, seeded: Seeded):
    figures = seeded.figures()
    week = api.get("/api/stats", days=7).json()
    in_week = {(datetime.now(business().tz).date() - timedelta(days=n)).isoformat() for n in range(7)}
    assert week["totals"]["messages"] == sum(d["messages"] for day, d in figures["per_day"].items() if day in in_week)
    assert week["totals"]["messages"] < api.get("/api/stats", days=30).json()["totals"]["messages"]
    assert api.get("/api/stats", days=0).status_code == 422
    assert api.get("/api/stats", days="many").status_code == 422


def test_conversations_newest_first_paged(api: Api, seeded: Seeded):
    first = api.get("/api/conversations", per_page=5).json()
    expected_total = len(seeded.synthetic) + len(REAL_CONVERSATIONS) + 1  # + the "try the bot" sender
    assert first["total"] == expected_total
    names = seeded.real_senders
    assert [c["sender_id"] for c in first["items"][:4]] == [
        seeded.try_sender, names["script"], names["questions"], names["booking"]
    ]  # fmt: skip
    assert first["items"][0]["test"] is True and first["items"][1]["test"] is False

    seen, last_active = [], None
    for number in range(1, expected_total // 10 + 2):
        page = api.get("/api/conversations", page=number, per_page=10).json()
        for item in page["items"]:
            assert last_active is None or item["last_active_at"] <= last_active
            last_active = item["last_active_at"]
            seen.append(item["sender_id"])
    assert len(seen) == len(set(seen)) == expected_total
    assert set(seen) == {c["sender_id"] for c in seeded.synthetic} | set(names.values()) | {seeded.try_sender}
    assert api.get("/api/conversations", page=99).json()["items"] == []

    booking = next(c for c in first["items"] if c["sender_id"] == names["booking"])
    assert booking["customer_name"] == "Lan Nguyen"
    assert booking["customer_phone"] == "***456"
    assert booking["messages"] == len(REAL_CONVERSATIONS["booking"])
    assert booking["last_message"] == REAL_CONVERSATIONS["booking"][-1]
    # the language the conversation is in (its `language` slot, set on every message by the assistant)
    assert booking["language"] == "en"
    assert all(
        c["language"] is None for c in first["items"] if c["sender_id"] in {s["sender_id"] for s in seeded.synthetic}
    )


def _senders(api: Api, q: str) -> set[str]:
    return {c["sender_id"] for c in api.get("/api/conversations", q=q, per_page=100).json()["items"]}


def test_conversation_search_by_text_or_sender(api: Api, seeded: Seeded):
    assert _senders(api, "window.PWNED") == {seeded.real_senders["script"]}  # a customer's words, any case
    handoffs = {
        c["sender_id"] for c in seeded.synthetic if any(e.get("text") == "reply to request_human" for e in c["events"])
    }
    assert handoffs and _senders(api, "reply to request_human") == handoffs  # the bot's words
    assert _senders(api, seeded.real_senders["questions"].upper()) == {seeded.real_senders["questions"]}
    day = (datetime.now(business().tz).date() - timedelta(days=PAST_DAYS[0])).strftime("%m%d")
    assert len(_senders(api, f"seed-{day}-")) == PER_DAY
    assert _senders(api, "100%") == set()  # wildcards are literal
    assert _senders(api, "seed_") == set()


def test_transcript_shows_intents_entities_actions_and_slots(api: Api, seeded: Seeded):
    sender = seeded.real_senders["booking"]
    transcript = api.get(f"/api/conversations/{sender}").json()
    rasa_events = seeded.real_events[sender]
    events = transcript["events"]

    users = [e for e in events if e["kind"] == "user"]
    assert [u["text"] for u in users] == REAL_CONVERSATIONS["booking"]
    expected_users = [e for e in rasa_events if e["event"] == "user"]
    assert [(u["intent"], u["confidence"]) for u in users] == [
        (e["parse_data"]["intent"]["name"], e["parse_data"]["intent"]["confidence"]) for e in expected_users
    ]
    assert all(0 < u["confidence"] <= 1 for u in users)
    assert [[(x["entity"], x["value"]) for x in u["entities"]] for u in users] == [
        [(x["entity"], x["value"]) for x in e["parse_data"]["entities"]] for e in expected_users
    ]
    assert any(x["entity"] == "service" for u in users for x in u["entities"])

    replies = [r["text"] for turn in seeded.real_replies["booking"] for r in turn if r.get("text")]
    assert [e["text"] for e in events if e["kind"] == "bot" and e["text"]] == replies
    assert [e["name"] for e in events if e["kind"] == "action"] == [
        e["name"] for e in rasa_events if e["event"] == "action"
    ]
    slots = [(e["name"], e["value"]) for e in events if e["kind"] == "slot"]
    assert slots == [(e["name"], e["value"]) for e in rasa_events if e["event"] == "slot"]
    assert "Lan Nguyen" in [value for _, value in slots]

    assert transcript["customer_name"] == "Lan Nguyen" and transcript["customer_phone"] == "***456"
    assert [b["reference"] for b in transcript["bookings"]] == [seeded.booking_references[0]]
    assert api.get("/api/conversations/nobody-at-all").status_code == 404


def test_script_message_is_stored_and_returned_as_plain_text(api: Api, seeded: Seeded):
    transcript = api.get(f"/api/conversations/{seeded.real_senders['script']}").json()
    assert [e["text"] for e in transcript["events"] if e["kind"] == "user"] == [SCRIPT_MESSAGE]


def test_bookings_list_filters_and_masks_phones(api: Api, seeded: Seeded):
    everything = api.get("/api/bookings").json()["items"]
    assert sorted(b["reference"] for b in everything) == sorted(seeded.booking_references)
    assert [b["starts_at"] for b in everything] == sorted(b["starts_at"] for b in everything)
    for item in everything:
        whole = db.get_booking(item["reference"]).customer_phone
        assert item["customer_phone"] == mask_phone(whole) and item["customer_phone"].startswith("***")
        assert whole not in str(item)

    first = db.get_booking(seeded.booking_references[0])
    day = first.starts_at.astimezone(business().tz).date()
    on_day = api.get("/api/bookings", **{"from": day.isoformat(), "to": day.isoformat()}).json()["items"]
    expected = {
        r for r in seeded.booking_references if db.get_booking(r).starts_at.astimezone(business().tz).date() == day
    }
    assert {b["reference"] for b in on_day} == expected
    after = api.get("/api/bookings", **{"from": (day + timedelta(days=1)).isoformat()}).json()["items"]
    assert {b["reference"] for b in after} == set(seeded.booking_references) - {
        r for r in seeded.booking_references if db.get_booking(r).starts_at.astimezone(business().tz).date() <= day
    }
    confirmed = api.get("/api/bookings", status="confirmed").json()["items"]
    assert {b["reference"] for b in confirmed} == {b.reference for b in db.list_bookings(status="confirmed")}
    assert all(b["status"] == "confirmed" for b in confirmed)

    assert api.get("/api/bookings", status="lost").status_code == 400
    assert api.get("/api/bookings", **{"from": "2026-12-10", "to": "2026-12-01"}).status_code == 400
    assert api.get("/api/bookings", **{"from": "next week"}).status_code == 422


def test_booking_detail_shows_the_whole_phone_and_history(api: Api, seeded: Seeded):
    reference = seeded.booking_references[0]
    detail = api.get(f"/api/bookings/{reference.lower()}").json()
    assert detail["reference"] == reference
    assert detail["customer_phone"] == db.get_booking(reference).customer_phone == "0903123456"
    assert [h["action"] for h in detail["history"]][0] == "created"
    assert api.get("/api/bookings/LTS-ZZZZZZ").status_code == 404


def test_cancel_goes_through_the_booking_rules(api: Api, seeded: Seeded):
    reference = seeded.booking_references[1]
    before = api.get("/api/stats", days=1).json()["totals"]["bookings_cancelled"]
    response = api.post(f"/api/bookings/{reference}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert db.get_booking(reference).status == "cancelled"
    history = db.booking_history(reference)
    assert (history[-1]["action"], history[-1]["actor"]) == ("cancelled", "dashboard:staff")
    assert "fee" in history[-1]["details"]

    again = api.post(f"/api/bookings/{reference}/cancel")
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    assert len(db.booking_history(reference)) == len(history)  # nothing written twice
    assert api.post("/api/bookings/LTS-ZZZZZZ/cancel").status_code == 404
    assert api.get("/api/stats", days=1).json()["totals"]["bookings_cancelled"] == before + 1
    assert reference in {b["reference"] for b in api.get("/api/bookings", status="cancelled").json()["items"]}


def test_try_the_bot_round_trip_stays_out_of_the_figures(api: Api, seeded: Seeded):
    before = api.get("/api/stats", days=1).json()["totals"]
    response = api.post("/api/try", {"session": "apitest", "message": "hi"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sender_id"] == "dashboard-try-apitest"
    assert "Lotus Spa & Wellness" in " ".join(r["text"] or "" for r in body["replies"])
    transcript = api.get("/api/conversations/dashboard-try-apitest").json()
    assert transcript["test"] is True and [e["text"] for e in transcript["events"] if e["kind"] == "user"] == ["hi"]
    assert api.get("/api/stats", days=1).json()["totals"] == before
    assert api.post("/api/try", {"session": "../etc", "message": "hi"}).status_code == 400
    assert api.post("/api/try", {"session": "x", "message": "y" * 3000}).status_code == 422


def test_try_the_bot_says_when_rasa_is_down(seeded: Seeded, dashboard_token: str):
    config = replace(
        load_dashboard_settings(), token=dashboard_token, cognito=None, rasa_url=f"http://127.0.0.1:{free_port()}"
    )
    with serve_in_thread(create_app(config)) as base:
        response = Api(base, dashboard_token).post("/api/try", {"session": "down", "message": "hi"})
    assert response.status_code == 503
    assert "not answering" in response.json()["detail"]


def test_knowledge_status_and_rebuild(api: Api, seeded: Seeded, index_dir):
    from rag.chunking import document_paths
    from rag.config import rag_settings

    documents = sorted(document_paths(rag_settings().documents_dir))  # English and Vietnamese
    state = api.get("/api/knowledge").json()  # the session's folder is empty until the first rebuild
    assert (state["available"], state["chunk_count"]) == (False, 0)
    assert api.get("/api/health").json()["index"]["ok"] is False
    rebuilt = api.post("/api/knowledge/rebuild")
    assert rebuilt.status_code == 200, rebuilt.text
    built = rebuilt.json()
    assert built["available"] is True and built["document_count"] == len(documents)
    assert sorted(d["source"] for d in built["documents"]) == documents
    english = [name for name in documents if "/" not in name]
    assert built["languages"]["en"]["documents"] == built["languages"]["vi"]["documents"] == len(english)
    assert built["chunk_count"] == sum(d["chunks"] for d in built["documents"]) > len(documents) - 1
    assert (index_dir / "manifest.json").exists()
    now = api.get("/api/knowledge").json()
    assert (now["version"], now["chunk_count"], now["stale"]) == (built["version"], built["chunk_count"], False)
    assert api.post("/api/knowledge/rebuild").json()["embedded"] == 0  # nothing changed, nothing embedded


def test_health_checks_every_part(api: Api, seeded: Seeded, stack):
    api.post("/api/knowledge/rebuild")
    response = api.get("/api/health")
    body = response.json()
    assert response.status_code == 200, body
    assert body["ok"] is True
    assert body["database"]["detail"].startswith("PostgreSQL ")
    assert "Rasa" in body["rasa"]["detail"]
    assert body["actions"]["ok"] and body["index"]["ok"]

    down = health.check("http://127.0.0.1:9", "http://127.0.0.1:9")
    assert (down["ok"], down["rasa"]["ok"], down["actions"]["ok"], down["database"]["ok"]) == (
        False,
        False,
        False,
        True,
    )
