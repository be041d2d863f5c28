"""The WebhookReceiver handler on recorded events, against a real SQS FIFO queue in moto."""

from __future__ import annotations

import base64
import json

import pytest

from deploy.handlers import webhook_receiver
from tests.connector.conftest import APP_SECRET, PAGE_ID, context, drain, load_event, resign


def call(event: dict) -> dict:
    return webhook_receiver.lambda_handler(event, context("WebhookReceiver"))


def bodies(queue_url: str) -> list[dict]:
    return [{**json.loads(m["Body"]), "_group": m["Attributes"]["MessageGroupId"]} for m in drain(queue_url)]


def test_verification_handshake_echoes_the_challenge(connector):
    response = call(load_event("verification"))
    assert (response["statusCode"], response["body"]) == (200, "1158201444")
    assert response["headers"]["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "lotus-test-verify-token", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        None,
    ],
)
def test_verification_refused_without_the_right_token(connector, query):
    event = load_event("verification")
    event["queryStringParameters"] = query
    response = call(event)
    assert response["statusCode"] == 403
    assert response["body"] != "1"


def test_text_message_is_enqueued_by_customer_with_its_mid(connector):
    response = call(load_event("text"))
    assert (response["statusCode"], response["body"]) == (200, "EVENT_RECEIVED")
    [message] = drain(connector.queue_url)
    body = json.loads(message["Body"])
    assert body == {
        "kind": "text",
        "psid": "7000000000000001",
        "page_id": PAGE_ID,
        "mid": "m_text_0001",
        "timestamp": 1795834800100,
        "text": "hi",
    }
    assert message["Attributes"]["MessageGroupId"] == "7000000000000001"
    assert message["Attributes"]["MessageDeduplicationId"] == "m_text_0001"


def test_quick_reply_enqueues_its_payload(connector):
    assert call(load_event("quick_reply"))["statusCode"] == 200
    [body] = bodies(connector.queue_url)
    assert (body["kind"], body["text"], body["mid"]) == ("payload", "/affirm", "m_qr_0001")


def test_postback_enqueues_its_payload_and_deduplicates_on_a_stable_hash_without_mid(connector):
    assert call(load_event("postback"))["statusCode"] == 200
    assert call(load_event("postback_without_mid"))["statusCode"] == 200
    assert call(load_event("postback_without_mid"))["statusCode"] == 200  # Messenger's retry: same delivery
    first, second = bodies(connector.queue_url)
    assert (first["kind"], first["text"], first["mid"]) == ("payload", "/book_appointment", "m_pb_0001")
    assert (second["kind"], second["text"]) == ("payload", "/greet")
    assert second["mid"].startswith("pb_") and len(second["mid"]) == 67


def test_every_entry_and_event_of_a_batch_is_handled_in_order(connector):
    assert call(load_event("batched"))["statusCode"] == 200
    found = bodies(connector.queue_url)
    by_customer = {}
    for body in found:
        by_customer.setdefault(body["_group"], []).append((body["kind"], body["text"]))
    assert by_customer == {
        "7000000000000001": [("text", "hello")],
        "7000000000000002": [("text", "what are your opening hours?"), ("payload", "/list_bookings")],
    }


@pytest.mark.parametrize("name", ["echo", "delivery", "read", "reaction"])
def test_echoes_deliveries_reads_and_reactions_are_dropped(connector, name):
    response = call(load_event(name))
    assert (response["statusCode"], response["body"]) == (200, "EVENT_RECEIVED")
    assert drain(connector.queue_url) == []


@pytest.mark.parametrize("name", ["attachment", "sticker"])
def test_attachments_and_stickers_are_queued_for_the_text_only_reply(connector, name):
    assert call(load_event(name))["statusCode"] == 200
    [body] = bodies(connector.queue_url)
    assert body["kind"] == "unsupported" and body["text"] == ""


def test_good_signature_on_a_base64_body(connector):
    event = load_event("text")
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert call(event)["statusCode"] == 200  # the signature is over the decoded bytes
    assert len(drain(connector.queue_url)) == 1


