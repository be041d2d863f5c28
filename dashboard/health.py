"""Is everything up? The database, the Rasa server, the action server and the knowledge index."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from core import db
from dashboard import knowledge
from deploy.connector import rasa_client

TIMEOUT = 3.0


def _timed(check: Callable[[], str]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as err:  # any failure is the answer, not a crash of the health page
        detail, ok = f"{type(err).__name__}: {err}".strip(), False
    return {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database() -> str:
    return f"PostgreSQL {db.ping()}"


def _http(url: str) -> str:
    response = requests.get(url, timeout=TIMEOUT)
    response.raise_for_status()
    return response.text.strip()[:120] or f"HTTP {response.status_code}"


def _index() -> str:
    state = knowledge.status()
    if not state["available"]:
        raise RuntimeError(state["error"])
    stale = " (stale: documents changed since the build)" if state.get("stale") else ""
    return f"version {state['version']}, {state['document_count']} documents, {state['chunk_count']} chunks{stale}"


def check(rasa_url: str, actions_url: str) -> dict[str, Any]:
    """Each part's state, checked in parallel; `ok` only when all are."""
    checks = {
        "database": _database,
        "rasa": lambda: rasa_client.server_version(rasa_url, TIMEOUT),
        "actions": lambda: _http(f"{actions_url.rstrip('/')}/health"),
        "index": _index,
    }
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        futures = {name: pool.submit(_timed, fn) for name, fn in checks.items()}
        parts = {name: future.result() for name, future in futures.items()}
    return {"ok": all(p["ok"] for p in parts.values()), **parts}
