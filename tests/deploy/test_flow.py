"""One submission through the deployed resources of a queue-route stack on LocalStack.

POST /submissions is handled by the archive function (the project's runner, tools/local_invoke.py) writing
to the *deployed* bucket; LocalStack's S3 puts the event on the *deployed* queue, which checks the
notification configuration and the queue policy CloudFormation made; the notify function (runner, with
the deployed function's own configuration) takes the message; a local receiver verifies the signature
with the secret read from the deployed Secrets Manager secret. Functions run through the runner because
invoking them inside LocalStack needs Docker (docs/deploy.md).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest

from tests.deploy.stacks import PARAMETER_SETS, Stack
from tests.event_wrappers import sqs_event
from tests.webhook_receiver import WebhookReceiver
from tools.local_invoke import invoke

# A deploy takes about a minute; the first test also waits for all parameter sets deployed in parallel.
from tools.project import PROJECT_ROOT

pytestmark = pytest.mark.timeout(900)

QUEUE_SET = next(item for item in PARAMETER_SETS if item.route == "queue" and item.generated_secret)


def wait_for_event(queue_url: str, key: str, deadline_seconds: float = 60) -> dict[str, Any]:
    """The SQS message whose S3 record names `key` (S3 also sends a test event when it is configured)."""
    sqs = boto3.client("sqs")
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2).get(
            "Messages", []
        ):
            records = json.loads(message["Body"]).get("Records", [])
            if any(unquote_plus(record["s3"]["object"]["key"]) == key for record in records):
                return dict(message)
    raise AssertionError(f"no S3 event for {key} on the deployed queue within {deadline_seconds} s")


def test_submission_to_signed_delivery_through_the_deployed_stack(
    deployments: dict[str, BaseException | None], aws: dict[str, str]
) -> None:
    assert deployments[QUEUE_SET.stack_name] is None, "the queue stack was deployed"
    stack = Stack.read(QUEUE_SET.stack_name)
    bucket, queue_url = stack.resources["ArchiveBucket"], stack.resources["NotifyQueue"]
    deployed = stack.function_environment("NotifyWebhookFunction")
    stored = boto3.client("secretsmanager").get_secret_value(SecretId=deployed["WEBHOOK_SECRET_PARAMETER"])
    secret = "whsec_" + stored["SecretString"]

    event = json.loads((PROJECT_ROOT / "events" / "submission.json").read_text(encoding="utf-8"))
    answer = invoke(
        "ArchiveSubmissionFunction", event, {"ArchiveSubmissionFunction": {"ARCHIVE_BUCKET": bucket}}
    )
    assert answer["statusCode"] == 201, answer
    key = json.loads(answer["body"])["key"]
    archived = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()

    message = wait_for_event(queue_url, key)
    receiver = WebhookReceiver(secret)
    receiver.start()
    try:
        notify_environment = {
            "WEBHOOK_URL": receiver.url,
            "WEBHOOK_ALLOW_HTTP": "true",
            "WEBHOOK_SECRET_PARAMETER": deployed["WEBHOOK_SECRET_PARAMETER"],
            "WEBHOOK_SECRET_PREFIX": deployed["WEBHOOK_SECRET_PREFIX"],
            # The deployed work queue and checkpoint key (read from the deployed secret): a failed
            # delivery would continue there; this one succeeds at once.
            **{
                name: deployed[name]
                for name in ("WORK_QUEUE_URL", "FAILURE_QUEUE_URL", "CHECKPOINT_KEY_PARAMETER")
            },
        }
        result = invoke(
            "NotifyWebhookFunction",
            sqs_event(message["Body"], message_ids=[message["MessageId"]]),
            {"NotifyWebhookFunction": notify_environment},
            parameter_overrides={"NotificationRoute": "queue"},
        )
        delivery = receiver.last
    finally:
        receiver.stop()
    assert result == {"batchItemFailures": []}
    assert delivery is not None and delivery.signature_valid is True, "signed with the deployed secret"
    payload = delivery.payload()
    assert payload["sha256"] == hashlib.sha256(archived).hexdigest()
    assert key.endswith(payload["path"]) or payload["path"] in key
    # What Lambda's event source mapping does after a successful batch.
    boto3.client("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
