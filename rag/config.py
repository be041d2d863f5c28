"""Settings of the knowledge index, from the environment with local defaults."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.settings import PROJECT_ROOT, env_number, env_path, env_text, settings


@dataclass(frozen=True)
class RagSettings:
    documents_dir: Path  # the knowledge Markdown files
    index_dir: Path  # the built index: index.faiss, manifest.json, chunks.json
    min_score: float  # below this confidence (see rag.knowledge) the assistant says it doesn't know
    multilingual_min_score: float  # the same for the languages multilingual-e5 reads (its confidence is centred)
    approximate_above: int  # chunk count from which an HNSW index replaces exact search
    max_answer_chars: int
    # the live index in S3 (rag.remote): both set on AWS by the template, both empty locally (no remote index)
    index_bucket: str  # INDEX_BUCKET: the published artefacts, s3://<bucket>/<index_name>/<version>/
    pointer_table: str  # KNOWLEDGE_TABLE: one DynamoDB item per index name naming the live version
    index_name: str
    pointer_check_seconds: float  # how often a running Knowledge reads the pointer


@lru_cache(maxsize=1)
def rag_settings() -> RagSettings:
    return RagSettings(
        documents_dir=env_path("RAG_DOCUMENTS_DIR", PROJECT_ROOT / "rag" / "documents"),
        index_dir=env_path("RAG_INDEX_DIR", settings().data_dir / "rag-index"),
        min_score=env_number("RAG_MIN_SCORE", 0.48, float),
        multilingual_min_score=env_number("RAG_MULTILINGUAL_MIN_SCORE", 0.13, float),
        approximate_above=env_number("RAG_APPROXIMATE_ABOVE", 50_000),
        max_answer_chars=640,
        index_bucket=env_text("INDEX_BUCKET"),
        pointer_table=env_text("KNOWLEDGE_TABLE"),
        index_name=env_text("RAG_INDEX_NAME", "knowledge"),
        pointer_check_seconds=env_number("RAG_POINTER_CHECK_SECONDS", 60.0, float),
    )
