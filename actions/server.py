"""The action server's start: logging, the shared secret, and every action run off the event loop.

    python -m actions.server --port 5055

rasa-sdk's own server with three additions, made in each web worker as it starts:
- our log records get a handler of their own (the workers' root logger has none);
- `/webhook` answers only calls that carry the shared secret `ACTIONS_TOKEN` in the `X-Actions-Token`
  header (Rasa's action endpoint sends it, see endpoints.yml): a forged tracker cannot reach an action;
- each action call runs in a thread of its own, so a slow database or knowledge look-up holds up that
  conversation only, never the event loop that serves the others.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from rasa_sdk.endpoint import create_app_for_serve
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from sanic import Sanic, response
from sanic.worker.loader import AppLoader

from actions.conversation import apologise_database_down
from core import db
from core.secrets import require_secret

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Actions-Token"
# as many action calls at once as the database pool has connections (core.db.POOL_SIZE)
ACTION_THREADS = 20


def configure_logging(level: str | None = None) -> None:
    """Our records (actions, core, rag) on stderr in rasa-sdk's format, whatever the root logger has."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(name)s  - %(message)s", "%Y-%m-%d %H:%M:%S"))
    for name in ("actions", "core", "rag"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(handler)
            logger.propagate = False
            logger.setLevel((level or os.environ.get("LOG_LEVEL_ACTIONS", "INFO")).upper())


class OffLoopExecutor(ActionExecutor):
    """rasa-sdk's executor, with each call run to its end on a thread of a bounded pool, and one guard for
    every action: database trouble becomes the apology (with the phone number), an active form is left,
    and nothing the action meant to change is kept (its events are dropped; the database rolled back)."""

    def __init__(self, threads: int = ACTION_THREADS):
        super().__init__()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="action")

    async def run(self, action_call: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: asyncio.run(self.run_guarded(action_call)))

    async def run_guarded(self, action_call: dict[str, Any]) -> Any:
        try:
            return await ActionExecutor.run(self, action_call)
        except db.DatabaseUnavailable as err:
            log.error("database unavailable in %s: %s", action_call.get("next_action"), err)
            dispatcher = CollectingDispatcher()
            apologise_database_down(dispatcher)
            tracker = action_call.get("tracker") or {}
            events = []
            if (tracker.get("active_loop") or {}).get("name"):
                events = [ActiveLoop(None), SlotSet("requested_slot", None)]
            return self._create_api_response(events, dispatcher.messages)


def _preload_knowledge() -> None:
    from rag.knowledge import shared_knowledge

    try:
        shared_knowledge().current()
        shared_knowledge().embedder.embed(["warm up"])
    except Exception:
        log.exception("the knowledge index could not be loaded at start; it will be tried again on the first question")


def create_app(token: str, preload: bool) -> Sanic:
    """One web worker's app (module level: Sanic's loader pickles this factory for each worker)."""
    configure_logging()
    executor = OffLoopExecutor()
    executor.register_package("actions")
    app = create_app_for_serve(executor, cors_origins="")

    @app.on_request
    async def require_token(request):
        if request.path != "/webhook":
            return None
        given = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            log.warning("action call refused: missing or wrong %s header", TOKEN_HEADER)
            return response.json({"error": "unauthorised"}, status=401)
        return None

    if preload:  # the knowledge index and its model load as a worker starts, not on the first question

        @app.before_server_start
        async def preload_knowledge(app, _loop):
            threading.Thread(target=_preload_knowledge, name="knowledge-preload", daemon=True).start()

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", "5055")))
    parser.add_argument("--host", default=os.environ.get("SANIC_HOST", "0.0.0.0"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("ACTION_SERVER_WORKERS", "1")))
    args = parser.parse_args(argv)
    configure_logging()
    try:
        token = require_secret("ACTIONS_TOKEN")
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    preload = os.environ.get("RAG_PRELOAD") == "1"
    loader = AppLoader(factory=partial(create_app, token, preload))
    app = loader.load()
    app.prepare(host=args.host, port=args.port, workers=args.workers, access_log=False)
    log.info("action server on %s:%s", args.host, args.port)
    Sanic.serve(primary=app, app_loader=loader)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
