"""Train the Rasa model when its inputs changed; otherwise do nothing, in a second.

The fingerprint covers the training data, the domain, the pipeline config and
the custom NLU components; the business file is read at run time and needs no
retraining.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
MODEL = MODELS / "lotus.tar.gz"
FINGERPRINT = MODELS / "lotus.fingerprint"
RASA = ROOT / ".venv" / "rasa" / "bin" / "rasa"
NOT_TRAINING_DATA = {"data/business.yml"}


def training_files() -> list[Path]:
    files = [ROOT / "domain.yml", ROOT / "config.yml", ROOT / "requirements" / "rasa.txt"]
    files += sorted((ROOT / "data").rglob("*.yml"))
    files += sorted((ROOT / "components").rglob("*.py"))
    files += [p for p in [ROOT / ".venv" / "minilm-onnx" / "manifest.json"] if p.exists()]
    return [f for f in files if f.relative_to(ROOT).as_posix() not in NOT_TRAINING_DATA]


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in training_files():
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def data_paths() -> list[str]:
    return [
        p.relative_to(ROOT).as_posix()
        for p in sorted((ROOT / "data").iterdir())
        if p.as_posix() != str(ROOT / "data" / "business.yml")
    ]


def main(force: bool = False) -> int:
    wanted = fingerprint()
    if not force and MODEL.exists() and FINGERPRINT.exists() and FINGERPRINT.read_text().strip() == wanted:
        print("model is current")
        return 0
    MODELS.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MINILM_ONNX_DIR": os.environ.get("MINILM_ONNX_DIR", str(ROOT / ".venv" / "minilm-onnx")),
    }
    args = [str(RASA), "train", "--domain", "domain.yml", "--config", "config.yml", "--data", *data_paths(),
            "--out", "models", "--fixed-model-name", "lotus", "--force"]  # fmt: skip
    print("training the model:", " ".join(args[1:]), flush=True)
    started = time.monotonic()
    result = subprocess.run(args, cwd=ROOT, env=env)
    if result.returncode != 0:
        return result.returncode
    FINGERPRINT.write_text(wanted)
    print(f"trained in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(force="--force" in sys.argv))
