"""Typed models of what the connector receives: API Gateway HTTP API events, Messenger webhooks, queued messages."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- API Gateway HTTP API (payload format 2.0) -------------------------------------------------


class HttpDetails(_Lenient):
    method: str
    path: str = "/"


class RequestContext(_Lenient):
    http: HttpDetails
    requestId: str = ""


class HttpApiEvent(_Lenient):
    """The fields of an HTTP API v2 event the receiver reads. Header names arrive lower-cased."""

    rawPath: str = "/"
    headers: dict[str, str] = Field(default_factory=dict)
    queryStringParameters: dict[str, str] | None = None
    body: str | None = None
    isBase64Encoded: bool = False
    requestContext: RequestContext

    @field_validator("headers")
    @classmethod
    def _lower_names(cls, headers: dict[str, str]) -> dict[str, str]:
        return {name.lower(): value for name, value in headers.items()}

    @property
    def method(self) -> str:
        return self.requestContext.http.method.upper()

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def query(self, name: str) -> str | None:
        return (self.queryStringParameters or {}).get(name)

    def raw_body(self) -> bytes:
        """The body exactly as Meta signed it; raises ValueError on broken base64."""
        if self.body is None:
            return b""
        if self.isBase64Encoded:
            try:
                return base64.b64decode(self.body, validate=True)
            except binascii.Error as err:
                raise ValueError("body is not valid base64") from err
        return self.body.encode("utf-8")


# --- Messenger webhook ---------------------------------------------------------------------------


class Party(_Lenient):
    id: str


class QuickReply(_Lenient):
    payload: str


class Attachment(_Lenient):
    type: str = ""


class Message(_Lenient):
    mid: str
    text: str | None = None
    quick_reply: QuickReply | None = None
    attachments: list[Attachment] | None = None
    sticker_id: int | None = None
    is_echo: bool = False


class Postback(_Lenient):
    payload: str = ""
    title: str = ""
    mid: str | None = None


class MessagingEvent(_Lenient):
    """One item of `entry[].messaging`: a message, a postback, or something the connector drops."""

    sender: Party
    recipient: Party
    timestamp: int = 0
    message: Message | None = None
    postback: Postback | None = None
    delivery: dict[str, Any] | None = None
    read: dict[str, Any] | None = None
    reaction: dict[str, Any] | None = None
    # the handover protocol: the thread was passed to this app, or taken from it
    pass_thread_control: dict[str, Any] | None = None
    take_thread_control: dict[str, Any] | None = None


class Entry(_Lenient):
    id: str
    time: int = 0
    # validated one by one, so one malformed event does not lose the rest of the batch
    messaging: list[Any] = Field(default_factory=list)
    # what the customer wrote while another app (the Page inbox) holds the thread
    standby: list[Any] = Field(default_factory=list)


class WebhookBody(_Lenient):
    object: str
    # validated one by one as well
    entry: list[Any]


# --- the queue between receiver and orchestrator ------------------------------------------------

DEDUPLICATION_ID = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")


class ChatMessage(_Lenient):
    """One customer message on the FIFO queue: what the orchestrator answers."""

    # "handback": the thread came back to this app (the inbox passed it back); the bot takes over again
    kind: Literal["text", "payload", "unsupported", "handback"]
    psid: str
    page_id: str
    mid: str  # the message id, or a stable hash for a postback without one; the idempotency key
    timestamp: int = 0
    text: str = ""

    @property
    def deduplication_id(self) -> str:
        """SQS FIFO deduplication id: the mid itself when SQS accepts it, else its SHA-256."""
        if DEDUPLICATION_ID.match(self.mid):
            return self.mid
        return hashlib.sha256(self.mid.encode("utf-8")).hexdigest()


def handback_key(psid: str, timestamp: int) -> str:
    """A stable id for a thread passed back (such events carry no mid)."""
    return "hb_" + hashlib.sha256(f"{psid}|{timestamp}|handback".encode()).hexdigest()


def postback_key(psid: str, timestamp: int, payload: str) -> str:
    """A stable id for a postback that carries no mid: the same delivery always hashes the same."""
    digest = hashlib.sha256(f"{psid}|{timestamp}|{payload}".encode()).hexdigest()
    return f"pb_{digest}"
