"""Rasa's REST channel, once per message: a second turn with the same message id is refused.

The connector sends each Messenger message with its id (`mid`) as `metadata.message_id`. Before the turn
runs, the id is claimed in a small table of the tracker store's PostgreSQL (`message_turns`, created here
when missing), which every Rasa server shares: a message delivered twice, retried after a lost answer or
raced to two servers runs one turn only. The refused copy is answered `[]` and runs nothing. The claim is
committed before the turn, so a turn runs at most once, even when the server dies during it. Messages
without an id (the dashboard's "try the bot", `rasa shell`) run as with the plain REST channel.
The user event of a claimed turn carries the message id as its `message_id`.

Runs inside the Rasa server (Python 3.10); credentials.yml names it. Its URL stays `/webhooks/rest/webhook`.

`POST /webhooks/rest/control` with `{"sender": ..., "action": ...}` runs one of the handoff's control
actions on a conversation (the inbox handed it back, a staff member replied), predicting nothing after
it, under the conversation's lock: what the connector and the dashboard need of Rasa, without its HTTP
API (which stays off in AWS).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

logger = logging.getLogger(__name__)

# the actions the control route may run; nothing else
CONTROL_ACTIONS = frozenset({"action_handoff_release", "action_handoff_staff_replied"})
TABLE = "message_turns"
KEEP_DAYS = 7  # longer than any redelivery: SQS keeps a message 4 days, the connector's records 2
PRUNE_EVERY_SECONDS = 3600

_CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    message_id TEXT PRIMARY KEY,
    sender_id TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""
_CLAIM = f"INSERT INTO {TABLE} (message_id, sender_id) VALUES (:message_id, :sender_id) ON CONFLICT DO NOTHING"
_PRUNE = f"DELETE FROM {TABLE} WHERE received_at < now() - make_interval(days => :days)"


class MessageTurns:
    """Which message ids have had their turn: in PostgreSQL when the tracker store is SQL, else in memory."""

    def __init__(self, engine: Any | None):
        self.engine = engine if engine is not None and engine.dialect.name == "postgresql" else None
        self._seen: set[str] = set()  # the one-server fallback (in-memory tracker store)
        self._lock = threading.Lock()
        self._ready = False
        self._pruned_at = 0.0

    def claim(self, message_id: str, sender_id: str) -> bool:
        """True the first time `message_id` is claimed, by any server; False for every copy after it."""
        if self.engine is None:
            with self._lock:
                first = message_id not in self._seen
                self._seen.add(message_id)
                return first
        import sqlalchemy as sa

        self._prepare()
        with self.engine.begin() as connection:
            result = connection.execute(sa.text(_CLAIM), {"message_id": message_id, "sender_id": sender_id})
            return result.rowcount == 1

    def _prepare(self) -> None:
        import sqlalchemy as sa

        now = time.monotonic()
        if self._ready and now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        with self._lock, self.engine.begin() as connection:
            # one creator at a time: two servers starting together would race on the catalogue
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": TABLE})
            connection.execute(sa.text(_CREATE))
            connection.execute(sa.text(_PRUNE), {"days": KEEP_DAYS})
        self._ready, self._pruned_at = True, now


def sql_engine(tracker_store: Any) -> Any | None:
    """The SQLAlchemy engine of Rasa's SQL tracker store, through Rasa's wrappers; None for other stores."""
    store, seen = tracker_store, 0
    while store is not None and seen < 5:
        engine = getattr(store, "engine", None)
        if engine is not None:
            return engine
        store, seen = getattr(store, "_tracker_store", None), seen + 1
    return None


class OncePerMessageRestInput(RestInput):
    """The REST channel (same name and URL) that runs each message id's turn once."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self) -> None:
        super().__init__()
        self._turns: MessageTurns | None = None
        self._app: Any = None

    def _message_turns(self) -> MessageTurns:
        if self._turns is None:
            agent = getattr(getattr(self._app, "ctx", None), "agent", None)
            self._turns = MessageTurns(sql_engine(getattr(agent, "tracker_store", None)))
            where = "the tracker store's PostgreSQL" if self._turns.engine is not None else "this server's memory"
            logger.info(f"message ids are claimed in {where}")
        return self._turns

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        channel = self

        async def once(message: UserMessage) -> None:
            message_id = (message.metadata or {}).get("message_id")
            if not isinstance(message_id, str) or not message_id:
                await on_new_message(message)
                return
            turns = channel._message_turns()
            if not await asyncio.to_thread(turns.claim, message_id, message.sender_id):
                logger.info(f"message {message_id} already had its turn; this copy runs nothing")
                return
            await on_new_message(
                UserMessage(
                    message.text,
                    message.output_channel,
                    message.sender_id,
                    parse_data=message.parse_data,
                    input_channel=message.input_channel,
                    message_id=message_id,
                    metadata=message.metadata,
                )
            )

        blueprint = super().blueprint(once)

        @blueprint.route("/control", methods=["POST"])
        async def control(request: Request) -> Any:
            body = request.json if isinstance(request.json, dict) else {}
            sender, action = body.get("sender"), body.get("action")
            if not isinstance(sender, str) or not sender or action not in CONTROL_ACTIONS:
                return response.json({"error": f"expected a sender and one of {sorted(CONTROL_ACTIONS)}"}, status=400)
            agent = request.app.ctx.agent
            collector = CollectingOutputChannel()
            async with agent.lock_store.lock(sender):
                await agent.processor.fetch_tracker_and_update_session(sender)
                await agent.execute_action(sender, action, collector, None, 1.0)
            return response.json({"messages": collector.messages})

        @blueprint.listener("before_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            channel._app = app

        return blueprint
