"""The connector's DynamoDB tables: key schemas, attribute definitions and TTL attributes.

The single source for the infrastructure template (issue 6) and for the tables the tests build,
so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TableSpec:
    """One DynamoDB table as CloudFormation and boto3 both describe it."""

    logical_id: str
    key_schema: tuple[dict[str, str], ...]
    attribute_definitions: tuple[dict[str, str], ...]
    ttl_attribute: str

    def create_table_kwargs(self, table_name: str) -> dict[str, Any]:
        """Arguments for boto3's `create_table` (on-demand billing, as in the template)."""
        return {
            "TableName": table_name,
            "KeySchema": [dict(k) for k in self.key_schema],
            "AttributeDefinitions": [dict(a) for a in self.attribute_definitions],
            "BillingMode": "PAY_PER_REQUEST",
        }

    def cloudformation_properties(self) -> dict[str, Any]:
        """The `Properties` of an `AWS::DynamoDB::Table` resource (the template adds the name)."""
        return {
            "KeySchema": [dict(k) for k in self.key_schema],
            "AttributeDefinitions": [dict(a) for a in self.attribute_definitions],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": self.ttl_attribute, "Enabled": True},
        }


# Powertools idempotency records: one per message `mid` (and per Send API call of its reply).
# The attribute names are Powertools' defaults for DynamoDBPersistenceLayer.
IDEMPOTENCY = TableSpec(
    logical_id="IdempotencyTable",
    key_schema=({"AttributeName": "id", "KeyType": "HASH"},),
    attribute_definitions=({"AttributeName": "id", "AttributeType": "S"},),
    ttl_attribute="expiration",
)

# Per-customer profile cache (first name from the Graph API), keyed by the page-scoped id.
PROFILES = TableSpec(
    logical_id="ProfilesTable",
    key_schema=({"AttributeName": "psid", "KeyType": "HASH"},),
    attribute_definitions=({"AttributeName": "psid", "AttributeType": "S"},),
    ttl_attribute="expires_at",
)

# The live knowledge index: one item per index name naming the artefact version in S3 that the action
# server should serve; a rebuild writes a new version and then swaps the pointer. Old pointers may expire.
KNOWLEDGE_POINTER = TableSpec(
    logical_id="KnowledgePointerTable",
    key_schema=({"AttributeName": "index_name", "KeyType": "HASH"},),
    attribute_definitions=({"AttributeName": "index_name", "AttributeType": "S"},),
    ttl_attribute="expires_at",
)

ALL = (IDEMPOTENCY, PROFILES, KNOWLEDGE_POINTER)
