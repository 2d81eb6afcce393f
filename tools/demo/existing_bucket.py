"""`make demo DEMO_ARGS=--existing-bucket`: the stack on a bucket it does not own, beside another's trigger.

1. "their" bucket: versioned, encrypted, no CORS rule, and an S3 -> SQS notification of another service;
2. `python -m tools.attach_bucket BUCKET --origin ... --apply-cors`: EventBridge delivery on, their
   notification kept exactly, the upload CORS rule added next to none other;
3. the template's EventBridge rule (its pattern read from template.yaml with ExistingBucketName), with an
   SQS queue as its target standing in for the function (moto cannot invoke the runner);
4. a submission (ArchiveSubmissionFunction) and a browser-style upload (preflight, then the presigned PUT
   with the page's Origin);
5. each object's EventBridge event from that queue -> NotifyWebhookFunction through the runner, as the
   rule would invoke it (moto's event shaped as AWS sends it: tools/moto_eventbridge.py) -> a verified,
   signed webhook whose sha256 is the stored bytes';
6. their queue still got an ObjectCreated event for both objects.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any
from urllib.parse import unquote_plus

import requests

from tools.attach_bucket.cli import parse_args as attach_args
from tools.attach_bucket.cli import run as attach
from tools.attach_bucket.cli import target_of
from tools.demo.model import REGION, DemoFailed, DemoOptions, DemoResult, Say
from tools.demo.servers import QUEUE_WAIT_SECONDS, DemoServers
from tools.demo.steps import archive, created_body, notify, read_env_vars, signing_secret, webhook_summary
from tools.demo.steps import submission_event as read_submission
from tools.demo.upload import ask_for_upload, demo_file, upload_webhook
from tools.moto_eventbridge import aws_shaped, report_eventbridge_configuration
from tools.receiver import Delivery
from tools.sam_template import Resolver, load_template
from tools.template_bucket import create_template_bucket

STEPS = 7
ORIGIN = "https://forms.example.org"  # the upload page's origin, as a browser sends it
THEIR_QUEUE = "their-service-inbox"
STAND_IN_QUEUE = "notify-function-stand-in"


def _queue(servers: DemoServers, name: str) -> tuple[str, str]:
    sqs = servers.sqs()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _their_bucket(servers: DemoServers, say: Say) -> tuple[str, dict[str, Any]]:
    s3, bucket = servers.s3(), servers.bucket
    create_template_bucket(s3, bucket)  # versioned, SSE-S3, public access blocked; no CORS, no trigger
    url, arn = _queue(servers, THEIR_QUEUE)
    theirs: Any = {"Id": "their-service", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [theirs]}
    )
    say(f"[2/{STEPS}] their bucket s3://{bucket} (versioned, SSE-S3, public access blocked, no CORS)")
    say(f"  trigger   s3:ObjectCreated:* -> their SQS queue {THEIR_QUEUE} (someone else's)")
    return url, theirs


def _attach(servers: DemoServers, say: Say, theirs: dict[str, Any]) -> dict[str, Any]:
    say(f"[3/{STEPS}] python -m tools.attach_bucket {servers.bucket} --origin {ORIGIN} --apply-cors")
    report_eventbridge_configuration()  # moto 5.2.5 leaves it out of its answer (tools/moto_eventbridge.py)
    args = attach_args([servers.bucket, "--origin", ORIGIN, "--apply-cors"])
    report = attach(args, servers.s3(), target_of(args, REGION))
    say(f"  result    {report['result']}")
    for name, value in report["checks"].items():
        was = f" (was: {report['cors_before']})" if name == "cors" and value != report["cors_before"] else ""
        say(f"  check     {name}: {value}{was}")
    found = dict(servers.s3().get_bucket_notification_configuration(Bucket=servers.bucket))
    if found.get("QueueConfigurations") != [theirs] or "EventBridgeConfiguration" not in found:
        raise DemoFailed(f"after attach the bucket's notifications are {found}")
    say("  checked   their queue notification unchanged; EventBridge delivery on")
    return report


def _rule(servers: DemoServers, options: DemoOptions, say: Say) -> str:
    """The template's rule for ExistingBucketName, targeting a queue instead of the function."""
    parameters = {"NotificationRoute": "eventbridge", "ExistingBucketName": servers.bucket}
    template = load_template(options.template)
    pattern = Resolver(template, parameters).resolve(
        template["Resources"]["NotifyEventRule"]["Properties"]["EventPattern"]
    )
    url, arn = _queue(servers, STAND_IN_QUEUE)
    events = servers.client("events")
    events.put_rule(Name="NotifyEventRule", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="NotifyEventRule", Targets=[{"Id": "stand-in", "Arn": arn}])
    say(f"[4/{STEPS}] EventBridge rule from template.yaml: {json.dumps(pattern)}")
    say(f"  target    SQS queue {STAND_IN_QUEUE} (stands in for NotifyWebhookFunction on moto)")
    return url


