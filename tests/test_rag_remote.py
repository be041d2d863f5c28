"""The live knowledge index on AWS (rag.remote): publish to S3, swap the DynamoDB pointer, fetch, hot reload.

Against moto in server mode, with the pointer table built from the template's own key schema.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from deploy.connector.tables import KNOWLEDGE_POINTER
from rag import index as rag_index
from rag import remote
from rag.__main__ import main as rag_cli
from rag.config import rag_settings
from rag.knowledge import Knowledge
from tests.connector.conftest import moto_server  # noqa: F401

DOCUMENTS = rag_settings().documents_dir
WIFI_QUESTION = "what is the name of the wifi network?"


@pytest.fixture
def aws(moto_server: str) -> tuple[str, str]:  # noqa: F811
    """A fresh index bucket and knowledge pointer table on moto: (bucket, table)."""
    suffix = uuid.uuid4().hex[:10]
    bucket, table = f"lotus-index-{suffix}", f"knowledge-pointer-{suffix}"
    boto3.client("s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": boto3.session.Session().region_name}
    )
    boto3.client("dynamodb").create_table(**KNOWLEDGE_POINTER.create_table_kwargs(table))
    return bucket, table


@pytest.fixture
def pointer_env(aws: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """The settings the template gives the action server, pointing at `aws`, with a pointer check on every query."""
    bucket, table = aws
    monkeypatch.setenv("INDEX_BUCKET", bucket)
    monkeypatch.setenv("KNOWLEDGE_TABLE", table)
    monkeypatch.setenv("RAG_POINTER_CHECK_SECONDS", "0")
    rag_settings.cache_clear()
    yield aws
    monkeypatch.undo()
    rag_settings.cache_clear()


@pytest.fixture
def built(knowledge_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the session index and of the documents it was built from: (index folder, documents)."""
    documents = shutil.copytree(DOCUMENTS, tmp_path / "documents")
    return shutil.copytree(knowledge_dir, tmp_path / "build"), documents


def version_of(folder: Path) -> str:
    return rag_index.read_manifest(folder)["version"]


def test_publish_then_fetch_into_an_empty_folder_serves_answers(aws, built, tmp_path):
    bucket, table = aws
    folder, documents = built
    pointer = remote.publish(folder, bucket, table)
    assert pointer["version"] == version_of(folder)
    assert pointer["prefix"] == f"knowledge/{pointer['version']}/"
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"index_name": {"S": "knowledge"}})["Item"]
    assert item["version"]["S"] == pointer["version"] and item["published_at"]["S"]
    keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {pointer["prefix"] + name for name in remote.FILES}

    served = tmp_path / "served" / "rag-index"
    assert remote.fetch_if_changed(served, bucket, table, "knowledge", None) == pointer["version"]
    assert rag_index.load(served).version == pointer["version"]
    assert [p.name for p in served.parent.iterdir()] == ["rag-index"]  # no staging folder left behind
    answer = Knowledge(served, documents).answer(WIFI_QUESTION)
    assert answer is not None and answer.source == "wifi.md" and "LotusGuest" in answer.text


def test_a_running_knowledge_picks_up_a_republished_index_without_being_recreated(pointer_env, built, tmp_path):
    bucket, table = pointer_env
    folder, documents = built
    remote.publish(folder, bucket, table)
    knowledge = Knowledge(tmp_path / "served", documents)
    assert knowledge.remote is not None
    assert "LotusGuest" in knowledge.answer(WIFI_QUESTION).text  # fetched on the first query, no local build

    wifi = documents / "wifi.md"
    wifi.write_text(wifi.read_text().replace("LotusGuest", "LotusSpaFree"))
    rag_index.build(folder, documents)
    new = remote.publish(folder, bucket, table)["version"]

    answer = knowledge.answer(WIFI_QUESTION)
    assert answer is not None and "LotusSpaFree" in answer.text and "LotusGuest" not in answer.text
    assert knowledge.current().version == new == version_of(tmp_path / "served")


