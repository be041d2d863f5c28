"""The index: a folder holding `index.faiss`, `chunks.json` (id -> text, source, heading) and
`manifest.json` (model, dimension, build time, document checksums, version). No pickles.

`build()` re-embeds only documents whose checksum changed and writes the manifest last, with
the checksums of the other two files, so a reader never mixes two builds: `load()` checks them.
Exact inner-product search (cosine on unit vectors) up to `approximate_above` chunks, HNSW above.
Each chunk is embedded by the model of its language (`rag.embedding`); a search is kept to one language's
rows, so a question is only compared with vectors of the model it was embedded by.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from tqdm import tqdm

from rag.chunking import (
    MAX_CHUNK_CHARS,
    OVERLAP_SENTENCES,
    Chunk,
    chunk_document,
    language_counts,
    read_documents,
)
from rag.config import rag_settings
from rag.embedding import DIMENSION, Embedder, shared_embedder
from rag.lexical import Lexicon

FORMAT_VERSION = 1
INDEX_FILE = "index.faiss"
CHUNKS_FILE = "chunks.json"
MANIFEST_FILE = "manifest.json"
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 128
EMBED_BATCH = 64


class IndexMissing(Exception):
    """No index has been built in the folder."""


class IndexCorrupt(Exception):
    """The folder holds an index that cannot be read or does not match its manifest."""


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    position: int  # the chunk's row in the index


@dataclass(frozen=True)
class KnowledgeIndex:
    """A loaded index: immutable, safe to search from many threads."""

    manifest: dict[str, Any]
    chunks: tuple[Chunk, ...]
    faiss_index: Any
    lexicon: Lexicon
    rows: dict[str, np.ndarray]  # language -> the rows of its chunks
    centroids: dict[str, np.ndarray]  # language -> the mean of its vectors (a question's mean similarity)

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.rows)

    def search(self, vector: np.ndarray, k: int = 3, language: str | None = None) -> list[Hit]:
        """The k nearest chunks; of one language's chunks when `language` is given."""
        rows = len(self.chunks) if language is None else len(self.rows.get(language, ()))
        if not rows:
            return []
        k = min(k, rows)
        query = vector.reshape(1, -1).astype(np.float32)
        if language is None or rows == len(self.chunks):
            scores, ids = self.faiss_index.search(query, k)
        else:
            selector = faiss.IDSelectorBatch(self.rows[language])
            params = (
                faiss.SearchParametersHNSW(sel=selector, efSearch=HNSW_EF_SEARCH)
                if hasattr(self.faiss_index, "hnsw")
                else faiss.SearchParameters(sel=selector)
            )
            scores, ids = self.faiss_index.search(query, k, params=params)
        return [Hit(self.chunks[i], float(s), int(i)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]

    def mean_similarity(self, vector: np.ndarray, language: str) -> float:
        """The question's mean cosine to the language's chunks: the level an unrelated question reaches."""
        centroid = self.centroids.get(language)
        return float(centroid @ vector) if centroid is not None else 0.0


def _folder(folder: Path | None) -> Path:
    return Path(folder) if folder else rag_settings().index_dir


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path | None = None) -> dict[str, Any]:
    path = _folder(folder) / MANIFEST_FILE
    if not path.exists():
        raise IndexMissing(f"no knowledge index at {path.parent}; build it with `python -m rag build`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise IndexCorrupt(f"the manifest {path} cannot be read: {err}") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION or "version" not in manifest:
        raise IndexCorrupt(f"the manifest {path} is not a knowledge index manifest of format {FORMAT_VERSION}")
    return manifest


def load(folder: Path | None = None) -> KnowledgeIndex:
    """The index in the folder, checked against its manifest."""
    folder = _folder(folder)
    manifest = read_manifest(folder)
    try:
        for name, expected in manifest["files"].items():
            if _sha256(folder / name) != expected:
                raise IndexCorrupt(f"{folder / name} does not match the manifest (changed or damaged)")
        rows = json.loads((folder / CHUNKS_FILE).read_text(encoding="utf-8"))
        chunks = tuple(Chunk(**row) for row in rows)
        faiss_index = faiss.read_index(str(folder / INDEX_FILE))
    except IndexCorrupt:
        raise
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as err:
        raise IndexCorrupt(f"the knowledge index at {folder} cannot be read: {err}") from err
    if faiss_index.ntotal != len(chunks) or faiss_index.d != manifest["dimension"]:
        raise IndexCorrupt(
            f"the knowledge index at {folder} holds {faiss_index.ntotal} vectors for {len(chunks)} chunks"
        )
    if hasattr(faiss_index, "hnsw"):
        faiss_index.hnsw.efSearch = HNSW_EF_SEARCH
    languages = [c.language for c in chunks]
    rows = {
        language: np.array([i for i, other in enumerate(languages) if other == language], dtype=np.int64)
        for language in dict.fromkeys(languages)
    }
    vectors = faiss_index.reconstruct_n(0, faiss_index.ntotal) if chunks else np.zeros((0, DIMENSION), np.float32)
    centroids = {language: vectors[positions].mean(axis=0) for language, positions in rows.items()}
    lexicon = Lexicon([c.embedding_text for c in chunks], languages)
    return KnowledgeIndex(manifest, chunks, faiss_index, lexicon, rows, centroids)


def make_faiss_index(vectors: np.ndarray, approximate_above: int) -> Any:
    """Exact inner product for small corpora; HNSW (inner product) from `approximate_above` vectors."""
    if len(vectors) >= approximate_above:
        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


@contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """One writer at a time per index folder (a build, or a fetch of a published index), across processes."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _previous_vectors(folder: Path, model: str) -> dict[str, tuple[str, dict[str, np.ndarray]]]:
    """source -> (checksum, chunk id -> vector) from the index on disk, if it is readable and of the same model."""
    try:
        old = load(folder)
    except (IndexMissing, IndexCorrupt):
        return {}
    if old.manifest.get("model") != model or old.manifest.get("chunking") != _chunking():
        return {}
    vectors = old.faiss_index.reconstruct_n(0, old.faiss_index.ntotal) if old.chunks else np.zeros((0, DIMENSION))
    by_source: dict[str, tuple[str, dict[str, np.ndarray]]] = {
        doc["source"]: (doc["checksum"], {}) for doc in old.manifest["documents"]
    }
    for chunk, vector in zip(old.chunks, vectors, strict=True):
        if chunk.source in by_source:
            by_source[chunk.source][1][chunk.id] = vector
    return by_source


def _chunking() -> dict[str, int]:
    return {"max_chars": MAX_CHUNK_CHARS, "overlap_sentences": OVERLAP_SENTENCES}


def _write_atomically(path: Path, write) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(temporary)
    os.replace(temporary, path)


def build(
    folder: Path | None = None,
    documents_dir: Path | None = None,
    embedder: Embedder | None = None,
    progress: bool = False,
    approximate_above: int | None = None,
) -> dict[str, Any]:
    """Build or refresh the index; returns its status plus `embedded` (chunks embedded now) and `seconds`."""
    started = time.perf_counter()
    folder = _folder(folder)
    documents_dir = documents_dir or rag_settings().documents_dir
    embedder = embedder or shared_embedder()
    approximate_above = approximate_above or rag_settings().approximate_above
    documents = read_documents(documents_dir)
    model = embedder.model_id
    with build_lock(folder):
        previous = _previous_vectors(folder, model)
        if previous and {d.source: d.checksum for d in documents} == {s: c for s, (c, _) in previous.items()}:
            return {**status(folder), "embedded": 0, "seconds": round(time.perf_counter() - started, 3)}
        chunks: list[Chunk] = []
        vectors: list[np.ndarray | None] = []
        for document in documents:
            document_chunks = chunk_document(document)
            old_checksum, old_vectors = previous.get(document.source, ("", {}))
            reuse = old_checksum == document.checksum and all(c.id in old_vectors for c in document_chunks)
            for chunk in document_chunks:
                chunks.append(chunk)
                vectors.append(old_vectors[chunk.id] if reuse else None)
        todo = [i for i, vector in enumerate(vectors) if vector is None]
        bar = tqdm(total=len(todo), desc="embedding chunks", unit="chunk", disable=not progress)
        for language in dict.fromkeys(chunks[i].language for i in todo):
            of_language = [i for i in todo if chunks[i].language == language]
            for start in range(0, len(of_language), EMBED_BATCH):
                batch = of_language[start : start + EMBED_BATCH]
                texts = [chunks[i].embedding_text for i in batch]
                for i, vector in zip(batch, embedder.embed(texts, language=language), strict=True):
                    vectors[i] = vector
                bar.update(len(batch))
        bar.close()
        matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, DIMENSION), np.float32)
        faiss_index = make_faiss_index(matrix, approximate_above)
        _write_atomically(folder / INDEX_FILE, lambda p: faiss.write_index(faiss_index, str(p)))
        _write_atomically(
            folder / CHUNKS_FILE,
            lambda p: p.write_text(json.dumps([asdict(c) for c in chunks], ensure_ascii=False), encoding="utf-8"),
        )
        per_source: dict[str, int] = {}
        for chunk in chunks:
            per_source[chunk.source] = per_source.get(chunk.source, 0) + 1
        version = hashlib.sha256(
            json.dumps([model, [(c.id, c.embedding_text) for c in chunks]], ensure_ascii=False).encode()
        ).hexdigest()[:16]
        manifest = {
            "format": FORMAT_VERSION,
            "version": version,
            "model": model,
            "models": {
                language: embedder.model_for(language) for language in dict.fromkeys(c.language for c in chunks)
            },
            "dimension": int(matrix.shape[1]) if len(matrix) else DIMENSION,
            "index_type": type(faiss_index).__name__,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "chunking": _chunking(),
            "chunk_count": len(chunks),
            "documents": [
                {"source": d.source, "title": d.title, "checksum": d.checksum, "chunks": per_source.get(d.source, 0)}
                for d in documents
            ],
            "files": {INDEX_FILE: _sha256(folder / INDEX_FILE), CHUNKS_FILE: _sha256(folder / CHUNKS_FILE)},
        }
        _write_atomically(
            folder / MANIFEST_FILE, lambda p: p.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        )
    return {**status(folder), "embedded": len(todo), "seconds": round(time.perf_counter() - started, 3)}


def is_stale(manifest: dict[str, Any], documents_dir: Path | None = None) -> bool:
    """True when the knowledge files differ from the ones the index was built from."""
    try:
        documents = read_documents(documents_dir or rag_settings().documents_dir)
    except ValueError:
        return True
    built = {d["source"]: d["checksum"] for d in manifest.get("documents", [])}
    return built != {d.source: d.checksum for d in documents}


def status(folder: Path | None = None) -> dict[str, Any]:
    """What the dashboard and `python -m rag stats` show. Raises IndexMissing or IndexCorrupt."""
    folder = _folder(folder)
    manifest = read_manifest(folder)
    return {
        "version": manifest["version"],
        "built_at": manifest["built_at"],
        "model": manifest["model"],
        "index_type": manifest.get("index_type"),
        "folder": str(folder),
        "documents": [{k: d[k] for k in ("source", "title", "chunks")} for d in manifest["documents"]],
        "document_count": len(manifest["documents"]),
        "languages": language_counts(manifest["documents"]),
        "chunk_count": manifest["chunk_count"],
        "stale": is_stale(manifest),
    }
