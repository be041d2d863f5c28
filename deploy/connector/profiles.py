"""The customer's first name, fetched once from the Graph API and cached in DynamoDB with a TTL (the
conversation metadata item, which also holds the handoff state)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from deploy.connector.tables import PROFILES


class ProfileStore:
    def __init__(self, table_name: str, ttl_seconds: int, client: Any = None, clock: Callable[[], float] = time.time):
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table_name = table_name
        self.ttl_seconds = ttl_seconds
        self.client = client
        self.clock = clock

    def lookup(self, psid: str) -> str | None:
        """The cached first name ("" when the Graph API had none), or None when nothing live is cached."""
        item = self.client.get_item(TableName=self.table_name, Key={"psid": {"S": psid}}).get("Item")
        if not item:
            return None
        expires = int(item.get(PROFILES.ttl_attribute, {}).get("N", "0"))
        if expires <= self.clock():  # DynamoDB deletes expired items lazily
            return None
        return item.get("first_name", {}).get("S", "")

    def save(self, psid: str, first_name: str) -> None:
        # an update, not a put: the item also holds the conversation's handoff state (connector.handover)
        expires = int(self.clock()) + self.ttl_seconds
        self.client.update_item(
            TableName=self.table_name,
            Key={"psid": {"S": psid}},
            UpdateExpression=f"SET first_name = :name, {PROFILES.ttl_attribute} = :expires",
            ExpressionAttributeValues={":name": {"S": first_name}, ":expires": {"N": str(expires)}},
        )
