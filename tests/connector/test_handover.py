"""The handover protocol through the local gateway, with the Graph API and Rasa stand-ins: a handoff
passes the thread to the Page inbox, flags the conversation, tells the staff; standby messages reach Rasa;
the inbox passing the thread back releases the conversation."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
import requests

from deploy.connector.signature import sign
from deploy.local_gateway import reset_caches
from tests.connector.conftest import APP_SECRET, PAGE_ID, wait_for

HANDOFF_REPLY = [
    {"recipient_id": "x", "text": "Of course. A person will reply to you right here."},
    {"recipient_id": "x", "custom": {"handoff": {"reason": "request_human"}}},
]


def post(gateway, psid: str, event: dict, channel: str = "messaging") -> None:
    event = {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": 1764558000000, **event}
    body = json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, channel: [event]}]}).encode()
    headers = {"content-type": "application/json", "x-hub-signature-256": sign(body, APP_SECRET)}
    assert requests.post(gateway.url, data=body, headers=headers, timeout=10).text == "EVENT_RECEIVED"


def handover_calls(graph, path: str) -> list[dict]:
    return [c["json"] for c in graph.snapshot() if c["path"] == path]


def customer_messages(rasa_stub, psid: str) -> list[str]:
    """What Rasa's REST channel was sent for the customer (not the control route's calls)."""
    return [
        c["json"]["message"]
        for c in rasa_stub.snapshot()
        if c["path"].endswith("/webhook") and (c["json"] or {}).get("sender") == psid
    ]


def flag(connector, psid: str) -> dict:
    item = boto3.client("dynamodb").get_item(TableName=connector.profiles_table, Key={"psid": {"S": psid}})
    return item.get("Item") or {}


@pytest.fixture
def staff_topic(connector, monkeypatch):
    """An SNS topic for handoffs with a queue subscribed to it, to read what the staff are sent."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name=f"handoffs-{uuid.uuid4().hex[:8]}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"staff-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    monkeypatch.setenv("HANDOFF_TOPIC_ARN", topic)
    reset_caches()

    def received() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return received


def test_a_handoff_passes_the_thread_to_the_page_inbox_and_tells_the_staff(
    connector, gateway, graph, rasa_stub, staff_topic
):
    rasa_stub.reply = lambda body: HANDOFF_REPLY
    psid = f"71{uuid.uuid4().int % 10**12:012d}"
    post(gateway, psid, {"message": {"mid": f"m_{psid}_1", "text": "can I talk to a person"}})

    [passed] = wait_for(lambda: handover_calls(graph, "/me/pass_thread_control"), what="pass_thread_control")
    assert passed["recipient"] == {"id": psid} and passed["target_app_id"] == "263902037430900"
    assert json.loads(passed["metadata"]) == {"reason": "request_human"}
    assert graph.texts(psid) == ["Of course. A person will reply to you right here."]  # the payload is not sent
    # the reply went out before the thread was passed (afterwards the page inbox holds it)
    send = next(c for c in graph.snapshot() if "message" in (c["json"] or {}))
    passing = next(c for c in graph.snapshot() if c["path"] == "/me/pass_thread_control")
    assert send["at"] < passing["at"]
    item = wait_for(lambda: flag(connector, psid).get("handoff_reason") and flag(connector, psid), what="the flag")
    assert item["handoff_reason"] == {"S": "request_human"}
    assert int(item["handoff_until"]["N"]) - int(item["handoff_since"]["N"]) == 12 * 3600
    assert item["first_name"] == {"S": "Lan"}  # the profile cache in the same item is kept
    [notice] = wait_for(staff_topic, what="the staff notification")
    assert notice == {"event": "handoff_opened", "psid": psid, "reason": "request_human"}


def test_the_target_app_is_a_setting(connector, graph, rasa_stub, monkeypatch):
    monkeypatch.setenv("HANDOFF_TARGET_APP_ID", "555000111")
    reset_caches()
    from deploy.local_gateway import Gateway
    from tests.conftest import free_port

    rasa_stub.reply = lambda body: HANDOFF_REPLY
    with Gateway(free_port(), connector.queue_url) as gateway:
        post(gateway, "7100001", {"message": {"mid": "m_7100001_1", "text": "human please"}})
        [passed] = wait_for(lambda: handover_calls(graph, "/me/pass_thread_control"), what="pass_thread_control")
    assert passed["target_app_id"] == "555000111"


def test_standby_messages_reach_rasa_and_the_inbox_passing_back_releases(connector, gateway, graph, rasa_stub):
    executed: list[dict] = []

    def reply(body: dict) -> object:
        if "action" in body:  # /webhooks/rest/control (deploy/rasa_channel.py)
            executed.append(body)
            return {"messages": []}
        return []  # the assistant stays quiet while a person holds the thread

    rasa_stub.reply = reply
    psid = f"72{uuid.uuid4().int % 10**12:012d}"
    boto3.client("dynamodb").update_item(
        TableName=connector.profiles_table,
        Key={"psid": {"S": psid}},
        UpdateExpression="SET handoff_reason = :r, handoff_until = :u",
        ExpressionAttributeValues={":r": {"S": "request_human"}, ":u": {"N": "9999999999"}},
    )
    post(gateway, psid, {"message": {"mid": f"m_{psid}_2", "text": "are you still there?"}}, channel="standby")
    wait_for(lambda: customer_messages(rasa_stub, psid) == ["are you still there?"], what="the standby message at Rasa")
    post(gateway, psid, {"message": {"mid": f"m_{psid}_echo", "text": "Hi, Lan here", "is_echo": True}}, "standby")

    handback = {"pass_thread_control": {"new_owner_app_id": "1234", "previous_owner_app_id": "263902037430900"}}
    post(gateway, psid, handback)
    wait_for(lambda: executed, what="the release action at Rasa")
    assert executed == [{"sender": psid, "action": "action_handoff_release"}]
    release_calls = [c for c in rasa_stub.snapshot() if c["path"].endswith("/control")]
    assert [c["path"] for c in release_calls] == ["/webhooks/rest/control"]
    wait_for(lambda: "handoff_reason" not in flag(connector, psid), what="the flag cleared")
    assert graph.sends(psid) == []  # nothing was said to the customer
    assert customer_messages(rasa_stub, psid) == [
        "are you still there?"
    ]  # the echo of the staff reply is not a message
