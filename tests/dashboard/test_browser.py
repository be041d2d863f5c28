"""The page in a real headless Chromium (Debian's package, driven by Playwright): what staff see and do."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core import db
from core.business import business
from tests.dashboard.conftest import PAST_DAYS, PER_DAY, REAL_CONVERSATIONS, SCRIPT_MESSAGE, Api, Seeded

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def sign_in(page: Page, api: Api, token: str) -> None:
    page.goto(api.base + "/")
    expect(page.locator("#page-signin")).to_be_visible()
    page.fill("#token-input", token)
    page.click("#signin-form button[type=submit]")


@pytest.fixture
def signed_in(page: Page, api: Api, dashboard_token: str) -> Page:
    sign_in(page, api, dashboard_token)
    expect(page.locator("#kpi-messages .value")).not_to_have_text("")
    return page


def test_sign_in_then_the_overview_shows_the_seeded_figures(
    page: Page, api: Api, dashboard_token: str, seeded: Seeded, results_dir: Path
):
    requests_seen: list[str] = []
    page.on("request", lambda request: requests_seen.append(request.url))
    sign_in(page, api, "wrong-token")
    expect(page.locator("#signin-error")).to_have_text("That token is not valid.")
    expect(page.locator("#nav")).to_be_hidden()

    page.fill("#token-input", dashboard_token)
    page.click("#signin-form button[type=submit]")
    stats = api.get("/api/stats", days=14).json()
    figures = seeded.figures()
    expect(page.locator("#kpi-messages .value")).to_have_text(
        str(sum(d["messages"] for d in figures["per_day"].values()))
    )
    expect(page.locator("#kpi-conversations .value")).to_have_text(str(len(seeded.synthetic) + len(REAL_CONVERSATIONS)))
    expect(page.locator("#kpi-bookings-created .value")).to_have_text(str(len(seeded.booking_references)))
    expect(page.locator("#kpi-fallback-rate .value")).to_have_text(f"{stats['fallback_rate'] * 100:.1f}%")
    expect(page.locator("#health li[data-part=database]")).to_contain_text("up")

    # the charts hold the per-day figures of the seeded conversations
    today = datetime.now(business().tz).date()
    days = [(today - timedelta(days=13 - i)).isoformat() for i in range(14)]
    expected_messages = [figures["per_day"].get(day, {}).get("messages", 0) for day in days]
    drawn = page.evaluate("Chart.getChart(document.getElementById('chart-messages')).data.datasets[0].data")
    assert drawn == expected_messages
    conversations = page.evaluate("Chart.getChart(document.getElementById('chart-messages')).data.datasets[1].data")
    assert [conversations[13 - ago] for ago in PAST_DAYS] == [PER_DAY] * len(PAST_DAYS)
    intents = page.evaluate("Chart.getChart(document.getElementById('chart-intents')).data.labels")
    assert intents == [i["intent"] for i in stats["top_intents"]]
    for chart in ("chart-bookings", "chart-fallback", "chart-response"):
        assert page.evaluate(f"Chart.getChart(document.getElementById('{chart}')).data.labels.length") == 14

    # reload: the token was entered once
    page.reload()
    expect(page.locator("#kpi-messages .value")).not_to_have_text("")
    page.screenshot(path=str(results_dir / "overview.png"), full_page=True)
    assert all(url.startswith(api.base) for url in requests_seen), "the page loaded something from elsewhere"
    assert page.errors == []


def test_open_a_transcript(signed_in: Page, api: Api, seeded: Seeded, results_dir: Path):
    page = signed_in
    sender = seeded.real_senders["booking"]
    page.click("nav a[data-page=conversations]")
    row = page.locator(f"#conversation-table tr[data-sender='{sender}']")
    expect(row).to_contain_text("***456")
    expect(row).not_to_contain_text("0903123456")
    row.click()
    expect(page.locator("#transcript-sender")).to_have_text(sender)
    customer = page.locator("#transcript .bubble.customer")
    expect(customer).to_have_count(len(REAL_CONVERSATIONS["booking"]))
    rasa_users = [e for e in seeded.real_events[sender] if e["event"] == "user"]
    for i, event in enumerate(rasa_users):
        intent = event["parse_data"]["intent"]
        expect(customer.nth(i).locator(".text")).to_have_text(event["text"])
        expect(customer.nth(i).locator(".intent")).to_have_text(f"{intent['name']} {intent['confidence'] * 100:.0f}%")
    bot_texts = [r["text"] for turn in seeded.real_replies["booking"] for r in turn if r.get("text")]
    expect(page.locator("#transcript .bubble.bot .text")).to_have_text(bot_texts)
    expect(page.locator("#transcript .event[data-kind=slot]").first).to_be_visible()
    expect(page.locator("#transcript-bookings")).to_contain_text(seeded.booking_references[0])
    page.screenshot(path=str(results_dir / "transcript.png"), full_page=True)

    page.uncheck("#show-details")
    expect(page.locator("#transcript .event[data-kind=slot]").first).to_be_hidden()


def test_a_script_in_a_customer_message_stays_text(signed_in: Page, api: Api, seeded: Seeded, results_dir: Path):
    page = signed_in
    page.click("nav a[data-page=conversations]")
    page.fill("#search", "pwned")
    page.click("#search-form button")
    row = page.locator("#conversation-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td.message")).to_have_text(SCRIPT_MESSAGE)
    page.screenshot(path=str(results_dir / "conversations-search.png"), full_page=True)
    row.click()
    bubble = page.locator("#transcript .bubble.customer .text")
    expect(bubble).to_have_text(SCRIPT_MESSAGE)
    assert page.locator("#transcript script, #transcript b, #conversation-table b").count() == 0
    assert page.evaluate("window.pwned") is None
    page.screenshot(path=str(results_dir / "transcript-script.png"), full_page=True)
    assert page.errors == []


def test_cancel_a_booking_after_confirming(signed_in: Page, api: Api, seeded: Seeded, results_dir: Path):
    page = signed_in
    reference = seeded.booking_references[2]
    booking = db.get_booking(reference)
    assert booking.status == "confirmed"
    page.click("nav a[data-page=bookings]")
    row = page.locator(f"#booking-table tr[data-reference='{reference}']")
    expect(row.locator("td.phone")).to_have_text("***" + booking.customer_phone[-3:])
    expect(row.locator("td.status")).to_have_text("confirmed")

    row.locator("button.cancel").click()  # the confirm step: keeping changes nothing
    expect(page.locator("#confirm-cancel")).to_be_visible()
    expect(page.locator("#confirm-text")).to_contain_text(reference)
    page.screenshot(path=str(results_dir / "bookings-confirm.png"))
    page.click("#confirm-keep")
    expect(page.locator("#confirm-cancel")).to_be_hidden()
    assert db.get_booking(reference).status == "confirmed"

    row.locator("button.cancel").click()
    page.click("#confirm-yes")
    expect(row.locator("td.status")).to_have_text("cancelled")
    expect(row.locator("button.cancel")).to_have_count(0)
    assert db.get_booking(reference).status == "cancelled"
    detail = page.locator("#booking-detail")
    expect(detail).to_contain_text(booking.customer_phone)  # the whole number in the detail
    expect(detail).to_contain_text("cancelled by dashboard:staff")
    page.screenshot(path=str(results_dir / "bookings.png"), full_page=True)

    page.select_option("#filter-status", "cancelled")
    page.click("#booking-filters button[type=submit]")
    expect(page.locator(f"#booking-table tr[data-reference='{reference}']")).to_be_visible()
    expect(page.locator("#booking-table td.status")).to_have_text(
        ["cancelled"] * len(db.list_bookings(status="cancelled"))
    )


def test_rebuild_the_knowledge_index(signed_in: Page, api: Api, results_dir: Path):
    page = signed_in
    page.click("nav a[data-page=knowledge]")
    page.click("#rebuild")
    expect(page.locator("#rebuild-result")).to_contain_text("Rebuilt:", timeout=240_000)
    state = api.get("/api/knowledge").json()
    assert state["available"] is True
    expect(page.locator("#knowledge-status")).to_contain_text(state["version"])
    expect(page.locator("#knowledge-documents tbody tr")).to_have_count(state["document_count"])
    page.screenshot(path=str(results_dir / "knowledge.png"), full_page=True)


def test_try_the_bot_round_trip(signed_in: Page, api: Api, results_dir: Path):
    page = signed_in
    page.click("nav a[data-page=try]")
    expect(page.locator("#try-sender")).to_have_text(re.compile(r"^dashboard-try-s[a-z0-9]+$"))
    sender = page.locator("#try-sender").inner_text()
    page.fill("#try-input", "hi")
    page.press("#try-input", "Enter")
    expect(page.locator("#try-log .bubble.customer")).to_have_text(["hi"])
    expect(page.locator("#try-log .bubble.bot").first).to_contain_text("Lotus Spa & Wellness", timeout=60_000)
    page.screenshot(path=str(results_dir / "try-the-bot.png"), full_page=True)
    transcript = api.get(f"/api/conversations/{sender}").json()
    assert [e["text"] for e in transcript["events"] if e["kind"] == "user"] == ["hi"]


def test_the_inbox_waiting_badge_reply_and_release(
    signed_in: Page, api: Api, seeded: Seeded, stack, dashboard_graph, results_dir: Path, request
):
    from core import db
    from deploy.connector import rasa_client

    page = signed_in
    sender = "browser-inbox-" + seeded.try_sender[-6:]

    def forget() -> None:  # the other dashboard tests' figures count every conversation of the day
        with db.transaction() as cur:
            cur.execute("DELETE FROM events WHERE sender_id = %s", (sender,))

    request.addfinalizer(forget)
    rasa_client.send_message(stack["rasa_url"], sender, "hello", timeout=120)
    rasa_client.send_message(stack["rasa_url"], sender, "I want to talk to a real person", timeout=120)
    rasa_client.send_message(stack["rasa_url"], sender, "my pedicure yesterday was not good", timeout=120)
    waiting = api.get("/api/handoffs").json()["count"]
    assert sender in {h["sender_id"] for h in api.get("/api/handoffs").json()["items"]}

    page.reload()
    expect(page.locator("#waiting-badge")).to_have_text(str(waiting))
    expect(page.locator("#waiting-badge")).to_have_class(re.compile(r"\bsome\b"))
    page.click("nav a[data-page=inbox]")
    card = page.locator(f"article.handoff[data-sender='{sender}']")
    expect(card).to_contain_text("asked for a person")
    expect(card.locator(".bubble.customer").last).to_have_text(re.compile("pedicure yesterday was not good"))
    expect(card.locator(".bubble.bot")).not_to_have_count(0)
    expect(card.locator("[data-kind=bot-payload]")).to_have_text("handed to a person")  # not an empty bubble

    card.locator("input[name=text]").fill("Hi, this is Mai. I'm sorry to hear that: <b>what happened?</b>")
    card.locator("button[type=submit]").click()
    expect(card.locator("[role=status]")).to_have_text("Sent.")
    staff = card.locator(".bubble.staff")
    expect(staff).to_have_count(1)
    expect(staff.locator(".text")).to_have_text("Hi, this is Mai. I'm sorry to hear that: <b>what happened?</b>")
    expect(staff).to_contain_text("staff: staff")
    sent = [c["json"] for c in dashboard_graph.sends(sender)]
    assert [(m["message"]["text"], m["messaging_type"]) for m in sent] == [
        ("Hi, this is Mai. I'm sorry to hear that: <b>what happened?</b>", "RESPONSE")
    ]
    page.screenshot(path=str(results_dir / "inbox.png"), full_page=True)

    card.locator("button.release").click()
    expect(page.locator(f"article.handoff[data-sender='{sender}']")).to_have_count(0)
    expect(page.locator("#waiting-badge")).to_have_text(str(waiting - 1))
    assert sender not in {h["sender_id"] for h in api.get("/api/handoffs").json()["items"]}
    # the transcript marks the staff reply
    page.goto(api.base + f"/#conversation/{sender}")
    expect(page.locator("#transcript .bubble.staff")).to_have_count(1)
    assert page.errors == []
