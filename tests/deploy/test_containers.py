"""The container files: the right Python for each server, base images by digest for linux/amd64, everything
they copy exists and gets into the build context (and nothing else), the Lambda image's packages locked with
hashes, and the handlers importable from what the Lambda image holds."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import stack

ROOT = Path(__file__).resolve().parents[2]
CONTAINERS = ROOT / "deploy" / "containers"
LAMBDA = CONTAINERS / "lambda"
DIGEST_FROM = re.compile(r"^FROM --platform=linux/amd64 (\S+):(\S+)@sha256:[0-9a-f]{64}$", re.M)


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
    assert DIGEST_FROM.search(text).groups() == ("python", "3.10-slim")
    sources = copies(dockerfile)
    assert "requirements/rasa.txt" in sources
    assert str(stack.MODEL.relative_to(ROOT)) in sources
    assert "components/" in sources and ".venv/minilm-onnx/" in sources
    assert "deploy/containers/rasa/endpoints.yml" in sources
    assert "deploy/rasa_lock_store.py" in sources
    # every channel credentials.yml names is a module the image holds (the once-per-message REST channel)
    channels = [
        line.split(":")[0] for line in (ROOT / "credentials.yml").read_text().splitlines() if line[:1].isalpha()
    ]
    assert channels == ["deploy.rasa_channel.OncePerMessageRestInput"]
    for channel in channels:
        assert channel.rsplit(".", 1)[0].replace(".", "/") + ".py" in sources
    assert '"--endpoints", "endpoints.yml"' in text
    command = re.search(r"^CMD \[(.*?)\]$", text, re.M | re.S)[1]
    assert '"rasa", "run"' in command and "--enable-api" not in command  # no HTTP API in AWS: no model swaps


def test_the_action_server_image_is_python_311_with_the_sdk_and_the_index():
    dockerfile = CONTAINERS / "actions" / "Dockerfile"
    text = dockerfile.read_text()
    assert DIGEST_FROM.search(text).groups() == ("python", "3.11-slim")
    assert "python -m rag build" in text
    # the knowledge rebuild task runs from this image (the template's KnowledgeRebuildTaskDefinition)
    assert "deploy/rebuild_knowledge.py" in copies(dockerfile) and "core/" in copies(dockerfile)
    entrypoint = (CONTAINERS / "actions" / "entrypoint.sh").read_text()
    assert "python -m actions.server --port 5055" in entrypoint
    assert "python -m scripts.stack prepare" in entrypoint


def test_every_copied_path_exists_and_gets_into_the_build_context():
    for dockerfile in CONTAINERS.glob("*/Dockerfile"):
        for source in copies(dockerfile):
            assert (ROOT / source).exists(), f"{dockerfile.parent.name}: {source} does not exist"
            assert allowed_by_dockerignore(dockerfile, source), f"{dockerfile.parent.name}: {source} is ignored"


def test_every_base_image_is_pinned_by_digest_for_linux_amd64():
    for dockerfile in CONTAINERS.glob("*/Dockerfile"):
        lines = [line for line in dockerfile.read_text().splitlines() if line.startswith("FROM ")]
        assert lines and all(DIGEST_FROM.fullmatch(line) for line in lines), f"{dockerfile}: {lines}"


def test_no_build_context_takes_the_environments_or_local_data():
    for dockerfile in CONTAINERS.glob("*/Dockerfile"):
        for path in (".venv/app/bin/python", ".venv/rasa/lib", ".data/postgres", ".git/HEAD", "tests/conftest.py"):
            assert not allowed_by_dockerignore(dockerfile, path), f"{dockerfile.parent.name} sends {path}"
        # only the files the Dockerfile copies are allowed in
        allowed = [
            p.lstrip("!").rstrip("/")
            for p in (dockerfile.parent / "Dockerfile.dockerignore").read_text().splitlines()
            if p.startswith("!")
        ]
        assert sorted(allowed) == sorted(s.rstrip("/") for s in copies(dockerfile)), dockerfile.parent.name


def _pins(text: str) -> dict[str, str]:
    return {
        m[1].lower().replace("_", "-"): m[2]
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)(?:\[[\w,]+\])?==([^\s\\;]+)", text, re.M)
    }


def test_the_lambda_packages_are_locked_with_hashes_at_the_app_versions():
    lock = (LAMBDA / "requirements.txt").read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n\n", 1)[1].strip())
    assert len(entries) >= 20  # the direct packages and everything they pull in
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9_.-]+==\S+ \\\n\s+--hash=sha256:[0-9a-f]{64}", entry), entry.splitlines()[0]
    locked, direct, app = (
        _pins(lock),
        _pins((LAMBDA / "requirements.in").read_text()),
        _pins((ROOT / "requirements" / "app.txt").read_text()),
    )
    assert {name: locked[name] for name in direct} == direct
    shared = set(direct) & set(app)
    assert {"boto3", "aws-lambda-powertools", "fastapi", "mangum", "psycopg2-binary", "pyjwt"} <= shared
    assert {name: direct[name] for name in shared} == {name: app[name] for name in shared}
    dockerfile = (LAMBDA / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements.txt" in dockerfile
    assert 'ENTRYPOINT ["python", "-m", "awslambdaric"]' in dockerfile


HANDLERS = ("webhook_receiver", "chat_orchestrator", "archive_job", "reminder_job", "dashboard_api")


@pytest.mark.parametrize("handler", HANDLERS)
def test_each_handler_imports_from_what_the_lambda_image_holds(handler, tmp_path):
    """The files the Dockerfile copies, in a folder of their own, and only the locked packages importable."""
    for source in copies(LAMBDA / "Dockerfile"):
        if source.startswith("deploy/containers/"):
            continue
        origin, target = ROOT / source, tmp_path / source
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, target)
    allowed = sorted(_pins((LAMBDA / "requirements.txt").read_text()))
    probe = f"""