def test_fetch_does_nothing_when_the_pointer_is_unchanged_or_absent(aws, built, tmp_path, monkeypatch):
    bucket, table = aws
    folder, _ = built
    version = remote.publish(folder, bucket, table)["version"]
    served = tmp_path / "served"
    assert remote.fetch_if_changed(served, bucket, table, "knowledge", None) == version
    before = {p.name: p.stat().st_mtime_ns for p in served.iterdir()}

    def no_download(self, key, path):
        raise AssertionError(f"downloaded {key}")

    monkeypatch.setattr(remote.RemoteIndex, "_download", no_download)
    assert remote.fetch_if_changed(served, bucket, table, "knowledge", version) is None
    assert remote.fetch_if_changed(served, bucket, table, "another-index", None) is None  # no pointer
    assert {p.name: p.stat().st_mtime_ns for p in served.iterdir()} == before


def test_a_pointer_to_missing_or_corrupt_files_leaves_the_loaded_index_serving(pointer_env, built, tmp_path, caplog):
    bucket, table = pointer_env
    folder, documents = built
    good = remote.publish(folder, bucket, table)["version"]
    served = tmp_path / "served"
    knowledge = Knowledge(served, documents)
    expected = knowledge.answer(WIFI_QUESTION)
    assert expected is not None and knowledge.current().version == good

    s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")

    def point_at(version: str, prefix: str) -> None:
        dynamodb.put_item(
            TableName=table,
            Item={"index_name": {"S": "knowledge"}, "version": {"S": version}, "prefix": {"S": prefix}},
        )

    # the files of another version, with chunks.json altered after the manifest was written
    for name in remote.FILES:
        s3.upload_file(str(folder / name), bucket, f"knowledge/corrupt/{name}")
    chunks = json.loads((folder / rag_index.CHUNKS_FILE).read_text())
    chunks[0]["text"] = "Wi-Fi is not available."
    s3.put_object(Bucket=bucket, Key="knowledge/corrupt/chunks.json", Body=json.dumps(chunks).encode())

    for version, prefix in [("missing", "knowledge/missing/"), ("corrupt", "knowledge/corrupt/")]:
        point_at(version, prefix)
        caplog.clear()
        assert knowledge.answer(WIFI_QUESTION) == expected  # no exception escapes
        assert knowledge.current().version == good == version_of(served)
        assert "pointer check failed" in caplog.text
        assert sorted(p.name for p in served.parent.iterdir()) == ["build", "documents", "served"]


def test_publish_from_the_command_line(aws, built, monkeypatch, capsys):
    folder, documents = built
    monkeypatch.setenv("RAG_INDEX_DIR", str(folder))
    monkeypatch.setenv("RAG_DOCUMENTS_DIR", str(documents))
    monkeypatch.delenv("INDEX_BUCKET", raising=False)
    monkeypatch.delenv("KNOWLEDGE_TABLE", raising=False)
    rag_settings.cache_clear()
    try:
        assert rag_cli(["publish", "--quiet"]) == 2
        assert "INDEX_BUCKET" in capsys.readouterr().err

        bucket, table = aws
        monkeypatch.setenv("INDEX_BUCKET", bucket)
        monkeypatch.setenv("KNOWLEDGE_TABLE", table)
        rag_settings.cache_clear()
        assert rag_cli(["publish", "--quiet"]) == 0
        assert version_of(folder) in capsys.readouterr().out
        assert remote.RemoteIndex(bucket, table).pointer()["version"] == version_of(folder)
    finally:
        monkeypatch.undo()
        rag_settings.cache_clear()


def test_without_bucket_and_table_knowledge_stays_local(knowledge):
    assert knowledge.remote is None


def test_the_pointer_is_read_at_most_every_interval_and_by_one_thread(pointer_env, built, tmp_path, monkeypatch):
    bucket, table = pointer_env
    folder, documents = built
    remote.publish(folder, bucket, table)
    monkeypatch.setenv("RAG_POINTER_CHECK_SECONDS", "3600")
    rag_settings.cache_clear()
    knowledge = Knowledge(tmp_path / "served", documents)
    reads = []
    read = remote.RemoteIndex.pointer
    monkeypatch.setattr(remote.RemoteIndex, "pointer", lambda self: reads.append(1) or read(self))
    for _ in range(3):
        knowledge.current()
    assert len(reads) == 1

    knowledge._next_check = 0.0  # due again, but another thread is checking: this one does not wait or read
    with knowledge._remote_lock:
        assert knowledge.current().version == version_of(folder)
    assert len(reads) == 1
