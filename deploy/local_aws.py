"""The connector's AWS resources for local runs and tests: SQS FIFO queue with its dead-letter queue, tables.

Built from the same definitions as the infrastructure template (`deploy.connector.tables`), against whatever
`AWS_ENDPOINT_URL` points at (moto in server mode locally).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import boto3

from deploy.connector.tables import IDEMPOTENCY, PROFILES, TableSpec

DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "ap-southeast-1",
}


@dataclass(frozen=True)
class Resources:
    queue_url: str
    dead_letter_queue_url: str
    idempotency_table: str
    profiles_table: str

    def env(self) -> dict[str, str]:
        """The connector settings that point at these resources."""
        return {
            "MESSAGES_QUEUE_URL": self.queue_url,
            "IDEMPOTENCY_TABLE": self.idempotency_table,
            "PROFILES_TABLE": self.profiles_table,
        }


def start_moto() -> Any:
    """moto in server mode on a free loopback port, with dummy credentials; sets AWS_ENDPOINT_URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for name, value in DUMMY_AWS.items():
        os.environ.setdefault(name, value)
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    return server


def _create_table(client: Any, spec: TableSpec, name: str) -> None:
    try:
        client.create_table(**spec.create_table_kwargs(name))
    except client.exceptions.ResourceInUseException:
        return
    client.get_waiter("table_exists").wait(TableName=name)
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": spec.ttl_attribute, "Enabled": True}
    )


def provision(prefix: str = "lotus", max_receive_count: int = 5, visibility_timeout: int = 30) -> Resources:
    """Create (or find) the queue, its dead-letter queue and both tables; idempotent."""
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{prefix}-messages-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {
        "FifoQueue": "true",
        "VisibilityTimeout": str(visibility_timeout),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}),
    }
    queue_url = sqs.create_queue(QueueName=f"{prefix}-messages.fifo", Attributes=attributes)["QueueUrl"]
    dynamodb = boto3.client("dynamodb")
    idempotency, profiles = f"{prefix}-idempotency", f"{prefix}-profiles"
    _create_table(dynamodb, IDEMPOTENCY, idempotency)
    _create_table(dynamodb, PROFILES, profiles)
    return Resources(queue_url, dlq_url, idempotency, profiles)
