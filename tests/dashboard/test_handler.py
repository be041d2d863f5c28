"""The same app on Lambda: the DashboardApi handler answers API Gateway (HTTP API) events through Mangum."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import threading
from types import SimpleNamespace

import pytest

from core import bookings
from dashboard.settings import dashboard_settings

CONTEXT = SimpleNamespace(
    function_name="DashboardApi", function_version="$LATEST", memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:ap-southeast-1:123456789012:function:DashboardApi",
    aws_request_id="0b7e6d1c-0000-4000-8000-000000000001",
    log_group_name="/aws/lambda/DashboardApi", log_stream_name="2026/12/01/[$LATEST]abc",
)  # fmt: skip


def http_api_event(path: str, query: str = "", token: str | None = None) -> dict:
    headers = {"host": "api.example.com", "accept": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": headers, "isBase64Encoded": False,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "api.example.com", "domainPrefix": "api",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                     "userAgent": "test"},
            "requestId": "req-1", "routeKey": "$default", "stage": "$default", "time": "01/Dec/2026:03:00:00 +0000",
            "timeEpoch": 1796007600000,
        },
    }  # fmt: skip


def invoke(handler, event: dict) -> dict:
    """Call the handler as Lambda does: in a thread whose event loop is not running (Playwright's may be, here)."""
    answer: dict = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            answer["response"] = handler(event, CONTEXT)
        finally:
            loop.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    return answer["response"]


@pytest.fixture
def handler_module(database, monkeypatch):
    monkeypatch.setenv("DASHBOARD_TOKEN", "lambda-token")
    for name in ("COGNITO_APP_CLIENT_ID", "COGNITO_ISSUER", "COGNITO_JWKS_URL", "COGNITO_REGION"):
        monkeypatch.delenv(name, raising=False)
    dashboard_settings.cache_clear()
    sys.modules.pop("deploy.handlers.dashboard_api", None)
    yield importlib.import_module("deploy.handlers.dashboard_api")
    sys.modules.pop("deploy.handlers.dashboard_api", None)
    dashboard_settings.cache_clear()


def test_lambda_handler_serves_the_api_behind_the_token(handler_module):
    refused = invoke(handler_module.lambda_handler, http_api_event("/api/bookings"))
    assert refused["statusCode"] == 401

    slot = bookings.next_slots("Manicure")[0]
    made = bookings.book(
        sender_id="lambda-customer", customer_name="Kim Ho", customer_phone="+84 98 765 4321",
        service="Manicure", start=slot.start, staff=None, actor="test",
    )  # fmt: skip
    answer = invoke(handler_module.lambda_handler, http_api_event("/api/bookings", "status=confirmed", "lambda-token"))
    assert answer["statusCode"] == 200, answer
    body = json.loads(answer["body"])
    assert body["count"] == len(body["items"]) and all(b["status"] == "confirmed" for b in body["items"])
    mine = [b for b in body["items"] if b["reference"] == made.reference]
    assert [(b["customer_name"], b["customer_phone"]) for b in mine] == [("Kim Ho", "***321")]
    assert answer["headers"]["cache-control"] == "no-store"
