"""Serve the dashboard: `python -m dashboard [--host H] [--port P]` (default port DASHBOARD_PORT).

Without DASHBOARD_TOKEN (and without Cognito) a token is generated and printed;
`dashboard ready` is printed once the server listens.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import replace

import uvicorn

from dashboard.app import create_app
from dashboard.auth import generate_token
from dashboard.settings import dashboard_settings


def _announce_when_listening(server: uvicorn.Server, url: str) -> None:
    while not server.started and not server.should_exit:
        time.sleep(0.05)
    if server.started:
        print(f"dashboard ready: {url}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    config = dashboard_settings()
    if args.port:
        config = replace(config, port=args.port)
    if config.cognito is None and not config.token:
        config = replace(config, token=generate_token())
        print(f"dashboard token (set DASHBOARD_TOKEN to keep one): {config.token}", flush=True)
    try:
        app = create_app(config)
    except ValueError as err:  # a placeholder DASHBOARD_TOKEN, incomplete Cognito settings
        print(f"error: {err}", file=sys.stderr)
        return 2
    server = uvicorn.Server(
        uvicorn.Config(app, host=args.host, port=config.port, log_level="warning", access_log=False)
    )
    url = f"http://{args.host}:{config.port}"
    threading.Thread(target=_announce_when_listening, args=(server, url), daemon=True).start()
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
