"""The time budget end to end: moto's S3 server over HTTP, a real receiver, the handler with a short deadline.

An object that cannot be hashed in the time left at HASH_MIN_MIB_S is refused before its body is read, and
the failure (what the OnFailure record carries) names size, budget and rate; one that S3 already holds a
SHA-256 for needs no hashing and is announced whatever the budget.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import TYPE_CHECKING

import pytest

from form_archive_contract.s3 import get_s3_client
from notify_webhook.app import NotificationFailed, lambda_handler
from tests.s3_stores import ARCHIVE_BUCKET
from tests.webhook_receiver import WebhookReceiver, object_created_record, s3_event
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024
UPLOADER = {"uploaded-by": "presigned-url", "uploader-name": "Jane", "uploader-email": "jane@example.test"}


@pytest.fixture
def receiver(webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> WebhookReceiver:
    monkeypatch.setenv("WEBHOOK_URL", webhook_receiver.url)
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", "testing")
    monkeypatch.setenv("WEBHOOK_BACKOFF_BASE_SECONDS", "0.001")
    # One delivery attempt reserves 10 s; at 0.5 MiB/s a 4 MiB body needs 8 s of hashing.
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "10")
    monkeypatch.setenv("HASH_MIN_MIB_S", "0.5")
    for name in ("WEBHOOK_SECRET_PARAMETER", "ACCEPTED_UPLOADERS", "HASH_RANGES", "WEBHOOK_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    return webhook_receiver


def stored(client: S3Client, key: str, body: bytes, *, checksum: bool = False) -> dict[str, object]:
    extra = {"ChecksumAlgorithm": "SHA256"} if checksum else {}
    answer = client.put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=body, Metadata=UPLOADER, **extra)  # type: ignore[arg-type]
    return s3_event(
        object_created_record(
            ARCHIVE_BUCKET, key, etag=answer["ETag"], version_id=answer.get("VersionId"), size=len(body)
        )
    )


def body_reads() -> list[str]:
    calls: list[str] = []
    get_s3_client().meta.events.register("before-call.s3.GetObject", lambda **_: calls.append("get"))
    return calls


def test_an_object_too_large_for_the_time_left_is_refused_before_it_is_read(
    server_s3: S3Client, receiver: WebhookReceiver
) -> None:
    event = stored(server_s3, "pack/large/data.bin", os.urandom(4 * MIB))
    reads = body_reads()
    with pytest.raises(NotificationFailed) as raised:
        lambda_handler(event, LocalLambdaContext(timeout_seconds=15))  # 5 s left for the hash: 8 s needed
    message = str(raised.value)
    assert "pack/large/data.bin: ObjectTooLargeToHash" in message
    assert f"{4 * MIB} bytes (4 MiB) need 8 s at 0.5 MiB/s (HASH_MIN_MIB_S)" in message
    assert re.search(r"but the hash has [0-5] s", message)  # 15 s less 10 s reserved, less what has run
    assert reads == []
    assert receiver.requests == []


def test_the_same_object_with_time_enough_is_hashed_and_announced(
    server_s3: S3Client, receiver: WebhookReceiver
) -> None:
    body = os.urandom(4 * MIB)
    event = stored(server_s3, "pack/large/data.bin", body)
    assert lambda_handler(event, LocalLambdaContext(timeout_seconds=30))["delivered"] == 1  # 20 s for 8
    assert receiver.requests[0].json()["sha256"] == hashlib.sha256(body).hexdigest()


@pytest.mark.needs_s3("additional_checksums")
def test_an_object_with_s3s_sha256_needs_no_budget(server_s3: S3Client, receiver: WebhookReceiver) -> None:
    body = os.urandom(4 * MIB)
    event = stored(server_s3, "pack/large/summed.bin", body, checksum=True)
    reads = body_reads()
    assert lambda_handler(event, LocalLambdaContext(timeout_seconds=15))["delivered"] == 1
    assert reads == []
    assert receiver.requests[0].json()["sha256"] == hashlib.sha256(body).hexdigest()
