"""The knowledge index as the dashboard shows it: its status, and a rebuild one at a time."""

from __future__ import annotations

import threading
from typing import Any

_rebuilding = threading.Lock()


class RebuildRunning(RuntimeError):
    """A rebuild started from this dashboard is still running."""


def status() -> dict[str, Any]:
    """The index's version, documents, chunk counts and build time; `available` False when none is usable."""
    from rag import index as rag_index  # loads the embedding stack only when asked

    try:
        return {"available": True, **rag_index.status()}
    except (rag_index.IndexMissing, rag_index.IndexCorrupt) as err:
        return {"available": False, "error": str(err), "documents": [], "document_count": 0, "chunk_count": 0}


def rebuild() -> dict[str, Any]:
    """Rebuild the index from the knowledge documents (only changed chunks are embedded again)."""
    from rag import index as rag_index

    if not _rebuilding.acquire(blocking=False):
        raise RebuildRunning("a rebuild is already running")
    try:
        return {"available": True, **rag_index.build()}
    finally:
        _rebuilding.release()
