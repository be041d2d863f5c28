"""The knowledge index as the dashboard shows it: its status, and a rebuild one at a time.

Locally the index is the folder the action server reads, and a rebuild runs here. On AWS (INDEX_BUCKET and
KNOWLEDGE_TABLE set) the status is the published index: the pointer item and the manifest it names in S3,
compared with the documents under documents/; a rebuild runs as a one-off ECS task of the action-server
image, the one that carries the embedding model (deploy/rebuild_knowledge.py), and publishes the new index
so every action server picks it up. Nothing here needs faiss or numpy on AWS.
"""

from __future__ import annotations

import threading
from typing import Any

from dashboard.settings import RebuildTask, dashboard_settings
from rag.chunking import DocumentError, language_counts, parse_document
from rag.config import rag_settings
from rag.remote import DOCUMENTS_PREFIX, RemoteIndex

_rebuilding = threading.Lock()
TASK_RUNNING = {"PROVISIONING", "PENDING", "ACTIVATING", "RUNNING"}
REBUILD_CONTAINER = "rebuild"  # the container name in KnowledgeRebuildTaskDefinition


class RebuildRunning(RuntimeError):
    """A rebuild started from this dashboard is still running."""


def _remote() -> RemoteIndex | None:
    config = rag_settings()
    if config.index_bucket and config.pointer_table:
        return RemoteIndex(config.index_bucket, config.pointer_table, config.index_name)
    return None


def _unavailable(error: str, **more: Any) -> dict[str, Any]:
    return {"available": False, "error": error, "documents": [], "document_count": 0, "chunk_count": 0, **more}


def status() -> dict[str, Any]:
    """The index's version, documents, chunk counts and build time; `available` False when none is usable."""
    remote = _remote()
    if remote is not None:
        return _published_status(remote)
    from rag import index as rag_index  # loads the embedding stack only when asked

    try:
        return {"available": True, **rag_index.status()}
    except (rag_index.IndexMissing, rag_index.IndexCorrupt) as err:
        return _unavailable(str(err))


def _published_status(remote: RemoteIndex) -> dict[str, Any]:
    rebuild = _rebuild_state(remote)
    pointer = remote.pointer()
    if pointer is None:
        return _unavailable(
            "no index published yet (the action servers answer from the one built into their image): upload the"
            f" documents to s3://{remote.bucket}/{DOCUMENTS_PREFIX} and rebuild",
            source="published",
            rebuild=rebuild,
        )
    manifest = remote.published_manifest(pointer)
    built = {d["source"]: d["checksum"] for d in manifest["documents"]}
    try:
        documents = [parse_document(name, content) for name, content in remote.documents().items()]
        published = {d.source: d.checksum for d in documents}
        stale = published != built
    except DocumentError:
        stale = True  # a document that cannot be read: the rebuild will say which
    return {
        "available": True,
        "version": manifest["version"],
        "built_at": manifest["built_at"],
        "model": manifest["model"],
        "index_type": manifest.get("index_type"),
        "folder": f"s3://{remote.bucket}/{pointer['prefix']}",
        "documents": [{k: d[k] for k in ("source", "title", "chunks")} for d in manifest["documents"]],
        "document_count": len(manifest["documents"]),
        "languages": language_counts(manifest["documents"]),
        "chunk_count": manifest["chunk_count"],
        "stale": stale,
        "published_at": pointer.get("published_at"),
        "source": "published",
        "rebuild": rebuild,
    }


def _ecs() -> Any:
    import boto3

    return boto3.client("ecs")


def _rebuild_state(remote: RemoteIndex) -> dict[str, Any] | None:
    """The last rebuild task: running, succeeded, failed or stopped (with ECS's reason)."""
    record = remote.last_rebuild()
    task = dashboard_settings().rebuild_task
    if record is None or task is None:
        return None
    found = _ecs().describe_tasks(cluster=task.cluster, tasks=[record["task_arn"]]).get("tasks", [])
    if not found:
        return {**record, "state": "unknown", "detail": "ECS no longer knows the task"}
    described = found[0]
    if described.get("lastStatus") in TASK_RUNNING:
        return {**record, "state": "running"}
    exit_codes = [c.get("exitCode") for c in described.get("containers", []) if c.get("name") == REBUILD_CONTAINER]
    exit_code = exit_codes[0] if exit_codes else None
    state = "succeeded" if exit_code == 0 else "failed" if exit_code is not None else "stopped"
    detail = described.get("stoppedReason") or (f"exit code {exit_code}" if exit_code else None)
    return {**record, "state": state, "detail": detail}


def _start_task(remote: RemoteIndex, task: RebuildTask) -> dict[str, Any]:
    state = _rebuild_state(remote)
    if state is not None and state["state"] == "running":
        raise RebuildRunning("a rebuild is already running")
    started = _ecs().run_task(
        cluster=task.cluster,
        taskDefinition=task.task_definition,
        launchType="FARGATE",
        count=1,
        startedBy="lotus-dashboard",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(task.subnets),
                "securityGroups": [task.security_group],
                "assignPublicIp": "DISABLED",
            }
        },
    )
    if not started.get("tasks"):
        reasons = "; ".join(f.get("reason", "?") for f in started.get("failures", [])) or "no task started"
        return {**status(), "rebuild": {"state": "failed", "detail": f"ECS refused the task: {reasons}"}}
    remote.record_rebuild(started["tasks"][0]["taskArn"], "dashboard")
    return {**status(), "rebuild": {**(remote.last_rebuild() or {}), "state": "running"}}


def rebuild() -> dict[str, Any]:
    """Rebuild the index: here from the local documents (only changed chunks are embedded again), or on AWS
    by starting the rebuild task, whose state `status()` then reports."""
    remote, task = _remote(), dashboard_settings().rebuild_task
    if remote is not None and task is not None:
        return _start_task(remote, task)
    from rag import index as rag_index

    if not _rebuilding.acquire(blocking=False):
        raise RebuildRunning("a rebuild is already running")
    try:
        return {"available": True, **rag_index.build()}
    finally:
        _rebuilding.release()
