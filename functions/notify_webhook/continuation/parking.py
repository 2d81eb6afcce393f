"""Parking work that cannot succeed: a record on the failure queue in the shape Lambda's OnFailure
destination writes, so `make replay` lists and replays it like any other parked event.

`requestPayload` is what a replay runs: for an object it is an S3 notification of that object (its
version, ETag and sequencer, so the replay carries the same `webhook-id`) and a replay starts the schedule
afresh; for a refused message it is the message as received, which a replay refuses again. The record
adds `continuation`: the reason, the attempts made and their history.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from .message import AttemptRecord, short_reason
from .pinned import PinnedObject
from .work_queue import get_sqs_client

PARKED_CONDITION = "ContinuationParked"
# errorType values a parked record carries (what an operator filters on).
SCHEDULE_EXHAUSTED = "WebhookScheduleExhausted"
RECEIVER_GONE = "WebhookGone"
REFUSED = "ContinuationRefused"
CANNOT_CONTINUE = "ContinuationImpossible"


def object_event(target: PinnedObject) -> dict[str, Any]:
    """An S3 `ObjectCreated` notification of the pinned object, as S3 writes one (the key URL-encoded)."""
    obj: dict[str, Any] = {
        "key": quote_plus(target.key, safe="/"),
        "size": target.size,
        "eTag": target.etag,
        "sequencer": target.sequencer,
    }
    if target.version_id:
        obj["versionId"] = target.version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": target.bucket}, "object": obj},
            }
        ]
    }


def parked_record(
    payload: Any,
    error_type: str,
    reason: str,
    *,
    function_arn: str,
    request_id: str | None,
    attempts: int = 0,
    history: tuple[AttemptRecord, ...] = (),
    webhook_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The record to park: Lambda's OnFailure layout plus `continuation` (reason, attempts, history)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    reason = short_reason(reason)
    return {
        "version": "1.0",
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "requestContext": {
            "requestId": request_id or str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": PARKED_CONDITION,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Handled"},
        "responsePayload": {"errorType": error_type, "errorMessage": reason},
        "continuation": {
            "reason": reason,
            "attempts": attempts,
            "webhook_id": webhook_id,
            "history": [{"attempt": item.attempt, "at": item.at, "reason": item.reason} for item in history],
        },
    }


def park(queue_url: str, record: dict[str, Any]) -> str:
    """Send the record to the failure queue; its `MessageId`."""
    body = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return get_sqs_client().send_message(QueueUrl=queue_url, MessageBody=body)["MessageId"]
