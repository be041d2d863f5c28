"""WebhookReceiver Lambda (API Gateway HTTP API, payload format 2.0)."""

from aws_lambda_powertools import Logger

from deploy.connector.receiver import handle_event

logger = Logger(service="messenger-connector")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict, context: object) -> dict:
    return handle_event(event)
