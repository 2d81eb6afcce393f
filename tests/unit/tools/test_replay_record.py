"""tools.replay's reading of a parked message: the Lambda OnFailure record, its keys, reason and attempts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.webhook_receiver import object_created_record, s3_event
from tools.replay import NotARecord, failure_record, object_keys, parse_record

# The failure record as the AWS Lambda developer guide prints it ("Capturing records of Lambda
# asynchronous invocations", example invocation record): an event that failed three attempts.
AWS_EXAMPLE_RECORD = {
    "version": "1.0",
    "timestamp": "2019-11-14T18:16:05.568Z",
    "requestContext": {
        "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    },
    "requestPayload": {
        "ORDER_IDS": [
            "9e07af03-ce31-4ff3-xmpl-36dce652cb4f",
            "637de236-e7b2-464e-xmpl-baf57f86bb53",
            "a81ddca6-2c35-45c7-xmpl-c3a03a31ed15",
        ]
    },
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
    "responsePayload": {
        "errorMessage": (
            "RequestId: e4b46cbf-b738-xmpl-8880-a18cdf61200e Process exited before completing request"
        )
    },
}

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:form-archive-NotifyWebhookFunction-X"


def parked_s3_event(*keys: str) -> dict[str, Any]:
    return s3_event(*(object_created_record("archive", key, etag="abc") for key in keys))


def test_the_documented_record_is_read() -> None:
    record = parse_record(json.dumps(AWS_EXAMPLE_RECORD))
    assert record.condition == "RetriesExhausted"
    assert record.attempts == 3
    assert record.reason == (
        "RequestId: e4b46cbf-b738-xmpl-8880-a18cdf61200e Process exited before completing request"
    )
    assert record.keys == ()  # that example's payload is not an S3 event
    assert record.timestamp == "2019-11-14T18:16:05.568Z"


def test_a_parked_s3_event_gives_its_decoded_keys_and_the_error() -> None:
    event = parked_s3_event("forms/2026/a b+c.json", "forms/2026/d.json")
    record = parse_record(
        json.dumps(failure_record(event, RuntimeError("receiver answered 503"), function_arn=FUNCTION_ARN))
    )
    assert record.keys == ("forms/2026/a b+c.json", "forms/2026/d.json")
    assert record.reason == "RuntimeError: receiver answered 503"
    assert record.attempts == 3


def test_failure_record_has_lambdas_shape() -> None:
    event = parked_s3_event("a.json")
    moment = datetime(2026, 11, 23, 12, 0, 1, 234_567, tzinfo=UTC)
    record = failure_record(event, ValueError("x"), function_arn=FUNCTION_ARN, attempts=3, now=moment)
    assert set(record) == set(AWS_EXAMPLE_RECORD)
    assert set(record["requestContext"]) == set(AWS_EXAMPLE_RECORD["requestContext"])
    assert record["timestamp"] == "2026-11-23T12:00:01.234Z"
    assert record["requestContext"]["functionArn"] == FUNCTION_ARN + ":$LATEST"
    assert record["requestPayload"] == event
    assert record["responsePayload"] == {"errorMessage": "x", "errorType": "ValueError"}


def test_event_age_exceeded_has_no_error_object_and_reads_as_its_condition() -> None:
    document = {
        "version": "1.0",
        "timestamp": "2026-11-23T12:00:00.000Z",
        "requestContext": {"requestId": "r", "functionArn": FUNCTION_ARN, "condition": "EventAgeExceeded"},
        "requestPayload": parked_s3_event("a.json"),
    }
    record = parse_record(json.dumps(document))
    assert record.reason == "EventAgeExceeded"
    assert record.attempts is None
    assert record.keys == ("a.json",)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("", "not JSON"),
        ("{", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps(parked_s3_event("a.json")), "not a Lambda OnFailure record"),
        (json.dumps({"requestContext": {"condition": "RetriesExhausted"}}), "not a Lambda OnFailure record"),
        (json.dumps({"requestContext": [], "requestPayload": {}}), "not a Lambda OnFailure record"),
        (json.dumps({"requestContext": {}, "requestPayload": {}}), "no condition"),
        (json.dumps({"requestContext": {"condition": "Success"}, "requestPayload": {}}), "OnSuccess"),
    ],
)
def test_anything_else_is_not_a_record(body: str, problem: str) -> None:
    with pytest.raises(NotARecord, match=problem):
        parse_record(body)


def test_a_very_long_error_is_shortened_to_one_line() -> None:
    document = failure_record({}, RuntimeError("x\n" * 2000), function_arn=FUNCTION_ARN)
    reason = parse_record(json.dumps(document)).reason
    assert len(reason) <= 500
    assert "\n" not in reason


def test_object_keys_of_wrapped_events() -> None:
    inner = parked_s3_event("k/one.json")
    sqs = {"Records": [{"eventSource": "aws:sqs", "body": json.dumps(inner)}]}
    sns = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(inner)}}]}
    eventbridge = {"source": "aws.s3", "detail-type": "Object Created", "detail": {"object": {"key": "k/2"}}}
    ceph = {"Records": [{"eventSource": "ceph:s3", "s3": {"object": {"key": "a+b"}}}]}
    assert object_keys(sqs) == ("k/one.json",)
    assert object_keys(sns) == ("k/one.json",)
    assert object_keys(eventbridge) == ("k/2",)
    assert object_keys(ceph) == ("a+b",)  # RGW does not URL-encode keys
    nested = failure_record(
        failure_record(inner, RuntimeError("x"), function_arn=FUNCTION_ARN),
        RuntimeError("y"),
        function_arn=FUNCTION_ARN,
    )
    assert object_keys(nested) == ("k/one.json",)
    assert object_keys({"Event": "s3:TestEvent"}) == ()
    assert object_keys({"Records": [None, 3, {"s3": None}, {"body": "not json"}]}) == ()
    assert object_keys("text") == ()
