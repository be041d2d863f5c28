"""The local Messenger gateway: plays API Gateway and the SQS event source for the two Lambda handlers.

    python -m deploy.local_gateway [--port 8080]

`GET/POST /webhook` become HTTP API v2 events for the WebhookReceiver handler; a poller reads the SQS FIFO
queue (moto in server mode, started here unless `AWS_ENDPOINT_URL` is set) and invokes the ChatOrchestrator
handler with SQS batches, deleting what succeeded and leaving failures to come back, up to the dead-letter
queue, exactly like Lambda's event source mapping. Deduplication and idempotency are the production ones.
Missing Messenger secrets get dev values, printed at start. Prints `gateway ready` when it serves.
"""

from __future__ import annotations

import argparse
import base64
import os
import signal
import sys
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3

from core.secrets import dev_values
from deploy.connector import budget, clients, config, orchestrator, receiver
from deploy.local_aws import provision, start_moto


class LambdaContext:
    """Enough of Lambda's context object for Powertools (logging, idempotency timeouts)."""

    def __init__(self, function_name: str, timeout_seconds: float = 60.0):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def http_api_event(method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event for one request; a body that is not UTF-8 goes as base64."""
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    return {
        "version": "2.0",
        "routeKey": f"{method} {parts.path}",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": {name.lower(): value for name, value in headers.items()},
        "queryStringParameters": query or None,
        "requestContext": {
            "http": {"method": method, "path": parts.path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": str(uuid.uuid4()),
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": text if body else None,
        "isBase64Encoded": encoded,
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS event source hands the orchestrator for received messages."""
    records = []
    for message in messages:
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


class Gateway:
    """The HTTP server and the queue pollers; `start()` and `stop()`, or use it as a context manager."""

    def __init__(self, port: int, queue_url: str, workers: int = 4, batch_size: int = 10):
        from deploy.handlers import chat_orchestrator, webhook_receiver

        self.receiver_handler = webhook_receiver.lambda_handler
        self.orchestrator_handler = chat_orchestrator.lambda_handler
        self.queue_url = queue_url
        self.batch_size = batch_size
        self.sqs = boto3.client("sqs")
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
        self.queue_arn = attributes["QueueArn"]
        self.region = self.sqs.meta.region_name
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._request_handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._stopping = threading.Event()
        # customers are answered in parallel, each customer's messages one invocation after the other
        self._workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gateway-orchestrator")
        self._last_of_group: dict[str, Future] = {}
        self._threads = [
            threading.Thread(target=self.serve_http, name="gateway-http", daemon=True),
            threading.Thread(target=self.poll, name="gateway-poller", daemon=True),
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def start(self) -> Gateway:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)
        self._workers.shutdown(wait=True)

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_http(self) -> None:
        self.server.serve_forever(poll_interval=0.2)

    def invoke_receiver(self, method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        event = http_api_event(method, target, headers, body)
        return self.receiver_handler(event, LambdaContext("WebhookReceiver", 10))

    def poll(self) -> None:
        """The event source: one poller (as SQS FIFO wants), batches split by customer onto the workers."""
        while not self._stopping.is_set():
            try:
                received = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=self.batch_size,
                    WaitTimeSeconds=1,
                    MessageSystemAttributeNames=["All"],
                ).get("Messages", [])
            except Exception:  # the endpoint went away while stopping, or a hiccup: try again
                if self._stopping.wait(0.5):
                    return
                continue
            groups: dict[str, list[dict[str, Any]]] = {}
            for message in received:
                groups.setdefault(message.get("Attributes", {}).get("MessageGroupId", ""), []).append(message)
            for group, messages in groups.items():
                previous = self._last_of_group.get(group)
                self._last_of_group[group] = self._workers.submit(self._after, previous, messages)

    def invocation_seconds(self) -> float:
        """The orchestrator's time per invocation: what a batch needs at its worst (the function's Timeout)."""
        return budget.batch_worst_case(config.settings(), self.batch_size)

    def _after(self, previous: Future | None, messages: list[dict[str, Any]]) -> None:
        if previous is not None:
            previous.exception()  # submitted earlier, so already running or done: never a deadlock
        self.deliver(messages)

    def deliver(self, received: list[dict[str, Any]]) -> None:
        """Invoke the orchestrator with one SQS batch; delete what succeeded, leave failures to come back."""
        event = sqs_event(received, self.queue_arn, self.region)
        try:
            result = self.orchestrator_handler(event, LambdaContext("ChatOrchestrator", self.invocation_seconds()))
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except Exception:
            failed = {m["MessageId"] for m in received}  # a crashed invocation: the whole batch comes back
        done = [m for m in received if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if urlsplit(self.path).path == "/health":
                    self._reply(200, {"content-type": "text/plain"}, b"ok")
                    return
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def _route(self, method: str) -> None:
                if urlsplit(self.path).path != "/webhook":
                    self._reply(404, {"content-type": "text/plain"}, b"not found")
                    return
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                result = gateway.invoke_receiver(method, self.path, dict(self.headers.items()), body)
                payload = result.get("body") or ""
                raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode("utf-8")
                self._reply(int(result.get("statusCode", 500)), result.get("headers") or {}, raw)

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
                pass  # the handlers log, structured

        return Handler


def reset_caches() -> None:
    """Forget settings, secrets and clients read so far (tests change the environment between cases)."""
    config.settings.cache_clear()
    clients.graph_client.cache_clear()
    receiver.receiver.cache_clear()
    orchestrator.orchestrator.cache_clear()


def main(argv: list[str] | None = None) -> int:
    from core.settings import settings as app_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=app_settings().gateway_port)
    parser.add_argument("--visibility-timeout", type=int, default=30, help="seconds before a failed message returns")
    args = parser.parse_args(argv)
    made = dev_values(dict(os.environ), list(config.SECRET_KEYS.values()))  # run on its own: dev values
    os.environ.update(made)
    try:
        config.load_secrets()  # a placeholder that is set stays refused: it names the setting, not the value
    except config.ConfigError as err:
        print(f"gateway not started: {err}", file=sys.stderr, flush=True)
        return 2

    moto = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        moto = start_moto()
        print(f"local AWS (moto) at {os.environ['AWS_ENDPOINT_URL']}", flush=True)
    resources = provision(
        max_receive_count=config.settings().max_receive_count, visibility_timeout=args.visibility_timeout
    )
    os.environ.update(resources.env())
    for name, value in made.items():
        print(f"{name}={value}  (dev value)", flush=True)
    reset_caches()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    gateway = Gateway(args.port, resources.queue_url).start()
    print(f"Send API calls go to {config.settings().graph_api_url}", flush=True)
    print(f"gateway ready on {gateway.url}", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        gateway.stop()
        if moto is not None:
            moto.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
