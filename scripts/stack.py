"""The local stack: database, action server and Rasa, as plain processes.

    python -m scripts.stack run     # rasa shell with working custom actions
    python -m scripts.stack serve   # Rasa server (REST channel, --enable-api) in the foreground
    python -m scripts.stack prepare # migrate and seed the database, then exit

RASA_SERVERS=2 with `serve` starts a Redis server (REDIS_PORT, 6379) and two Rasa servers on RASA_PORT and
RASA_PORT+1 that share the PostgreSQL tracker store and a Redis lock store (endpoints-scaled.yml), as in AWS.

Every launcher of a local process lives here (the other modules are what those processes run), and the
secrets of a local run are made here once: generated where the environment sets none.

Children are stopped when this process ends (Ctrl-C, leaving the shell, an error).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests

from core import bookings, db
from core.secrets import dev_values
from core.settings import PROJECT_ROOT, settings

RASA = PROJECT_ROOT / ".venv" / "rasa" / "bin" / "rasa"
# the rasa command without its dependencies' deprecation warnings (scripts/rasa_cli.py)
RASA_CLI = [str(PROJECT_ROOT / ".venv" / "rasa" / "bin" / "python"), "-m", "scripts.rasa_cli"]
APP_PYTHON = PROJECT_ROOT / ".venv" / "app" / "bin" / "python"
MODEL = PROJECT_ROOT / "models" / "lotus.tar.gz"

# Secrets of a local run: generated when not set. The Messenger ones sign test payloads, the dashboard one
# signs staff in, and the actions token is what Rasa shows the action server.
DEV_SECRETS = ("MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN", "MESSENGER_PAGE_TOKEN", "DASHBOARD_TOKEN")
INTERNAL_SECRETS = ("ACTIONS_TOKEN",)


def logs_dir() -> Path:
    return settings().logs_dir


def free_port() -> int:
    """A TCP port free on loopback now, for a server started next."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def say(message: str) -> None:
    print(message, flush=True)


def prepare_database() -> str:
    """Start (or reach) the database, apply migrations, seed the catalogue; returns its URL."""
    url = db.database_url()
    applied = db.migrate()
    bookings.seed_catalogue()
    if applied:
        say(f"database migrated: {', '.join(applied)}")
    return url


def stack_env(url: str) -> dict[str, str]:
    """The environment of the child processes: settings plus the tracker store's connection."""
    parts = db.connection_parts(url)
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DB_HOST=parts["host"],
        DB_PORT=parts["port"],
        DB_NAME=parts["database"],
        DB_USER=parts["user"],
        DB_PASSWORD=parts["password"],
        ACTIONS_PORT=str(settings().actions_port),
        RASA_PORT=str(settings().rasa_port),
        HF_HUB_OFFLINE="1",
        MINILM_ONNX_DIR=os.environ.get("MINILM_ONNX_DIR", str(PROJECT_ROOT / ".venv" / "minilm-onnx")),
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    env.update(dev_values(env, INTERNAL_SECRETS))
    return env


def wait_until(check: Callable[[], bool], what: str, process: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{what} exited with code {process.returncode}; last log lines:\n{tail}")
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} was not ready after {timeout:.0f} s; see {log}")


