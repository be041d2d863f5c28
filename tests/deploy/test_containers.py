"""The container files: the right Python for each server, and everything they copy exists in the project."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from scripts import stack

ROOT = Path(__file__).resolve().parents[2]
CONTAINERS = ROOT / "deploy" / "containers"


def copies(dockerfile: Path) -> list[str]:
    """The sources of every COPY (paths in the build context: the repository root)."""
    sources = []
    for line in dockerfile.read_text().splitlines():
        if line.startswith("COPY "):
            sources += line.split()[1:-1]
    return sources


def allowed_by_dockerignore(dockerfile: Path, source: str) -> bool:
    """Does the Dockerfile's own .dockerignore (deny all, then `!` exceptions) let `source` into the context?"""
    patterns = [
        p
        for p in (dockerfile.parent / "Dockerfile.dockerignore").read_text().splitlines()
        if p and not p.startswith("#")
    ]
    allowed = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        bare = pattern.lstrip("!").rstrip("/")
        if bare == "*" or fnmatch.fnmatch(source.rstrip("/"), bare) or source.rstrip("/").startswith(bare + "/"):
            allowed = negated
    return allowed


def test_the_rasa_image_is_python_310_with_the_rasa_requirements_and_the_trained_model():
    dockerfile = CONTAINERS / "rasa" / "Dockerfile"
    text = dockerfile.read_text()
    assert re.search(r"^FROM python:3\.10-slim$", text, re.M)
    sources = copies(dockerfile)
    assert "requirements/rasa.txt" in sources
    assert str(stack.MODEL.relative_to(ROOT)) in sources
    assert "components/" in sources and ".venv/minilm-onnx/" in sources
    assert "deploy/containers/rasa/endpoints.yml" in sources
    assert "deploy/rasa_lock_store.py" in sources
    assert '"--endpoints", "endpoints.yml"' in text


def test_the_action_server_image_is_python_311_with_the_sdk_and_the_index():
    dockerfile = CONTAINERS / "actions" / "Dockerfile"
    text = dockerfile.read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    assert "python -m rag build" in text
    entrypoint = (CONTAINERS / "actions" / "entrypoint.sh").read_text()
    assert "python -m actions.server --port 5055" in entrypoint
    assert "python -m scripts.stack prepare" in entrypoint


def test_every_copied_path_exists_and_gets_into_the_build_context():
    for dockerfile in CONTAINERS.glob("*/Dockerfile"):
        for source in copies(dockerfile):
            assert (ROOT / source).exists(), f"{dockerfile.parent.name}: {source} does not exist"
            assert allowed_by_dockerignore(dockerfile, source), f"{dockerfile.parent.name}: {source} is ignored"


def test_the_images_install_pinned_requirements_only():
    app = (ROOT / "requirements" / "app.txt").read_text()
    for name in ("aws-lambda-powertools", "boto3", "psycopg2-binary", "rasa-sdk", "mangum", "torch"):
        assert re.search(rf"^{re.escape(name)}(\[\w+\])?==", app, re.M), name
    lambda_file = (CONTAINERS / "lambda" / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r /tmp/requirements.txt" in lambda_file
    assert re.search(r"^FROM public\.ecr\.aws/lambda/python:3\.11$", lambda_file, re.M)
