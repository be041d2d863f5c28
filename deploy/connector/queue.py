"""The SQS FIFO queue between the receiver and the orchestrator: one message group per customer."""

from __future__ import annotations

from typing import Any

from deploy.connector.events import ChatMessage

SQS_BATCH_LIMIT = 10


class EnqueueError(RuntimeError):
    """SQS refused some messages; the webhook answers 500 so Messenger delivers again (deduplication holds)."""


class MessageQueue:
    def __init__(self, queue_url: str, client: Any = None):
        if not queue_url:
            raise ValueError("MESSAGES_QUEUE_URL is not set")
        if client is None:
            import boto3

            client = boto3.client("sqs")
        self.queue_url = queue_url
        self.client = client

    def enqueue(self, messages: list[ChatMessage]) -> None:
        """Send in order; MessageGroupId = PSID keeps each customer's order, the mid deduplicates."""
        for start in range(0, len(messages), SQS_BATCH_LIMIT):
            chunk = messages[start : start + SQS_BATCH_LIMIT]
            entries = [
                {
                    "Id": str(index),
                    "MessageBody": message.model_dump_json(),
                    "MessageGroupId": message.psid,
                    "MessageDeduplicationId": message.deduplication_id,
                }
                for index, message in enumerate(chunk)
            ]
            result = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            failed = result.get("Failed") or []
            if failed:
                codes = sorted({f.get("Code", "?") for f in failed})
                raise EnqueueError(f"SQS refused {len(failed)} of {len(entries)} messages: {', '.join(codes)}")
