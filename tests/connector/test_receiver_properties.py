"""Property-based: any JSON body with a valid signature is answered (200, 400 or 404), never a crash, and only
bodies that hold a customer message reach the queue (and so Rasa)."""

from __future__ import annotations

import base64
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy.connector.config import MessengerSecrets
from deploy.connector.events import HttpApiEvent
from deploy.connector.receiver import WebhookReceiver
from deploy.connector.signature import sign

SECRETS = MessengerSecrets(app_secret="s3cret", verify_token="vt", page_token="pt")


class Recording:
    def __init__(self) -> None:
        self.messages: list = []

    def enqueue(self, messages: list) -> None:
        self.messages += messages


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
anything = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
ids = st.text(min_size=1, max_size=12) | st.integers()
messaging_event = st.fixed_dictionaries(
    {"sender": st.fixed_dictionaries({"id": ids}), "recipient": st.fixed_dictionaries({"id": ids})},
    optional={
        "timestamp": st.integers() | st.text(max_size=5),
        "message": st.fixed_dictionaries(
            {},
            optional={
                "mid": st.text(max_size=200),
                "text": st.text(max_size=50) | st.integers(),
                "is_echo": st.booleans(),
                "quick_reply": st.fixed_dictionaries({"payload": st.text(max_size=20)}) | anything,
                "attachments": st.lists(st.fixed_dictionaries({"type": st.text(max_size=8)}), max_size=2) | anything,
                "sticker_id": st.integers() | anything,
            },
        ),
        "postback": st.fixed_dictionaries({}, optional={"payload": st.text(max_size=20), "mid": st.text(max_size=10)}),
        "delivery": anything,
        "read": anything,
    },
)
messenger_like = st.fixed_dictionaries(
    {
        "object": st.sampled_from(["page", "page", "user", ""]) | anything,
        "entry": st.lists(
            st.fixed_dictionaries(
                {"id": ids},
                optional={"time": st.integers(), "messaging": st.lists(messaging_event | anything, max_size=4)},
            )
            | anything,
            max_size=3,
        )
        | anything,
    }
)


def post(body: bytes, *, as_base64: bool = False) -> tuple[int, Recording]:
    """A signed POST; `as_base64` sends the body as API Gateway does for bytes that are not text."""
    queue = Recording()
    event = HttpApiEvent.model_validate(
        {
            "requestContext": {"http": {"method": "POST"}},
            "headers": {"X-Hub-Signature-256": sign(body, SECRETS.app_secret)},
            "body": base64.b64encode(body).decode() if as_base64 else body.decode("utf-8"),
            "isBase64Encoded": as_base64,
        }
    )
    return WebhookReceiver(lambda: SECRETS, queue).handle(event).status, queue


def holds_a_message(document: object) -> bool:
    """Independent of the receiver: some event with a non-echo message or a postback with a payload."""
    if not isinstance(document, dict) or not isinstance(document.get("entry"), list):
        return False
    for entry in document["entry"]:
        for event in (entry.get("messaging") if isinstance(entry, dict) else None) or []:
            if not isinstance(event, dict):
                continue
            message, postback = event.get("message"), event.get("postback")
            if isinstance(message, dict) and not message.get("is_echo"):
                return True
            if isinstance(postback, dict) and postback.get("payload"):
                return True
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(anything | messenger_like)
def test_any_signed_json_is_answered_and_only_messages_are_enqueued(document):
    status, queue = post(json.dumps(document).encode())
    expected = 404 if isinstance(document, dict) and document.get("object") != "page" else None
    if not isinstance(document, dict):
        expected = 400
    assert status in {200, 400, 404}
    if expected:
        assert status == expected
    if queue.messages:
        assert status == 200 and holds_a_message(document)
        for message in queue.messages:
            assert message.text or message.kind == "unsupported"


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=200)
    | st.builds(lambda doc, junk: json.dumps(doc).encode() + junk, messenger_like, st.binary(max_size=8))
)
def test_any_signed_bytes_never_crash(body):
    """Every body is posted, text or not (API Gateway hands non-text bodies over base64-encoded)."""
    try:
        document = json.loads(body)
    except ValueError:  # not JSON (or not UTF-8): refused, nothing queued
        document = None
    status, queue = post(body, as_base64=True)
    assert status in {200, 400, 404}
    if document is None:
        assert status == 400 and not queue.messages
    if queue.messages:
        assert holds_a_message(document)
