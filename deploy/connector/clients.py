"""The Graph API client built from the connector's settings and the Messenger secret, for the jobs and
the dashboard (the orchestrator builds its own with the same parts)."""

from __future__ import annotations

from functools import lru_cache

from deploy.connector import config
from deploy.connector.graph import GraphClient
from deploy.connector.retry import RetryPolicy


@lru_cache(maxsize=1)
def graph_client() -> GraphClient:
    conf = config.settings()
    policy = RetryPolicy(conf.retry_attempts, conf.retry_base_delay, conf.retry_max_delay)
    return GraphClient(
        conf.graph_api_url, lambda: config.load_secrets(conf).page_token, policy=policy, timeout=conf.graph_timeout
    )
