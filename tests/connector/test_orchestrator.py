"""The ChatOrchestrator through the local gateway: signed webhooks in, recorded Send API calls out.

Real SQS FIFO queue with its dead-letter queue and real DynamoDB tables (moto in server mode), a Graph API
stub that records every call, and a scriptable Rasa.
"""

from __future__ import annotations

import json
import random
import time

import boto3
import requests

from deploy.connector.orchestrator import APOLOGY, TEXT_ONLY
from deploy.connector.signature import sign
from deploy.handlers import chat_orchestrator
from deploy.local_gateway import sqs_event
from tests.connector.conftest import APP_SECRET, MAX_RECEIVES, PAGE_ID, PAGE_TOKEN, context, drain, wait_for

PSID = "7000000000000042"


def webhook(gateway, *events: dict) -> requests.Response:
    """POST one signed Messenger delivery with these messaging events to the gateway."""
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": list(events)}]}).encode()
    headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, APP_SECRET)}
    return requests.post(gateway.url, data=body, headers=headers, timeout=10)


def text_event(mid: str, text: str, psid: str = PSID, timestamp: int = 1795834800000) -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": timestamp,
        "message": {"mid": mid, "text": text},
    }


def test_text_gets_seen_typing_rasa_with_metadata_and_a_reply(gateway, graph, rasa_stub, connector):
    started = time.monotonic()
    response = webhook(gateway, text_event("m_a1", "hi"))
    assert (response.status_code, response.text) == (200, "EVENT_RECEIVED")
    assert time.monotonic() - started < 1.0

    wait_for(lambda: graph.sends(PSID), what="the reply")
    [rasa_call] = rasa_stub.snapshot()
    assert rasa_call["path"] == "/webhooks/rest/webhook"
    assert rasa_call["json"] == {
        "sender": PSID,
        "message": "hi",
        "metadata": {"message_id": "m_a1", "page_id": PAGE_ID, "timestamp": 1795834800000, "first_name": "Lan"},
    }
    [send] = graph.sends(PSID)
    assert send["path"] == "/me/messages" and send["query"]["access_token"] == PAGE_TOKEN
    assert send["json"] == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "you said: hi"},
    }
    assert graph.actions(PSID) == ["mark_seen", "typing_on"]
    # seen and typing before Rasa is asked; the profile read once, then cached in DynamoDB with a TTL
    calls = graph.snapshot()
    assert calls.index(next(c for c in calls if c["method"] == "GET")) < calls.index(send)
    item = boto3.client("dynamodb").get_item(TableName=connector.profiles_table, Key={"psid": {"S": PSID}})["Item"]
    assert item["first_name"]["S"] == "Lan" and int(item["expires_at"]["N"]) > time.time() + 3600

    webhook(gateway, text_event("m_a2", "again"))
    wait_for(lambda: len(graph.sends(PSID)) == 2, what="the second reply")
    assert graph.profile_reads(PSID) == 1
    assert rasa_stub.snapshot()[1]["json"]["metadata"]["first_name"] == "Lan"


def test_same_mid_delivered_three_times_is_one_rasa_call_and_one_reply(gateway, graph, rasa_stub):
    for _ in range(3):
        assert webhook(gateway, text_event("m_dup", "book a massage")).status_code == 200
    wait_for(lambda: graph.sends(PSID), what="the reply")
    time.sleep(1.5)  # long enough for anything duplicated to show up
    assert rasa_stub.messages(PSID) == ["book a massage"]
    assert graph.texts(PSID) == ["you said: book a massage"]


