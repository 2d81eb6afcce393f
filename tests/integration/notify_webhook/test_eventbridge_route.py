"""The eventbridge route's events, from moto's server, through the notify function to a real receiver.

Which example: AWS's "EventBridge event message structure" (S3 User Guide, ev-events), whose layout
Powertools' s3EventBridgeNotificationObjectCreatedEvent (fixtures/events/eventbridge_object_created.json)
follows: `detail.object` has `key` (URL-encoded), `size`, `etag`, `version-id`, `sequencer`. moto 5.2.5
sends the key as stored and `eTag`; tools/moto_eventbridge.aws_shaped converts its event where the demo
hands it over, and the function reads only AWS's shape (docs/existing-bucket.md, "Key encoding").
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from notify_webhook.app import lambda_handler
from tests.event_wrappers import fixture, sqs_event
from tests.integration.notify_webhook import test_event_shapes as event_shapes
from tests.s3_stores import ARCHIVE_BUCKET, REGION
from tests.webhook_receiver import WebhookReceiver
from tools.lambda_context import LocalLambdaContext
from tools.moto_eventbridge import aws_shaped

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.moto_only("EventBridge rules and SQS queues of moto's server")
UPLOADER = event_shapes.UPLOADER
# The same fixture: the notify function's WEBHOOK_* settings pointed at a real receiver on 127.0.0.1.
receiver = event_shapes.receiver
COUNTS_ONE = event_shapes.COUNTS_ONE
# Keys whose encoding matters: a space, a plus, a percent sign, a non-ASCII letter, query characters.
KEYS = ["pack/sub dir/r+d é.json", "pack/100%/a&b=c?.json"]


@pytest.fixture
def eventbridge_events(server_s3: S3Client, moto_server: str) -> Callable[[str], dict[str, Any]]:
    """EventBridge delivery on the bucket and a rule (as the template's) with an SQS target; returns a
    function that puts an object and answers the `Object Created` event moto sent for it."""
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=moto_server)
    events = boto3.client("events", region_name=REGION, endpoint_url=moto_server)
    server_s3.put_bucket_notification_configuration(
        Bucket=ARCHIVE_BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    url = sqs.create_queue(QueueName="rule-target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [ARCHIVE_BUCKET]}},
    }
    events.put_rule(Name="notify", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="notify", Targets=[{"Id": "queue", "Arn": arn}])

    def put_and_receive(key: str) -> dict[str, Any]:
        server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=b'{"a": 1}', Metadata=UPLOADER)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for message in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                event: dict[str, Any] = json.loads(message["Body"])
                if event["detail"]["object"].get("key") == key:
                    return event
        raise AssertionError(f"no EventBridge event for {key}")

    return put_and_receive


def test_moto_sends_the_raw_key_and_eTag(eventbridge_events: Callable[[str], dict[str, Any]]) -> None:
    """What moto 5.2.5 deviates in; if this fails, moto changed and aws_shaped may be simplified."""
    event = eventbridge_events(KEYS[0])
    obj = event["detail"]["object"]
    assert obj["key"] == KEYS[0]
    assert "eTag" in obj and "etag" not in obj


def test_aws_shaped_event_has_the_documented_fields(
    eventbridge_events: Callable[[str], dict[str, Any]],
) -> None:
    documented = fixture("eventbridge_object_created")
    shaped = aws_shaped(eventbridge_events(KEYS[0]))
    assert set(shaped) == set(documented)
    assert set(shaped["detail"]["object"]) <= set(documented["detail"]["object"]) | {"version-id"}
    assert shaped["detail"]["object"]["key"] == "pack/sub%20dir/r%2Bd%20%C3%A9.json"


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("through_sqs", [False, True], ids=["rule-invokes-function", "rule-sqs-function"])
def test_an_eventbridge_event_announces_the_object_it_names(
    receiver: WebhookReceiver,
    eventbridge_events: Callable[[str], dict[str, Any]],
    lambda_context: LocalLambdaContext,
    key: str,
    through_sqs: bool,
) -> None:
    event = aws_shaped(eventbridge_events(key))
    if through_sqs:
        assert lambda_handler(sqs_event(event), lambda_context) == {"batchItemFailures": []}
    else:
        assert lambda_handler(event, lambda_context) == COUNTS_ONE
    [request] = receiver.requests
    payload = request.json()
    assert payload["display"] == key.rsplit("/", 1)[1]
    assert payload["path"] == "/" + key.split("/", 1)[1].rsplit("/", 1)[0]


def test_a_space_sent_as_plus_or_as_percent_20_names_the_same_object(
    receiver: WebhookReceiver, server_s3: S3Client, lambda_context: LocalLambdaContext
) -> None:
    """S3's own notifications write a space as `+`; a percent-encoder (LocalStack's quote()) writes %20.
    The function reads both as a space, and a literal plus only from %2B."""
    key = "pack/sub dir/r+d é.json"
    server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=b"{}", Metadata=UPLOADER)
    documented = fixture("eventbridge_object_created")
    for encoded in ("pack/sub+dir/r%2Bd+%C3%A9.json", "pack/sub%20dir/r%2Bd%20%C3%A9.json"):
        event = {
            **documented,
            "detail": {**documented["detail"], "object": {**documented["detail"]["object"], "key": encoded}},
        }
        event["detail"]["object"].pop("etag")
        assert lambda_handler(event, lambda_context) == COUNTS_ONE
    first, second = receiver.requests
    assert first.body == second.body
    assert first.json()["display"] == "r+d é.json"
