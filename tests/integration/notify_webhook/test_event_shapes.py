"""Every event shape the notify function accepts, from published examples (tests/fixtures/events/README.md),
against moto's S3 server and a real receiver on 127.0.0.1; and every shape it refuses."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from standardwebhooks.webhooks import Webhook

from notify_webhook.app import NotificationFailed, UnsupportedEvent, lambda_handler
from tests.event_wrappers import (
    SQS_MESSAGE_ID,
    WRAPPERS,
    eventbridge_event,
    fixture,
    on_failure_record,
    sns_event,
    sns_message,
    sqs_event,
)
from tests.s3_stores import ARCHIVE_BUCKET
from tests.webhook_receiver import Reply, WebhookReceiver, object_created_record, s3_event
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
# The object every fixture in tests/fixtures/events/ announces.
KEY = "pack/sub dir/r+d é.json"
BODY = b'{"first_name": "Jane"}'
UPLOADER = {
    "uploaded-by": "presigned-url",
    "uploader-name": "Jane Doe",
    "uploader-email": "jane@example.test",
}
DELIVERING_FIXTURES = [
    "s3_object_created",
    "sqs_s3",
    "sns_s3",
    "sqs_sns_s3",
    "eventbridge_object_created",
    "onfailure_record",
    "ceph_object_created",
]
SQS_FIXTURES = {"sqs_s3", "sqs_sns_s3"}
COUNTS_ONE: dict[str, Any] = {"delivered": 1, "skipped": 0, "ignored": 0, "failed": 0}
NO_FAILURES: dict[str, Any] = {"batchItemFailures": []}


@pytest.fixture
def receiver(
    server_s3: S3Client, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> WebhookReceiver:
    monkeypatch.setenv("WEBHOOK_URL", webhook_receiver.url)
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("WEBHOOK_BACKOFF_BASE_SECONDS", "0.001")
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "2")
    for name in (
        "WEBHOOK_SECRET_PARAMETER",
        "ACCEPTED_UPLOADERS",
        "WEBHOOK_BODY_TOKEN",
        "WEBHOOK_SECRET_IN_BODY",
    ):
        monkeypatch.delenv(name, raising=False)
    return webhook_receiver


@pytest.fixture
def stored(server_s3: S3Client) -> Callable[..., dict[str, Any]]:
    """Store an object in moto's server; returns the direct S3 notification announcing it."""

    def store(key: str = KEY, body: bytes = BODY) -> dict[str, Any]:
        answer = server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=body, Metadata=UPLOADER)
        return s3_event(object_created_record(ARCHIVE_BUCKET, key, etag=answer["ETag"], size=len(body)))

    return store


def test_the_fixtures_announce_the_object_they_document(
    receiver: WebhookReceiver, stored: Callable[..., dict[str, Any]], lambda_context: LocalLambdaContext
) -> None:
    """Each published example, as stored, delivers the same webhook: same id, same bytes."""
    record = stored()["Records"][0]
    assert (
        record["s3"]["object"]["eTag"] == fixture("s3_object_created")["Records"][0]["s3"]["object"]["eTag"]
    )
    for name in DELIVERING_FIXTURES:
        result = lambda_handler(fixture(name), lambda_context)
        assert result == (NO_FAILURES if name in SQS_FIXTURES else COUNTS_ONE), name
    requests = receiver.requests
    assert len(requests) == len(DELIVERING_FIXTURES)
    assert len({request.headers["webhook-id"] for request in requests}) == 1
    assert len({request.body for request in requests}) == 1
    payload = requests[0].json()
    assert (payload["datapack_identifier"], payload["path"], payload["display"]) == (
        "pack",
        "/sub dir",
        "r+d é.json",
    )
    assert payload["sha256"] == hashlib.sha256(BODY).hexdigest()
    assert "secret_token" not in payload
    Webhook(SECRET).verify(requests[0].body, requests[0].headers)


def test_ceph_keys_are_taken_as_they_are(
    receiver: WebhookReceiver, stored: Callable[..., dict[str, Any]], lambda_context: LocalLambdaContext
) -> None:
    """RGW sends the raw key: `+` stays `+`. Decoded like an AWS key it would name `r d é.json`."""
    stored("a+b/c%41 d.txt", b"ceph")
    event = fixture("ceph_object_created")
    event["Records"][0]["s3"]["object"].update(key="a+b/c%41 d.txt", eTag=hashlib.md5(b"ceph").hexdigest())  # noqa: S324
    assert lambda_handler(event, lambda_context) == COUNTS_ONE
    assert receiver.requests[0].json()["datapack_identifier"] == "a+b"
    assert receiver.requests[0].json()["display"] == "c%41 d.txt"


