"""`replay --local` end to end: a real notify failure is parked as Lambda parks it, then replayed through the
Docker-free runner against moto's S3 and SQS and a real receiver on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from form_archive_contract.metadata import UPLOADED_BY
from notify_webhook.signing import verify_signature
from tests.s3_stores import ARCHIVE_BUCKET, REGION
from tests.webhook_receiver import RecordedRequest, WebhookReceiver, object_created_record, s3_event
from tools.local_invoke import invoke, load_env_file
from tools.project import PROJECT_ROOT
from tools.replay import DEFAULT_LOCAL_QUEUE, EXIT_LEFT, EXIT_OK, NOTIFY_FUNCTION, failure_record, main

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

pytestmark = pytest.mark.moto_only("the failure queue is SQS on moto's server")

SECRET = "testing"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:NotifyWebhookFunction"
KEY = "submissions/2026/11/23/parked submission.json"


@pytest.fixture
def env_vars(webhook_receiver: WebhookReceiver, tmp_path: Path) -> Path:
    """events/env.json with the receiver's URL, two quick attempts per invocation and the test secret."""
    document = load_env_file(PROJECT_ROOT / "events" / "env.json")
    document[NOTIFY_FUNCTION].update(
        WEBHOOK_URL=webhook_receiver.url,
        WEBHOOK_SECRET_TOKEN=SECRET,
        WEBHOOK_MAX_ATTEMPTS="2",
        WEBHOOK_BACKOFF_BASE_SECONDS="0",
    )
    path = tmp_path / "env.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture
def failure_queue(server_s3: S3Client) -> tuple[SQSClient, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    return sqs, sqs.create_queue(QueueName=DEFAULT_LOCAL_QUEUE)["QueueUrl"]


def park_a_failed_notification(
    server_s3: S3Client, receiver: WebhookReceiver, env_vars: Path, queue: tuple[SQSClient, str]
) -> list[RecordedRequest]:
    """Archive an object, let its notification fail every attempt, park the record Lambda would write."""
    server_s3.put_bucket_versioning(Bucket=ARCHIVE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    put = server_s3.put_object(
        Bucket=ARCHIVE_BUCKET,
        Key=KEY,
        Body=b'{"name": "Jane"}',
        ContentType="application/json",
        Metadata={UPLOADED_BY: "archive-submission"},
    )
    event = s3_event(
        object_created_record(ARCHIVE_BUCKET, KEY, etag=put["ETag"], version_id=put["VersionId"], size=16)
    )
    receiver.script(503, 503)
    with pytest.raises(Exception) as failure:  # whatever it raises, Lambda records
        invoke(NOTIFY_FUNCTION, event, load_env_file(env_vars))
    failed_attempts = receiver.requests
    assert len(failed_attempts) == 2
    sqs, url = queue
    record = failure_record(event, failure.value, function_arn=FUNCTION_ARN, attempts=3)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
    return failed_attempts


def replay(env_vars: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()  # what the failed invocation printed before
    code = main(
        ["replay", "--local", "--env-vars", str(env_vars), "--wait-seconds", "0", "--no-progress", *extra]
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    return code, json.loads(lines[-1])


def queue_is_empty(queue: tuple[SQSClient, str]) -> bool:
    sqs, url = queue
    return not sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages")


def test_replay_delivers_the_parked_event_with_the_same_webhook_id(
    server_s3: S3Client,
    webhook_receiver: WebhookReceiver,
    env_vars: Path,
    failure_queue: tuple[SQSClient, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    failed = park_a_failed_notification(server_s3, webhook_receiver, env_vars, failure_queue)
    code, summary = replay(env_vars, capsys)
    assert code == EXIT_OK, summary
    assert summary["counts"]["replayed"] == 1
    assert summary["messages"][0]["keys"] == [KEY]
    delivered = webhook_receiver.requests[len(failed) :]
    assert len(delivered) == 1
    # The receiver can drop the replay if an earlier attempt reached it: same id, fresh signature.
    assert {request.headers["webhook-id"] for request in failed} == {delivered[0].headers["webhook-id"]}
    headers = delivered[0].headers
    assert verify_signature(
        SECRET,
        headers["webhook-id"],
        headers["webhook-timestamp"],
        delivered[0].body,
        headers["webhook-signature"],
    )
    assert delivered[0].json()["display"] == "parked submission.json"
    assert queue_is_empty(failure_queue)


def test_a_replay_that_fails_again_leaves_the_message_with_the_new_reason(
    server_s3: S3Client,
    webhook_receiver: WebhookReceiver,
    env_vars: Path,
    failure_queue: tuple[SQSClient, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    park_a_failed_notification(server_s3, webhook_receiver, env_vars, failure_queue)
    webhook_receiver.script(410)  # not retried: the receiver refuses this one for good
    code, summary = replay(env_vars, capsys)
    assert code == EXIT_LEFT
    (message,) = summary["messages"]
    assert message["outcome"] == "failed"
    assert "410" in message["reason"]
    assert "503" in message["previous_reason"]
    assert not queue_is_empty(failure_queue)
    # The next run sees it at once, and this time the receiver takes it.
    code, summary = replay(env_vars, capsys)
    assert code == EXIT_OK, summary
    assert queue_is_empty(failure_queue)


def test_dry_run_and_max_against_the_local_queue(
    server_s3: S3Client,
    webhook_receiver: WebhookReceiver,
    env_vars: Path,
    failure_queue: tuple[SQSClient, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    failed = park_a_failed_notification(server_s3, webhook_receiver, env_vars, failure_queue)
    code, summary = replay(env_vars, capsys, "--dry-run")
    assert code == EXIT_OK
    assert summary["counts"]["would_replay"] == 1
    assert len(webhook_receiver.requests) == len(failed)  # nothing was sent
    code, summary = replay(env_vars, capsys, "--max", "1")
    assert code == EXIT_OK
    assert summary["counts"]["replayed"] == 1
