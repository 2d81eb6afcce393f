"""A receiver down for the first attempts: the function, run by the Docker-free runner
(tools.local_invoke, the template's handler and environment), hands each later attempt to the work queue
(moto's SQS over HTTP, drained in-process by tools.work_queue as the event source mapping would), and the
delivery arrives on the attempt after the outage, once, with one `webhook-id`, on every route; forged,
altered and early continuations; `410` and an exhausted schedule parked where `make replay` reads them.
The schedule is compressed (all waits 0, nothing inside the invocation), so every attempt is a
continuation and nothing sleeps."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from notify_webhook.continuation.pinned import PinnedObject
from notify_webhook.continuation.sealing import open_sealed, seal
from notify_webhook.signing import verify_headers
from tests.event_wrappers import eventbridge_event, sns_event, sqs_event
from tests.s3_stores import ARCHIVE_BUCKET, REGION
from tests.webhook_receiver import Reply, WebhookReceiver, object_created_record, s3_event
from tools.lambda_context import LocalLambdaContext
from tools.local_invoke import invoke, load_env_file
from tools.project import PROJECT_ROOT, function_ids
from tools.replay.record import parse_record
from tools.work_queue import drain

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

pytestmark = pytest.mark.moto_only("SQS queues of moto's server")

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEY = "testing-checkpoint-key-0123456789"
OBJECT_KEY = "pack/outage/report é.json"
BODY = b'{"first_name": "Jane"}'
UPLOADER = {"uploaded-by": "presigned-url"}
NOTIFY = function_ids().notify


class Stack:
    """The queues and the receiver, and the function invoked through the runner as each route invokes it."""

    def __init__(self, sqs: SQSClient, receiver: WebhookReceiver) -> None:
        self.sqs = sqs
        self.receiver = receiver
        self.work_queue = sqs.create_queue(QueueName="work")["QueueUrl"]
        self.failure_queue = sqs.create_queue(QueueName="failures")["QueueUrl"]
        self.variables = {
            "WEBHOOK_URL": receiver.url,
            "WEBHOOK_ALLOW_HTTP": "true",
            "WEBHOOK_SECRET_TOKEN": SECRET,
            "WEBHOOK_SECRET_PARAMETER": "",
            "WORK_QUEUE_URL": self.work_queue,
            "FAILURE_QUEUE_URL": self.failure_queue,
            "CHECKPOINT_KEY": KEY,
            "CHECKPOINT_KEY_PARAMETER": "",
            "WEBHOOK_RETRY_SCHEDULE": "0,0,0,0",
            "WEBHOOK_INLINE_WAIT_SECONDS": "0",
        }
        self.overrides = load_env_file(PROJECT_ROOT / "events" / "env.json")
        self.overrides[NOTIFY].update(self.variables)

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LocalLambdaContext(function_name="notify", timeout_seconds=60)
        return invoke(NOTIFY, event, self.overrides, context=context)

    def drain(self) -> int:
        return drain(self.sqs, self.work_queue, self.invoke)

    def messages(self, queue_url: str) -> list[dict[str, Any]]:
        received = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(message["Body"]) for message in received.get("Messages", [])]


@pytest.fixture
def stack(
    server_s3: S3Client, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stack]:
    sqs = boto3.client("sqs", region_name=REGION)
    built = Stack(sqs, webhook_receiver)
    # Declared in the template: the env-vars overrides set them. Not (yet) declared: the handler, which
    # runs in this process, reads them from the shell environment.
    for name, value in built.variables.items():
        monkeypatch.setenv(name, value)
    for name in (
        "WEBHOOK_SECRET_PARAMETER",
        "ACCEPTED_UPLOADERS",
        "WEBHOOK_BODY_TOKEN",
        "CHECKPOINT_KEY_PARAMETER",
    ):
        monkeypatch.delenv(name, raising=False)
    yield built


@pytest.fixture
def announced(server_s3: S3Client) -> dict[str, Any]:
    answer = server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key=OBJECT_KEY, Body=BODY, Metadata=UPLOADER)
    return s3_event(object_created_record(ARCHIVE_BUCKET, OBJECT_KEY, etag=answer["ETag"], size=len(BODY)))


ROUTES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "direct": lambda event: event,
    "queue": sqs_event,
    "sns": sns_event,
    "eventbridge": eventbridge_event,
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_receiver_down_for_three_attempts_gets_the_fourth_once_with_one_webhook_id(
    stack: Stack, announced: dict[str, Any], route: str
) -> None:
    stack.receiver.script(500, 500, 500)
    stack.invoke(ROUTES[route](announced))
    stack.drain()
    requests = stack.receiver.requests
    assert [delivery.status for delivery in stack.receiver.deliveries] == [500, 500, 500, 200]
    assert len({request.headers["webhook-id"] for request in requests}) == 1
    # Each attempt is signed afresh (its own webhook-timestamp) and every signature checks out.
    assert all(verify_headers(SECRET, request.headers, request.body) for request in requests)
    assert requests[-1].json()["sha256"] == hashlib.sha256(BODY).hexdigest()
    assert stack.messages(stack.failure_queue) == []


def postponed_continuation(stack: Stack, announced: dict[str, Any]) -> dict[str, Any]:
    """The continuation the first (failed) attempt left on the work queue, taken off it."""
    stack.receiver.script(500)
    stack.invoke(announced)
    received = stack.sqs.receive_message(QueueUrl=stack.work_queue, MaxNumberOfMessages=1)["Messages"]
    stack.sqs.delete_message(QueueUrl=stack.work_queue, ReceiptHandle=received[0]["ReceiptHandle"])
    document: dict[str, Any] = json.loads(received[0]["Body"])
    return document


def parked(stack: Stack) -> list[dict[str, Any]]:
    return stack.messages(stack.failure_queue)


def test_a_forged_continuation_is_parked_with_the_reason_and_nothing_is_delivered(stack: Stack) -> None:
    from notify_webhook.continuation.message import Continuation  # noqa: PLC0415

    forged = Continuation(
        target=PinnedObject(ARCHIVE_BUCKET, OBJECT_KEY, None, "0" * 32, len(BODY)),
        phase="deliver",
        webhook_id="msg_forged",
        due=0.0,
        sha256="f" * 64,
    )
    stack.sqs.send_message(QueueUrl=stack.work_queue, MessageBody=seal(forged, b"not-the-stack-key-at-all"))
    stack.drain()
    assert stack.receiver.requests == []
    [record] = parked(stack)
    assert record["responsePayload"]["errorType"] == "ContinuationRefused"
    assert "forged or altered" in parse_record(json.dumps(record)).reason
    assert stack.messages(stack.work_queue) == []


def test_an_altered_continuation_is_parked_and_nothing_is_delivered(
    stack: Stack, announced: dict[str, Any]
) -> None:
    envelope = postponed_continuation(stack, announced)
    envelope["work"] = envelope["work"].replace('"attempts":1', '"attempts":0')
    stack.sqs.send_message(QueueUrl=stack.work_queue, MessageBody=json.dumps(envelope))
    stack.drain()
    assert len(stack.receiver.requests) == 1  # only the first attempt, before the message was altered
    [record] = parked(stack)
    assert "MAC does not match" in record["continuation"]["reason"]


def test_a_continuation_that_comes_back_early_is_hidden_until_due_and_not_delivered(
    stack: Stack, announced: dict[str, Any]
) -> None:
    envelope = postponed_continuation(stack, announced)
    early = replace(open_sealed(envelope, KEY.encode()), due=time.time() + 3600)
    stack.sqs.send_message(QueueUrl=stack.work_queue, MessageBody=seal(early, KEY.encode()))
    answer_batches = stack.drain()
    assert answer_batches == 1
    assert len(stack.receiver.requests) == 1
    # Still on the queue (reported as a batch item failure), hidden by its new visibility timeout.
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.work_queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert parked(stack) == []


def test_410_gone_parks_at_once_with_a_record_replay_reads(stack: Stack, announced: dict[str, Any]) -> None:
    stack.receiver.script(500, 410)
    stack.invoke(announced)
    stack.drain()
    assert [delivery.status for delivery in stack.receiver.deliveries] == [500, 410]
    [record] = parked(stack)
    assert record["responsePayload"]["errorType"] == "WebhookGone"
    assert [item["reason"] for item in record["continuation"]["history"]] == ["HTTP 500", "HTTP 410"]
    summary = parse_record(json.dumps(record))
    assert summary.keys == (OBJECT_KEY,)
    assert summary.attempts == 2
    assert stack.messages(stack.work_queue) == []


def test_an_exhausted_schedule_parks_the_object_and_a_replay_delivers_it_with_the_same_webhook_id(
    stack: Stack, announced: dict[str, Any]
) -> None:
    stack.receiver.script(*[500] * 5)
    stack.invoke(announced)
    stack.drain()
    [record] = parked(stack)
    assert record["responsePayload"]["errorType"] == "WebhookScheduleExhausted"
    assert record["continuation"]["attempts"] == 5
    assert "schedule exhausted after 5 attempts; last: HTTP 500" in parse_record(json.dumps(record)).reason
    # `make replay` invokes the function with the parked record: the schedule starts afresh.
    assert stack.invoke(record)["delivered"] == 1
    ids = {request.headers["webhook-id"] for request in stack.receiver.requests}
    assert len(ids) == 1
    assert stack.receiver.deliveries[-1].status == 200


def test_a_continuation_seen_twice_may_deliver_twice_with_the_same_webhook_id(
    stack: Stack, announced: dict[str, Any]
) -> None:
    envelope = postponed_continuation(stack, announced)
    for _ in range(2):  # SQS delivers at least once: the same message twice
        stack.sqs.send_message(QueueUrl=stack.work_queue, MessageBody=json.dumps(envelope))
    stack.drain()
    statuses = [delivery.status for delivery in stack.receiver.deliveries]
    assert statuses == [500, 200, 200]
    assert len({request.headers["webhook-id"] for request in stack.receiver.requests}) == 1


def test_a_link_killed_mid_way_comes_back_and_resumes_from_its_message(
    stack: Stack, announced: dict[str, Any]
) -> None:
    envelope = postponed_continuation(stack, announced)
    # The visibility timeout passes at once here, as it passes after a real invocation's death.
    stack.sqs.set_queue_attributes(QueueUrl=stack.work_queue, Attributes={"VisibilityTimeout": "0"})
    stack.sqs.send_message(QueueUrl=stack.work_queue, MessageBody=json.dumps(envelope))

    def killed(event: dict[str, Any]) -> Any:
        raise TimeoutError("Task timed out")  # the invocation dies: the mapping leaves the batch on the queue

    with pytest.raises(TimeoutError):
        drain(stack.sqs, stack.work_queue, killed)
    assert stack.messages(stack.work_queue) == [envelope]  # nothing was consumed
    stack.drain()
    assert [delivery.status for delivery in stack.receiver.deliveries] == [500, 200]
    assert (
        stack.receiver.requests[-1].headers["webhook-id"] == stack.receiver.requests[0].headers["webhook-id"]
    )


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_120_makes_the_next_attempt_wait_on_the_queue_for_120_seconds(
    stack: Stack,
    announced: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    log_output: Callable[[], str],
    status: int,
) -> None:
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "5,300")
    stack.overrides[NOTIFY]["WEBHOOK_RETRY_SCHEDULE"] = "5,300"
    stack.receiver.script(Reply(status=status, headers={"Retry-After": "120"}))
    answer = stack.invoke(announced)
    assert answer["postponed"] == 1
    # SQS holds it (DelaySeconds 120): nothing to drain now, and the receiver saw one attempt.
    assert stack.drain() == 0
    delayed = stack.sqs.get_queue_attributes(
        QueueUrl=stack.work_queue, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]["ApproximateNumberOfMessagesDelayed"]
    assert delayed == "1"
    assert len(stack.receiver.requests) == 1
    [line] = [json.loads(text) for text in log_output().splitlines() if "postponed to the work queue" in text]
    assert (line["next_attempt"], line["wait_seconds"]) == (2, 120.0)


MIB = 1024 * 1024


class InvocationKilled(BaseException):
    """Lambda stopping the invocation (its timeout): nothing in the function catches it."""


def test_a_hash_link_killed_before_its_hand_off_comes_back_and_resumes_from_its_checkpoint(
    stack: Stack, server_s3: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notify_webhook import hash_phase  # noqa: PLC0415 - the module whose hand-off the kill interrupts

    monkeypatch.setenv("HASH_LINK_MAX_BYTES", str(MIB))
    stack.overrides[NOTIFY]["HASH_LINK_MAX_BYTES"] = str(MIB)
    data = bytes(range(256)) * (3 * MIB // 256) + b"tail"
    answer = server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key=OBJECT_KEY, Body=data, Metadata=UPLOADER)
    event = s3_event(object_created_record(ARCHIVE_BUCKET, OBJECT_KEY, etag=answer["ETag"], size=len(data)))
    assert stack.invoke(event)["postponed"] == 1  # link 1 hashed 1 MiB and handed on its checkpoint
    stack.sqs.set_queue_attributes(QueueUrl=stack.work_queue, Attributes={"VisibilityTimeout": "0"})

    real_send = getattr(hash_phase, "send_continuation")  # noqa: B009 - not exported; patched below

    def dies(*args: Any, **kwargs: Any) -> str:
        raise InvocationKilled("Task timed out")  # link 2 hashed its MiB, then the invocation was stopped

    monkeypatch.setattr(hash_phase, "send_continuation", dies)
    with pytest.raises(InvocationKilled):
        stack.drain()
    [envelope] = stack.messages(stack.work_queue)  # link 2's message came back, unchanged
    checkpoint = open_sealed(envelope, KEY.encode()).checkpoint
    assert checkpoint is not None
    assert checkpoint.offset == MIB  # the next attempt starts from link 1's checkpoint, not from 0
    monkeypatch.setattr(hash_phase, "send_continuation", real_send)
    stack.drain()
    [delivery] = stack.receiver.deliveries
    assert delivery.status == 200
    assert delivery.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert stack.messages(stack.work_queue) == []
