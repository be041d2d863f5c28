"""The jobs' settings from the environment, and the database connection of a Lambda.

In AWS the database password lives in a Secrets Manager secret (JSON: username, password, host, port,
dbname, as RDS's secret attachment writes it), named by `DATABASE_SECRET_ARN`; locally `DATABASE_URL`
(or the embedded PostgreSQL) is used as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from core import db
from core.settings import env_text
from deploy.connector.config import ConfigError

# Read by `use_database_secret` but never set in AWS: a URL would put the password in the function's settings.
LOCAL_ONLY_SETTINGS = ("DATABASE_URL",)

# The connector settings the reminder job reads (it sends through the connector's Graph API client).
REMINDER_CONNECTOR_SETTINGS = (
    "GRAPH_API_URL",
    "MESSENGER_SECRET_NAME",
    "RETRY_ATTEMPTS",
    "RETRY_BASE_DELAY",
    "RETRY_MAX_DELAY",
    "GRAPH_TIMEOUT",
    "CONNECT_TIMEOUT",
    "SECRETS_MAX_AGE",
)


@dataclass(frozen=True)
class ArchiveSettings:
    bucket: str
    part_bytes: int  # size of one multipart-upload part (S3's minimum is 5 MiB)


def archive_settings() -> ArchiveSettings:
    bucket = env_text("ARCHIVE_BUCKET")
    if not bucket:
        raise ConfigError("setting ARCHIVE_BUCKET is missing")
    raw = env_text("ARCHIVE_PART_BYTES", str(8 * 1024 * 1024))
    try:
        part_bytes = int(raw)
    except ValueError as err:
        raise ConfigError(f"setting ARCHIVE_PART_BYTES must be a whole number, got {raw!r}") from err
    return ArchiveSettings(bucket=bucket, part_bytes=max(part_bytes, 5 * 1024 * 1024))


def use_database_secret() -> None:
    """Point the database module at the server named by `DATABASE_SECRET_ARN`, unless `DATABASE_URL` is set.

    Called once per cold start; the password never appears in a log line or an error.
    """
    url = database_secret_url()
    if url:
        db.use_url(url)


def database_secret_url() -> str | None:
    """The URL of the server in the secret named by `DATABASE_SECRET_ARN`; None where `DATABASE_URL` is set."""
    secret_arn = env_text("DATABASE_SECRET_ARN")
    if env_text("DATABASE_URL") or not secret_arn:
        return None
    from aws_lambda_powertools.utilities import parameters

    try:
        secret = parameters.get_secret(secret_arn, transform="json", max_age=int(env_text("SECRETS_MAX_AGE", "300")))
    except parameters.exceptions.GetParameterError as err:
        raise ConfigError("cannot read the database secret named by DATABASE_SECRET_ARN") from err
    if not isinstance(secret, dict) or not secret.get("password"):
        raise ConfigError("the database secret must be a JSON object with username, password, host, port, dbname")
    user = quote(str(secret.get("username") or "lotus"), safe="")
    password = quote(str(secret["password"]), safe="")
    host, port, name = secret.get("host"), secret.get("port") or 5432, secret.get("dbname") or "lotus"
    if not host:
        raise ConfigError("the database secret has no host (attach it to the RDS instance)")
    return f"postgresql://{user}:{password}@{host}:{port}/{name}?sslmode=require"
