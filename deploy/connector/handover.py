"""Messenger's handover protocol for the orchestrator: a handoff the assistant asked for passes the
thread to the Page inbox, is flagged in the conversation metadata (DynamoDB, TTL) and announced to the
staff (SNS when a topic is set; always a log line); the thread coming back releases the conversation.

The assistant asks for a handoff with a custom payload `{"handoff": {"reason": ...}}` among its
responses (actions/handoff.py); it is taken out of the reply here, never sent to the customer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from deploy.connector.graph import GraphClient, GraphError
from deploy.connector.tables import PROFILES

logger = Logger(service="messenger-connector", child=True)


@dataclass(frozen=True)
class HandoffRequest:
    reason: str


def split(responses: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], HandoffRequest | None]:
    """The responses to send, and the handoff the assistant asked for (if any)."""
    kept: list[dict[str, Any]] = []
    request = None
    for response in responses:
        custom = response.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
            request = HandoffRequest(reason=str(custom["handoff"].get("reason") or "request_human"))
            continue
        kept.append(response)
    return kept, request


class HandoffFlags:
    """The handoff state in the conversation metadata table: set with an expiry (the quiet time), cleared
    on release. The item's own TTL is the profile's; the flag expires by its `handoff_until`."""

    def __init__(self, table_name: str, client: Any = None, clock: Callable[[], float] = time.time):
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table_name = table_name
        self.client = client
        self.clock = clock

    def set(self, psid: str, reason: str, seconds: int) -> None:
        now = int(self.clock())
        self.client.update_item(
            TableName=self.table_name,
            Key={"psid": {"S": psid}},
            UpdateExpression="SET handoff_reason = :reason, handoff_since = :now, handoff_until = :until,"
            f" {PROFILES.ttl_attribute} = if_not_exists({PROFILES.ttl_attribute}, :until)",
            ExpressionAttributeValues={
                ":reason": {"S": reason},
                ":now": {"N": str(now)},
                ":until": {"N": str(now + seconds)},
            },
        )

    def clear(self, psid: str) -> None:
        self.client.update_item(
            TableName=self.table_name,
            Key={"psid": {"S": psid}},
            UpdateExpression="REMOVE handoff_reason, handoff_since, handoff_until",
        )

    def active(self, psid: str) -> str | None:
        """The reason of a live handoff, or None."""
        item = self.client.get_item(TableName=self.table_name, Key={"psid": {"S": psid}}).get("Item") or {}
        until = int(item.get("handoff_until", {}).get("N", "0"))
        return item.get("handoff_reason", {}).get("S") if until > self.clock() else None


class StaffNotifier:
    """Tells the staff a customer is waiting: an SNS message when a topic is configured, and a log line."""

    def __init__(self, topic_arn: str, client: Any = None):
        self.topic_arn = topic_arn
        if client is None and topic_arn:
            import boto3

            client = boto3.client("sns")
        self.client = client

    def handoff_opened(self, psid: str, reason: str) -> None:
        logger.info("handoff opened: a customer waits for a person", psid=psid, reason=reason)
        if not self.topic_arn:
            return
        message = {"event": "handoff_opened", "psid": psid, "reason": reason}
        self.client.publish(
            TopicArn=self.topic_arn,
            Subject="A customer is waiting for a person",
            Message=json.dumps(message),
        )


class Handover:
    def __init__(self, graph: GraphClient, flags: HandoffFlags, notifier: StaffNotifier, app_id: str, seconds: int):
        self.graph = graph
        self.flags = flags
        self.notifier = notifier
        self.app_id = app_id
        self.seconds = seconds

    def open(self, psid: str, request: HandoffRequest) -> None:
        """Pass the thread to the inbox app, flag the conversation, tell the staff. A failed step is logged
        and the others still run: the assistant is already quiet (its policy), the staff must still hear."""
        try:
            self.graph.pass_thread_control(psid, self.app_id, metadata=json.dumps({"reason": request.reason}))
        except GraphError as err:
            logger.error("pass_thread_control failed", psid=psid, status=err.status, code=err.code)
        self.flags.set(psid, request.reason, self.seconds)
        try:
            self.notifier.handoff_opened(psid, request.reason)
        except Exception as err:  # boto3's errors; the handoff itself stands
            logger.error("staff notification failed", psid=psid, error=type(err).__name__)

    def released(self, psid: str) -> None:
        self.flags.clear(psid)
        logger.info("handoff released", psid=psid)
