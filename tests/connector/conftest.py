"""Fixtures of the connector tests: moto in server mode, a recording Graph API, a scriptable Rasa, the gateway."""

from __future__ import annotations

import copy
import io
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest

from deploy.connector.signature import sign
from deploy.local_aws import DUMMY_AWS, Resources, provision, start_moto
from deploy.local_gateway import Gateway, LambdaContext, reset_caches
from tests.conftest import free_port

EVENTS = Path(__file__).resolve().parent.parent / "events"
APP_SECRET = "lotus-test-app-secret"
VERIFY_TOKEN = "lotus-test-verify-token"
PAGE_TOKEN = "lotus-test-page-token-SECRET"
PAGE_ID = "104857600000001"
MAX_RECEIVES = 3


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def resign(event: dict[str, Any], secret: str = APP_SECRET) -> dict[str, Any]:
    event = copy.deepcopy(event)
    event["headers"]["x-hub-signature-256"] = sign(event["body"].encode(), secret)
    return event


def context(name: str = "test") -> LambdaContext:
    return LambdaContext(name, 30)


def wait_for(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Recorder:
    """A small HTTP server on a free loopback port that records every call and answers via `respond`."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                call = {
                    "method": self.command,
                    "path": parts.path,
                    "query": dict(parse_qsl(parts.query)),
                    "json": json.loads(raw) if raw else None,
                    "at": time.monotonic(),
                }
                with recorder.lock:
                    recorder.calls.append(call)
                status, body = recorder.respond(call)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def respond(self, call: dict[str, Any]) -> tuple[int, Any]:
        raise NotImplementedError

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.calls)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class GraphStub(Recorder):
    """Meta's Graph API: Send API and profiles. `failures` holds (status, error) answers for the next sends."""

    def __init__(self) -> None:
        super().__init__()
        self.first_name = "Lan"
        self.failures: list[tuple[int, dict[str, Any]]] = []
        self.stalls = 0  # the next sends that are accepted but answered only after `stall_seconds`
        self.stall_seconds = 0.0

    def respond(self, call: dict[str, Any]) -> tuple[int, Any]:
        if call["query"].get("access_token") != PAGE_TOKEN:
            return 400, {"error": {"message": "Invalid OAuth access token", "code": 190}}
        if call["method"] == "GET":
            return 200, {"first_name": self.first_name, "id": call["path"].strip("/")}
        body = call["json"] or {}
        if "message" in body:
            with self.lock:
                failure = self.failures.pop(0) if self.failures else None
                stall = self.stalls > 0
                self.stalls -= 1 if stall else 0
            if stall:
                time.sleep(self.stall_seconds)  # delivered; the answer comes after the client gave up
            if failure:
                status, error = failure
                return status, {"error": error}
            return 200, {"recipient_id": body["recipient"]["id"], "message_id": f"m_out_{uuid.uuid4().hex[:10]}"}
        return 200, {"recipient_id": body.get("recipient", {}).get("id")}

    def sends(self, psid: str | None = None) -> list[dict[str, Any]]:
        """Send API message calls (not sender actions), optionally for one customer."""
        return [
            c
            for c in self.snapshot()
            if c["method"] == "POST"
            and "message" in (c["json"] or {})
            and (psid is None or c["json"]["recipient"]["id"] == psid)
        ]

    def texts(self, psid: str | None = None) -> list[str]:
        return [c["json"]["message"].get("text", "") for c in self.sends(psid)]

    def actions(self, psid: str) -> list[str]:
        return [
            c["json"]["sender_action"]
            for c in self.snapshot()
            if c["method"] == "POST" and "sender_action" in (c["json"] or {}) and c["json"]["recipient"]["id"] == psid
        ]

    def profile_reads(self, psid: str) -> int:
        return sum(1 for c in self.snapshot() if c["method"] == "GET" and c["path"] == f"/{psid}")


class RasaStub(Recorder):
    """Rasa's REST channel: answers `reply(sender, message)`; `down` makes it answer 503."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.delay: Callable[[], float] = lambda: 0.0
        self.reply: Callable[[dict[str, Any]], list[dict[str, Any]]] = self.echo

    @staticmethod
    def echo(body: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"recipient_id": body["sender"], "text": f"you said: {body['message']}"}]

    def respond(self, call: dict[str, Any]) -> tuple[int, Any]:
        if self.down:
            return 503, {"error": "unavailable"}
        time.sleep(self.delay())
        return 200, self.reply(call["json"])

    def messages(self, sender: str | None = None) -> list[str]:
        return [c["json"]["message"] for c in self.snapshot() if sender is None or c["json"]["sender"] == sender]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto in server mode for the session; AWS_ENDPOINT_URL and dummy credentials point boto3 at it."""
    saved = {name: os.environ.get(name) for name in [*DUMMY_AWS, "AWS_ENDPOINT_URL"]}
    for name, value in DUMMY_AWS.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    server = start_moto()
    yield os.environ["AWS_ENDPOINT_URL"]
    server.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def graph() -> Iterator[GraphStub]:
    stub = GraphStub()
    yield stub
    stub.close()


@pytest.fixture(scope="session")
def rasa_stub() -> Iterator[RasaStub]:
    stub = RasaStub()
    yield stub
    stub.close()


@pytest.fixture
def connector(
    moto_server: str, graph: GraphStub, rasa_stub: RasaStub, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Resources]:
    """Fresh queue, dead-letter queue and tables for one test, and the connector's settings pointing at them."""
    resources = provision(prefix=f"t{uuid.uuid4().hex[:10]}", max_receive_count=MAX_RECEIVES, visibility_timeout=1)
    env = {
        **resources.env(),
        "MESSENGER_APP_SECRET": APP_SECRET,
        "MESSENGER_VERIFY_TOKEN": VERIFY_TOKEN,
        "MESSENGER_PAGE_TOKEN": PAGE_TOKEN,
        "GRAPH_API_URL": graph.url,
        "RASA_URL": rasa_stub.url,
        "MAX_RECEIVE_COUNT": str(MAX_RECEIVES),
        "RETRY_ATTEMPTS": "3",
        "RETRY_BASE_DELAY": "0.01",
        "RETRY_MAX_DELAY": "0.05",
        "RASA_TIMEOUT": "5",
        "GRAPH_TIMEOUT": "2",
        "CONNECT_TIMEOUT": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MESSENGER_SECRET_NAME", raising=False)
    with graph.lock:
        graph.calls.clear()
        graph.failures.clear()
        graph.stalls = 0
    graph.first_name = "Lan"
    with rasa_stub.lock:
        rasa_stub.calls.clear()
    rasa_stub.down = False
    rasa_stub.delay = lambda: 0.0
    rasa_stub.reply = rasa_stub.echo
    reset_caches()
    yield resources
    reset_caches()


@pytest.fixture
def gateway(connector: Resources) -> Iterator[Gateway]:
    """The local gateway in this process, on a free port, over the test's queue."""
    with Gateway(free_port(), connector.queue_url) as running:
        yield running


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Take everything off a queue (received and deleted), in queue order."""
    sqs = boto3.client("sqs")
    found: list[dict[str, Any]] = []
    for _ in range(5):
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            break
        found += batch
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


@pytest.fixture
def connector_logs(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What the connector logs during the test (Powertools' JSON lines), whatever pytest captures."""
    import logging

    buffer = io.StringIO()
    for handler in logging.getLogger("messenger-connector").handlers:
        if isinstance(handler, logging.StreamHandler):
            monkeypatch.setattr(handler, "stream", buffer)
    return buffer
