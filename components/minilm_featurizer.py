"""Dense MiniLM features for Rasa 3.6 from an ONNX export, no torch needed.

Use in config.yml after a tokenizer (e.g. WhitespaceTokenizer), with the
project root on PYTHONPATH:

    - name: components.minilm_featurizer.MiniLMFeaturizer
      # model_dir: .venv/minilm-onnx   # default: $MINILM_ONNX_DIR, else this
      # alias: minilm

The model folder is made once in the app environment by
`python -m components.export_minilm <model_dir>`.

For the TEXT of every message it adds:
- a sentence feature (1, 384): the mean-pooled, L2-normalised embedding,
  i.e. what sentence-transformers' all-MiniLM-L6-v2 returns;
- a sequence feature (n_tokens, 384): for each Rasa token, the mean of the
  transformer's word-piece vectors inside the token's character span.

Texts longer than the model's max_seq_length word pieces (256) are truncated
the way sentence-transformers truncates them: the sentence feature covers the
first 256 word pieces, and Rasa tokens past that point get zero vectors.
Messages without text (intent-only or response messages) are left alone.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from tokenizers import Tokenizer as WordPieceTokenizer

from components.alignment import pad_batch, token_span_vectors

logger = logging.getLogger(__name__)

MODEL_DIR_ENV = "MINILM_ONNX_DIR"
DEFAULT_MODEL_DIR = ".venv/minilm-onnx"
EXPORT_COMMAND = "HF_HUB_OFFLINE=1 python -m components.export_minilm"
# The file layout written by components/export_minilm.py.
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
OUTPUT_NAMES = ["token_embeddings", "sentence_embedding"]


class MiniLMModelMissing(RasaException):
    """The exported ONNX model folder is absent or incomplete."""


def resolve_model_dir(configured: str | None) -> Path:
    """The configured folder, else $MINILM_ONNX_DIR, else .venv/minilm-onnx."""
    chosen = configured or os.environ.get(MODEL_DIR_ENV) or DEFAULT_MODEL_DIR
    return Path(chosen).expanduser().resolve()


def read_manifest(model_dir: Path) -> dict[str, Any]:
    missing = [name for name in (MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE) if not (model_dir / name).is_file()]
    if missing:
        raise MiniLMModelMissing(
            f"MiniLMFeaturizer: no exported MiniLM model in '{model_dir}' "
            f"(missing {', '.join(missing)}). Export it once from the Python 3.11 "
            f"app environment: `{EXPORT_COMMAND} {model_dir}`, or point the "
            f"component's `model_dir` or ${MODEL_DIR_ENV} at an existing export."
        )
    return json.loads((model_dir / MANIFEST_FILE).read_text())


class MiniLMEncoder:
    """The ONNX session and word-piece tokenizer, loaded once."""

    def __init__(self, model_dir: Path, num_threads: int) -> None:
        self.manifest = read_manifest(model_dir)
        self.max_length = int(self.manifest["max_seq_length"])
        self.tokenizer = WordPieceTokenizer.from_file(str(model_dir / TOKENIZER_FILE))
        # Set explicitly: sentence-transformers truncates at max_seq_length and
        # pads per batch (pad_batch), whatever the tokenizer file says.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_length)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        self.session = onnxruntime.InferenceSession(
            str(model_dir / MODEL_FILE),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )

    def encode(self, texts: Sequence[str], batch_size: int) -> list[tuple[Any, np.ndarray, np.ndarray]]:
        """Per text: (word-piece encoding, piece vectors, sentence embedding).

        Texts are run in batches of similar length, so padding stays short;
        results come back in the input order.
        """
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        results: list[Any] = [None] * len(texts)
        for first in range(0, len(order), batch_size):
            rows = order[first : first + batch_size]
            inputs = pad_batch([encodings[i].ids for i in rows])
            pieces, sentences = self.session.run(OUTPUT_NAMES, inputs)
            for row, index in enumerate(rows):
                length = len(encodings[index].ids)
                results[index] = (encodings[index], pieces[row, :length], sentences[row])
        return results


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense sentence and token features from all-MiniLM-L6-v2 (ONNX)."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Components that should be included in the pipeline before this one."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the component's default config."""
        return {
            **DenseFeaturizer.get_default_config(),
            # Folder written by components.export_minilm; None means
            # $MINILM_ONNX_DIR, else .venv/minilm-onnx under the working dir.
            "model_dir": None,
            # Messages per model call while featurizing training data.
            "batch_size": 64,
            # onnxruntime intra-op threads; Rasa runs other work beside it.
            "num_threads": 1,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Any extra python dependencies required for this component to run."""
        return ["onnxruntime", "tokenizers", "numpy"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Validates that the component is configured properly."""
        for key in ("batch_size", "num_threads"):
            value = config.get(key)
            if not isinstance(value, int) or value < 1:
                raise RasaException(f"MiniLMFeaturizer: '{key}' must be a positive integer, got {value!r}")

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Ties cached features to the exported model, which the graph can't see."""
        model_dir = resolve_model_dir(config.get("model_dir"))
        try:
            manifest = json.loads((model_dir / MANIFEST_FILE).read_text())
        except (OSError, ValueError):
            return None
        return json.dumps(manifest.get("files"), sort_keys=True)

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        """Loads the ONNX model named by the config."""
        super().__init__(execution_context.node_name, config)
        self.model_dir = resolve_model_dir(self._config["model_dir"])
        self.batch_size = self._config["batch_size"]
        self.encoder = MiniLMEncoder(self.model_dir, self._config["num_threads"])
        logger.debug(f"MiniLMFeaturizer: loaded {self.model_dir}")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        """Creates a new component (see parent class for full docstring)."""
        return cls(config, execution_context)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes all training examples in place, in batches."""
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurizes the TEXT of the given messages in place."""
        # An empty or blank customer message still gets features (a sentence vector and
        # zero token rows), so DIET answers it instead of failing on missing features.
        featurizable = [
            message
            for message in messages
            if message.get(TEXT) is not None and message.get(TOKENS_NAMES[TEXT]) is not None
        ]
        if not featurizable:
            return messages
        encoded = self.encoder.encode([message.get(TEXT) for message in featurizable], self.batch_size)
        for message, (encoding, pieces, sentence) in zip(featurizable, encoded, strict=True):
            tokens = message.get(TOKENS_NAMES[TEXT])
            sequence = token_span_vectors(
                pieces,
                encoding.offsets,
                [(token.start, token.end) for token in tokens],
                special_pieces=encoding.special_tokens_mask,
            )
            self.add_features_to_message(
                sequence=sequence,
                sentence=sentence.reshape(1, -1).astype(np.float32),
                attribute=TEXT,
                message=message,
            )
        return messages
