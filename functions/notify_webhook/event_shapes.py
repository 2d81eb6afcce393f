"""Every way an S3 `ObjectCreated` notification reaches the function, unwrapped to the objects it names.

Shapes: a direct S3 notification (`aws:s3`, or Ceph RGW's `ceph:s3`); SQS messages and SNS records whose
body is one (also SNS -> SQS); EventBridge `Object Created`; the record Lambda writes to an OnFailure
destination (the original event is in `requestPayload`); `s3:TestEvent`. Anything else is
`UnsupportedEvent`, whose message says what was wrong and never quotes the event.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.utilities.data_classes import S3Event, SNSEvent
from aws_lambda_powertools.utilities.data_classes.s3_event import (
    S3EventBridgeNotificationEvent,
    S3EventRecord,
)

from .object_key_parts import decode_event_key

S3_SOURCE = "aws:s3"
CEPH_S3_SOURCE = "ceph:s3"  # Ceph RGW: same record layout, but the key is sent as it is, not URL-encoded
SQS_SOURCE = "aws:sqs"
SNS_SOURCE = "aws:sns"
TEST_EVENT = "s3:TestEvent"
EVENTBRIDGE_SOURCE = "aws.s3"
EVENTBRIDGE_CREATED = "Object Created"
# An OnFailure record holding an OnFailure record is possible (a replay that failed again); deeper is not.
_MAX_NESTING = 4
_KNOWN_SOURCES = frozenset({S3_SOURCE, CEPH_S3_SOURCE, SQS_SOURCE, SNS_SOURCE})
_SOURCE_NAME = re.compile(r"[a-z0-9]{1,16}:[a-z0-9.-]{1,32}")


class UnsupportedEvent(ValueError):
    """The event (or one SQS message) is no shape this function handles; the message names what was wrong."""


@dataclass(frozen=True)
class ObjectRef:
    """The object one notification announces: the key decoded, the version and ETag the event saw."""

    bucket: str
    key: str
    version_id: str | None
    event_etag: str
    sequencer: str
    # Other spellings of the key, tried only when `key` is missing and only pinned to the event's version
    # or ETag: an EventBridge key that may not have been percent-encoded (as sent, and `%`-decoded only).
    other_spellings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ignored:
    """A notification of a known shape about something other than a new object (a delete, a restore)."""

    event_name: str


@dataclass(frozen=True)
class Malformed:
    """One S3 record that lacks a field or carries one of the wrong type; the others still count."""

    reason: str


Item = ObjectRef | Ignored | Malformed


def is_sqs_batch(event: Any) -> bool:
    """An SQS event source mapping's batch: every record came from SQS with a `messageId` to report."""
    records = event.get("Records") if isinstance(event, dict) else None
    return (
        isinstance(records, list)
        and bool(records)
        and all(
            isinstance(record, dict)
            and record.get("eventSource") == SQS_SOURCE
            and isinstance(record.get("messageId"), str)
            for record in records
        )
    )


def items_of(event: Any, *, depth: int = 0) -> list[Item]:
    """What the event announces, in order; `[]` for `s3:TestEvent`. Raises `UnsupportedEvent`."""
    if depth > _MAX_NESTING:
        raise UnsupportedEvent("event nested too deeply")
    if not isinstance(event, dict):
        raise UnsupportedEvent(f"event is a JSON {_json_type(event)}, not an object")
    if "requestContext" in event and "requestPayload" in event:
        return items_of(event["requestPayload"], depth=depth + 1)
    if event.get("Event") == TEST_EVENT:
        return []
    if event.get("source") == EVENTBRIDGE_SOURCE and "detail-type" in event:
        return [_from_eventbridge(S3EventBridgeNotificationEvent(event))]
    if event.get("Type") == "Notification" and "Message" in event:  # an SNS message delivered to SQS
        return _from_sns_message(event["Message"], depth)
    records = event.get("Records")
    if isinstance(records, list) and records:
        if not any(_is_known_source(_record_source(record)) for record in records):
            # A DynamoDB stream, Kinesis, ... wired to this function by mistake: the trigger is wrong, no
            # webhook failed, so the event is unsupported (and counted as such).
            raise UnsupportedEvent(f"event's records come from {_source_name(_record_source(records[0]))}")
        return [item for record in records for item in _from_record(record, depth)]
    if isinstance(records, list):
        raise UnsupportedEvent("event has an empty Records list")
    raise UnsupportedEvent(
        "event is not an S3 notification, nor one in SQS, SNS, EventBridge or a Lambda OnFailure record"
    )


def sqs_body_items(body: Any, depth: int = 0) -> list[Item]:
    """One SQS message's body: an S3 notification, an SNS message or an EventBridge event, as JSON text."""
    return items_of(_parse_json(body, "SQS message body"), depth=depth + 1)


