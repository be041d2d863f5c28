"""Shared fixtures: one real PostgreSQL and (for end-to-end tests) one stack per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# The clock of every test, and of the servers the tests start: Tuesday 1 December 2026, 10:00 local.
PINNED_NOW = "2026-12-01T10:00:00+07:00"
os.environ["BOOKING_NOW"] = PINNED_NOW
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core import bookings, db  # noqa: E402
from core.business import business  # noqa: E402
from core.settings import settings  # noqa: E402
from scripts.stack import free_port  # noqa: E402, F401  (tests import it from here)


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private PostgreSQL for the session (or TEST_DATABASE_URL), migrated and seeded."""
    url = os.environ.get("TEST_DATABASE_URL")
    server = None
    if not url:
        import pgserver

        server = pgserver.get_server(tmp_path_factory.mktemp("pg") / "data", cleanup_mode="delete")
        url = server.get_uri()
    os.environ["DATABASE_URL"] = url
    settings.cache_clear()
    business.cache_clear()
    db.reset_pool()
    db.migrate()
    bookings.seed_catalogue()
    yield url
    db.reset_pool()
    if server is not None:
        server.cleanup()


@pytest.fixture
def clean_db(database: str) -> str:
    """The session database with no customers or bookings (the catalogue stays)."""
    with db.transaction() as cur:
        cur.execute("TRUNCATE booking_history, bookings, customers, handoffs, staff_messages RESTART IDENTITY CASCADE")
    return database


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def stack(database: str, knowledge_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The real action server and Rasa server (trained model, REST channel, HTTP API) on free ports."""
    from scripts import stack as launcher

    if not launcher.MODEL.exists():
        pytest.fail(f"no trained model at {launcher.MODEL}: `make test` trains it first")
    logs = tmp_path_factory.mktemp("logs")
    actions_port, rasa_port = free_port(), free_port()
    env = launcher.stack_env(database)
    env.update(
        ACTIONS_PORT=str(actions_port),
        RASA_PORT=str(rasa_port),
        BOOKING_NOW=PINNED_NOW,
        RAG_INDEX_DIR=str(knowledge_dir),
    )
    with (
        launcher.action_server(env, port=actions_port, log=logs / "actions.log"),
        launcher.rasa_server(env, port=rasa_port, log=logs / "rasa.log"),
    ):
        yield {
            "rasa_url": f"http://127.0.0.1:{rasa_port}",
            "actions_url": f"http://127.0.0.1:{actions_port}",
            "actions_token": env["ACTIONS_TOKEN"],
            "logs": str(logs),
        }


@pytest.fixture(scope="session")
def knowledge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo business's knowledge index, built once per session in a private folder."""
    from rag import index as rag_index

    folder = tmp_path_factory.mktemp("rag-index")
    rag_index.build(folder)
    return folder


@pytest.fixture(scope="session")
def knowledge(knowledge_dir: Path):
    """A Knowledge over the session's index (the embedding model is loaded once per session)."""
    from rag.knowledge import Knowledge

    return Knowledge(knowledge_dir)
