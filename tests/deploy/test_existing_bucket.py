"""A stack on a bucket it does not own (ExistingBucketName, NotificationRoute=eventbridge), deployed on
LocalStack: the attach tool turns on the bucket's EventBridge delivery and keeps someone else's SQS
notification, and an object put into the bucket reaches the stack's rule.

LocalStack cannot run the notify function without Docker, so the test adds an SQS queue of its own as a
second target of the stack's rule and reads the event there. The fields are those of AWS's documented
"Object Created" example (Amazon S3 User Guide, "EventBridge event message structure": `detail.object`
with `key`, `size`, `etag`, `sequencer`); that example's key (`example-key`) says nothing about encoding,
so the key's encoding asserted here is LocalStack's (`quote()`), as docs/existing-bucket.md records.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import boto3
import pytest

from tests.deploy.stacks import EXISTING_BUCKET, OTHERS_QUEUE, PARAMETER_SETS, make_queue
from tools.project import PROJECT_ROOT

pytestmark = pytest.mark.timeout(900)

STACK = next(item for item in PARAMETER_SETS if item.existing_bucket).stack_name
OBSERVER_QUEUE = "fa-existing-bucket-rule-observer"
# A space, a plus, a non-ASCII letter and a slash: every way a key's encoding can differ.
KEY = "submissions/2026/a b+ü.json"


def attach(*options: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "tools.attach_bucket", "--stack-name", STACK, *options],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report: dict[str, Any] = json.loads(completed.stdout)
    return report


def receive(
    queue_url: str, wanted: Callable[[dict[str, Any]], bool], seconds: float = 30
) -> list[dict[str, Any]]:
    """The queue's messages that `wanted` picks, once there is one (S3's s3:TestEvent, which S3 sends
    when a notification configuration is put, is not wanted), or [] after `seconds`."""
    sqs = boto3.client("sqs")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2, MaxNumberOfMessages=10)
        bodies = [json.loads(message["Body"]) for message in messages.get("Messages", [])]
        picked = [body for body in bodies if wanted(body)]
        if picked:
            return picked
    return []


def observe_the_rule() -> str:
    """An SQS queue of the test's as a second target of the stack's rule; its URL."""
    queue_url, queue_arn = make_queue(OBSERVER_QUEUE)
    outputs = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    rule_arn = next(item["OutputValue"] for item in outputs if item["OutputKey"] == "NotifyEventRuleArn")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }
    boto3.client("sqs").set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    boto3.client("events").put_targets(
        Rule=rule_arn.split("/")[-1], Targets=[{"Id": "test-observer", "Arn": queue_arn}]
    )
    return queue_url


def test_attach_then_an_object_reaches_the_rule(
    deployments: dict[str, BaseException | None], aws: dict[str, str]
) -> None:
    failure = deployments[STACK]
    if failure is not None:
        raise failure
    s3 = boto3.client("s3")
    others_before = s3.get_bucket_notification_configuration(Bucket=EXISTING_BUCKET)["QueueConfigurations"]

    first = attach()
    assert first["result"].startswith("written and read back"), first["result"]
    notification = s3.get_bucket_notification_configuration(Bucket=EXISTING_BUCKET)
    assert "EventBridgeConfiguration" in notification, notification
    assert notification["QueueConfigurations"] == others_before, "someone else's notification kept"
    second = attach()
    assert second["result"].startswith("already so: nothing written"), second["result"]

    queue_url = observe_the_rule()
    body = b'{"testing": true}'
    put = s3.put_object(Bucket=EXISTING_BUCKET, Key=KEY, Body=body)
    (event,) = receive(queue_url, lambda body: body.get("source") == "aws.s3")
    assert event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
    assert event["detail"]["bucket"]["name"] == EXISTING_BUCKET
    found = event["detail"]["object"]
    # What LocalStack sends: the key quote()-encoded (space %20, + %2B, ü %C3%BC, / kept) and AWS's
    # field names (`etag` without quotes), not moto's raw key and `eTag`.
    assert found["key"] == quote(KEY) == "submissions/2026/a%20b%2B%C3%BC.json", found
    assert found["etag"] == put["ETag"].strip('"'), found
    assert found["size"] == len(body), found
    assert "eTag" not in found and found["sequencer"], found

    # Someone else's notification still gets its events.
    others_url = boto3.client("sqs").get_queue_url(QueueName=OTHERS_QUEUE)["QueueUrl"]
    s3.put_object(Bucket=EXISTING_BUCKET, Key="reports/today.csv", Body=b"testing")
    messages = receive(others_url, lambda body: "Records" in body)
    records = [record for message in messages for record in message["Records"]]
    assert [record["s3"]["object"]["key"] for record in records] == ["reports/today.csv"], records
