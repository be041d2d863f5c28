"""ArchiveJob: yesterday's conversation events and booking changes, from PostgreSQL to S3 for Athena.

One run exports one local day (the business's time zone) as two gzip JSON Lines objects:

    s3://$ARCHIVE_BUCKET/events/dt=YYYY-MM-DD/events.jsonl.gz
    s3://$ARCHIVE_BUCKET/bookings/dt=YYYY-MM-DD/bookings.jsonl.gz

- events: every row of Rasa's tracker store (`events`) whose timestamp falls in that local day, in
  (timestamp, id) order, with Rasa's event JSON kept as it was written (`data`) and the message text
  lifted out (`text`) for queries. Conversations are kept whole: they are what trainers review and what
  the business improves the assistant with; the bucket is private and encrypted.
- bookings: every booking history row written that day (created, rescheduled, cancelled, reminded)
  with the booking's fixed facts (reference, sender id, service, price, created_at). History rows are
  never changed or deleted, so a rerun reads the same rows; a booking's current status is the last
  change of its reference. Customer names and phone numbers are not archived (they stay in PostgreSQL);
  the sender id joins bookings to conversations.

Streaming all the way: rows come through a server-side cursor, are gzipped as they come, and go to S3 in
multipart-upload parts, so memory stays flat whatever the size of the day. Reruns are idempotent: the same
keys are overwritten with the same bytes (fixed ordering, sorted JSON keys, gzip header without a time).
An empty day still gets its two (empty) objects, so every day's partition exists.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from core import db, tracker_events
from core.business import business
from deploy.jobs.config import archive_settings, use_database_secret

logger = Logger(service="lotus-jobs", child=True)

GZIP_LEVEL = 6


@dataclass(frozen=True)
class Exported:
    key: str
    rows: int
    bytes: int


def previous_local_day(now: datetime | None = None) -> date:
    """The business's yesterday (its clock; BOOKING_NOW pins it)."""
    now = now or business().now()
    return (now.astimezone(business().tz) - timedelta(days=1)).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start of the local day and of the next one, as aware datetimes (DST-safe: both from the calendar)."""
    tz = business().tz
    return datetime.combine(day, time(0), tzinfo=tz), datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def event_line(row: dict[str, Any]) -> bytes:
    data = row["data"] or ""
    try:
        parsed = json.loads(data) if data else {}
    except ValueError:
        parsed = {}
    text = parsed.get("text") if isinstance(parsed, dict) else None
    stamp = row["timestamp"]
    return _line(
        {
            "id": row["id"],
            "sender_id": row["sender_id"],
            "type_name": row["type_name"],
            "timestamp": stamp,
            "time": _iso_utc(datetime.fromtimestamp(stamp, tz=timezone.utc)) if stamp is not None else None,
            "intent_name": row["intent_name"],
            "action_name": row["action_name"],
            "text": text if isinstance(text, str) else None,
            "data": data,
        }
    )


def booking_line(row: dict[str, Any]) -> bytes:
    return _line(
        {
            "change_id": row["change_id"],
            "at": _iso_utc(row["at"]),
            "action": row["action"],
            "actor": row["actor"],
            "details": json.dumps(row["details"], sort_keys=True, separators=(",", ":"), ensure_ascii=False),
            "reference": row["reference"],
            "sender_id": row["sender_id"],
            "service": row["service"],
            "price": float(row["price"]),
            "created_at": _iso_utc(row["created_at"]),
        }
    )


class S3Sink:
    """A write-only file for GzipFile: compressed bytes go to S3 as multipart parts of `part_bytes`.

    A small object (under one part) is a single PUT; a failure aborts the upload, leaving what was there.
    """

    def __init__(self, s3: Any, bucket: str, key: str, part_bytes: int):
        self.s3, self.bucket, self.key, self.part_bytes = s3, bucket, key, part_bytes
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.buffer += data
        self.size += len(data)
        if len(self.buffer) >= self.part_bytes:
            self._upload_part()
        return len(data)

    def flush(self) -> None:
        pass

    def _upload_part(self) -> None:
        if self.upload_id is None:
            self.upload_id = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType="application/gzip"
            )["UploadId"]
        number = len(self.parts) + 1
        answer = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=bytes(self.buffer)
        )
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        self.buffer.clear()

    def finish(self) -> None:
        if self.upload_id is None:
            self.s3.put_object(
                Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer), ContentType="application/gzip"
            )
            return
        if self.buffer:
            self._upload_part()
        self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": self.parts}
        )

    def abort(self) -> None:
        if self.upload_id is not None:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)


def write_jsonl_gz(
    s3: Any,
    bucket: str,
    key: str,
    rows: Iterable[dict[str, Any]],
    to_line: Callable[[dict[str, Any]], bytes],
    part_bytes: int,
) -> Exported:
    """Stream `rows` as gzip JSON Lines into one S3 object; the same rows always give the same bytes."""
    sink = S3Sink(s3, bucket, key, part_bytes)
    count = 0
    try:
        with gzip.GzipFile(filename="", mode="wb", fileobj=sink, compresslevel=GZIP_LEVEL, mtime=0) as out:  # type: ignore[arg-type]
            for row in rows:
                out.write(to_line(row))
                count += 1
        sink.finish()
    except BaseException:
        sink.abort()
        raise
    return Exported(key=key, rows=count, bytes=sink.size)


def partition_key(kind: str, day: date) -> str:
    return f"{kind}/dt={day.isoformat()}/{kind}.jsonl.gz"


def export_day(day: date, bucket: str, s3: Any = None, part_bytes: int = 8 * 1024 * 1024) -> dict[str, Exported]:
    """Export one local day's events and booking changes to `bucket`; returns what was written."""
    s3 = s3 or boto3.client("s3")
    start, end = day_bounds(day)
    tracker_events.ensure_events_time_index()
    events = tracker_events.archive_events(start.timestamp(), end.timestamp())
    changes = db.archive_booking_changes(start, end)
    written = {
        "events": write_jsonl_gz(s3, bucket, partition_key("events", day), events, event_line, part_bytes),
        "bookings": write_jsonl_gz(s3, bucket, partition_key("bookings", day), changes, booking_line, part_bytes),
    }
    for kind, result in written.items():
        logger.info("archived", kind=kind, day=day.isoformat(), key=result.key, rows=result.rows, bytes=result.bytes)
    return written


def run(event: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Lambda's one call: `{"day": "YYYY-MM-DD"}` re-exports that day (backfill), else yesterday."""
    conf = archive_settings()
    use_database_secret()
    raw_day = (event or {}).get("day")
    day = date.fromisoformat(raw_day) if raw_day else previous_local_day()
    written = export_day(day, conf.bucket, part_bytes=conf.part_bytes)
    return {"day": day.isoformat(), **{kind: {"key": e.key, "rows": e.rows} for kind, e in written.items()}}
