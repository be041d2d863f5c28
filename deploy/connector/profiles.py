"""The customer's first name, fetched once from the Graph API and cached in DynamoDB with a TTL."""

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
        expires = int(self.clock()) + self.ttl_seconds
        item = {"psid": {"S": psid}, "first_name": {"S": first_name}, PROFILES.ttl_attribute: {"N": str(expires)}}
        self.client.put_item(TableName=self.table_name, Item=item)
