"""Settings from the environment, in one typed object with local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as err:
        raise ValueError(f"setting {name} must be a whole number, got {raw!r}") from err


def _env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name, "").strip()
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
    rasa_port = _env_int("RASA_PORT", 5005)
    return Settings(
        database_url=os.environ.get("DATABASE_URL", "").strip() or None,
        data_dir=_env_path("DATA_DIR", PROJECT_ROOT / ".data"),
        business_file=_env_path("BUSINESS_FILE", PROJECT_ROOT / "data" / "business.yml"),
        booking_now=_parse_now(os.environ.get("BOOKING_NOW", "")),
        rasa_port=rasa_port,
        actions_port=_env_int("ACTIONS_PORT", 5055),
        dashboard_port=_env_int("DASHBOARD_PORT", 8000),
        gateway_port=_env_int("GATEWAY_PORT", 8080),
        rasa_url=os.environ.get("RASA_URL", "").strip() or f"http://127.0.0.1:{rasa_port}",
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
