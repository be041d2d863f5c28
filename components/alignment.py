"""Numpy-only helpers shared by the MiniLM export check and the Rasa featurizer.

They turn tokenizer output into model inputs (`pad_batch`) and model output
back into one vector per Rasa token (`token_span_vectors`). Nothing here
imports rasa, torch or onnxruntime, so the app environment's tests call the
same code the Rasa environment runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Span = tuple[int, int]


def pad_batch(id_lists: Sequence[Sequence[int]], pad_id: int = 0) -> dict[str, np.ndarray]:
    """Right-pad word-piece id lists into the three int64 inputs BERT expects.

    The padding matches sentence-transformers (pad to the longest in the
    batch, attention mask 0 on padding, token type 0 everywhere), so the
    model's mean pooling over the mask gives the same sentence embedding.
    """
    if not id_lists:
        raise ValueError("pad_batch needs at least one sequence")
    width = max(len(ids) for ids in id_lists)
    input_ids = np.full((len(id_lists), width), pad_id, dtype=np.int64)
    attention_mask = np.zeros((len(id_lists), width), dtype=np.int64)
    for row, ids in enumerate(id_lists):
        input_ids[row, : len(ids)] = ids
        attention_mask[row, : len(ids)] = 1
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "token_type_ids": np.zeros_like(input_ids),
    }


def token_span_vectors(
    piece_vectors: np.ndarray,
    piece_offsets: Sequence[Span],
    token_spans: Sequence[Span],
    special_pieces: Sequence[int] | None = None,
) -> np.ndarray:
    """One vector per token: the mean of the word pieces inside its span.

    Args:
        piece_vectors: (n_pieces, dim) model output for one text, special
            tokens included, padding excluded.
        piece_offsets: (start, end) character offsets of each word piece in
            the text, as the `tokenizers` library reports them.
        token_spans: (start, end) character spans of the tokens to featurize
            (Rasa's `Token.start`/`Token.end`), in the same text.
        special_pieces: 1 for pieces to ignore ([CLS], [SEP]); pieces with an
            empty offset are ignored as well.

    Returns:
        (n_tokens, dim) float32. A piece belongs to every token whose span it
        overlaps. A token that no piece overlaps gets a zero vector: this is
        the case for tokens past the model's maximum length (the text was
        truncated) and for tokens made only of characters the word-piece
        tokenizer drops. Zero vectors are what Rasa's own dense featurizers
        use for "no information", and `DenseFeaturizer.aggregate_sequence_features`
        skips them.
    """
    piece_vectors = np.asarray(piece_vectors, dtype=np.float32)
    dim = piece_vectors.shape[-1]
    if not token_spans:
        return np.zeros((0, dim), dtype=np.float32)
    if len(piece_offsets) != len(piece_vectors):
        raise ValueError(f"{len(piece_offsets)} offsets for {len(piece_vectors)} piece vectors")

    offsets = np.asarray(piece_offsets, dtype=np.int64).reshape(-1, 2)
    usable = offsets[:, 1] > offsets[:, 0]
    if special_pieces is not None:
        usable &= np.asarray(special_pieces, dtype=bool) == 0
    spans = np.asarray(token_spans, dtype=np.int64).reshape(-1, 2)

    # overlap[t, p]: piece p shares at least one character with token t
    overlap = (offsets[None, :, 0] < spans[:, None, 1]) & (offsets[None, :, 1] > spans[:, None, 0])
    overlap &= usable[None, :]
    counts = overlap.sum(axis=1, keepdims=True)
    weights = overlap / np.maximum(counts, 1)
    return (weights.astype(np.float32) @ piece_vectors).astype(np.float32)
