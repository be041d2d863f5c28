"""The one client for Meta's Graph API: Send API messages, sender actions, the customer's first name.

How a failure is raised (Meta's codes: developers.facebook.com/docs/messenger-platform/error-codes):
- `GraphUnavailable`: worth retrying soon (no connection, 429, 5xx, Graph's "retry later" codes); retried
  here with backoff, then raised;
- `GraphUncertain`: a message went out and no answer came back (read timeout, dropped connection); it may
  have been delivered, so it is never sent again;
- `GraphAuthRefused`: the Page token or a permission was refused (190, 10, 2xx, 368); every call fails until
  an operator renews the token, so callers retry later (the queue, the next run) and the `GraphAuthRefused`
  metric raises the alarm;
- `GraphRecipientUnavailable`: the customer cannot be messaged (blocked the Page, account gone); permanent;
- `GraphRejected`: any other permanent refusal, never retried (e.g. code 10 / subcode 2018278: outside
  the 24-hour messaging window).
The page token travels as a query parameter and never appears in an error message or a log line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from deploy.connector.retry import RetryPolicy, call_with_retries, never_sent

logger = Logger(service="messenger-connector", child=True)

# Graph error codes that mean "try again later": unknown/temporary errors and the rate limits
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 613})
# the Page token expired or was revoked (190), a permission is missing (10, 200-299), the Page is
# temporarily blocked for a policy (368)
AUTH_CODES = frozenset({190, 10, 368})
# code 10 also refuses one message for the messaging window: permanent for that message, not an outage
WINDOW_SUBCODES = frozenset({2018065, 2018278})
# the customer cannot receive messages: unavailable (551 / 1545041), no matching user (100 / 2018001)
RECIPIENT_CODES = frozenset({551})
RECIPIENT_SUBCODES = frozenset({1545041, 2018001})

# the CloudWatch metric that GraphAuthRefusedAlarm in deploy/template.yaml watches
METRIC_NAMESPACE = "Lotus"
AUTH_METRIC = "GraphAuthRefused"
METRIC_DIMENSIONS = {"service": "messenger-connector"}


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


class GraphRecipientUnavailable(GraphRejected):
    """The customer blocked the Page or cannot be reached: dropped once, never retried."""


class GraphAuthRefused(GraphError):
    """The Page token or a permission was refused: not retried here, retried later by the caller."""


class GraphUncertain(GraphError):
    """The message was sent but its answer was lost: it may have arrived, so it is never repeated."""


class GraphClient:
    def __init__(
        self,
        base_url: str,
        page_token: str | Callable[[], str],
        policy: RetryPolicy | None = None,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        connect_timeout: float = 3.0,
    ):
        self.base_url = base_url.rstrip("/")
        # a callable is asked per request, so a rotated secret is picked up (Powertools caches it)
        self._token = page_token if callable(page_token) else (lambda: page_token)
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self.connect_timeout = connect_timeout
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
        return self._call("POST", "/me/messages", json=body, repeatable=False)

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

    def _request(
        self, method: str, path: str, params: dict[str, str] | None = None, repeatable: bool = True, **kwargs: Any
    ) -> dict[str, Any]:
        """One call; `repeatable=False` (a message to a customer) makes a lost answer `GraphUncertain`."""
        query = {**(params or {}), "access_token": self._token()}
        timeout = (self.connect_timeout, self.timeout)
        try:
            response = self.session.request(method, self.base_url + path, params=query, timeout=timeout, **kwargs)
        # `from None`: requests' exception texts contain the URL, and so the page token
        except (requests.Timeout, requests.ConnectionError) as err:
            if never_sent(err):
                raise GraphUnavailable("Graph API unreachable") from None
            if not repeatable:
                raise GraphUncertain(f"Graph API sent no answer ({type(err).__name__})") from None
            raise GraphUnavailable(f"Graph API sent no answer ({type(err).__name__})") from None
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
        kind = failure_kind(response.status_code, code, subcode, error.get("is_transient"))
        if kind is GraphAuthRefused:
            count_auth_refusal(code, subcode)
        failure = kind(message, response.status_code, code, subcode)
        if isinstance(failure, GraphUnavailable):
            failure.retry_after = _retry_after(response)
        raise failure


def failure_kind(status: int, code: int | None, subcode: int | None, is_transient: Any = None) -> type[GraphError]:
    """Which error a Graph API refusal is (see the module's docstring)."""
    if code in RECIPIENT_CODES or subcode in RECIPIENT_SUBCODES:
        return GraphRecipientUnavailable
    if code == 2 and (subcode is not None or is_transient is False):
        return GraphRecipientUnavailable  # Meta answers code 2 with a subcode to a Page the customer blocked
    if code == 10 and subcode in WINDOW_SUBCODES:
        return GraphRejected
    if code in AUTH_CODES or (code is not None and 200 <= code < 300):
        return GraphAuthRefused
    if status == 429 or status >= 500 or code in TRANSIENT_CODES:
        return GraphUnavailable
    return GraphRejected


def count_auth_refusal(code: int | None, subcode: int | None) -> None:
    """One `GraphAuthRefused` data point (CloudWatch embedded metric format on stdout) and an error log line."""
    logger.error("graph refused the page token or a permission", code=code, subcode=subcode)
    with single_metric(
        name=AUTH_METRIC,
        unit=MetricUnit.Count,
        value=1,
        namespace=METRIC_NAMESPACE,
        default_dimensions=METRIC_DIMENSIONS,
    ) as metric:
        metric.add_metadata("code", code)


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
