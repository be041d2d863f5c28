"""Dashboard fixtures: a seeded database (real conversations through Rasa, synthetic ones written by
Rasa's tracker store, real bookings), the dashboard server as a subprocess, and a headless Chromium."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn

from core import bookings, db
from core.business import business
from core.settings import PROJECT_ROOT
from core.tracker_events import TRY_SENDER_PREFIX
from dashboard import assets
from deploy.connector import rasa_client
from tests.conftest import free_port
from tests.connector.conftest import APP_SECRET, PAGE_TOKEN, VERIFY_TOKEN, GraphStub
from tests.dashboard import synthetic

RESULTS = PROJECT_ROOT / "tests" / "results" / "dashboard"
PAST_DAYS = [1, 2, 3, 5, 8]  # days before today holding synthetic conversations
PER_DAY = 6
SCRIPT_MESSAGE = "<script>window.pwned = 1</script> <b>bold</b> do you do massages?"

# Real conversations through the REST channel: the assistant classifies them itself.
REAL_CONVERSATIONS = {
    "booking": ["hi", "I'd like to book a facial on Thursday at 11am", "Lan Nguyen", "0903 123 456", "yes"],
    "questions": ["hello", "what's the capital of France?", "I want to talk to a real person"],
    "script": [SCRIPT_MESSAGE],
}
SEEDED_BOOKINGS = [  # (customer name, phone, service)
    ("Mai Tran", "+84 90 111 2233", "Swedish Massage"),
    ("Binh Le", "+84 91 222 3344", "Classic Facial"),
    ("Thu Pham", "+84 93 333 4455", "Swedish Massage"),
    ("An Vo", "+84 94 444 5566", "Classic Facial"),
]


@dataclass
class Seeded:
    """What the tests put in the database, and the figures it must produce."""

    synthetic: list[dict[str, Any]]
    real_senders: dict[str, str]  # conversation name -> sender id
    real_replies: dict[str, list[list[dict]]]  # conversation name -> the replies of each turn
    real_events: dict[str, list[dict]]  # sender id -> events as Rasa's HTTP API returns them
    try_sender: str
    booking_references: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        convs = self.synthetic + [{"sender_id": s, "events": e} for s, e in self.real_events.items()]
        return synthetic.figures(convs, business().tz)

    @property
    def intents(self) -> Counter:
        return self.figures()["intents"]


def _talk(rasa_url: str, sender: str, messages: list[str]) -> list[list[dict]]:
    return [rasa_client.send_message(rasa_url, sender, text, timeout=120) for text in messages]


def _tracker_events(rasa_url: str, sender: str) -> list[dict]:
    response = requests.get(f"{rasa_url}/conversations/{sender}/tracker", params={"include_events": "ALL"}, timeout=30)
    response.raise_for_status()
    return response.json()["events"]


@pytest.fixture(scope="session")
def seeded(database: str, stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """A clean slate, then: synthetic conversations on past days, real ones today, real bookings."""
    with db.transaction() as cur:
        cur.execute("TRUNCATE booking_history, bookings, customers RESTART IDENTITY CASCADE")
        cur.execute("DELETE FROM events")  # Rasa created the table when the stack started
    tz = business().tz
    convs = synthetic.conversations(datetime.now(tz).date(), PAST_DAYS, PER_DAY, tz)
    synthetic.write_with_rasa(convs, database, tmp_path_factory.mktemp("synthetic"))

    run = secrets.token_hex(3)
    senders = {name: f"dash-{name}-{run}" for name in REAL_CONVERSATIONS}
    replies = {name: _talk(stack["rasa_url"], senders[name], msgs) for name, msgs in REAL_CONVERSATIONS.items()}
    # a "try the bot" sender: in the list, never in the figures
    try_sender = f"{TRY_SENDER_PREFIX}seed{run}"
    rasa_client.send_message(stack["rasa_url"], try_sender, "hello", timeout=120)
    events = {sender: _tracker_events(stack["rasa_url"], sender) for sender in senders.values()}
    seeded = Seeded(convs, senders, replies, events, try_sender)

    booked = db.upcoming_bookings(senders["booking"], business().now())
    assert len(booked) == 1, f"the booking conversation made no booking: {replies['booking']}"
    seeded.booking_references.append(booked[0].reference)
    for i, (name, phone, service) in enumerate(SEEDED_BOOKINGS):
        slot = bookings.next_slots(service)[i]
        made = bookings.book(
            sender_id=f"seed-customer-{i}", customer_name=name, customer_phone=phone, service=service,
            start=slot.start, staff=None, actor="test",
        )  # fmt: skip
        seeded.booking_references.append(made.reference)
    return seeded


@pytest.fixture(scope="session")
def dashboard_token() -> str:
    return "test-" + secrets.token_urlsafe(18)


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty knowledge index folder of the session: the dashboard builds it."""
    return tmp_path_factory.mktemp("rag-index")


@pytest.fixture(scope="session")
def dashboard_graph() -> Iterator[GraphStub]:
    """The Graph API stand-in the dashboard sends staff replies to."""
    stub = GraphStub()
    yield stub
    stub.close()


@pytest.fixture(scope="session")
def dashboard(
    database: str,
    stack: dict[str, str],
    dashboard_token: str,
    index_dir: Path,
    dashboard_graph: GraphStub,
    tmp_path_factory,
) -> Iterator[str]:
    """`python -m dashboard` on a free loopback port, against the session's database, Rasa, index and Graph
    API stand-in."""
    assets.ensure()
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard-log") / "dashboard.log"
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "DASHBOARD_TOKEN": dashboard_token,
        "RASA_URL": stack["rasa_url"],
        "ACTIONS_URL": stack["actions_url"],
        "RAG_INDEX_DIR": str(index_dir),
        "PYTHONPATH": str(PROJECT_ROOT),
        "HF_HUB_OFFLINE": "1",
        "GRAPH_API_URL": dashboard_graph.url,
        "MESSENGER_APP_SECRET": APP_SECRET,
        "MESSENGER_VERIFY_TOKEN": VERIFY_TOKEN,
        "MESSENGER_PAGE_TOKEN": PAGE_TOKEN,
    }
    env.pop("MESSENGER_SECRET_NAME", None)
    for name in ("COGNITO_APP_CLIENT_ID", "COGNITO_ISSUER", "COGNITO_JWKS_URL", "COGNITO_REGION"):
        env.pop(name, None)
    python = PROJECT_ROOT / ".venv" / "app" / "bin" / "python"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(python), "-m", "dashboard", "--port", str(port)], env=env, cwd=PROJECT_ROOT,
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "dashboard ready" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class Api:
    """The dashboard's JSON API with a bearer token."""

    def __init__(self, base: str, token: str):
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params) -> requests.Response:
        return requests.get(self.base + path, params=params, headers=self.headers, timeout=120)

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        return requests.post(self.base + path, json=body or {}, headers=self.headers, timeout=300)


@pytest.fixture(scope="session")
def api(dashboard: str, dashboard_token: str, seeded: Seeded) -> Api:
    return Api(dashboard, dashboard_token)


@pytest.fixture(scope="session")
def results_dir() -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module: Playwright's sync API holds an event loop on this thread while open,
    which the other suites (asyncio.run in the action tests) must not inherit."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"], headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, api: Api):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda err: errors.append(str(err)))
    tab.errors = errors
    yield tab
    context.close()


@contextmanager
def serve_in_thread(app) -> Iterator[str]:
    """An app served by uvicorn in a thread on a free loopback port; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
