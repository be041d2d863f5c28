"""The shape of the house: the core and everything built beside the action server import no Rasa layer,
and the project's import graph has no cycle (read from the source, imports inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("actions", "core", "dashboard", "deploy", "rag", "scripts", "components", "bench")
# Rasa-side plug-ins run inside the Rasa server's own environment, never imported by the rest
RASA_SIDE = ("components.", "deploy.rasa_")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "node_modules" not in path.parts:
                found[module_name(path)] = path
    return found


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules and the outside packages (top-level names) a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                prefix = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{prefix}.{base}".strip(".")
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules and "." in name:
                name = name.rpartition(".")[0]
            found.add(name if name in modules else name.split(".")[0])
    found.discard(module_name(path))
    return found


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, modules) for name, path in modules.items()}


def reaches(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_no_module_beside_the_action_server_imports_rasa_sdk():
    edges = graph()
    offenders = {
        name: sorted(m for m in reaches(name, edges) if m == "rasa_sdk" or m.startswith("actions"))
        for name in edges
        if name.split(".")[0] in ("core", "dashboard", "deploy", "rag") and not name.startswith(RASA_SIDE)
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_booking_core_imports_no_framework():
    edges = graph()
    frameworks = {"rasa_sdk", "rasa", "fastapi", "starlette", "boto3", "botocore", "aws_lambda_powertools", "sanic"}
    offenders = {name: sorted(reaches(name, edges) & frameworks) for name in edges if name.startswith("core")}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_import_graph_has_no_cycle():
    nodes = set(project_modules())
    edges = {name: {t for t in targets if t in nodes} for name, targets in graph().items()}
    # a package importing its own submodules (an __init__ re-export) is not a cycle of concern
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if target.startswith(node + "."):
                continue
            if state.get(target) == 1:
                cycles.append(path[path.index(target) :] + [target] if target in path else [node, target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []
