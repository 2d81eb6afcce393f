"""The parked message, read without any I/O: Lambda's OnFailure record, its object keys, reason and
attempts; and `failure_record`, which writes one the way Lambda does (for the demo and the tests)."""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

MAX_REASON_CHARS = 500


class NotARecord(ValueError):
    """A message body that is not a Lambda OnFailure invocation record; the message says what is wrong."""


@dataclass(frozen=True)
class ParkedRecord:
    """What `list` shows of one OnFailure record."""

    keys: tuple[str, ...]
    reason: str
    attempts: int | None
    condition: str
    timestamp: str | None
    # Parked by the notify function itself (schedule exhausted, 410, a refused continuation): every
    # attempt's number, time and reason, and the webhook-id the receiver saw.
    history: tuple[dict[str, Any], ...] = ()
    webhook_id: str | None = None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def error_text(payload: Any) -> str:
    """`errorType: errorMessage` of a Lambda error object, or the payload itself when it is text."""
    if isinstance(payload, dict):
        error_type = payload.get("errorType")
        message = payload.get("errorMessage")
        parts = [str(part) for part in (error_type, message) if part not in (None, "")]
        return _short(": ".join(parts))
    if isinstance(payload, str):
        return _short(payload)
    return ""


def _s3_record_key(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    s3 = record.get("s3")
    obj = s3.get("object") if isinstance(s3, dict) else None
    key = obj.get("key") if isinstance(obj, dict) else None
    if not isinstance(key, str):
        return None
    # S3 URL-encodes keys in its notifications; other S3 implementations (Ceph RGW) do not.
    return unquote_plus(key) if record.get("eventSource") == "aws:s3" else key


def object_keys(event: Any, *, _depth: int = 0) -> tuple[str, ...]:
    """The object keys an event announces: S3 notifications (also inside SQS or SNS envelopes, or another
    OnFailure record) and EventBridge `Object Created` events. Empty when there are none (`s3:TestEvent`)."""
    if _depth > 3 or not isinstance(event, dict):
        return ()
    if "requestContext" in event and "requestPayload" in event:  # a record of a record (async re-invoke)
        return object_keys(event["requestPayload"], _depth=_depth + 1)
    detail = event.get("detail")
    if event.get("source") == "aws.s3" and isinstance(detail, dict):
        obj = detail.get("object")
        key = obj.get("key") if isinstance(obj, dict) else None
        return (key,) if isinstance(key, str) else ()
    records = event.get("Records")
    if not isinstance(records, list):
        return ()
    keys: list[str] = []
    for record in records:
        key = _s3_record_key(record)
        if key is not None:
            keys.append(key)
            continue
        if not isinstance(record, dict):
            continue
        sns = record.get("Sns")
        inner = sns.get("Message") if isinstance(sns, dict) else record.get("body")
        if isinstance(inner, str):
            with contextlib.suppress(ValueError):
                keys.extend(object_keys(json.loads(inner), _depth=_depth + 1))
    return tuple(keys)


def parse_record(body: str) -> ParkedRecord:
    """The OnFailure record in a message body; `NotARecord` for anything else."""
    try:
        document = json.loads(body)
    except ValueError:
        raise NotARecord("body is not JSON") from None
    if not isinstance(document, dict):
        raise NotARecord("body is not a JSON object")
    context = document.get("requestContext")
    if not isinstance(context, dict) or "requestPayload" not in document:
        raise NotARecord("no requestContext and requestPayload: not a Lambda OnFailure record")
    condition = context.get("condition")
    if not isinstance(condition, str) or not condition:
        raise NotARecord("requestContext has no condition")
    if condition == "Success":
        raise NotARecord("an OnSuccess record: that invocation succeeded")
    attempts = context.get("approximateInvokeCount")
    reason = error_text(document.get("responsePayload")) or condition
    timestamp = document.get("timestamp")
    continuation = document.get("continuation")
    continuation = continuation if isinstance(continuation, dict) else {}
    history = continuation.get("history")
    webhook_id = continuation.get("webhook_id")
    return ParkedRecord(
        keys=object_keys(document["requestPayload"]),
        reason=reason,
        attempts=attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else None,
        condition=condition,
        timestamp=timestamp if isinstance(timestamp, str) else None,
        history=tuple(item for item in history if isinstance(item, dict))
        if isinstance(history, list)
        else (),
        webhook_id=webhook_id if isinstance(webhook_id, str) else None,
    )


def failure_record(
    event: Any,
    error: BaseException,
    *,
    function_arn: str,
    attempts: int = 3,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The record Lambda sends to an OnFailure destination when `event` failed every attempt with `error`
    (its documented shape: AWS Lambda developer guide, "Capturing records of Lambda asynchronous
    invocations"). For the demo and the tests, which park events as Lambda would."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "version": "1.0",
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "requestContext": {
            "requestId": request_id or str(uuid.uuid4()),
            "functionArn": f"{function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": str(error), "errorType": type(error).__name__},
    }