def _from_record(record: Any, depth: int) -> list[Item]:
    if not isinstance(record, dict):
        return [Malformed("a record is not a JSON object")]
    if record.get("eventSource") == SQS_SOURCE:
        return sqs_body_items(record.get("body"), depth)
    if record.get("EventSource") == SNS_SOURCE:
        sns = next(iter(SNSEvent({"Records": [record]}).records)).sns
        return _from_sns_message(sns.get("Message"), depth)
    source = record.get("eventSource")
    if source not in (S3_SOURCE, CEPH_S3_SOURCE):
        return [Malformed("a record has no known eventSource (aws:s3, ceph:s3, aws:sqs, aws:sns)")]
    return [_from_s3_record(next(iter(S3Event({"Records": [record]}).records)), decode=source == S3_SOURCE)]


def _from_sns_message(message: Any, depth: int) -> list[Item]:
    notification = _parse_json(message, "SNS message")
    if not isinstance(notification, dict) or not (
        notification.get("Event") == TEST_EVENT or isinstance(notification.get("Records"), list)
    ):
        raise UnsupportedEvent("SNS message is not an S3 notification")
    return items_of(notification, depth=depth + 1)


def _from_s3_record(record: S3EventRecord, *, decode: bool) -> Item:
    event_name = record.get("eventName")
    if not isinstance(event_name, str):
        return Malformed("S3 record has no eventName")
    if not event_name.startswith("ObjectCreated:"):
        return Ignored(event_name)
    try:
        s3 = record.s3
        obj = s3.get_object
        bucket, raw_key = s3.bucket.name, obj["key"]
        version_id: Any = obj.get("versionId")
        etag: Any = obj.get("eTag") or ""
    except (KeyError, TypeError, AttributeError):
        return Malformed("S3 record lacks s3.bucket.name or s3.object.key")
    if not (isinstance(bucket, str) and bucket and isinstance(raw_key, str) and raw_key):
        return Malformed("S3 record's bucket name and key must be non-empty strings")
    if not isinstance(version_id, str | None) or not isinstance(etag, str):
        return Malformed("S3 record's versionId and eTag must be strings")
    return ObjectRef(
        bucket=bucket,
        key=decode_event_key(raw_key) if decode else raw_key,
        version_id=version_id or None,
        event_etag=etag,
        sequencer=str(obj.get("sequencer") or ""),
    )


def _from_eventbridge(event: S3EventBridgeNotificationEvent) -> Item:
    """EventBridge's S3 events carry the key URL-encoded like S3's own notifications (Powertools'
    `detail.object.key` decodes it with `unquote_plus`); AWS does not document that encoding for EventBridge
    as it does for S3 notifications, and emulators send the key raw, so the key as sent and its `%`-only
    decoding are kept as other spellings (`notification.head_object_as_sent`)."""
    if event.detail_type != EVENTBRIDGE_CREATED:
        return Ignored(str(event.detail_type))
    detail = event.get("detail")
    detail = detail if isinstance(detail, dict) else {}
    obj, bucket = detail.get("object"), detail.get("bucket")
    obj = obj if isinstance(obj, dict) else {}
    raw_key = obj.get("key")
    if not isinstance(raw_key, str) or not raw_key:
        raise UnsupportedEvent("EventBridge event has no detail.object.key")
    name = bucket.get("name") if isinstance(bucket, dict) else None
    if not isinstance(name, str) or not name:
        raise UnsupportedEvent("EventBridge event has no detail.bucket.name")
    version_id, etag = obj.get("version-id"), obj.get("etag")
    if not isinstance(version_id, str | None) or not isinstance(etag, str | None):
        raise UnsupportedEvent("EventBridge event's version-id and etag must be strings")
    key = event.detail.object.key
    return ObjectRef(
        bucket=name,
        key=key,
        version_id=version_id or None,
        event_etag=etag or "",
        sequencer=str(obj.get("sequencer") or ""),
        other_spellings=tuple(item for item in dict.fromkeys((raw_key, unquote(raw_key))) if item != key),
    )


def _parse_json(text: Any, what: str) -> Any:
    if not isinstance(text, str):
        raise UnsupportedEvent(f"{what} is not a string")
    try:
        return json.loads(text)
    except ValueError:
        raise UnsupportedEvent(f"{what} is not JSON") from None


def _record_source(record: Any) -> Any:
    """`eventSource`, or SNS's `EventSource`; None for a record that is not an object."""
    if not isinstance(record, dict):
        return None
    return record.get("eventSource", record.get("EventSource"))


def _is_known_source(source: Any) -> bool:
    return isinstance(source, str) and source in _KNOWN_SOURCES


def _source_name(source: Any) -> str:
    """An event source as AWS names them (`aws:dynamodb`), quoted; anything else only by its kind."""
    if isinstance(source, str) and _SOURCE_NAME.fullmatch(source):
        return repr(source)
    return "missing" if source is None else f"not a known name ({_json_type(source)})"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return type(value).__name__
