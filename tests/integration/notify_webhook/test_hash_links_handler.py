"""Hashing in links through the handler: an S3 event starts the hash, each continuation on the work queue
(moto's SQS over HTTP) is one more link, and the last one delivers hashlib's digest, once. The links are
forced by HASH_LINK_MAX_BYTES, so nothing waits. With FORM_ARCHIVE_TEST_S3=rgw or localstack the object is
on that store and only the queues are moto's."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from notify_webhook import hash_phase
from notify_webhook.app import lambda_handler
from notify_webhook.continuation.message import HASH_PHASE, Continuation
from notify_webhook.continuation.pinned import PinnedObject
from notify_webhook.continuation.sealing import open_sealed, seal
from notify_webhook.object_hash import hash_until
from notify_webhook.object_hash.sha256_state import HashCheckpoint
from tests.s3_stores import ARCHIVE_BUCKET, ON_REAL_STORE, REGION
from tests.webhook_receiver import WebhookReceiver, object_created_record, s3_event
from tools.lambda_context import LocalLambdaContext
from tools.work_queue import drain

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from tests.s3_stores import S3Server

MIB = 1024 * 1024
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEY = "testing-checkpoint-key-0123456789"
UPLOADER = {"uploaded-by": "presigned-url"}


class Links:
    def __init__(self, sqs: SQSClient, receiver: WebhookReceiver) -> None:
        self.sqs, self.receiver = sqs, receiver
        self.work_queue = sqs.create_queue(QueueName="work")["QueueUrl"]
        self.failure_queue = sqs.create_queue(QueueName="failures")["QueueUrl"]
        self.continuations: list[Continuation] = []

    def invoke(self, event: dict[str, Any]) -> Any:
        for record in event.get("Records", []):
            if record.get("eventSource") == "aws:sqs":
                self.continuations.append(open_sealed(json.loads(record["body"]), KEY.encode()))
        return lambda_handler(event, LocalLambdaContext(function_name="notify", timeout_seconds=600))

    def drain(self) -> int:
        return drain(self.sqs, self.work_queue, self.invoke)

    def parked(self) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(QueueUrl=self.failure_queue, MaxNumberOfMessages=10)
        return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


@pytest.fixture
def sqs_endpoint(s3_server: S3Server) -> Iterator[str]:
    """moto's server for the queues: the S3 server itself, or one of its own beside RGW / LocalStack."""
    if not ON_REAL_STORE:
        yield s3_server.endpoint
        return
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def links(
    server_s3: S3Client, sqs_endpoint: str, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> Links:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", sqs_endpoint)
    built = Links(boto3.client("sqs", region_name=REGION), webhook_receiver)
    for name, value in {
        "WEBHOOK_URL": webhook_receiver.url,
        "WEBHOOK_ALLOW_HTTP": "true",
        "WEBHOOK_SECRET_TOKEN": SECRET,
        "WORK_QUEUE_URL": built.work_queue,
        "FAILURE_QUEUE_URL": built.failure_queue,
        "CHECKPOINT_KEY": KEY,
        "WEBHOOK_RETRY_SCHEDULE": "0,0",
        "WEBHOOK_INLINE_WAIT_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("WEBHOOK_SECRET_PARAMETER", "ACCEPTED_UPLOADERS", "CHECKPOINT_KEY_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    return built


def stored(client: S3Client, key: str, body: bytes) -> dict[str, Any]:
    # No flexible checksum: the function must read the body (RGW does not know aws-chunked trailers).
    uploader = boto3.client(
        "s3", region_name=REGION, config=Config(request_checksum_calculation="when_required")
    )
    answer = uploader.put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=body, Metadata=UPLOADER)
    return s3_event(
        object_created_record(
            ARCHIVE_BUCKET, key, etag=answer["ETag"], version_id=answer.get("VersionId"), size=len(body)
        )
    )


def test_a_256_mib_object_forced_into_links_is_announced_once_with_hashlibs_digest(
    links: Links, server_s3: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    link_bytes = 60 * MIB + 7  # 5 links; not a multiple of 64, so states carry a partial block
    monkeypatch.setenv("HASH_LINK_MAX_BYTES", str(link_bytes))
    body = os.urandom(256 * MIB)
    answer = links.invoke(stored(server_s3, "pack/links/recording.bin", body))
    assert (answer["delivered"], answer["postponed"]) == (0, 1)
    links.drain()
    assert [(item.phase, item.links) for item in links.continuations] == [
        (HASH_PHASE, n) for n in range(1, 5)
    ]
    assert [item.checkpoint.offset for item in links.continuations if item.checkpoint] == [
        n * link_bytes for n in range(1, 5)
    ]
    [request] = links.receiver.requests
    assert request.json()["sha256"] == hashlib.sha256(body).hexdigest()
    assert request.json()["length"] == len(body)
    assert links.parked() == []


def test_an_object_replaced_between_links_is_skipped_and_nothing_is_delivered(
    links: Links, server_s3: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HASH_LINK_MAX_BYTES", str(3 * MIB))
    links.invoke(stored(server_s3, "pack/links/replaced.bin", os.urandom(8 * MIB)))
    stored(server_s3, "pack/links/replaced.bin", os.urandom(8 * MIB))  # another upload, its own event
    links.drain()
    assert len(links.continuations) == 1  # the second link found other bytes and stopped
    assert links.receiver.requests == []
    assert links.parked() == []


def test_a_hash_past_its_link_cap_is_parked_with_the_reason_and_nothing_is_delivered(
    links: Links, server_s3: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HASH_LINK_MAX_BYTES", str(MIB))
    stored(server_s3, "pack/links/slow.bin", os.urandom(4 * MIB))
    head = server_s3.head_object(Bucket=ARCHIVE_BUCKET, Key="pack/links/slow.bin")
    pinned = PinnedObject(ARCHIVE_BUCKET, "pack/links/slow.bin", None, head["ETag"].strip('"'), 4 * MIB)
    stuck = Continuation(
        pinned, HASH_PHASE, "msg_stuck", due=time.time(), checkpoint=HashCheckpoint.start(), links=10
    )  # 4 links needed: a cap of 10, and this would be the 11th
    links.sqs.send_message(QueueUrl=links.work_queue, MessageBody=seal(stuck, KEY.encode()))
    links.drain()
    assert links.receiver.requests == []
    [record] = links.parked()
    assert record["responsePayload"]["errorType"] == "ContinuationImpossible"
    assert "took 11 links, more than its cap of 10" in record["continuation"]["reason"]


def test_a_link_killed_mid_way_comes_back_and_resumes_from_its_checkpoint_not_from_zero(
    links: Links, server_s3: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HASH_LINK_MAX_BYTES", str(3 * MIB))
    links.sqs.set_queue_attributes(QueueUrl=links.work_queue, Attributes={"VisibilityTimeout": "0"})
    body = os.urandom(8 * MIB)
    started_at: list[int] = []
    real_hash_until = hash_until

    def killed_once(*args: Any, **kwargs: Any) -> Any:
        checkpoint = args[2]
        started_at.append(0 if checkpoint is None else checkpoint.offset)
        if len(started_at) == 2:  # the second link dies before it hands anything on
            raise RuntimeError("Task timed out")
        return real_hash_until(*args, **kwargs)

    monkeypatch.setattr(hash_phase, "hash_until", killed_once)
    links.invoke(stored(server_s3, "pack/links/killed.bin", body))
    links.drain()
    assert started_at == [0, 3 * MIB, 3 * MIB, 6 * MIB]  # the killed link's message came back
    [request] = links.receiver.requests
    assert request.json()["sha256"] == hashlib.sha256(body).hexdigest()
