"""Query: questions in, passages and short answers out, from an index that can be rebuilt under it.

`Knowledge` loads the index once and, before each query, compares the manifest on disk with the
loaded version (a `stat` in the common case): a rebuilt index is picked up without a restart. A
missing index is built on demand; a damaged one is rebuilt. Queries running meanwhile keep the
index they started with, which is immutable.

On AWS (INDEX_BUCKET and KNOWLEDGE_TABLE set) `current()` also reads the live-version pointer, at most every
RAG_POINTER_CHECK_SECONDS and in one thread at a time, and installs a newly published index in the folder
(`rag.remote`); the manifest check above then loads it. A failed check is logged and the loaded index
keeps serving.

A question is looked up in one language's documents: the one asked for (the conversation's), else the one
whose documents know more of its words. English passages are ranked by MiniLM, the others by
multilingual-e5, whose similarities sit in a narrow high band: its confidence is the best score's lift
over the question's mean similarity to all passages of the language, with its own threshold.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag import index as rag_index
from rag.chunking import DEFAULT_LANGUAGE, fold, split_sentences
from rag.config import rag_settings
from rag.embedding import Embedder, is_multilingual, shared_embedder
from rag.lexical import words
from rag.remote import RemoteIndex

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
TOP_K = 3
CANDIDATES = 20  # nearest chunks by embedding, reordered with word overlap
# multilingual-e5 ranks a question typed without diacritics loosely: more of its nearest chunks are reordered
MULTILINGUAL_CANDIDATES = 100
LEXICAL_WEIGHT = 0.2
VOCABULARY_WEIGHT = 0.1
SENTENCE_MARGIN = 0.12  # sentences this close to the best one join the answer


class EmptyQuestion(ValueError):
    """Nothing to look up."""


@dataclass(frozen=True)
class Retrieval:
    hits: list[rag_index.Hit]  # best first
    confidence: float  # see the module's docstring
    query: np.ndarray
    language: str  # of the documents searched


@dataclass(frozen=True)
class Answer:
    text: str  # a few sentences of the best passage, at most `max_answer_chars`
    title: str  # the source document's title
    source: str
    score: float
    language: str  # of the passage quoted


def clean_question(question: str | None) -> str:
    """Whitespace folded, cut to `MAX_QUESTION_CHARS`; raises EmptyQuestion when nothing is left."""
    text = " ".join((question or "").split())
    if not text:
        raise EmptyQuestion("the question is empty")
    return text[:MAX_QUESTION_CHARS]


class Knowledge:
    def __init__(
        self,
        folder: Path | None = None,
        documents_dir: Path | None = None,
        embedder: Embedder | None = None,
        min_score: float | None = None,
    ) -> None:
        self.folder = Path(folder) if folder else rag_settings().index_dir
        self.documents_dir = documents_dir
        self.embedder = embedder or shared_embedder()
        self.min_score = rag_settings().min_score if min_score is None else min_score
        self.multilingual_min_score = rag_settings().multilingual_min_score
        self._loaded: rag_index.KnowledgeIndex | None = None
        self._seen: tuple[int, int] | None = None  # (mtime_ns, size) of the manifest last checked
        self._lock = threading.Lock()
        config = rag_settings()
        self.remote = (
            RemoteIndex(config.index_bucket, config.pointer_table, config.index_name)
            if config.index_bucket and config.pointer_table
            else None
        )
        self._check_every = config.pointer_check_seconds
        self._next_check = 0.0  # time.monotonic() from which the pointer is read again
        self._remote_lock = threading.Lock()

    def _manifest_stamp(self) -> tuple[int, int] | None:
        try:
            info = (self.folder / rag_index.MANIFEST_FILE).stat()
        except FileNotFoundError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def current(self) -> rag_index.KnowledgeIndex:
        """The index to search now: reloaded when the manifest changed, built when missing or damaged."""
        if self.remote is not None and time.monotonic() >= self._next_check:
            self._check_remote()
        stamp = self._manifest_stamp()
        loaded = self._loaded
        if loaded is not None and stamp == self._seen:
            return loaded
        with self._lock:
            stamp = self._manifest_stamp()
            if self._loaded is not None and stamp == self._seen:
                return self._loaded
            self._loaded = self._load_or_build()
            self._seen = self._manifest_stamp()
            return self._loaded

    def _check_remote(self) -> None:
        """Install the published index when the pointer names another version; never raises."""
        if not self._remote_lock.acquire(blocking=False):
            return  # another thread is checking: this one serves the loaded index
        try:
            if time.monotonic() < self._next_check:
                return
            self._next_check = time.monotonic() + self._check_every
            try:
                on_disk = rag_index.read_manifest(self.folder)["version"]
            except (rag_index.IndexMissing, rag_index.IndexCorrupt):
                on_disk = None
            self.remote.fetch_if_changed(self.folder, on_disk)
        except Exception as err:  # noqa: BLE001 - S3/DynamoDB down or a bad artefact: keep serving what is loaded
            log.error("knowledge index pointer check failed, the loaded index keeps serving: %s", err)
        finally:
            self._remote_lock.release()

    def _load_or_build(self) -> rag_index.KnowledgeIndex:
        for attempt in range(3):
            try:
                fresh = rag_index.load(self.folder)
                if self._loaded is None or fresh.version != self._loaded.version:
                    log.info("knowledge index loaded: version %s, %d chunks", fresh.version, len(fresh.chunks))
                return fresh
            except rag_index.IndexMissing:
                log.warning("no knowledge index at %s: building it now", self.folder)
            except rag_index.IndexCorrupt as err:
                if attempt == 0:  # a build may be replacing the files right now: look again
                    threading.Event().wait(0.2)
                    continue
                log.error("knowledge index unreadable (%s): rebuilding it", err)
                if (self.folder / rag_index.MANIFEST_FILE).exists():
                    (self.folder / rag_index.MANIFEST_FILE).unlink(missing_ok=True)
            rag_index.build(self.folder, self.documents_dir, self.embedder)
        return rag_index.load(self.folder)

    @staticmethod
    def language_of(text: str, knowledge: rag_index.KnowledgeIndex) -> str:
        """The documents' language a question of unknown language is looked up in."""
        languages = knowledge.languages
        if len(languages) <= 1:
            return languages[0] if languages else DEFAULT_LANGUAGE
        if "vi" in languages and fold(text) != text.lower():  # Vietnamese diacritics
            return "vi"
        shares = {lang: knowledge.lexicon.known_share(words(text, lang), lang) for lang in languages}
        best = max(shares.values())
        return DEFAULT_LANGUAGE if shares.get(DEFAULT_LANGUAGE) == best else max(shares, key=shares.__getitem__)

    def threshold(self, language: str) -> float:
        return self.multilingual_min_score if is_multilingual(language) else self.min_score

    def retrieve(self, question: str, k: int = TOP_K, language: str | None = None) -> Retrieval:
        """The k best chunks of one language: nearest by embedding, then reordered with word overlap."""
        text = clean_question(question)
        knowledge = self.current()
        if language not in knowledge.languages:  # none given, or no documents in it
            language = self.language_of(text, knowledge)
        query = self.embedder.embed_query([text], language=language)[0]
        question_words = words(text, language)
        lexicon = knowledge.lexicon
        hits = [
            rag_index.Hit(
                hit.chunk, hit.score + LEXICAL_WEIGHT * lexicon.coverage(question_words, hit.position), hit.position
            )
            for hit in knowledge.search(
                query, max(k, MULTILINGUAL_CANDIDATES if is_multilingual(language) else CANDIDATES), language
            )
        ]
        hits.sort(key=lambda hit: -hit.score)
        if not hits:
            confidence = 0.0
        elif is_multilingual(language):
            confidence = hits[0].score - knowledge.mean_similarity(query, language)
        else:
            confidence = hits[0].score + VOCABULARY_WEIGHT * lexicon.known_share(question_words, language)
        return Retrieval(hits[:k], confidence, query, language)

    def search(self, question: str, k: int = TOP_K, language: str | None = None) -> list[rag_index.Hit]:
        return self.retrieve(question, k, language).hits

    def answer(self, question: str, language: str | None = None, min_score: float | None = None) -> Answer | None:
        """The few most relevant sentences and their source, or None when the documents don't answer it.

        `language` is the customer's: its documents answer when the index holds any. `min_score` replaces the
        threshold of the language looked up in.
        """
        found = self.retrieve(question, language=language)
        threshold = self.threshold(found.language) if min_score is None else min_score
        if not found.hits or found.confidence < threshold:
            return None
        best = found.hits[0]
        return Answer(
            text=self._best_sentences(found.query, best.chunk.text, found.language),
            title=best.chunk.title,
            source=best.chunk.source,
            score=round(found.confidence, 4),
            language=found.language,
        )

    def _best_sentences(self, query: np.ndarray, passage: str, language: str) -> str:
        sentences = split_sentences(passage)
        limit = rag_settings().max_answer_chars
        if len(sentences) <= 1:
            return _cut(passage, limit)
        scores = self.embedder.embed(sentences, language=language) @ query
        best = float(scores.max())
        ranked = sorted(range(len(sentences)), key=lambda i: -scores[i])
        chosen: list[int] = []
        for i in ranked:
            if scores[i] < best - SENTENCE_MARGIN and chosen:
                break
            if len(" ".join(sentences[j] for j in sorted([*chosen, i]))) > limit and chosen:
                continue
            chosen.append(i)
        return _cut(" ".join(sentences[i] for i in sorted(chosen)), limit)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    cut = cut[: cut.rfind(" ")] if " " in cut else cut
    return re.sub(r"[,;:\s]+$", "", cut) + "…"


_shared: Knowledge | None = None
_shared_lock = threading.Lock()


def shared_knowledge() -> Knowledge:
    """The process's one Knowledge over the configured index."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Knowledge()
        return _shared
