"""The one client for the Rasa server: its REST channel (`/webhooks/rest/webhook`) and its version."""

from __future__ import annotations

from typing import Any

import requests

DEFAULT_TIMEOUT = 15.0


class RasaError(Exception):
    """Rasa answered in a way a retry will not fix (4xx other than 429, a body that is not a list)."""


class RasaUnavailable(RasaError):
    """Rasa could not answer now (connection error, timeout, 429, 5xx); worth retrying."""


def send_message(
    rasa_url: str,
    sender: str,
    text: str,
    metadata: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    session: requests.Session | None = None,
) -> list[dict[str, Any]]:
    """Send one customer message to Rasa and return its responses (dicts with text, buttons, image, custom)."""
    body: dict[str, Any] = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    url = f"{rasa_url.rstrip('/')}/webhooks/rest/webhook"
    try:
        response = (session or requests).post(url, json=body, timeout=timeout)
    except (requests.ConnectionError, requests.Timeout) as err:
        raise RasaUnavailable(f"Rasa unreachable at {url}: {type(err).__name__}") from err
    except requests.RequestException as err:
        raise RasaError(f"request to Rasa at {url} could not be made: {type(err).__name__}") from err
    if response.status_code == 429 or response.status_code >= 500:
        raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
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
    """Run one action on a conversation (Rasa's HTTP API), predicting nothing after it; its messages."""
    url = f"{rasa_url.rstrip('/')}/conversations/{sender}/execute"
    try:
        response = requests.post(url, json={"name": action}, timeout=timeout)
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


def set_slot(rasa_url: str, sender: str, name: str, value: Any, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Append a slot event to a conversation (Rasa's HTTP API); nothing is predicted or sent."""
    url = f"{rasa_url.rstrip('/')}/conversations/{sender}/tracker/events"
    try:
        response = requests.post(url, json={"event": "slot", "name": name, "value": value}, timeout=timeout)
    except requests.RequestException as err:
        raise RasaUnavailable(f"Rasa unreachable at {rasa_url}: {type(err).__name__}") from err
    if response.status_code == 429 or response.status_code >= 500:
        raise RasaUnavailable(f"Rasa answered HTTP {response.status_code}")
    if response.status_code >= 400:
        raise RasaError(f"Rasa answered HTTP {response.status_code}")
