"""Every way an S3 notification reaches the notify function, built on the published examples in
`tests/fixtures/events/` (see the README there for where each came from)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "fixtures" / "events"
SQS_MESSAGE_ID = "ca3e7a89-c358-40e5-8aa0-5da01403c267"  # the Powertools example's messageId

Event = dict[str, Any]


def fixture(name: str) -> Event:
    loaded: Event = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def _as_text(notification: Any) -> str:
    return json.dumps(notification, ensure_ascii=False, separators=(",", ":"))


def sqs_event(*bodies: Any, message_ids: list[str] | None = None) -> Event:
    """S3 -> SQS -> Lambda: one message per body (a dict is sent as its JSON text, a str as it is)."""
    template = fixture("sqs_s3")["Records"][0]
    ids = message_ids or [
        SQS_MESSAGE_ID if index == 0 else f"message-{index}" for index in range(len(bodies))
    ]
    records = []
    for message_id, body in zip(ids, bodies, strict=True):
        record = copy.deepcopy(template)
        record["messageId"] = message_id
        record["body"] = body if isinstance(body, str) else _as_text(body)
        records.append(record)
    return {"Records": records}


def sns_message(notification: Any) -> Event:
    """The SNS envelope as SQS receives it when a topic fans out to a queue."""
    envelope: Event = json.loads(fixture("sqs_sns_s3")["Records"][0]["body"])
    envelope["Message"] = notification if isinstance(notification, str) else _as_text(notification)
    return envelope


def sns_event(notification: Any) -> Event:
    """S3 -> SNS -> Lambda."""
    event = fixture("sns_s3")
    event["Records"][0]["Sns"]["Message"] = (
        notification if isinstance(notification, str) else _as_text(notification)
    )
    return event


def sns_sqs_event(notification: Any) -> Event:
    """S3 -> SNS -> SQS -> Lambda."""
    return sqs_event(sns_message(notification))


def on_failure_record(payload: Any) -> Event:
    """The record Lambda parks on the OnFailure destination: the original event in `requestPayload`."""
    record = fixture("onfailure_record")
    record["requestPayload"] = payload
    return record


def eventbridge_event(notification: Event) -> Event:
    """The same object as S3 reports it to EventBridge (`Object Created`), from the first record."""
    s3 = notification["Records"][0]["s3"]
    event = fixture("eventbridge_object_created")
    event["detail"]["bucket"]["name"] = s3["bucket"]["name"]
    obj = {name: s3["object"][name] for name in ("key", "size", "sequencer") if name in s3["object"]}
    obj["etag"] = s3["object"]["eTag"]
    if s3["object"].get("versionId"):
        obj["version-id"] = s3["object"]["versionId"]
    event["detail"]["object"] = obj
    return event


def direct(notification: Event) -> Event:
    return notification


WRAPPERS: dict[str, Callable[[Event], Event]] = {
    "direct": direct,
    "sqs": sqs_event,
    "sns": sns_event,
    "sns-sqs": sns_sqs_event,
    "on-failure": on_failure_record,
    "on-failure-of-sns": lambda notification: on_failure_record(sns_event(notification)),
    "eventbridge": eventbridge_event,
    "sqs-eventbridge": lambda notification: sqs_event(eventbridge_event(notification)),
}