def test_test_event_and_removals_deliver_nothing_and_say_so(
    receiver: WebhookReceiver, lambda_context: LocalLambdaContext, log_output: Callable[[], str]
) -> None:
    zero = {"delivered": 0, "skipped": 0, "ignored": 0, "failed": 0}
    assert lambda_handler(fixture("s3_test_event"), lambda_context) == zero
    assert lambda_handler(sns_event(fixture("s3_test_event")), lambda_context) == zero
    assert lambda_handler(sqs_event(fixture("s3_test_event")), lambda_context) == {"batchItemFailures": []}
    assert "s3:TestEvent; nothing to do" in log_output()
    assert lambda_handler(fixture("s3_object_removed"), lambda_context) == {**zero, "ignored": 1}
    deleted = fixture("eventbridge_object_created")
    deleted["detail-type"] = "Object Deleted"
    assert lambda_handler(deleted, lambda_context) == {**zero, "ignored": 1}
    assert "not an ObjectCreated notification; ignored" in log_output()
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        (None, "event is a JSON null, not an object"),
        ([fixture("s3_object_created")], "event is a JSON array, not an object"),
        ({}, "not an S3 notification"),
        ({"Records": []}, "empty Records list"),
        (fixture("s3_object_created")["Records"][0], "not an S3 notification"),  # a bare record
        ({"version": "2.0", "rawPath": "/", "requestContext": {"http": {}}}, "not an S3 notification"),
        (sns_event("plain text"), "SNS message is not JSON"),
        (sns_event({"hello": "world"}), "SNS message is not an S3 notification"),
        (
            {**fixture("eventbridge_object_created"), "detail": {"bucket": {"name": "b"}}},
            "no detail.object.key",
        ),
        ({**fixture("eventbridge_object_created"), "detail": None}, "no detail.object.key"),
        (on_failure_record({"hello": "world"}), "not an S3 notification"),
        ({"Records": [{"eventSource": "aws:sqs"}]}, "SQS message body is not a string"),  # no messageId
    ],
    ids=[
        "null",
        "array",
        "empty-object",
        "empty-records",
        "bare-record",
        "function-url",
        "sns-text",
        "sns-other-json",
        "eventbridge-no-key",
        "eventbridge-no-detail",
        "on-failure-of-other",
        "sqs-without-message-id",
    ],
)
def test_unsupported_events_raise_a_clear_error_and_count_a_metric(
    receiver: WebhookReceiver,
    lambda_context: LocalLambdaContext,
    log_output: Callable[[], str],
    event: Any,
    problem: str,
) -> None:
    with pytest.raises(UnsupportedEvent, match=problem):
        lambda_handler(event, lambda_context)
    logs = log_output()
    assert '"UnsupportedEvents":[1.0]' in logs
    assert "unsupported event" in logs
    assert receiver.requests == []


def test_sqs_batch_returns_only_the_failed_messages(
    receiver: WebhookReceiver,
    stored: Callable[..., dict[str, Any]],
    lambda_context: LocalLambdaContext,
    log_output: Callable[[], str],
) -> None:
    good = stored("pack/good.json", b"good")
    event = sqs_event(
        good,
        "not json {",
        sns_message({"not": "s3"}),
        {**fixture("eventbridge_object_created"), "detail": {}},
        stored("pack/other.json", b"other"),
        message_ids=["good", "not-json", "sns-not-s3", "eventbridge-no-key", "other"],
    )
    result = lambda_handler(event, lambda_context)
    assert result == {
        "batchItemFailures": [
            {"itemIdentifier": "not-json"},
            {"itemIdentifier": "sns-not-s3"},
            {"itemIdentifier": "eventbridge-no-key"},
        ]
    }
    assert sorted(request.json()["display"] for request in receiver.requests) == ["good.json", "other.json"]
    logs = log_output()
    for problem in (
        "SQS message body is not JSON",
        "SNS message is not an S3 notification",
        "EventBridge event has no detail.object.key",
    ):
        assert problem in logs


def test_sqs_message_whose_delivery_fails_is_the_only_one_returned(
    receiver: WebhookReceiver, stored: Callable[..., dict[str, Any]], lambda_context: LocalLambdaContext
) -> None:
    receiver.script(200, 500, 500)  # the first message is delivered, the second fails both attempts
    event = sqs_event(stored("pack/a.json", b"a"), stored("pack/b.json", b"b"), message_ids=["a", "b"])
    assert lambda_handler(event, lambda_context) == {"batchItemFailures": [{"itemIdentifier": "b"}]}
    assert len(receiver.requests) == 3


