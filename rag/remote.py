"""The live knowledge index on AWS: artefacts in S3, a DynamoDB item naming the version to serve.

`publish()` uploads a built index to `s3://<bucket>/<index_name>/<version>/` (the manifest last) and then
swaps the pointer item {index_name, version, prefix, published_at}. `fetch_if_changed()` reads the pointer
and, when it names another version, downloads the artefact beside the local index folder, checks it with
`rag.index.load` and replaces the local files in the order `rag.index.build` writes them (manifest last):
a running `Knowledge` then reloads it as it would a local rebuild.

The documents an index is built from live beside it, under `documents/` (uploaded by the operator, read by
the rebuild task `deploy.rebuild_knowledge`); a second item (`<index_name>#rebuild`) remembers the last
rebuild task the dashboard started. Reading the pointer, the published manifest and the documents needs
no faiss or numpy (the dashboard's Lambda image has neither): `rag.index` is imported only to publish and
fetch.

boto3 clients are made on first use; `AWS_ENDPOINT_URL` (moto locally) is honoured by boto3 itself.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rag.chunking import document_paths, is_document_path

log = logging.getLogger(__name__)

# rag.index's INDEX_FILE, CHUNKS_FILE and MANIFEST_FILE (tests/test_rag_remote.py checks), in the order
# rag.index.build writes them: a reader never sees a manifest before the files it describes
MANIFEST_FILE = "manifest.json"
FILES = ("index.faiss", "chunks.json", MANIFEST_FILE)
DEFAULT_INDEX_NAME = "knowledge"
DOCUMENTS_PREFIX = "documents/"
REBUILD_RECORD_DAYS = 30  # how long the record of a rebuild is kept (the table's TTL)


class RemoteIndex:
    """One index name in one bucket and pointer table. Thread-safe once its clients exist."""

    def __init__(self, bucket: str, table: str, index_name: str = DEFAULT_INDEX_NAME) -> None:
        if not bucket or not table:
            raise ValueError("the remote knowledge index needs a bucket (INDEX_BUCKET) and a table (KNOWLEDGE_TABLE)")
        self.bucket = bucket
        self.table = table
        self.index_name = index_name
        self._clients: tuple[Any, Any] | None = None
        self._clients_lock = threading.Lock()

    def _s3_and_dynamodb(self) -> tuple[Any, Any]:
        if self._clients is None:
            with self._clients_lock:
                if self._clients is None:
                    import boto3

                    session = boto3.session.Session()  # a session of our own: the default one is not thread-safe
                    self._clients = (session.client("s3"), session.client("dynamodb"))
        return self._clients

    def pointer(self) -> dict[str, str] | None:
        """The live pointer item ({index_name, version, prefix, published_at}), or None when there is none."""
        _, dynamodb = self._s3_and_dynamodb()
        item = dynamodb.get_item(TableName=self.table, Key={"index_name": {"S": self.index_name}}).get("Item")
        if not item:
            return None
        return {name: value["S"] for name, value in item.items() if "S" in value}

    def published_manifest(self, pointer: dict[str, str]) -> dict[str, Any]:
        """The manifest of the version `pointer` names, read from S3 (raises botocore errors when missing)."""
        s3, _ = self._s3_and_dynamodb()
        prefix = pointer.get("prefix") or f"{self.index_name}/{pointer['version']}/"
        body = s3.get_object(Bucket=self.bucket, Key=prefix + MANIFEST_FILE)["Body"].read()
        return json.loads(body)

    def documents(self) -> dict[str, bytes]:
        """The knowledge documents under `documents/`: path (`parking.md`, `vi/parking.md`) -> content."""
        s3, _ = self._s3_and_dynamodb()
        found: dict[str, bytes] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=DOCUMENTS_PREFIX):
            for item in page.get("Contents", []):
                name = item["Key"][len(DOCUMENTS_PREFIX) :]
                if is_document_path(name):
                    found[name] = s3.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
        return found

    def download_documents(self, folder: Path) -> int:
        """Replace the `*.md` files of `folder` with the published documents; returns how many there are."""
        documents = self.documents()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for old in document_paths(folder):
            (folder / old).unlink()
        for name, content in documents.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
        return len(documents)

    def _rebuild_key(self) -> dict[str, Any]:
        return {"index_name": {"S": f"{self.index_name}#rebuild"}}

    def record_rebuild(self, task_arn: str, started_by: str) -> dict[str, str]:
        """Remember the rebuild task just started (the dashboard shows its state)."""
        _, dynamodb = self._s3_and_dynamodb()
        now = datetime.now(UTC)
        record = {"task_arn": task_arn, "started_by": started_by, "started_at": now.isoformat(timespec="seconds")}
        item = {**self._rebuild_key(), **{k: {"S": v} for k, v in record.items()}}
        item["expires_at"] = {"N": str(int((now + timedelta(days=REBUILD_RECORD_DAYS)).timestamp()))}
        dynamodb.put_item(TableName=self.table, Item=item)
        return record

    def last_rebuild(self) -> dict[str, str] | None:
        """The last rebuild task started ({task_arn, started_by, started_at}), or None."""
        _, dynamodb = self._s3_and_dynamodb()
        item = dynamodb.get_item(TableName=self.table, Key=self._rebuild_key()).get("Item")
        if not item:
            return None
        return {name: value["S"] for name, value in item.items() if "S" in value and name != "index_name"}

    def publish(self, folder: Path) -> dict[str, str]:
        """Upload the index in `folder` (checked first) and point the live pointer at it; returns the pointer."""
        from rag import index as rag_index

        folder = Path(folder)
        version = rag_index.load(folder).version  # raises IndexMissing/IndexCorrupt: never publish a broken index
        prefix = f"{self.index_name}/{version}/"
        s3, dynamodb = self._s3_and_dynamodb()
        for name in FILES:
            s3.upload_file(str(folder / name), self.bucket, prefix + name)
        pointer = {
            "index_name": self.index_name,
            "version": version,
            "prefix": prefix,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        dynamodb.put_item(TableName=self.table, Item={name: {"S": value} for name, value in pointer.items()})
        log.info("knowledge index %s published to s3://%s/%s", version, self.bucket, prefix)
        return pointer

    def _download(self, key: str, path: Path) -> None:
        s3, _ = self._s3_and_dynamodb()
        s3.download_file(self.bucket, key, str(path))

    def fetch_if_changed(self, local_folder: Path, current_version: str | None) -> str | None:
        """Install the pointer's version into `local_folder` when it differs from `current_version`.

        Returns the new version, or None when there is no pointer or it names `current_version`. Raises
        (IndexCorrupt, botocore errors, OSError) with `local_folder` untouched when the artefact is missing
        or does not match its manifest.
        """
        from rag import index as rag_index

        pointer = self.pointer()
        if pointer is None or pointer.get("version") == current_version:
            return None
        version, prefix = pointer["version"], pointer.get("prefix") or f"{self.index_name}/{pointer['version']}/"
        local_folder = Path(local_folder)
        local_folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{local_folder.name}.fetch-", dir=local_folder.parent))
        try:
            for name in FILES:
                self._download(prefix + name, staging / name)
            fetched = rag_index.load(staging)  # the checksums of the manifest
            if fetched.version != version:
                raise rag_index.IndexCorrupt(
                    f"s3://{self.bucket}/{prefix} holds version {fetched.version}, the pointer names {version}"
                )
            with rag_index.build_lock(local_folder):  # not while a local build writes the same files
                for name in FILES:
                    os.replace(staging / name, local_folder / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log.info("knowledge index %s fetched from s3://%s/%s", version, self.bucket, prefix)
        return version


def publish(folder: Path, bucket: str, table: str, index_name: str = DEFAULT_INDEX_NAME) -> dict[str, str]:
    return RemoteIndex(bucket, table, index_name).publish(folder)


def fetch_if_changed(
    local_folder: Path, bucket: str, table: str, index_name: str, current_version: str | None
) -> str | None:
    return RemoteIndex(bucket, table, index_name).fetch_if_changed(local_folder, current_version)