@contextmanager
def child(args: list[str], env: dict[str, str], log: Path, name: str):
    """A child process with its output in `log`, stopped (TERM, then KILL) on exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            args, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def action_server(env: dict[str, str], port: int | None = None, log: Path | None = None):
    port = port or settings().actions_port
    log = log or logs_dir() / "actions.log"
    args = [str(APP_PYTHON), "-m", "actions.server", "--port", str(port)]
    env = {**env, "RAG_PRELOAD": "1"}  # the knowledge index and its model load at start, not on the first question
    with child(args, env, log, "action server") as process:
        url = f"http://127.0.0.1:{port}/health"
        wait_until(lambda: requests.get(url, timeout=2).ok, "the action server", process, 120, log)
        yield process


@contextmanager
def rasa_server(
    env: dict[str, str],
    port: int | None = None,
    log: Path | None = None,
    model: Path = MODEL,
    endpoints: str = "endpoints.yml",
):
    port = port or settings().rasa_port
    log = log or logs_dir() / "rasa.log"
    args = [
        *RASA_CLI, "run", "--enable-api", "--port", str(port), "--model", str(model),
        "--endpoints", endpoints, "--credentials", "credentials.yml", "--cors", "*",
    ]  # fmt: skip
    env = {**env, "RASA_PORT": str(port)}
    with child(args, env, log, "Rasa server") as process:

        def loaded() -> bool:
            status = requests.get(f"http://127.0.0.1:{port}/status", timeout=2)
            return status.ok and bool(status.json().get("model_id"))

        wait_until(loaded, "the Rasa server", process, 300, log)
        yield process


# --- scale-out: several Rasa servers sharing the tracker store, with a Redis lock store -------------

SCALED_ENDPOINTS = "endpoints-scaled.yml"


@contextmanager
def redis_server(port: int, log: Path | None = None):
    """A private Redis (Debian's `redis-server`) on loopback, no persistence: the lock store of a scaled run."""
    import shutil
    import socket

    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("RASA_SERVERS > 1 needs a Redis server: apt-get install redis-server")
    log = log or logs_dir() / "redis.log"
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    with child(args, dict(os.environ), log, "Redis") as process:
        wait_until(answers, "Redis", process, 20, log)
        yield process


def scaled_env(env: dict[str, str], redis_port: int) -> dict[str, str]:
    """The settings of Rasa servers that share conversations: the Redis lock store and the action server."""
    return {
        **env,
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(redis_port),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{env['ACTIONS_PORT']}/webhook",
    }


def rasa_servers(stack: ExitStack, env: dict[str, str]) -> dict[str, subprocess.Popen]:
    """`RASA_SERVERS` Rasa servers from RASA_PORT up (one, with the in-memory lock store, by default)."""
    count = settings().rasa_servers
    if count <= 1:
        return {"Rasa server": stack.enter_context(rasa_server(env))}
    redis_port = settings().redis_port
    processes = {"Redis": stack.enter_context(redis_server(redis_port))}
    env = scaled_env(env, redis_port)
    for n in range(count):
        port = settings().rasa_port + n
        server = rasa_server(env, port=port, log=logs_dir() / f"rasa-{n + 1}.log", endpoints=SCALED_ENDPOINTS)
        processes[f"Rasa server {n + 1}"] = stack.enter_context(server)
        say(f"Rasa server {n + 1}: http://127.0.0.1:{port}  (Redis lock store on port {redis_port})")
    return processes


@contextmanager
def dashboard(env: dict[str, str], port: int | None = None, log: Path | None = None):
    port = port or settings().dashboard_port
    log = log or logs_dir() / "dashboard.log"
    with child([str(APP_PYTHON), "-m", "dashboard", "--port", str(port)], env, log, "dashboard") as process:
        url = f"http://127.0.0.1:{port}/auth/config"
        wait_until(lambda: requests.get(url, timeout=2).ok, "the dashboard", process, 60, log)
        yield process


def require_model() -> None:
    if not MODEL.exists():
        raise SystemExit(f"no trained model at {MODEL}; run `make train` first")


def run_shell() -> int:
    require_model()
    env = stack_env(prepare_database())
    with action_server(env):
        say(f"action server on port {settings().actions_port} (log: {logs_dir() / 'actions.log'})")
        say("Starting rasa shell: type your messages, /stop to leave.")
        args = [*RASA_CLI, "shell", "--model", str(MODEL), "--endpoints", "endpoints.yml",
                "--port", str(settings().rasa_port)]  # fmt: skip
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the shell
        try:
            return subprocess.call(args, env={**env, "LOG_LEVEL": env.get("LOG_LEVEL", "WARNING")}, cwd=PROJECT_ROOT)
        finally:
            signal.signal(signal.SIGINT, previous)


def dev_secrets(env: dict[str, str]) -> dict[str, str]:
    """Local values for the secrets that are not set, printed so a developer can sign test payloads."""
    made = dev_values(env, DEV_SECRETS)
    for name, value in made.items():
        say(f"{name}={value}  (generated for this run)")
    return {**env, **made}


@contextmanager
def gateway(env: dict[str, str], port: int | None = None, log: Path | None = None):
    """The local Messenger gateway (deploy/local_gateway.py) as a child process."""
    port = port or settings().gateway_port
    log = log or logs_dir() / "gateway.log"
    args = [str(APP_PYTHON), "-m", "deploy.local_gateway", "--port", str(port)]
    with child(args, env, log, "Messenger gateway") as process:
        url = f"http://127.0.0.1:{port}/health"
        wait_until(lambda: requests.get(url, timeout=2).ok, "the Messenger gateway", process, 60, log)
        yield process


def serve() -> int:
    require_model()
    env = dev_secrets(stack_env(prepare_database()))
    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with ExitStack() as stack:
        processes = {
            "action server": stack.enter_context(action_server(env)),
            **rasa_servers(stack, env),
            "Messenger gateway": stack.enter_context(gateway(env)),
            "dashboard": stack.enter_context(dashboard(env)),
        }
        say(f"Rasa server:   http://127.0.0.1:{settings().rasa_port}  (REST channel: /webhooks/rest/webhook)")
        say(f"action server: http://127.0.0.1:{settings().actions_port}")
        say(
            f"Messenger:     http://127.0.0.1:{settings().gateway_port}/webhook  (Send API -> {env.get('GRAPH_API_URL') or 'Meta'})"
        )
        say(f"dashboard:     http://127.0.0.1:{settings().dashboard_port}/  (sign in with DASHBOARD_TOKEN)")
        say(f"logs:          {logs_dir()}")
        say("ready")
        while not stop["now"]:
            for name, process in processes.items():
                if process.poll() is not None:
                    say(f"{name} stopped unexpectedly (exit {process.returncode}); shutting down")
                    return 1
            time.sleep(0.5)
        say("stopping")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stack", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["run", "serve", "prepare"])
    args = parser.parse_args(argv)
    try:
        if args.command == "prepare":
            say(f"database ready: {db.connection_parts(prepare_database())['host']}")
            return 0
        return run_shell() if args.command == "run" else serve()
    except (RuntimeError, db.DatabaseUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
