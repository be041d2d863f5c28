"""The front-end libraries the page serves itself, installed from npm by the versions in package-lock.json.

    python -m dashboard.assets   # install what is missing (idempotent), print where

They go into a folder of their own (default `.venv/dashboard-assets`, setting
`DASHBOARD_ASSETS_DIR`); nothing is loaded from a CDN when the page runs.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from dashboard.settings import dashboard_settings

HERE = Path(__file__).resolve().parent
MANIFESTS = ("package.json", "package-lock.json")
STAMP = ".installed-from"


def chart_js(assets_dir: Path) -> Path:
    return assets_dir / "node_modules" / "chart.js" / "dist" / "chart.umd.js"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in MANIFESTS:
        digest.update((HERE / name).read_bytes())
    return digest.hexdigest()


def ensure(assets_dir: Path | None = None) -> Path:
    """Install the locked packages into `assets_dir` unless they are already there; returns chart.js's path."""
    assets_dir = assets_dir or dashboard_settings().assets_dir
    stamp = assets_dir / STAMP
    wanted = _fingerprint()
    if chart_js(assets_dir).exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return chart_js(assets_dir)
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed once to install the dashboard's chart library: install Node.js 18+ and npm")
    assets_dir.mkdir(parents=True, exist_ok=True)
    for name in MANIFESTS:
        shutil.copyfile(HERE / name, assets_dir / name)
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--omit=dev"], cwd=assets_dir, capture_output=True, text=True
    )
    if result.returncode != 0 or not chart_js(assets_dir).exists():
        raise RuntimeError(f"npm ci failed in {assets_dir}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    stamp.write_text(wanted + "\n")
    return chart_js(assets_dir)


def main() -> int:
    try:
        path = ensure()
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"dashboard assets ready: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