def _upload(
    servers: DemoServers, options: DemoOptions, env_vars: dict[str, Any], say: Say
) -> tuple[str, bytes]:
    content = demo_file()
    body = created_body(ask_for_upload(content, env_vars, options, servers.bucket), "upload")
    upload = body["upload"]
    headers = {name: value for name, value in upload["headers"].items() if name.lower() != "content-length"}
    preflight = requests.options(
        upload["url"],
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": upload["method"],
            "Access-Control-Request-Headers": ",".join(name.lower() for name in headers),
        },
        timeout=30,
    )
    if preflight.headers.get("Access-Control-Allow-Origin") != ORIGIN:
        raise DemoFailed(f"the bucket's CORS refused the page's preflight: {preflight.status_code}")
    response = requests.put(upload["url"], data=content, headers={**headers, "Origin": ORIGIN}, timeout=30)
    if response.status_code != 200:
        raise DemoFailed(f"S3 refused the presigned PUT: {response.status_code} {response.text[:200]}")
    say(f"  uploaded  preflight from {ORIGIN} allowed; PUT 200 s3://{servers.bucket}/{body['key']}")
    return body["key"], content


def _eventbridge_events(servers: DemoServers, url: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The `Object Created` event moto sent to the stand-in queue for each key."""
    sqs, found = servers.sqs(), dict[str, dict[str, Any]]()
    deadline = time.monotonic() + QUEUE_WAIT_SECONDS
    while time.monotonic() < deadline and len(found) < len(keys):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            event = json.loads(message["Body"])
            found[str(event.get("detail", {}).get("object", {}).get("key"))] = event
    missing = [key for key in keys if key not in found]
    if missing:
        raise DemoFailed(f"no EventBridge event for {missing} within {QUEUE_WAIT_SECONDS:g} s")
    return found


def _their_keys(servers: DemoServers, url: str, keys: list[str]) -> list[str]:
    """The keys their queue got ObjectCreated events for (s3:TestEvent skipped)."""
    sqs, seen = servers.sqs(), list[str]()
    deadline = time.monotonic() + QUEUE_WAIT_SECONDS
    while time.monotonic() < deadline and not set(keys) <= set(seen):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            body = json.loads(message["Body"])
            seen += [unquote_plus(record["s3"]["object"]["key"]) for record in body.get("Records", [])]
    return seen


def existing_bucket(options: DemoOptions, servers: DemoServers, say: Say, result: DemoResult) -> None:
    """The flow; fills `result` (with `result.existing_bucket`) and raises `DemoFailed` on the way."""
    env_vars = read_env_vars(options)
    secret = signing_secret(env_vars)
    their_url, theirs = _their_bucket(servers, say)
    report = _attach(servers, say, theirs)
    stand_in = _rule(servers, options, say)

    say(f"[5/{STEPS}] a submission and a browser-style upload into s3://{servers.bucket}")
    event, raw = read_submission(options)
    archived = created_body(archive(event, env_vars, options, servers.bucket), "archive")
    result.archived = {key: archived[key] for key in ("bucket", "key", "submission_id")}
    say(f"  archived  201 s3://{archived['bucket']}/{archived['key']}")
    upload_key, content = _upload(servers, options, env_vars, say)
    expected = {archived["key"]: raw, upload_key: content}

    say(f"[6/{STEPS}] EventBridge events ({STAND_IN_QUEUE}) -> NotifyWebhookFunction, as the rule invokes it")
    events = _eventbridge_events(servers, stand_in, list(expected))
    announced: dict[str, str | None] = {}
    delivered: dict[str, Delivery] = {}
    for key, body in expected.items():
        shaped = aws_shaped(events[key])
        already = len(servers.receiver.deliveries)
        try:
            outcome = notify(shaped, env_vars, options, servers.receiver.url, secret)
        except Exception as error:  # raised so Lambda would retry: for the demo, the reason
            raise DemoFailed(
                f"the notify function failed on {key}: {type(error).__name__}: {error}"
            ) from None
        deliveries = servers.receiver.deliveries[already:]
        payload = (deliveries[-1].payload() if deliveries else None) or {}
        if (
            not isinstance(outcome, dict)
            or outcome.get("delivered") != 1
            or not deliveries[-1].signature_valid
        ):
            raise DemoFailed(f"{key} was not announced with a valid signature (notify result: {outcome})")
        if payload.get("sha256") != hashlib.sha256(body).hexdigest():
            raise DemoFailed(f"{key}: announced sha256 {payload.get('sha256')} is not the stored bytes'")
        announced[key] = payload.get("sha256")
        delivered[key] = deliveries[-1]
        say(f"  announced {key} (event key {shaped['detail']['object']['key']})")
        say(f"            sha256 {payload.get('sha256')} = SHA-256 of the stored bytes")
    result.deliveries = servers.receiver.deliveries
    # The plain demo's shape: the submission's delivery under `webhook`, the upload's inside `uploaded`.
    result.webhook = webhook_summary(delivered[archived["key"]])
    result.uploaded = {
        "bucket": servers.bucket,
        "key": upload_key,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "webhook": upload_webhook(delivered[upload_key]),
    }

    say(f"[7/{STEPS}] their queue {THEIR_QUEUE}")
    their_keys = _their_keys(servers, their_url, list(expected))
    result.existing_bucket = {
        "bucket": servers.bucket,
        "attach": report["result"],
        "cors_before": report["cors_before"],
        "announced": sorted(announced),
        "their_queue_got": sorted(set(their_keys) & set(expected)),
    }
    if not set(expected) <= set(their_keys):
        raise DemoFailed(f"their queue did not get events for {sorted(set(expected) - set(their_keys))}")
    say("  checked   their notification still delivers: an ObjectCreated event for both objects")
