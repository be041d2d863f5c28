"""ArchiveJob Lambda (EventBridge Scheduler, daily at 02:00 in the business's time zone)."""

from aws_lambda_powertools import Logger

from deploy.jobs.archive import run

logger = Logger(service="lotus-jobs")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict, context: object) -> dict:
    return run(event)
