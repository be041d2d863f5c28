"""DashboardApi Lambda (API Gateway HTTP API): the dashboard's JSON API through the Mangum ASGI adapter.

Sign-in is Cognito's (COGNITO_* settings); the app verifies each ID token itself as well.
"""

from aws_lambda_powertools import Logger
from mangum import Mangum

from dashboard.app import create_app
from deploy.jobs.config import use_database_secret

logger = Logger(service="dashboard-api")
use_database_secret()  # in AWS the database is named by DATABASE_SECRET_ARN
asgi = Mangum(create_app(), lifespan="off")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict, context: object) -> dict:
    return asgi(event, context)
