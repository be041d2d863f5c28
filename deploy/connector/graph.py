"""The one client for Meta's Graph API: Send API messages, sender actions, the customer's first name.

Transient failures (timeouts, connection errors, 429, 5xx and Graph's own "retry later" codes) are retried
with backoff and then raised as `GraphUnavailable`; anything else is `GraphRejected` with Meta's code and
subcode, and is never retried (e.g. code 10 / subcode 2018278: outside the 24-hour messaging window).
The page token travels as a query parameter and never appears in an error message or a log line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from aws_lambda_powertools import Logger

from deploy.connector.retry import RetryPolicy, call_with_retries

logger = Logger(service="messenger-connector", child=True)

# Graph error codes that mean "try again later": unknown/temporary errors and the rate limits
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 613})


class GraphError(Exception):
    def __init__(self, message: str, status: int | None = None, code: int | None = None, subcode: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.subcode = subcode


class GraphUnavailable(GraphError):
    """Worth retrying later; raised once the client's own retries are spent."""

    retry_after: float | None = None


class GraphRejected(GraphError):
    """A permanent refusal: retrying the same call will not help."""


class GraphClient:
    def __init__(
        self,
        base_url: str,
        page_token: str | Callable[[], str],
        policy: RetryPolicy | None = None,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        # a callable is asked per request, so a rotated secret is picked up (Powertools caches it)
        self._token = page_token if callable(page_token) else (lambda: page_token)
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self.session = session or requests.Session()

    def send_message(
        self, psid: str, message: dict[str, Any], messaging_type: str = "RESPONSE", tag: str | None = None
    ) -> dict[str, Any]:
        """One Send API message (text, quick replies, template or attachment) to the customer.

        Outside the 24-hour window a message needs `messaging_type="MESSAGE_TAG"` and a `tag`
        (e.g. `CONFIRMED_EVENT_UPDATE` for an appointment reminder).
        """
        body: dict[str, Any] = {"recipient": {"id": psid}, "messaging_type": messaging_type, "message": message}
        if tag:
            body["tag"] = tag
        return self._call("POST", "/me/messages", json=body)

    def sender_action(self, psid: str, action: str) -> None:
        """`mark_seen`, `typing_on` or `typing_off`."""
        # one attempt: a lost typing indicator is not worth delaying the answer
        self._request("POST", "/me/messages", json={"recipient": {"id": psid}, "sender_action": action})

    def first_name(self, psid: str) -> str | None:
        """The customer's first name from their profile, or None when the page may not read it."""
        profile = self._call("GET", f"/{psid}", params={"fields": "first_name"})
        name = profile.get("first_name")
        return name.strip() or None if isinstance(name, str) else None

    def pass_thread_control(self, psid: str, target_app_id: str, metadata: str = "") -> dict[str, Any]:
        """Handover protocol: give the conversation to another app (the Page inbox by default)."""
        body = {"recipient": {"id": psid}, "target_app_id": target_app_id, "metadata": metadata}
        return self._call("POST", "/me/pass_thread_control", json=body)

    def take_thread_control(self, psid: str, metadata: str = "") -> dict[str, Any]:
        """Handover protocol: take the conversation back (the Page's primary receiver may always)."""
        return self._call("POST", "/me/take_thread_control", json={"recipient": {"id": psid}, "metadata": metadata})

    def set_messenger_profile(self, profile: dict[str, Any]) -> dict[str, Any]:
        """The Page's Messenger profile (Get Started, persistent menu, ice breakers)."""
        return self._call("POST", "/me/messenger_profile", json=profile)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        def once() -> dict[str, Any]:
            return self._request(method, path, **kwargs)

        def note(retry: int, err: BaseException) -> None:
            logger.warning(
                "graph call retried", path=_path_label(path), retry=retry, status=getattr(err, "status", None)
            )

        return call_with_retries(once, self.policy, (GraphUnavailable,), on_retry=note)

    def _request(self, method: str, path: str, params: dict[str, str] | None = None, **kwargs: Any) -> dict[str, Any]:
        query = {**(params or {}), "access_token": self._token()}
        try:
            response = self.session.request(method, self.base_url + path, params=query, timeout=self.timeout, **kwargs)
        # `from None`: requests' exception texts contain the URL, and so the page token
        except requests.Timeout:
            raise GraphUnavailable("Graph API timed out") from None
        except requests.ConnectionError:
            raise GraphUnavailable("Graph API unreachable") from None
        except requests.RequestException:
            raise GraphRejected("Graph API request could not be made") from None
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.ok:
            return data
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
        message = f"Graph API HTTP {response.status_code} (code {code}, subcode {subcode})"
        if response.status_code == 429 or response.status_code >= 500 or code in TRANSIENT_CODES:
            failure = GraphUnavailable(message, response.status_code, code, subcode)
            failure.retry_after = _retry_after(response)
            raise failure
        raise GraphRejected(message, response.status_code, code, subcode)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _path_label(path: str) -> str:
    return path if path.startswith("/me/") else "/{psid}"
