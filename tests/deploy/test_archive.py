"""ArchiveJob against a real PostgreSQL and moto's S3 (server mode)."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime, timedelta

import boto3
import psycopg2.extras

from core import db, tracker_events
from core.business import business
from deploy.jobs import archive
from tests.deploy.conftest import insert_events, make_booking

DAY = date(2025, 6, 15)  # far from every other suite's data


def local(day: date, hour: int, minute: int = 0, second: float = 0) -> datetime:
    whole = int(second)
    return datetime(
        day.year, day.month, day.day, hour, minute, whole, int((second - whole) * 1e6), tzinfo=business().tz
    )


def read_lines(bucket: str, key: str) -> list[dict]:
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return [json.loads(line) for line in gzip.decompress(body).splitlines()]


def raw(bucket: str, key: str) -> bytes:
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def user_event(sender: str, at: datetime, text: str) -> tuple:
    data = json.dumps({"event": "user", "timestamp": at.timestamp(), "text": text, "parse_data": {}})
    return (sender, "user", at.timestamp(), "book_appointment", None, data)


def add_history(booking: db.Booking, action: str, at: datetime, details: dict) -> None:
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO booking_history (booking_id, action, actor, at, details) VALUES (%s, %s, 'test', %s, %s)",
            (booking.id, action, at, psycopg2.extras.Json(details)),
        )


def test_a_day_is_exported_with_its_events_and_booking_changes(archive_db, archive_bucket):
    insert_events(
        [
            user_event("psid-a", local(DAY, 0), "hi at midnight"),  # the first instant of the day: in
            user_event("psid-b", local(DAY, 9, 30), "book a manicure"),
            ("psid-b", "action", local(DAY, 9, 30, 1).timestamp(), None, "utter_greet", '{"event": "action"}'),
            user_event("psid-a", local(DAY, 23, 59, 59.5), "still today"),
            user_event("psid-c", local(DAY, 0) - timedelta(microseconds=1000), "yesterday"),  # out
            user_event("psid-c", local(DAY + timedelta(days=1), 0), "tomorrow"),  # out
        ]
    )
    booking = make_booking("psid-b", "Manicure", "Linh", business().now() + timedelta(days=3))
    add_history(booking, "updated", local(DAY, 9, 31), {"note": "first"})
    add_history(booking, "cancelled", local(DAY, 18, 0), {"fee": "0"})
    add_history(booking, "updated", local(DAY + timedelta(days=1), 0, 0, 0.5), {"note": "next day"})

    written = archive.export_day(DAY, archive_bucket)

    assert written["events"].key == "events/dt=2025-06-15/events.jsonl.gz"
    assert written["bookings"].key == "bookings/dt=2025-06-15/bookings.jsonl.gz"
    events = read_lines(archive_bucket, written["events"].key)
    assert [(e["sender_id"], e["type_name"], e["text"]) for e in events] == [
        ("psid-a", "user", "hi at midnight"),
        ("psid-b", "user", "book a manicure"),
        ("psid-b", "action", None),
        ("psid-a", "user", "still today"),
    ]
    assert events[0]["time"] == "2025-06-14T17:00:00.000000+00:00"  # midnight in Ho Chi Minh City, in UTC
    assert events[2]["action_name"] == "utter_greet"
    assert json.loads(events[1]["data"])["text"] == "book a manicure"  # Rasa's own event JSON, kept whole
    assert written["events"].rows == 4

    changes = read_lines(archive_bucket, written["bookings"].key)
    assert [(c["reference"], c["action"], json.loads(c["details"])) for c in changes] == [
        (booking.reference, "updated", {"note": "first"}),
        (booking.reference, "cancelled", {"fee": "0"}),
    ]
    assert changes[0]["sender_id"] == "psid-b"
    assert changes[0]["service"] == "Manicure"
    assert changes[0]["price"] == 18.0
    everything = gzip.decompress(raw(archive_bucket, written["bookings"].key)).decode()
    assert "+84" not in everything and "Lan" not in everything  # no name or phone in the archive


def test_a_rerun_writes_the_same_objects_byte_for_byte(archive_db, archive_bucket):
    day = DAY + timedelta(days=1)
    insert_events([user_event(f"psid-{n % 7}", local(day, 10, n // 60, n % 60), f"message {n}") for n in range(500)])
    booking = make_booking("psid-1", "Manicure", "An", business().now() + timedelta(days=4))
    add_history(booking, "updated", local(day, 12), {"n": 1})

    first = archive.export_day(day, archive_bucket)
    first_bytes = {kind: raw(archive_bucket, e.key) for kind, e in first.items()}
    # later activity on other days does not change this day's objects
    insert_events([user_event("psid-9", local(day + timedelta(days=1), 8), "the next morning")])
    add_history(booking, "cancelled", local(day + timedelta(days=1), 9), {"fee": "0"})
    second = archive.export_day(day, archive_bucket)

    assert {k: e.key for k, e in first.items()} == {k: e.key for k, e in second.items()}
    for kind, exported in second.items():
        assert raw(archive_bucket, exported.key) == first_bytes[kind]
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=archive_bucket)["Contents"]]
    assert sorted(keys) == sorted(e.key for e in first.values())  # nothing else was written
    assert first_bytes["events"][4:8] == b"\x00\x00\x00\x00"  # gzip header without a modification time
    assert len(read_lines(archive_bucket, first["events"].key)) == 500


def test_an_empty_day_still_gets_its_partition(archive_db, archive_bucket):
    day = DAY + timedelta(days=5)
    written = archive.export_day(day, archive_bucket)
    for exported in written.values():
        assert exported.rows == 0
        assert read_lines(archive_bucket, exported.key) == []


def test_a_large_day_goes_up_in_parts_with_the_same_bytes(archive_db, archive_bucket):
    day = DAY + timedelta(days=2)
    start = local(day, 0).timestamp()
    with db.transaction() as cur:  # ~9 MB of gzip: random text does not compress well
        cur.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
            " SELECT 'psid-' || (n %% 100), 'user', %s + n * 0.5, 'inform', NULL,"
            " json_build_object('event', 'user', 'text', md5(n::text) || md5((n * 7)::text) || md5((n * 13)::text))::text"
            " FROM generate_series(1, 80000) AS n",
            (start,),
        )
    part = 5 * 1024 * 1024
    in_parts = archive.write_jsonl_gz(
        boto3.client("s3"),
        archive_bucket,
        "parts.jsonl.gz",
        tracker_events.archive_events(start, start + 86400),
        archive.event_line,
        part,
    )
    whole = archive.write_jsonl_gz(
        boto3.client("s3"),
        archive_bucket,
        "whole.jsonl.gz",
        tracker_events.archive_events(start, start + 86400),
        archive.event_line,
        1 << 30,
    )
    assert in_parts.bytes > part  # really a multipart upload
    head = boto3.client("s3").head_object(Bucket=archive_bucket, Key="parts.jsonl.gz")
    assert "-" in head["ETag"]  # S3's multipart ETag: md5-of-parts "-" part count
    assert raw(archive_bucket, "parts.jsonl.gz") == raw(archive_bucket, "whole.jsonl.gz")
    assert in_parts.rows == whole.rows == 80000


def test_the_previous_local_day_follows_the_business_clock():
    # BOOKING_NOW is 2026-12-01T10:00+07:00; at 02:00 local on 1 December it is still 30 November in UTC
    assert archive.previous_local_day() == date(2026, 11, 30)
    assert archive.previous_local_day(datetime.fromisoformat("2026-12-01T19:30:00+00:00")) == date(2026, 12, 1)
    start, end = archive.day_bounds(date(2026, 11, 30))
    assert start.isoformat() == "2026-11-30T00:00:00+07:00"
    assert end - start == timedelta(days=1)


def test_the_job_entry_exports_the_day_it_is_given(archive_db, archive_bucket, monkeypatch):
    monkeypatch.setenv("ARCHIVE_BUCKET", archive_bucket)
    day = DAY + timedelta(days=9)
    insert_events([user_event("psid-x", local(day, 11), "hello")])
    result = archive.run({"day": day.isoformat()})
    assert result["day"] == "2025-06-24"
    assert result["events"] == {"key": "events/dt=2025-06-24/events.jsonl.gz", "rows": 1}
    assert result["bookings"]["rows"] == 0
