"""Settings of the knowledge index, from the environment with local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from actions.settings import PROJECT_ROOT, settings


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as err:
        raise ValueError(f"setting {name} must be a number, got {raw!r}") from err


@dataclass(frozen=True)
class RagSettings:
    documents_dir: Path  # the knowledge Markdown files
    index_dir: Path  # the built index: index.faiss, manifest.json, chunks.json
    min_score: float  # below this cosine similarity the assistant says it doesn't know
    approximate_above: int  # chunk count from which an HNSW index replaces exact search
    max_answer_chars: int


@lru_cache(maxsize=1)
def rag_settings() -> RagSettings:
    def path(name: str, default: Path) -> Path:
        raw = os.environ.get(name, "").strip()
        return Path(raw).expanduser().resolve() if raw else default

    return RagSettings(
        documents_dir=path("RAG_DOCUMENTS_DIR", PROJECT_ROOT / "rag" / "documents"),
        index_dir=path("RAG_INDEX_DIR", settings().data_dir / "rag-index"),
        min_score=_env_float("RAG_MIN_SCORE", 0.48),
        approximate_above=int(_env_float("RAG_APPROXIMATE_ABOVE", 50_000)),
        max_answer_chars=640,
    )
