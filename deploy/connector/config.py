"""The connector's settings from the environment, and the Messenger secrets.

Secrets come from Secrets Manager (a JSON secret named by `MESSENGER_SECRET_NAME`, fetched through
Powertools parameters and cached) when a name is set, else from the environment (local runs, tests).
AWS endpoints follow boto3's own `AWS_ENDPOINT_URL`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from core.secrets import problem_with
from core.settings import env_number, env_text
from core.settings import load_settings as load_app_settings

DEFAULT_GRAPH_API_URL = "https://graph.facebook.com/v21.0"
PAGE_INBOX_APP_ID = "263902037430900"  # Meta's Page inbox (Meta Business Suite) in the handover protocol


class ConfigError(RuntimeError):
    """A setting or secret is missing or malformed; the message names it, never its value."""


@dataclass(frozen=True)
class ConnectorSettings:
    graph_api_url: str
    rasa_url: str
    queue_url: str
    idempotency_table: str
    profiles_table: str
    secret_name: str
    # must equal the queue's redrive `maxReceiveCount`: the receive that apologises before the dead-letter queue
    max_receive_count: int
    retry_attempts: int
    retry_base_delay: float
    retry_max_delay: float
    rasa_timeout: float  # seconds Rasa may take to answer a turn, once connected
    graph_timeout: float  # seconds the Graph API may take to answer, once connected
    connect_timeout: float  # seconds to connect to Rasa or the Graph API
    profile_ttl_seconds: int
    idempotency_ttl_seconds: int
    secrets_max_age: int
    handoff_app_id: str  # the app a handoff passes the thread to
    handoff_topic_arn: str  # SNS topic telling staff about a handoff; empty: a log line only
    handoff_seconds: int  # how long the handoff flag lives without news (the quiet time)


def load_settings() -> ConnectorSettings:
    return ConnectorSettings(
        graph_api_url=env_text("GRAPH_API_URL", DEFAULT_GRAPH_API_URL).rstrip("/"),
        rasa_url=load_app_settings().rasa_url.rstrip("/"),
        queue_url=env_text("MESSAGES_QUEUE_URL"),
        idempotency_table=env_text("IDEMPOTENCY_TABLE", "lotus-idempotency"),
        profiles_table=env_text("PROFILES_TABLE", "lotus-profiles"),
        secret_name=env_text("MESSENGER_SECRET_NAME"),
        max_receive_count=env_number("MAX_RECEIVE_COUNT", 5, int),
        retry_attempts=env_number("RETRY_ATTEMPTS", 3, int),
        retry_base_delay=env_number("RETRY_BASE_DELAY", 0.5, float),
        retry_max_delay=env_number("RETRY_MAX_DELAY", 2.0, float),
        rasa_timeout=env_number("RASA_TIMEOUT", 20.0, float),
        graph_timeout=env_number("GRAPH_TIMEOUT", 4.0, float),
        connect_timeout=env_number("CONNECT_TIMEOUT", 2.0, float),
        profile_ttl_seconds=env_number("PROFILE_TTL_SECONDS", 7 * 24 * 3600, int),
        idempotency_ttl_seconds=env_number("IDEMPOTENCY_TTL_SECONDS", 2 * 24 * 3600, int),
        secrets_max_age=env_number("SECRETS_MAX_AGE", 300, int),
        handoff_app_id=env_text("HANDOFF_TARGET_APP_ID", PAGE_INBOX_APP_ID),
        handoff_topic_arn=env_text("HANDOFF_TOPIC_ARN"),
        handoff_seconds=int(load_app_settings().handoff_quiet_hours * 3600),
    )


@lru_cache(maxsize=1)
def settings() -> ConnectorSettings:
    """The process-wide connector settings, read once per cold start."""
    return load_settings()


@dataclass(frozen=True)
class MessengerSecrets:
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)
    page_token: str = field(repr=False)


# the keys of the JSON secret, and the environment variables of a local run
SECRET_KEYS = {
    "app_secret": "MESSENGER_APP_SECRET",
    "verify_token": "MESSENGER_VERIFY_TOKEN",
    "page_token": "MESSENGER_PAGE_TOKEN",
}


def load_secrets(conf: ConnectorSettings | None = None) -> MessengerSecrets:
    """The Messenger secrets: cached from Secrets Manager when a secret name is set, else the environment."""
    conf = conf or settings()
    if conf.secret_name:
        from aws_lambda_powertools.utilities import parameters

        try:
            raw = parameters.get_secret(conf.secret_name, transform="json", max_age=conf.secrets_max_age)
        except parameters.exceptions.GetParameterError as err:
            raise ConfigError(f"cannot read the secret {conf.secret_name!r}") from err
        if not isinstance(raw, dict):
            raise ConfigError(f"the secret {conf.secret_name!r} must be a JSON object")
        values = {key: str(raw.get(key) or raw.get(env_name) or "") for key, env_name in SECRET_KEYS.items()}
        source = f"secret {conf.secret_name!r}"
    else:
        values = {key: env_text(env_name) for key, env_name in SECRET_KEYS.items()}
        source = "the environment"
    unusable = [f"{SECRET_KEYS[key]} {problem}" for key, value in values.items() if (problem := problem_with(value))]
    if unusable:
        raise ConfigError(f"unusable Messenger secrets in {source}: {'; '.join(unusable)}; set real values")
    return MessengerSecrets(**{key: value.strip() for key, value in values.items()})


def graph_client(conf: ConnectorSettings):
    """The Send API client of these settings: the page token read (and refreshed) from the Messenger secret."""
    from deploy.connector.graph import GraphClient
    from deploy.connector.retry import RetryPolicy

    load_secrets(conf)  # refuses to start on an empty or placeholder secret, naming it
    return GraphClient(
        conf.graph_api_url,
        lambda: load_secrets(conf).page_token,
        policy=RetryPolicy(conf.retry_attempts, conf.retry_base_delay, conf.retry_max_delay),
        timeout=conf.graph_timeout,
        connect_timeout=conf.connect_timeout,
    )
