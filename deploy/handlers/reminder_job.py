"""ReminderJob Lambda (EventBridge Scheduler, hourly)."""

from aws_lambda_powertools import Logger

from deploy.jobs.reminder import run

logger = Logger(service="lotus-jobs")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict, context: object) -> dict:
    return run(event)
