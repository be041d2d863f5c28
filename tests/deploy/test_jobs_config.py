"""The jobs' settings: the database URL from the RDS secret (moto's Secrets Manager), and missing settings."""

from __future__ import annotations

import json
import os
import uuid
from urllib.parse import unquote, urlsplit

import boto3
import pytest

from core import db
from deploy.connector.config import ConfigError
from deploy.jobs import config


def test_the_database_url_is_built_from_the_rds_secret(moto_server, monkeypatch):
    secret = {"username": "lotus", "password": "p@ss/w:rd", "host": "db.internal", "port": 5432, "dbname": "lotus"}
    arn = boto3.client("secretsmanager").create_secret(Name=f"db-{uuid.uuid4().hex}", SecretString=json.dumps(secret))[
        "ARN"
    ]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_SECRET_ARN", arn)
    try:
        url = urlsplit(config.database_secret_url())
        assert (url.hostname, url.port, url.path, url.username) == ("db.internal", 5432, "/lotus", "lotus")
        assert unquote(url.password) == "p@ss/w:rd"  # escaped in the URL, whole again when read
        assert url.query == "sslmode=require"
        config.use_database_secret()
        assert db.database_url() == url.geturl()  # the database module connects there, the environment is untouched
        assert "DATABASE_URL" not in os.environ
    finally:
        monkeypatch.undo()
        db.reset_pool()  # back to the session's database


def test_a_set_database_url_wins_and_nothing_is_fetched(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://local/db")
    monkeypatch.setenv("DATABASE_SECRET_ARN", "arn:aws:secretsmanager:ap-southeast-1:000000000000:secret:none")
    assert config.database_secret_url() is None  # would fail to fetch: there is no such secret and no AWS


def test_the_archive_needs_its_bucket(monkeypatch):
    monkeypatch.delenv("ARCHIVE_BUCKET", raising=False)
    with pytest.raises(ConfigError, match="ARCHIVE_BUCKET"):
        config.archive_settings()
    monkeypatch.setenv("ARCHIVE_BUCKET", "b")
    monkeypatch.setenv("ARCHIVE_PART_BYTES", "1024")
    assert config.archive_settings().part_bytes == 5 * 1024 * 1024  # S3's smallest part
