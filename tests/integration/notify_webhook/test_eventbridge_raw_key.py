"""An EventBridge key that was not percent-encoded (moto sends raw keys; AWS documents no encoding rule for
EventBridge as it does for S3 notifications) still names its object, pinned to the event's version/ETag."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest

from notify_webhook.app import lambda_handler
from tests.event_wrappers import fixture
from tests.integration.notify_webhook import test_event_shapes as event_shapes
from tests.s3_stores import ARCHIVE_BUCKET
from tests.webhook_receiver import WebhookReceiver
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

UPLOADER = event_shapes.UPLOADER
receiver = event_shapes.receiver
COUNTS_ONE = event_shapes.COUNTS_ONE
SKIPPED_ONE: dict[str, Any] = {"delivered": 0, "skipped": 1, "ignored": 0, "failed": 0}


def eventbridge_event(raw_key: str, etag: str | None, version_id: str | None = None) -> dict[str, Any]:
    event = copy.deepcopy(fixture("eventbridge_object_created"))
    obj = event["detail"]["object"]
    event["detail"]["bucket"]["name"] = ARCHIVE_BUCKET
    obj["key"] = raw_key
    obj.pop("version-id", None)
    obj.pop("etag", None)
    if etag is not None:
        obj["etag"] = etag
    if version_id is not None:
        obj["version-id"] = version_id
    return event


@pytest.mark.parametrize("key", ["notes/c++ notes.txt", "notes/100%25 sure+.txt"])
def test_r4_item10_a_raw_key_with_plus_is_announced_not_skipped(
    receiver: WebhookReceiver, server_s3: S3Client, lambda_context: LocalLambdaContext, key: str
) -> None:
    server_s3.put_bucket_versioning(Bucket=ARCHIVE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    put = server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=b"c++", Metadata=UPLOADER)
    assert put.get("VersionId")
    etag = put["ETag"].strip('"')
    assert lambda_handler(eventbridge_event(key, etag), lambda_context) == COUNTS_ONE
    assert lambda_handler(eventbridge_event(key, None, put.get("VersionId")), lambda_context) == COUNTS_ONE
    first, second = receiver.requests
    assert first.json()["display"] == key.rsplit("/", 1)[1]
    assert second.json()["display"] == key.rsplit("/", 1)[1]


def test_r4_item10_a_raw_key_holding_other_bytes_is_never_announced(
    receiver: WebhookReceiver, server_s3: S3Client, lambda_context: LocalLambdaContext
) -> None:
    server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="notes/c++ notes.txt", Body=b"other", Metadata=UPLOADER)
    event = eventbridge_event("notes/c++ notes.txt", "0123456789abcdef0123456789abcdef")
    assert lambda_handler(event, lambda_context) == SKIPPED_ONE
    unpinned = eventbridge_event("notes/c++ notes.txt", None)
    assert lambda_handler(unpinned, lambda_context) == SKIPPED_ONE, "no version, no ETag: nothing to pin to"
    assert receiver.requests == []


def test_r4_item10_a_key_that_exists_under_no_spelling_is_skipped_as_before(
    receiver: WebhookReceiver, server_s3: S3Client, lambda_context: LocalLambdaContext
) -> None:
    event = eventbridge_event("notes/gone+away.txt", "0123456789abcdef0123456789abcdef")
    assert lambda_handler(event, lambda_context) == SKIPPED_ONE
    assert receiver.requests == []
