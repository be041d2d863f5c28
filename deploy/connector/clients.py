"""The Send API client of this process, for the jobs and the dashboard: built once, from the connector's
settings and the Messenger secret (`config.graph_client`, which the orchestrator uses too)."""

from __future__ import annotations

from functools import lru_cache

from deploy.connector import config
from deploy.connector.graph import GraphClient


@lru_cache(maxsize=1)
def graph_client() -> GraphClient:
    return config.graph_client(config.settings())
