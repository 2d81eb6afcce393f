"""Test doubles for the notify function: the project's webhook receiver (tools/receiver.py) and S3 events."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from tools.receiver import WEBHOOK_PATH, Delivery, RecordedRequest, Reply, WebhookReceiver, refused_url

__all__ = [
    "WEBHOOK_PATH",
    "Delivery",
    "RecordedRequest",
    "Reply",
    "WebhookReceiver",
    "object_created_record",
    "refused_url",
    "s3_event",
]


def object_created_record(
    bucket: str,
    key: str,
    *,
    etag: str,
    version_id: str | None = None,
    sequencer: str = "0062E99A88DC407460",
    size: int = 0,
    encode_slash: bool = False,
    event_name: str = "ObjectCreated:Put",
) -> dict[str, Any]:
    """One record as S3 sends it: the key URL-encoded (`+` for a space; `%2F` too with `encode_slash`)."""
    obj: dict[str, Any] = {
        "key": quote_plus(key, safe="" if encode_slash else "/"),
        "size": size,
        "eTag": etag.strip('"'),
        "sequencer": sequencer,
    }
    if version_id is not None:
        obj["versionId"] = version_id
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-22T12:00:00.000Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "EXAMPLE", "x-amz-id-2": "EXAMPLE"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "notify-webhook",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "EXAMPLE"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }


def s3_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}