def test_base64_body_signed_over_its_encoded_form_is_refused(connector):
    event = load_event("text")
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    event = resign(event)  # signed over the base64 text, not the bytes Meta sent
    assert call(event)["statusCode"] == 403
    assert drain(connector.queue_url) == []


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=",
        "sha256=" + "0" * 64,
        "sha1=" + "0" * 40,
        "sha256=zz",
        "sha256=\u00e9" * 3,
    ],
)
def test_missing_or_wrong_signature_is_refused_and_nothing_enqueued(connector, signature):
    event = load_event("text")
    if signature is None:
        del event["headers"]["x-hub-signature-256"]
    else:
        event["headers"]["x-hub-signature-256"] = signature
    assert call(event)["statusCode"] == 403
    assert drain(connector.queue_url) == []


def test_signature_with_another_secret_or_a_changed_body_is_refused(connector):
    assert call(resign(load_event("text"), "someone-else"))["statusCode"] == 403
    tampered = load_event("text")
    tampered["body"] = tampered["body"].replace('"hi"', '"hi!"')
    assert call(tampered)["statusCode"] == 403
    assert drain(connector.queue_url) == []


def test_header_name_case_does_not_matter(connector):
    event = load_event("text")
    event["headers"]["X-Hub-Signature-256"] = event["headers"].pop("x-hub-signature-256")
    assert call(event)["statusCode"] == 200


@pytest.mark.parametrize("body", ['{"object": "page", "entry": [', "not json", "[1, 2]", '"page"', "\udcff"])
def test_invalid_json_is_400(connector, body):
    event = load_event("text")
    event["body"] = body.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    assert call(resign(event))["statusCode"] == 400
    assert drain(connector.queue_url) == []


def test_object_other_than_page_is_404(connector):
    assert call(load_event("not_a_page"))["statusCode"] == 404


def test_malformed_structures(connector):
    event = load_event("text")
    event["body"] = json.dumps({"object": "page", "entry": "nope"})
    assert call(resign(event))["statusCode"] == 400
    event["body"] = json.dumps({"object": "page"})
    assert call(resign(event))["statusCode"] == 400
    event["body"] = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "messaging": "x"}, 5, None]})
    assert call(resign(event))["statusCode"] == 200
    broken = load_event("text")
    broken["body"] = "%%%"
    broken["isBase64Encoded"] = True
    assert call(broken)["statusCode"] == 400
    assert call({"nothing": "here"})["statusCode"] == 400
    assert drain(connector.queue_url) == []


def test_a_malformed_event_does_not_lose_the_rest_of_the_batch(connector):
    assert call(load_event("malformed_event_in_batch"))["statusCode"] == 200
    [body] = bodies(connector.queue_url)
    assert body["text"] == "still here"


def test_other_methods_are_refused(connector):
    event = load_event("text")
    event["requestContext"]["http"]["method"] = "PUT"
    assert call(event)["statusCode"] == 405


def test_the_same_delivery_twice_is_one_queued_message(connector):
    call(load_event("text"))
    call(load_event("text"))
    assert len(drain(connector.queue_url)) == 1


def test_secrets_from_secrets_manager(connector, monkeypatch):
    import boto3

    from deploy.local_gateway import reset_caches

    name = f"lotus/messenger/{connector.queue_url.rsplit('/', 1)[-1]}"
    secret = {
        "app_secret": "from-secrets-manager",
        "verify_token": "vt-from-secrets-manager",
        "page_token": "pt-sm-0d9f3a7c",
    }
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(secret))
    monkeypatch.setenv("MESSENGER_SECRET_NAME", name)
    monkeypatch.setenv("MESSENGER_APP_SECRET", APP_SECRET + "-not-used")
    reset_caches()
    assert call(load_event("text"))["statusCode"] == 403  # signed with the environment's secret
    assert call(resign(load_event("text"), "from-secrets-manager"))["statusCode"] == 200
    verification = load_event("verification")
    verification["queryStringParameters"]["hub.verify_token"] = "vt-from-secrets-manager"
    assert call(verification)["statusCode"] == 200
