"""What may have happened is never repeated, time runs out gracefully, and Graph refusals go where they belong.

Faults are made to happen: a Rasa stand-in that answers after the client's timeout, a port nothing listens
on, a socket that drops the request, a Send API stand-in that accepts a message and answers too late,
Graph errors 190 and 551, and Lambda invocations that run short of time.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest

from deploy.connector import budget, config, rasa_client
from deploy.connector.config import ConfigError
from deploy.connector.orchestrator import APOLOGY
from deploy.handlers import chat_orchestrator, reminder_job, webhook_receiver
from deploy.local_gateway import reset_caches, sqs_event
from tests.conftest import free_port
from tests.connector.conftest import MAX_RECEIVES, PAGE_ID, context, drain, load_event, wait_for
from tests.connector.test_orchestrator import PSID, text_event, webhook

QUEUE_ARN = "arn:aws:sqs:ap-southeast-1:123456789012:messages.fifo"


def records(texts: dict[str, str], receives: int = 1) -> dict:
    """An SQS batch as Lambda hands it over: one message per customer (psid -> text)."""
    messages = []
    for n, (psid, text) in enumerate(texts.items()):
        body = {"kind": "text", "psid": psid, "page_id": PAGE_ID, "mid": f"m_{psid}", "timestamp": n, "text": text}
        messages.append(
            {
                "MessageId": f"id-{psid}",
                "ReceiptHandle": f"rh-{psid}",
                "Body": json.dumps(body),
                "MD5OfBody": "x",
                "Attributes": {
                    "ApproximateReceiveCount": str(receives),
                    "SentTimestamp": "1795834800000",
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": "1795834800000",
                    "MessageGroupId": psid,
                },
            }
        )
    return sqs_event(messages, QUEUE_ARN, "ap-southeast-1")


def settings(monkeypatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    reset_caches()


def emitted_metrics(output: str) -> list[dict]:
    """CloudWatch embedded-metric-format documents printed to stdout."""
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]


# --- Rasa: asked again only when it surely never got the message ---------------------------------------


def test_a_slow_rasa_answering_after_the_timeout_ran_the_turn_once(gateway, graph, rasa_stub, connector, monkeypatch):
    settings(monkeypatch, RASA_TIMEOUT="0.5")
    rasa_stub.delay = lambda: 1.5  # Rasa has the message and runs the turn; its answer comes too late
    webhook(gateway, text_event("m_slow", "yes, book it"))
    wait_for(lambda: graph.texts(PSID), timeout=10, what="the apology")
    time.sleep(2.5)  # past the visibility timeout: a retry would have shown up by now
    assert rasa_stub.messages(PSID) == ["yes, book it"]  # one POST reached Rasa
    assert graph.texts(PSID) == [APOLOGY]
    assert drain(connector.queue_url) == [] and drain(connector.dead_letter_queue_url) == []


def test_a_rasa_that_refuses_connections_is_retried_then_dead_lettered_with_one_apology(
    gateway, graph, connector, monkeypatch
):
    settings(monkeypatch, RASA_URL=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    webhook(gateway, text_event("m_refused", "hello"))
    dead = wait_for(lambda: drain(connector.dead_letter_queue_url), timeout=20, what="the dead-letter queue")
    assert [json.loads(m["Body"])["mid"] for m in dead] == ["m_refused"]
    time.sleep(0.5)
    assert graph.texts(PSID) == [APOLOGY]


def dropping_server() -> tuple[str, threading.Event, threading.Event]:
    """A server that reads the request and closes the connection without an answer."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    received = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.recv(65536)
            received.set()
            connection.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", stop, received