import importlib.abc, importlib.machinery, importlib.metadata, sys
from pathlib import Path
allowed = {allowed!r}
top_level = {{"yaml": "pyyaml", "jwt": "pyjwt", "dateutil": "python-dateutil", "psycopg2": "psycopg2-binary",
             "awslambdaric": "awslambdaric", "typing_extensions": "typing-extensions", "_cffi_backend": "cffi"}}
packages = importlib.metadata.packages_distributions()
class OnlyTheLock(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if "." in name:
            return None  # a submodule: its package was checked
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or "site-packages" not in str(spec.origin or spec.submodule_search_locations):
            return None  # the standard library, or the project's own folders
        dists = {{d.lower().replace("_", "-") for d in packages.get(name, [])}} | {{top_level.get(name, name)}}
        if not dists & set(allowed):
            raise ModuleNotFoundError(f"{{name}} is not in the Lambda image's lock")
        return None
sys.meta_path.insert(0, OnlyTheLock())
sys.path.insert(0, {str(tmp_path)!r})
import deploy.handlers.{handler} as handler
assert Path(handler.__file__).is_relative_to({str(tmp_path)!r}), handler.__file__
print("imported", handler.__name__)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COGNITO_", "DASHBOARD_", "DATABASE_"))}
    env.update(
        PYTHONPATH="", AWS_DEFAULT_REGION="ap-southeast-1", COGNITO_REGION="ap-southeast-1",
        COGNITO_USER_POOL_ID="ap-southeast-1_Example", COGNITO_APP_CLIENT_ID="example-client-id",
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"imported deploy.handlers.{handler}" in result.stdout


def test_every_project_module_the_rasa_image_runs_imports_is_copied():
    """The pipeline's components, the channel and the lock store, and what they import from the project."""
    import ast

    sources = copies(CONTAINERS / "rasa" / "Dockerfile")

    def copied(path: Path) -> bool:
        relative = str(path.relative_to(ROOT))
        return any(relative == s or (s.endswith("/") and relative.startswith(s)) for s in sources)

    todo = [
        *sorted((ROOT / "components").glob("*.py")),
        ROOT / "deploy" / "rasa_channel.py",
        ROOT / "deploy" / "rasa_lock_store.py",
    ]
    seen: set[Path] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        assert copied(module), f"the Rasa image lacks {module.relative_to(ROOT)}"
        for node in ast.walk(ast.parse(module.read_text())):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if name.split(".")[0] in ("core", "deploy", "components", "actions", "rag", "dashboard", "scripts"):
                    path = ROOT / (name.replace(".", "/") + ".py")
                    package = ROOT / name.split(".")[0] / "__init__.py"
                    todo += [p for p in (path, package) if p.exists()]
