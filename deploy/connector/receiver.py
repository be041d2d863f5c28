"""The WebhookReceiver: Messenger's verification handshake, signature check, and the batch onto the queue.

It answers within milliseconds and never waits for Rasa; the ChatOrchestrator does the talking.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from deploy.connector import config, signature
from deploy.connector.events import (
    ChatMessage,
    Entry,
    HttpApiEvent,
    MessagingEvent,
    WebhookBody,
    handback_key,
    postback_key,
)
from deploy.connector.queue import MessageQueue

logger = Logger(service="messenger-connector", child=True)


class Enqueuer(Protocol):
    def enqueue(self, messages: list[ChatMessage]) -> None: ...


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "text/plain; charset=utf-8"})

    def to_api_gateway(self) -> dict[str, Any]:
        return {"statusCode": self.status, "headers": dict(self.headers), "body": self.body, "isBase64Encoded": False}


OK = HttpResponse(200, "EVENT_RECEIVED")


def to_chat_message(event: MessagingEvent, page_id: str) -> ChatMessage | None:
    """What the orchestrator must answer for one messaging event, or None for what is dropped."""
    psid = event.sender.id
    common = {"psid": psid, "page_id": page_id, "timestamp": event.timestamp}
    if event.message is not None:
        message = event.message
        if message.is_echo:
            return None
        if message.quick_reply and message.quick_reply.payload:
            return ChatMessage(kind="payload", mid=message.mid, text=message.quick_reply.payload, **common)
        if message.text and message.text.strip():
            return ChatMessage(kind="text", mid=message.mid, text=message.text, **common)
        if message.attachments or message.sticker_id is not None:
            return ChatMessage(kind="unsupported", mid=message.mid, **common)
        return None
    if event.postback is not None and event.postback.payload:
        mid = event.postback.mid or postback_key(psid, event.timestamp, event.postback.payload)
        return ChatMessage(kind="payload", mid=mid, text=event.postback.payload, **common)
    if event.pass_thread_control is not None:  # only the new owner hears of a pass: the thread is ours again
        return ChatMessage(kind="handback", mid=handback_key(psid, event.timestamp), **common)
    return None  # deliveries, reads, reactions, opt-ins, referrals...


def extract_messages(body: WebhookBody) -> list[ChatMessage]:
    """Every entry and every messaging event of a delivery, in order; malformed items are logged and skipped."""
    messages: list[ChatMessage] = []
    dropped = 0
    for raw_entry in body.entry:
        try:
            entry = Entry.model_validate(raw_entry)
        except ValidationError:
            logger.warning("malformed entry skipped")
            continue
        # standby: written while the Page inbox holds the thread; into the transcript, the assistant stays quiet
        for raw_event in [*entry.messaging, *entry.standby]:
            try:
                event = MessagingEvent.model_validate(raw_event)
            except ValidationError:
                logger.warning("malformed messaging event skipped", page_id=entry.id)
                continue
            message = to_chat_message(event, entry.id)
            if message is None:
                dropped += 1
            else:
                messages.append(message)
    if dropped:
        logger.debug("events dropped", count=dropped)
    return messages


class WebhookReceiver:
    def __init__(self, secrets: Callable[[], config.MessengerSecrets], queue: Enqueuer):
        self.secrets = secrets  # called per request: Powertools caches the secret and follows rotation
        self.queue = queue

    def handle(self, event: HttpApiEvent) -> HttpResponse:
        if event.method == "GET":
            return self.verify(event)
        if event.method == "POST":
            return self.receive(event)
        return HttpResponse(405, "method not allowed")

    def verify(self, event: HttpApiEvent) -> HttpResponse:
        """The subscription handshake: echo `hub.challenge` when the verify token matches."""
        token = event.query("hub.verify_token") or ""
        challenge = event.query("hub.challenge")
        if (
            event.query("hub.mode") == "subscribe"
            and challenge is not None
            and hmac.compare_digest(token.encode("utf-8"), self.secrets().verify_token.encode("utf-8"))
        ):
            logger.info("webhook verified")
            return HttpResponse(200, challenge)
        logger.warning("webhook verification refused")
        return HttpResponse(403, "forbidden")

    def receive(self, event: HttpApiEvent) -> HttpResponse:
        try:
            raw = event.raw_body()
        except ValueError:
            return HttpResponse(400, "bad request")
        if not signature.is_valid(raw, event.header("x-hub-signature-256"), self.secrets().app_secret):
            logger.warning("signature refused", has_signature=event.header("x-hub-signature-256") is not None)
            return HttpResponse(403, "forbidden")
        try:
            document = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return HttpResponse(400, "bad request")
        if not isinstance(document, dict):
            return HttpResponse(400, "bad request")
        if document.get("object") != "page":
            return HttpResponse(404, "not found")
        try:
            body = WebhookBody.model_validate(document)
        except ValidationError:
            return HttpResponse(400, "bad request")
        messages = extract_messages(body)
        if messages:
            self.queue.enqueue(messages)
        logger.info("webhook received", enqueued=len(messages), kinds=sorted({m.kind for m in messages}))
        return OK


@lru_cache(maxsize=1)
def receiver() -> WebhookReceiver:
    """The receiver of this process (one per Lambda cold start), from the settings and secrets."""
    conf = config.settings()
    config.load_secrets(conf)  # refuses to start on an empty or placeholder secret, naming it
    return WebhookReceiver(lambda: config.load_secrets(conf), MessageQueue(conf.queue_url))


def handle_event(event: dict[str, Any]) -> dict[str, Any]:
    """The Lambda entry: a raw API Gateway event in, an API Gateway response out."""
    try:
        parsed = HttpApiEvent.model_validate(event)
    except ValidationError:
        return HttpResponse(400, "bad request").to_api_gateway()
    return receiver().handle(parsed).to_api_gateway()
