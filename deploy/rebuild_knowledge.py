"""The knowledge rebuild task on AWS: the published documents -> a new index -> published as the live one.

    python -m deploy.rebuild_knowledge

It runs as a one-off ECS task of the action-server image (KnowledgeRebuildTaskDefinition in
deploy/template.yaml), started by the dashboard's "Rebuild" button: that image carries torch, the MiniLM
weights and rag/, which the Lambda image leaves out, and a task is not held to API Gateway's 30 seconds.

1. The documents under s3://INDEX_BUCKET/documents/ replace the `*.md` files of RAG_DOCUMENTS_DIR (a
   scratch folder: it must be set explicitly).
2. The live index is fetched into RAG_INDEX_DIR first, so only changed documents are embedded again.
3. The index is built and published (files, then manifest, then the pointer in KNOWLEDGE_TABLE); every
   action server serves it within RAG_POINTER_CHECK_SECONDS. Publishing the same documents twice gives the
   same version, so two rebuilds at once do no harm.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from rag import index as rag_index
from rag.chunking import DocumentError
from rag.config import RagSettings, rag_settings
from rag.remote import DOCUMENTS_PREFIX, RemoteIndex

log = logging.getLogger("deploy.rebuild_knowledge")


class RebuildError(RuntimeError):
    """The rebuild cannot run: a setting or the documents are missing."""


def run(config: RagSettings | None = None) -> dict[str, Any]:
    """Rebuild from the published documents and publish; returns the new pointer with the build's figures."""
    if not os.environ.get("RAG_DOCUMENTS_DIR"):
        raise RebuildError(
            "set RAG_DOCUMENTS_DIR to a scratch folder: its documents are replaced by the published ones"
        )
    config = config or rag_settings()
    if not (config.index_bucket and config.pointer_table):
        raise RebuildError("the rebuild needs INDEX_BUCKET and KNOWLEDGE_TABLE")
    remote = RemoteIndex(config.index_bucket, config.pointer_table, config.index_name)
    count = remote.download_documents(config.documents_dir)
    if count == 0:
        raise RebuildError(
            f"no knowledge documents under s3://{config.index_bucket}/{DOCUMENTS_PREFIX}: upload them first"
            " (deploy/README.md, the knowledge documents)"
        )
    try:
        on_disk = rag_index.read_manifest(config.index_dir)["version"]
    except (rag_index.IndexMissing, rag_index.IndexCorrupt):
        on_disk = None
    try:
        remote.fetch_if_changed(config.index_dir, on_disk)
    except Exception as err:  # noqa: BLE001 - a damaged live artefact only costs re-embedding everything
        log.warning("the live index could not be fetched, building from scratch: %s", err)
    report = rag_index.build(config.index_dir, config.documents_dir)
    pointer = remote.publish(config.index_dir)
    log.info("knowledge index %s published: %d documents, %d chunks", pointer["version"], count, report["chunk_count"])
    return {
        **pointer,
        "document_count": report["document_count"],
        "chunk_count": report["chunk_count"],
        "embedded": report["embedded"],
    }


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        result = run()
    except (RebuildError, DocumentError, rag_index.IndexCorrupt) as err:
        log.error("knowledge rebuild failed: %s", err)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