def test_the_rasa_client_tells_a_request_that_never_left_from_one_that_got_no_answer(rasa_stub):
    with pytest.raises(rasa_client.RasaUnavailable):  # refused: nothing was sent, worth retrying
        rasa_client.send_message(f"http://127.0.0.1:{free_port()}", "p1", "hi", {"message_id": "m1"})
    rasa_stub.delay = lambda: 1.0
    with pytest.raises(rasa_client.RasaNoAnswer):  # read timeout: the turn may be running
        rasa_client.send_message(rasa_stub.url, "p1", "hi", {"message_id": "m2"}, timeout=0.3)
    url, stop, received = dropping_server()
    try:
        with pytest.raises(rasa_client.RasaNoAnswer):  # the request arrived, the connection dropped
            rasa_client.send_message(url, "p1", "hi", {"message_id": "m3"})
        assert received.is_set()
    finally:
        stop.set()
    rasa_stub.delay = lambda: 0.0
    rasa_stub.down = True
    with pytest.raises(rasa_client.RasaUnavailable):  # 503: turned away before the turn
        rasa_client.send_message(rasa_stub.url, "p1", "hi", {"message_id": "m4"})


# --- Send API: a message whose answer was lost is not sent again ---------------------------------------


def test_a_reply_accepted_but_answered_late_is_not_sent_again(gateway, graph, rasa_stub, connector, monkeypatch):
    settings(monkeypatch, GRAPH_TIMEOUT="0.5")
    rasa_stub.reply = lambda body: [{"text": "first part"}, {"text": "second part"}]
    graph.stalls, graph.stall_seconds = 1, 1.5  # the first part is delivered, its answer comes too late
    webhook(gateway, text_event("m_stall", "hello"))
    wait_for(lambda: "second part" in graph.texts(PSID), timeout=10, what="the second part")
    time.sleep(2.5)
    assert graph.texts(PSID) == ["first part", "second part"]  # one copy of each, no apology
    assert rasa_stub.messages(PSID) == ["hello"]
    assert drain(connector.queue_url) == [] and drain(connector.dead_letter_queue_url) == []


# --- Graph refusals ------------------------------------------------------------------------------------


