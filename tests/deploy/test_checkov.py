"""checkov on the infrastructure templates and the Dockerfiles: no failed check, and every skip says why.

checkov runs from its own environment (.venv/checkov, requirements/checkov.txt): it pins boto3 to an older
release than the app's. A skip lives beside what it excuses: `Metadata: checkov: skip:` on the template's
resource, `#checkov:skip=` in the Dockerfile.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"
TEMPLATES = [ROOT / "deploy" / "template.yaml", ROOT / "deploy" / "registry.yaml"]
DOCKERFILES = sorted((ROOT / "deploy" / "containers").glob("*/Dockerfile"))
MIN_REASON = 40  # characters: a reason, not a label


@pytest.fixture(scope="module")
def reports() -> dict[str, dict[str, Any]]:
    """checkov's JSON report per framework (cloudformation, dockerfile), from one run over every file."""
    if not CHECKOV.exists():
        pytest.fail(f"no checkov at {CHECKOV}: `make setup` installs it (requirements/checkov.txt)")
    files = [arg for path in [*TEMPLATES, *DOCKERFILES] for arg in ("-f", str(path))]
    result = subprocess.run(
        [str(CHECKOV), *files, "--framework", "cloudformation", "dockerfile", "--output", "json",
         "--skip-download"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr[-2000:]  # 1: checks failed (asserted below, by name)
    parsed = json.loads(result.stdout)
    return {report["check_type"]: report for report in (parsed if isinstance(parsed, list) else [parsed])}


@pytest.mark.parametrize("framework", ["cloudformation", "dockerfile"])
def test_checkov_fails_nothing(reports, framework):
    report = reports[framework]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in report["results"]["failed_checks"]]
    assert failed == []
    summary = report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0 and summary["resource_count"] >= (
        len(DOCKERFILES) if framework == "dockerfile" else 100
    )


def test_every_checked_file_was_read(reports):
    seen = {Path(c["file_path"]).name for r in reports.values() for c in r["results"]["passed_checks"]}
    assert {"template.yaml", "registry.yaml", "Dockerfile"} <= seen
    dockerfiles = {c["file_path"] for c in reports["dockerfile"]["results"]["passed_checks"]}
    assert len(dockerfiles) == len(DOCKERFILES)


def test_every_skipped_check_carries_its_reason(reports):
    skipped = [c for r in reports.values() for c in r["results"]["skipped_checks"]]
    assert skipped, "the skips are read (a template without any would be suspicious here)"
    short = [
        f"{c['check_id']} {c['resource']}: {c['check_result'].get('suppress_comment')!r}"
        for c in skipped
        if len((c["check_result"].get("suppress_comment") or "").strip()) < MIN_REASON
    ]
    assert short == []
