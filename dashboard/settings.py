"""The dashboard's own settings, from the environment (shared ones stay in `core.settings`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.settings import PROJECT_ROOT, env_text, settings

STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class Cognito:
    """Where the ID tokens of the dashboard's Cognito user pool are checked."""

    issuer: str
    jwks_url: str
    app_client_id: str
    hosted_ui_domain: str | None = None  # e.g. https://lotus-admin.auth.ap-southeast-1.amazoncognito.com


@dataclass(frozen=True)
class RebuildTask:
    """Where a knowledge rebuild runs on AWS: a one-off ECS task (deploy/template.yaml's KnowledgeRebuildTaskDefinition)."""

    cluster: str
    task_definition: str
    subnets: tuple[str, ...]
    security_group: str


@dataclass(frozen=True)
class DashboardSettings:
    port: int
    token: str | None  # local sign-in; None when Cognito is configured or a token is still to be generated
    cognito: Cognito | None
    rasa_url: str
    actions_url: str
    assets_dir: Path  # where `python -m dashboard.assets` installs the chart library
    rebuild_task: RebuildTask | None = None  # None locally: the dashboard rebuilds the index itself


def _cognito() -> Cognito | None:
    client_id = env_text("COGNITO_APP_CLIENT_ID")
    issuer = env_text("COGNITO_ISSUER")
    jwks_url = env_text("COGNITO_JWKS_URL")
    region, pool = env_text("COGNITO_REGION"), env_text("COGNITO_USER_POOL_ID")
    if region and pool and not issuer:
        issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool}"
    if not (client_id or issuer or jwks_url):
        return None
    if not (client_id and issuer):
        raise ValueError(
            "Cognito sign-in needs COGNITO_APP_CLIENT_ID and either COGNITO_REGION + COGNITO_USER_POOL_ID"
            " or COGNITO_ISSUER (and optionally COGNITO_JWKS_URL)"
        )
    domain = env_text("COGNITO_DOMAIN").rstrip("/") or None
    if domain and not domain.startswith("http"):
        domain = f"https://{domain}"
    return Cognito(
        issuer=issuer.rstrip("/"),
        jwks_url=jwks_url or f"{issuer.rstrip('/')}/.well-known/jwks.json",
        app_client_id=client_id,
        hosted_ui_domain=domain,
    )


def _rebuild_task() -> RebuildTask | None:
    cluster = env_text("KNOWLEDGE_REBUILD_CLUSTER")
    task_definition = env_text("KNOWLEDGE_REBUILD_TASK_DEFINITION")
    subnets = tuple(s.strip() for s in env_text("KNOWLEDGE_REBUILD_SUBNETS").split(",") if s.strip())
    security_group = env_text("KNOWLEDGE_REBUILD_SECURITY_GROUP")
    if not (cluster or task_definition or subnets or security_group):
        return None
    if not (cluster and task_definition and subnets and security_group):
        raise ValueError(
            "a knowledge rebuild task needs KNOWLEDGE_REBUILD_CLUSTER, KNOWLEDGE_REBUILD_TASK_DEFINITION,"
            " KNOWLEDGE_REBUILD_SUBNETS and KNOWLEDGE_REBUILD_SECURITY_GROUP"
        )
    return RebuildTask(cluster, task_definition, subnets, security_group)


def load_dashboard_settings() -> DashboardSettings:
    shared = settings()
    assets = env_text("DASHBOARD_ASSETS_DIR")
    return DashboardSettings(
        port=shared.dashboard_port,
        token=env_text("DASHBOARD_TOKEN") or None,
        cognito=_cognito(),
        rasa_url=shared.rasa_url,
        actions_url=env_text("ACTIONS_URL") or f"http://127.0.0.1:{shared.actions_port}",
        assets_dir=Path(assets).expanduser().resolve() if assets else PROJECT_ROOT / ".venv" / "dashboard-assets",
        rebuild_task=_rebuild_task(),
    )


@lru_cache(maxsize=1)
def dashboard_settings() -> DashboardSettings:
    """The process-wide dashboard settings, read once."""
    return load_dashboard_settings()