def test_an_expired_page_token_puts_the_metric_and_the_message_comes_back(gateway, graph, rasa_stub, capfd):
    graph.failures = [(400, {"message": "Error validating access token", "type": "OAuthException", "code": 190})]
    webhook(gateway, text_event("m_token", "hello"))
    wait_for(lambda: graph.texts(PSID).count("you said: hello") == 2, timeout=10, what="the reply on the retry")
    time.sleep(0.5)
    assert len(graph.sends(PSID)) == 2  # refused once (not retried at once), sent on the next receive
    assert rasa_stub.messages(PSID) == ["hello"]  # the turn was stored, not asked again
    [metric] = emitted_metrics(capfd.readouterr().out)
    (directive,) = metric["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Lotus" and directive["Dimensions"] == [["service"]]
    assert directive["Metrics"] == [{"Name": "GraphAuthRefused", "Unit": "Count"}]
    assert metric["service"] == "messenger-connector" and metric["GraphAuthRefused"] == [1.0]


@pytest.mark.parametrize(
    "error",
    [
        {"message": "This person isn't available right now.", "code": 551, "error_subcode": 1545041},
        {"message": "An unexpected error has occurred.", "code": 2, "error_subcode": 1545041, "is_transient": False},
    ],
    ids=["551", "code-2-blocked"],
)
def test_a_customer_who_cannot_be_messaged_is_dropped_once(gateway, graph, rasa_stub, connector, capfd, error):
    graph.failures = [(400, error)]
    webhook(gateway, text_event("m_blocked", "hello"))
    wait_for(lambda: graph.sends(PSID), what="the refused send")
    time.sleep(2.5)  # past the visibility timeout: nothing comes back
    assert len(graph.sends(PSID)) == 1  # no retry, no apology
    assert rasa_stub.messages(PSID) == ["hello"]
    assert drain(connector.queue_url) == [] and drain(connector.dead_letter_queue_url) == []
    assert emitted_metrics(capfd.readouterr().out) == []


# --- the time budget -----------------------------------------------------------------------------------


def test_a_batch_whose_rasa_is_slow_is_cut_before_the_deadline_and_the_rest_is_retried(
    connector, graph, rasa_stub, monkeypatch
):
    settings(monkeypatch, RASA_TIMEOUT="2")
    steps = budget.step_times(config.settings())
    rasa_stub.delay = lambda: 1.0
    customers = {f"71000000000000{n:02d}": f"message {n}" for n in range(6)}
    seconds = steps.rasa_attempt + steps.apology + budget.MARGIN_SECONDS + 3.5  # room for about three turns
    started = time.monotonic()
    result = chat_orchestrator.lambda_handler(records(customers), context_of(seconds))
    elapsed = time.monotonic() - started
    assert elapsed < seconds  # stopped before the deadline
    failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
    answered = {psid for psid in customers if graph.texts(psid)}
    assert failed and answered, (failed, answered)
    assert failed == {f"id-{psid}" for psid in customers if psid not in answered}  # every unprocessed one
    for psid, text in customers.items():
        assert rasa_stub.messages(psid) == ([text] if psid in answered else [])
        assert graph.texts(psid) == ([f"you said: {text}"] if psid in answered else [])

    # the failed records come back (the next receive) and are answered; nothing is asked twice
    retry = {psid: text for psid, text in customers.items() if psid not in answered}
    again = chat_orchestrator.lambda_handler(records(retry, receives=2), context_of(60))
    assert again == {"batchItemFailures": []}
    for psid, text in customers.items():
        assert rasa_stub.messages(psid) == [text]
        assert graph.texts(psid) == [f"you said: {text}"]


def test_on_the_last_receive_every_message_cut_short_is_apologised_for_before_the_deadline(
    connector, graph, rasa_stub, monkeypatch
):
    settings(monkeypatch, RASA_TIMEOUT="2")
    steps = budget.step_times(config.settings())
    rasa_stub.delay = lambda: 1.0
    customers = {f"72000000000000{n:02d}": f"message {n}" for n in range(4)}
    # enough for the apologies of the whole batch and about one turn
    seconds = 4 * steps.apology + steps.rasa_attempt + budget.MARGIN_SECONDS + 1.5
    started = time.monotonic()
    result = chat_orchestrator.lambda_handler(records(customers, receives=MAX_RECEIVES), context_of(seconds))
    assert time.monotonic() - started < seconds
    failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
    assert failed, "the batch should have been cut"
    for psid, text in customers.items():
        if f"id-{psid}" in failed:
            assert graph.texts(psid) == [APOLOGY] and rasa_stub.messages(psid) == []
        else:
            assert graph.texts(psid) == [f"you said: {text}"]


def context_of(seconds: float):
    from deploy.local_gateway import LambdaContext

    return LambdaContext("ChatOrchestrator", seconds)


# --- secrets -------------------------------------------------------------------------------------------

PLACEHOLDERS = [
    ("MESSENGER_APP_SECRET", "set-me-before-going-live"),
    ("MESSENGER_VERIFY_TOKEN", ""),
    ("MESSENGER_PAGE_TOKEN", "changeme"),
]


@pytest.mark.parametrize(("name", "value"), PLACEHOLDERS)
def test_a_placeholder_secret_stops_the_handlers_naming_the_setting(connector, monkeypatch, name, value):
    settings(monkeypatch, **{name: value})
    starts = [
        lambda: webhook_receiver.lambda_handler(load_event("text"), context("WebhookReceiver")),
        lambda: chat_orchestrator.lambda_handler(records({PSID: "hi"}), context("ChatOrchestrator")),
        lambda: reminder_job.lambda_handler({}, context("ReminderJob")),
    ]
    for start in starts:
        reset_caches()
        with pytest.raises(ConfigError) as refused:
            start()
        assert name in str(refused.value)
        assert not value or value not in str(refused.value)


def test_a_placeholder_secret_stops_the_local_gateway(connector):
    env = {**os.environ, "MESSENGER_APP_SECRET": "set-me-before-going-live", "MESSENGER_PAGE_TOKEN": uuid.uuid4().hex}
    env.pop("MESSENGER_VERIFY_TOKEN", None)  # a missing one gets a dev value; a placeholder is refused
    started = subprocess.run(
        [sys.executable, "-m", "deploy.local_gateway", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 2
    assert "MESSENGER_APP_SECRET is a placeholder" in started.stderr
    assert "set-me-before-going-live" not in started.stderr + started.stdout
    assert "gateway ready" not in started.stdout
