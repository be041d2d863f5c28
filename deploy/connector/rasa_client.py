"""The one client for the Rasa server: its REST channel (`/webhooks/rest/webhook`) and its version.

A turn is retried only when Rasa surely never received it: the connection was refused or not made in
time, or Rasa (or the load balancer in front of it) answered 429/503 before taking the message. Once the
request has gone out, a read timeout or a dropped connection leaves the turn running in Rasa: asking again
could book twice, so that is `RasaNoAnswer`, never retried. The message id travels in the metadata and
Rasa's channel (deploy/rasa_channel.py) refuses a second turn with the same id anyway.
"""

from __future__ import annotations

from typing import Any

import requests

from deploy.connector.retry import never_sent

DEFAULT_TIMEOUT = 15.0
DEFAULT_CONNECT_TIMEOUT = 3.0


class RasaError(Exception):
    """Rasa answered in a way a retry will not fix (4xx other than 429, a body that is not a list)."""


class RasaUnavailable(RasaError):
    """Rasa did not take the message (no connection, 429, 503); worth retrying."""


class RasaNoAnswer(RasaError):
    """The message went out but no answer came back (read timeout, reset, 5xx): the turn may have run."""


def send_message(
    rasa_url: str,
    sender: str,
    text: str,
    metadata: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    session: requests.Session | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> list[dict[str, Any]]:
    """Send one customer message to Rasa and return its responses (dicts with text, buttons, image, custom)."""
    body: dict[str, Any] = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    url = f"{rasa_url.rstrip('/')}/webhooks/rest/webhook"
    try:
        response = (session or requests).post(url, json=body, timeout=(connect_timeout, timeout))
    except requests.RequestException as err:
        if never_sent(err):
            raise RasaUnavailable(f"Rasa unreachable at {url}: {type(err).__name__}") from err
        if isinstance(err, (requests.ConnectionError, requests.Timeout)):
            raise RasaNoAnswer(f"no answer from Rasa at {url}: {type(err).__name__}") from err
        raise RasaError(f"request to Rasa at {url} could not be made: {type(err).__name__}") from err
    if response.status_code in (429, 503):
        raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
    if response.status_code >= 500:
        raise RasaNoAnswer(f"Rasa answered HTTP {response.status_code}")
    if response.status_code >= 400:
        raise RasaError(f"Rasa answered HTTP {response.status_code}")
    try:
        messages = response.json()
    except ValueError as err:
        raise RasaError("Rasa answered with a body that is not JSON") from err
    if not isinstance(messages, list):
        raise RasaError("Rasa answered with JSON that is not a list of messages")
    return [m for m in messages if isinstance(m, dict)]


def server_version(rasa_url: str, timeout: float = 3.0) -> str:
    """The running server's version line (Rasa answers `GET /` with "Hello from Rasa: <version>")."""
    try:
        response = requests.get(f"{rasa_url.rstrip('/')}/", timeout=timeout)
    except requests.RequestException as err:
        raise RasaUnavailable(f"Rasa unreachable at {rasa_url}: {type(err).__name__}") from err
    if response.status_code >= 400:
        raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
    return response.text.strip()[:120]


def execute_action(rasa_url: str, sender: str, action: str, timeout: float = DEFAULT_TIMEOUT) -> list[dict[str, Any]]:
    """Run one of the handoff's control actions on a conversation (deploy/rasa_channel.py's control route),
    predicting nothing after it; its messages."""
    url = f"{rasa_url.rstrip('/')}/webhooks/rest/control"
    try:
        response = requests.post(url, json={"sender": sender, "action": action}, timeout=timeout)
    except requests.RequestException as err:
        raise RasaUnavailable(f"Rasa unreachable at {rasa_url}: {type(err).__name__}") from err
    if response.status_code == 429 or response.status_code >= 500:
        raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
    if response.status_code >= 400:
        raise RasaError(f"Rasa answered HTTP {response.status_code}")
    try:
        messages = response.json().get("messages") or []
    except (ValueError, AttributeError) as err:
        raise RasaError("Rasa answered with a body that is not a JSON object") from err
    return [m for m in messages if isinstance(m, dict)]
