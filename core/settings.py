"""Settings from the environment, in one typed object with local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def env_text(name: str, default: str = "") -> str:
    """A setting as text, surrounding blanks removed; `default` when unset or blank."""
    return os.environ.get(name, "").strip() or default


def env_number(name: str, default: float, kind: type = int):
    """A numeric setting (`kind` int or float); a malformed value is an error that names the setting."""
    raw = env_text(name)
    if not raw:
        return kind(default)
    try:
        return kind(raw)
    except ValueError as err:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"setting {name} must be {what}, got {raw!r}") from err


def env_path(name: str, default: Path) -> Path:
    raw = env_text(name)
    return Path(raw).expanduser().resolve() if raw else default


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    data_dir: Path
    business_file: Path
    booking_now: datetime | None
    rasa_port: int
    actions_port: int
    dashboard_port: int
    gateway_port: int
    rasa_url: str
    db_connect_timeout: int  # seconds
    db_statement_timeout_ms: int
    rasa_servers: int  # Rasa servers the local stack starts (more than one share a Redis lock store)
    redis_port: int
    handoff_quiet_hours: float  # an open handoff with no staff activity for this long goes back to the bot

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def embedded_pgdata(self) -> Path:
        return self.data_dir / "postgres"


def _parse_now(raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError as err:
        raise ValueError(
            f"setting BOOKING_NOW must be an ISO 8601 date-time such as 2026-12-01T10:00+07:00, got {raw!r}"
        ) from err


def load_settings() -> Settings:
    rasa_port = env_number("RASA_PORT", 5005)
    return Settings(
        database_url=os.environ.get("DATABASE_URL", "").strip() or None,
        data_dir=env_path("DATA_DIR", PROJECT_ROOT / ".data"),
        business_file=env_path("BUSINESS_FILE", PROJECT_ROOT / "data" / "business.yml"),
        booking_now=_parse_now(os.environ.get("BOOKING_NOW", "")),
        rasa_port=rasa_port,
        actions_port=env_number("ACTIONS_PORT", 5055),
        dashboard_port=env_number("DASHBOARD_PORT", 8000),
        gateway_port=env_number("GATEWAY_PORT", 8080),
        rasa_url=os.environ.get("RASA_URL", "").strip() or f"http://127.0.0.1:{rasa_port}",
        db_connect_timeout=env_number("DB_CONNECT_TIMEOUT", 5),
        db_statement_timeout_ms=env_number("DB_STATEMENT_TIMEOUT_MS", 5000),
        rasa_servers=max(1, env_number("RASA_SERVERS", 1)),
        redis_port=env_number("REDIS_PORT", 6379),
        handoff_quiet_hours=env_number("HANDOFF_QUIET_HOURS", 12, float),
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