def test_an_sqs_batch_that_fails_entirely_lists_every_message(
    receiver: WebhookReceiver, lambda_context: LocalLambdaContext
) -> None:
    event = sqs_event("[", "{", message_ids=["one", "two"])
    result = lambda_handler(event, lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "one"}, {"itemIdentifier": "two"}]}


def test_replaying_a_parked_record_delivers_what_failed(
    receiver: WebhookReceiver, stored: Callable[..., dict[str, Any]], lambda_context: LocalLambdaContext
) -> None:
    """README's operator step: the OnFailure queue's message body, given back to the function, replays it."""
    notification = stored()
    receiver.script(500, 500)
    with pytest.raises(NotificationFailed):
        lambda_handler(notification, lambda_context)
    parked = json.dumps(on_failure_record(notification))  # what the OnFailure queue holds
    assert lambda_handler(json.loads(parked), lambda_context) == COUNTS_ONE
    first, _, replayed = receiver.requests
    assert replayed.headers["webhook-id"] == first.headers["webhook-id"]
    assert replayed.body == first.body


def test_a_malformed_record_in_a_known_shape_fails_only_itself(
    receiver: WebhookReceiver, stored: Callable[..., dict[str, Any]], lambda_context: LocalLambdaContext
) -> None:
    good = stored()["Records"][0]
    unknown = {**good, "eventSource": "aws:kinesis"}
    with pytest.raises(NotificationFailed, match=r"2 of 3 .*no known eventSource.*lacks s3\.bucket\.name"):
        lambda_handler(
            {"Records": [unknown, {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}, good]},
            lambda_context,
        )
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
def test_every_wrapper_delivers_the_same_webhook_as_the_direct_event(
    receiver: WebhookReceiver,
    stored: Callable[..., dict[str, Any]],
    lambda_context: LocalLambdaContext,
    wrapper: str,
) -> None:
    notification = stored("pack/wrapped one.json", b"wrapped")
    lambda_handler(notification, lambda_context)
    lambda_handler(WRAPPERS[wrapper](notification), lambda_context)
    direct, wrapped = receiver.requests
    assert wrapped.headers["webhook-id"] == direct.headers["webhook-id"]
    assert wrapped.body == direct.body


def test_eventbridge_keys_are_url_decoded(
    receiver: WebhookReceiver, stored: Callable[..., dict[str, Any]], lambda_context: LocalLambdaContext
) -> None:
    notification = stored("a b/c+d%.txt", b"eb")
    event = eventbridge_event(notification)
    assert event["detail"]["object"]["key"] == "a+b/c%2Bd%25.txt"
    assert lambda_handler(event, lambda_context) == COUNTS_ONE
    assert receiver.requests[0].json()["display"] == "c+d%.txt"


def test_a_retried_delivery_inside_an_sqs_batch_counts_as_done(
    receiver: WebhookReceiver, stored: Callable[..., dict[str, Any]], lambda_context: LocalLambdaContext
) -> None:
    receiver.script(Reply(status=503, headers={"Retry-After": "0"}), 200)
    event = sqs_event(stored())
    assert lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    assert event["Records"][0]["messageId"] == SQS_MESSAGE_ID


@pytest.mark.parametrize("name", ["dynamodb_stream", "kinesis_stream"])
def test_item11_a_non_s3_records_event_is_unsupported_not_a_failed_webhook(
    receiver: WebhookReceiver, lambda_context: LocalLambdaContext, log_output: Callable[[], str], name: str
) -> None:
    """Review round 3, item 11: a misrouted trigger (Powertools' DynamoDB-stream and Kinesis examples) is
    `UnsupportedEvent`, counted as `UnsupportedEvents`; no webhook failed, so `WebhooksFailed` stays 0."""
    source = fixture(name)["Records"][0]["eventSource"]
    with pytest.raises(UnsupportedEvent, match=f"records come from '{source}'"):
        lambda_handler(fixture(name), lambda_context)
    logs = log_output()
    assert '"UnsupportedEvents":[1.0]' in logs
    assert "WebhooksFailed" not in logs
    assert receiver.requests == []
    # Inside an SQS batch, the message is the one that comes back, counted the same way.
    assert lambda_handler(sqs_event(fixture(name)), lambda_context) == {
        "batchItemFailures": [{"itemIdentifier": SQS_MESSAGE_ID}]
    }
    assert "WebhooksFailed" not in log_output()