def test_redelivered_sqs_message_after_the_deduplication_window_is_answered_once(connector, graph, rasa_stub):
    """SQS deduplicates for 5 minutes only; the idempotency table holds after that too."""
    body = json.dumps(
        {"kind": "text", "psid": PSID, "page_id": PAGE_ID, "mid": "m_late", "timestamp": 5, "text": "hello"}
    )
    results = []
    for attempt in range(3):
        record = {
            "MessageId": f"id-{attempt}",
            "ReceiptHandle": f"rh-{attempt}",
            "Body": body,
            "MD5OfBody": "x",
            "Attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1795834800000",
                "SenderId": "AIDA",
                "ApproximateFirstReceiveTimestamp": "1795834800000",
                "MessageGroupId": PSID,
            },
        }
        event = sqs_event([record], "arn:aws:sqs:ap-southeast-1:123456789012:q.fifo", "ap-southeast-1")
        results.append(chat_orchestrator.lambda_handler(event, context("ChatOrchestrator")))
    assert results == [{"batchItemFailures": []}] * 3
    assert rasa_stub.messages(PSID) == ["hello"]
    assert graph.texts(PSID) == ["you said: hello"]


def test_five_rapid_messages_from_one_customer_are_answered_in_order(gateway, graph, rasa_stub):
    rasa_stub.delay = lambda: random.uniform(0, 0.15)
    texts = [f"message {n}" for n in range(5)]
    for n, text in enumerate(texts):
        assert webhook(gateway, text_event(f"m_order_{n}", text, timestamp=1795834800000 + n)).status_code == 200
    wait_for(lambda: len(graph.sends(PSID)) == 5, timeout=15, what="five replies")
    assert rasa_stub.messages(PSID) == texts
    assert graph.texts(PSID) == [f"you said: {text}" for text in texts]


def test_customers_do_not_wait_for_each_other(gateway, graph, rasa_stub):
    rasa_stub.delay = lambda: 0.05
    webhook(gateway, *[text_event(f"m_multi_{n}", f"from {n}", psid=f"70000000000009{n}") for n in range(4)])
    wait_for(lambda: len(graph.sends()) == 4, what="a reply to each customer")
    for n in range(4):
        assert graph.texts(f"70000000000009{n}") == [f"you said: from {n}"]


def test_graph_500_then_success_is_one_reply(gateway, graph, rasa_stub):
    graph.failures = [(500, {"message": "An unexpected error has occurred.", "code": 2, "is_transient": True})]
    webhook(gateway, text_event("m_g500", "hello"))
    wait_for(lambda: len(graph.sends(PSID)) == 2, what="the reply after a retry")
    time.sleep(1.5)
    assert len(graph.sends(PSID)) == 2  # the failed attempt and the one that went through
    assert graph.texts(PSID) == ["you said: hello"] * 2
    assert rasa_stub.messages(PSID) == ["hello"]


def test_graph_failing_longer_than_the_retries_comes_back_from_the_queue_without_asking_rasa_again(
    gateway, graph, rasa_stub
):
    """The message fails back to the queue; on its next receive only the unsent part of the reply goes out."""
    rasa_stub.reply = lambda body: [{"text": "first part"}, {"text": "second part"}]
    second_part = {"failures": 0}

    def respond_once_then_fail(call):
        message = (call["json"] or {}).get("message") or {}
        if message.get("text") == "second part" and second_part["failures"] < 3:
            second_part["failures"] += 1
            return 503, {"error": {"message": "Service temporarily unavailable", "code": 2}}
        return type(graph).respond(graph, call)

    graph.respond = respond_once_then_fail
    try:
        webhook(gateway, text_event("m_partial", "hello"))
        wait_for(lambda: graph.texts(PSID).count("second part") == 4, timeout=10, what="the second part to go through")
        time.sleep(0.5)
    finally:
        del graph.respond
    texts = graph.texts(PSID)
    assert texts.count("first part") == 1  # never sent twice
    assert texts.count("second part") == 4  # three attempts on the first receive, then success on the second
    assert rasa_stub.messages(PSID) == ["hello"]  # the Rasa turn was stored, not repeated
    assert APOLOGY not in texts


def test_rasa_down_is_retried_then_dead_lettered_with_one_apology(gateway, graph, rasa_stub, connector):
    rasa_stub.down = True
    webhook(gateway, text_event("m_down", "hello"))
    dead = wait_for(lambda: drain(connector.dead_letter_queue_url), timeout=20, what="the dead-letter queue")
    assert [json.loads(m["Body"])["mid"] for m in dead] == ["m_down"]
    assert len(rasa_stub.messages(PSID)) == 3 * MAX_RECEIVES  # retries within each of the receives
    time.sleep(1.2)
    assert graph.texts(PSID) == [APOLOGY]
    assert drain(connector.queue_url) == []


