"""`make serve` with RASA_SERVERS: the launcher starts Redis and that many Rasa servers on consecutive ports."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager

import pytest

from core.settings import settings
from scripts import stack as launcher


@pytest.fixture(autouse=True)
def fresh_settings():
    """The settings are read once per process; these tests change RASA_SERVERS and REDIS_PORT."""
    settings.cache_clear()
    yield
    settings.cache_clear()


@contextmanager
def recorded(calls: list, what: str, **details):
    calls.append((what, details))
    yield what


def fake_servers(monkeypatch, calls: list) -> None:
    monkeypatch.setattr(launcher, "redis_server", lambda port, log=None: recorded(calls, "redis", port=port))
    monkeypatch.setattr(
        launcher,
        "rasa_server",
        lambda env, port=None, log=None, endpoints="endpoints.yml": recorded(
            calls,
            "rasa",
            port=port,
            endpoints=endpoints,
            redis=env.get("REDIS_PORT"),
            actions=env.get("ACTION_SERVER_URL"),
        ),
    )


def test_by_default_one_rasa_server_with_the_in_memory_lock_store(monkeypatch):
    calls: list = []
    fake_servers(monkeypatch, calls)
    monkeypatch.delenv("RASA_SERVERS", raising=False)
    settings.cache_clear()
    with ExitStack() as stack:
        processes = launcher.rasa_servers(stack, {"ACTIONS_PORT": "5055"})
    assert list(processes) == ["Rasa server"]
    assert calls == [("rasa", {"port": None, "endpoints": "endpoints.yml", "redis": None, "actions": None})]


def test_two_rasa_servers_share_a_redis_lock_store(monkeypatch):
    calls: list = []
    fake_servers(monkeypatch, calls)
    monkeypatch.setenv("RASA_SERVERS", "2")
    monkeypatch.setenv("REDIS_PORT", "6390")
    settings.cache_clear()
    with ExitStack() as stack:
        processes = launcher.rasa_servers(stack, {"ACTIONS_PORT": "5056"})
    assert list(processes) == ["Redis", "Rasa server 1", "Rasa server 2"]
    first = settings().rasa_port
    shared = {"endpoints": "endpoints-scaled.yml", "redis": "6390", "actions": "http://127.0.0.1:5056/webhook"}
    assert calls == [
        ("redis", {"port": 6390}),
        ("rasa", {"port": first, **shared}),
        ("rasa", {"port": first + 1, **shared}),
    ]
