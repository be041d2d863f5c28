"""Fixtures of the deployment tests: the connector's moto server and Graph API stand-in, the archive bucket,
Rasa's tracker-store table, and the reminder job's settings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import boto3
import pytest

from core import db
from core.business import business
from deploy.connector import config
from deploy.jobs import reminder
from tests.connector.conftest import APP_SECRET, PAGE_TOKEN, VERIFY_TOKEN, GraphStub, graph, moto_server  # noqa: F401

# Rasa 3.6's SQL tracker store table, as its SQLAlchemy model creates it on PostgreSQL.
RASA_EVENTS_TABLE = """
CREATE TABLE IF NOT EXISTS events (
    id serial PRIMARY KEY,
    sender_id varchar(255) NOT NULL,
    type_name varchar(255) NOT NULL,
    timestamp double precision,
    intent_name varchar(255),
    action_name varchar(255),
    data text
)
"""


@pytest.fixture(scope="session")
def tracker_events(database: str) -> str:
    """Rasa's `events` table in the session database (created as Rasa would, if no Rasa server made it yet)."""
    with db.transaction() as cur:
        cur.execute(RASA_EVENTS_TABLE)
    return database


def insert_events(rows: list[tuple[str, str, float, str | None, str | None, str]]) -> None:
    """(sender_id, type_name, timestamp, intent_name, action_name, data) rows into Rasa's table."""
    with db.transaction() as cur:
        cur.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            rows,
        )


@pytest.fixture
def archive_bucket(moto_server: str) -> str:  # noqa: F811
    """A fresh bucket on moto's S3."""
    name = f"lotus-archive-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": boto3.session.Session().region_name}
    )
    return name


@pytest.fixture
def reminder_env(clean_db: str, graph: GraphStub, monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphStub]:  # noqa: F811
    """The reminder job's settings pointing at the Graph API stand-in, with an empty booking book."""
    env = {
        "GRAPH_API_URL": graph.url,
        "MESSENGER_APP_SECRET": APP_SECRET,
        "MESSENGER_VERIFY_TOKEN": VERIFY_TOKEN,
        "MESSENGER_PAGE_TOKEN": PAGE_TOKEN,
        "RETRY_ATTEMPTS": "2",
        "RETRY_BASE_DELAY": "0.01",
        "RETRY_MAX_DELAY": "0.02",
        "GRAPH_TIMEOUT": "5",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MESSENGER_SECRET_NAME", raising=False)
    with graph.lock:
        graph.calls.clear()
        graph.failures.clear()
        graph.stalls = 0
    config.settings.cache_clear()
    reminder.graph_client.cache_clear()
    yield graph
    config.settings.cache_clear()
    reminder.graph_client.cache_clear()


def make_booking(sender: str, service: str, staff: str, starts_at: datetime, name: str = "Lan") -> db.Booking:
    """A confirmed booking written straight through the database module (the rules are tested elsewhere)."""
    duration = business().duration(service)
    return db.create_booking(
        sender_id=sender,
        customer_name=name,
        customer_phone="+84 90 123 4567",
        service=service,
        staff=staff,
        starts_at=starts_at,
        ends_at=starts_at + duration,
        price=Decimal("18.00"),
        reference_prefix="LS",
        max_upcoming=50,
        now=business().now(),
        actor="test",
    )


ARCHIVE_TEST_YEAR = (datetime(2025, 1, 1).timestamp(), datetime(2026, 1, 1).timestamp())


@pytest.fixture
def archive_db(tracker_events: str, clean_db: str) -> str:
    """No bookings, and no tracker events in 2025 (the archive tests' year: no other suite writes there)."""
    with db.transaction() as cur:
        cur.execute("DELETE FROM events WHERE timestamp >= %s AND timestamp < %s", ARCHIVE_TEST_YEAR)
    return clean_db


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A private Redis server (Debian's redis-server) on a free loopback port, for the session."""
    from scripts.stack import redis_server
    from tests.conftest import free_port

    port = free_port()
    with redis_server(port, log=tmp_path_factory.mktemp("redis") / "redis.log"):
        yield port