def test_permanent_graph_error_is_not_retried(gateway, graph, rasa_stub, connector, connector_logs):
    graph.failures = [
        (400, {"message": "This message is sent outside of allowed window.", "code": 10, "error_subcode": 2018278})
    ]
    webhook(gateway, text_event("m_window", "hello"))
    wait_for(lambda: graph.sends(PSID), what="the refused send")
    time.sleep(2)  # past the visibility timeout: nothing comes back
    assert len(graph.sends(PSID)) == 1
    assert rasa_stub.messages(PSID) == ["hello"]
    assert drain(connector.dead_letter_queue_url) == [] and drain(connector.queue_url) == []
    refused = [json.loads(line) for line in connector_logs.getvalue().splitlines() if '"send refused"' in line]
    assert refused and (refused[0]["code"], refused[0]["subcode"], refused[0]["status"]) == (10, 2018278, 400)


def test_attachment_gets_the_text_only_reply_without_rasa(gateway, graph, rasa_stub):
    event = text_event("m_photo", "")
    event["message"] = {"mid": "m_photo", "attachments": [{"type": "image", "payload": {"url": "https://x/y.jpg"}}]}
    webhook(gateway, event)
    wait_for(lambda: graph.sends(PSID), what="the text-only reply")
    assert graph.texts(PSID) == [TEXT_ONLY]
    assert rasa_stub.snapshot() == []


def test_quick_reply_and_postback_send_their_payloads(gateway, graph, rasa_stub):
    quick = text_event("m_q", "Yes")
    quick["message"]["quick_reply"] = {"payload": "/affirm"}
    postback = {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 9, "postback": {"payload": "/greet"}}
    webhook(gateway, quick, postback)
    wait_for(lambda: len(graph.sends(PSID)) == 2, what="two replies")
    assert rasa_stub.messages(PSID) == ["/affirm", "/greet"]


def test_rasa_buttons_and_long_text_become_send_api_messages(gateway, graph, rasa_stub):
    long_text = " ".join(f"Sentence number {n} is here." for n in range(40))
    buttons = [
        {"title": f"Thu 3 Dec {h}:00 with a long title", "payload": f'/inform{{"when": "{h}"}}'} for h in range(9, 24)
    ]
    rasa_stub.reply = lambda body: [{"text": long_text, "buttons": buttons}, {"image": "https://example.com/spa.jpg"}]
    webhook(gateway, text_event("m_rich", "slots?"))
    wait_for(lambda: len(graph.sends(PSID)) >= 3, what="the reply")
    time.sleep(0.3)
    messages = [c["json"]["message"] for c in graph.sends(PSID)]
    texts = [m["text"] for m in messages if "text" in m]
    assert all(len(t) <= 640 for t in texts) and " ".join(texts) == long_text
    assert all(t.endswith(".") for t in texts)
    replies = messages[-2]["quick_replies"]
    assert len(replies) == 13 and all(len(r["title"]) <= 20 for r in replies)
    assert messages[-1] == {
        "attachment": {"type": "image", "payload": {"url": "https://example.com/spa.jpg", "is_reusable": True}}
    }


def test_logs_hold_no_secrets_and_no_customer_text(gateway, graph, rasa_stub, connector_logs):
    rasa_stub.reply = lambda body: [{"text": "Booked for Lan, phone 0903 123 456, lan@example.com"}]
    webhook(gateway, text_event("m_pii", "my phone is 0903 123 456 and email lan@example.com"))
    wait_for(lambda: graph.sends(PSID), what="the reply")
    time.sleep(0.2)
    output = connector_logs.getvalue()
    assert '"answered"' in output  # the structured log line is there...
    for secret in ("0903 123 456", "123 456", "lan@example.com", PAGE_TOKEN, APP_SECRET, "lotus-test-verify-token"):
        assert secret not in output  # ...and none of these
