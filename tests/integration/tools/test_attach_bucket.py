"""tools/attach_bucket against moto's server: someone else's notifications survive, faults are reported.

moto 5.2.5 leaves EventBridgeConfiguration out of GetBucketNotificationConfiguration although it keeps
it and sends the events; `report_eventbridge_configuration` (tools/moto_eventbridge.py) puts it back in
the answer, so read-back, idempotence and detach are exercised as on S3.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import boto3
import pytest

from tests.faulty_s3_proxy import Fault, FaultyS3Proxy
from tests.s3_stores import ARCHIVE_BUCKET, REGION
from tools.attach_bucket.cli import EXIT_FAILED, EXIT_OK, main
from tools.moto_eventbridge import report_eventbridge_configuration

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.moto_only("SQS queues, EventBridge rules and CloudFormation stacks")
ORIGIN = "https://forms.example.com"
THEIR_CORS: Any = {
    "ID": "their-get",
    "AllowedOrigins": ["*"],
    "AllowedMethods": ["GET"],
    "AllowedHeaders": [],
}


@pytest.fixture(autouse=True)
def _moto_reports_eventbridge() -> None:
    report_eventbridge_configuration()


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)  # type: ignore[call-overload]


def their_queue(endpoint: str, name: str = "their-queue") -> tuple[str, str]:
    sqs = client("sqs", endpoint)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def their_configuration(queue_arn: str) -> dict[str, Any]:
    """Someone else's notifications: a filtered queue, a topic and a function (destinations not checked)."""
    return {
        "QueueConfigurations": [
            {
                "Id": "their-queue",
                "QueueArn": queue_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "theirs/"}]}},
            }
        ],
        "TopicConfigurations": [
            {
                "Id": "their-topic",
                "TopicArn": f"{queue_arn.replace(':sqs:', ':sns:')}",
                "Events": ["s3:ObjectRemoved:*"],
            }
        ],
    }


def notification(s3: S3Client) -> dict[str, Any]:
    answer = dict(s3.get_bucket_notification_configuration(Bucket=ARCHIVE_BUCKET))
    answer.pop("ResponseMetadata")
    return answer


def attach(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any] | None, str]:
    status = main([*args])
    out, err = capsys.readouterr()
    return status, (json.loads(out) if out.strip() else None), err


def received(endpoint: str, queue_url: str, seconds: float = 5.0) -> list[dict[str, Any]]:
    sqs, bodies = client("sqs", endpoint), list[dict[str, Any]]()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        bodies.extend(json.loads(message["Body"]) for message in messages)
        if any("Records" in body or "detail" in body for body in bodies):
            break
    return bodies


@pytest.fixture
def bucket_with_their_queue(server_s3: S3Client, moto_server: str) -> Iterator[tuple[str, dict[str, Any]]]:
    url, arn = their_queue(moto_server)
    config = their_configuration(arn)
    server_s3.put_bucket_notification_configuration(
        Bucket=ARCHIVE_BUCKET,
        NotificationConfiguration=config,  # type: ignore[arg-type]
        SkipDestinationValidation=True,
    )
    server_s3.put_bucket_cors(Bucket=ARCHIVE_BUCKET, CORSConfiguration={"CORSRules": [THEIR_CORS]})
    yield url, notification(server_s3)


def test_attach_keeps_their_notifications_and_both_receive_events(
    server_s3: S3Client,
    moto_server: str,
    bucket_with_their_queue: tuple[str, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    their_url, before = bucket_with_their_queue
    status, report, err = attach(capsys, ARCHIVE_BUCKET)
    assert status == EXIT_OK, err
    assert report is not None and report["result"] == "written and read back"
    after = notification(server_s3)
    assert after == {**before, "EventBridgeConfiguration": {}}, "theirs byte for byte, plus EventBridge"
    # Both routes deliver: their queue (filtered on theirs/) and an EventBridge rule on the bucket.
    ours_url, ours_arn = their_queue(moto_server, "eventbridge-stand-in")
    events = client("events", moto_server)
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [ARCHIVE_BUCKET]}},
    }
    events.put_rule(Name="stand-in", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="stand-in", Targets=[{"Id": "queue", "Arn": ours_arn}])
    client("sqs", moto_server).purge_queue(QueueUrl=their_url)
    server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="theirs/report.csv", Body=b"a,b\n")
    theirs = [body for body in received(moto_server, their_url) if "Records" in body]
    assert [unquote_plus(record["s3"]["object"]["key"]) for body in theirs for record in body["Records"]] == [
        "theirs/report.csv"
    ]
    ours = [body for body in received(moto_server, ours_url) if "detail" in body]
    assert [body["detail"]["object"]["key"] for body in ours] == ["theirs/report.csv"]
    assert "versioning" in report["checks"] and "encryption" in report["checks"]


def test_attach_twice_writes_once(
    server_s3: S3Client,
    bucket_with_their_queue: tuple[str, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert attach(capsys, ARCHIVE_BUCKET)[0] == EXIT_OK
    status, report, _ = attach(capsys, ARCHIVE_BUCKET)
    assert status == EXIT_OK
    assert report is not None and report["result"] == "already so: nothing written"


def test_dry_run_prints_before_and_after_and_writes_nothing(
    server_s3: S3Client,
    bucket_with_their_queue: tuple[str, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, before = bucket_with_their_queue
    status, report, _ = attach(capsys, ARCHIVE_BUCKET, "--dry-run", "--origin", ORIGIN, "--apply-cors")
    assert status == EXIT_OK
    assert report is not None
    assert report["before"] == before
    assert report["after"] == {**before, "EventBridgeConfiguration": {}}
    assert report["result"].startswith("dry run")
    assert notification(server_s3) == before
    assert [rule.get("ID") for rule in server_s3.get_bucket_cors(Bucket=ARCHIVE_BUCKET)["CORSRules"]] == [
        "their-get"
    ]


def test_cors_is_reported_and_added_only_with_apply_cors_then_detach_removes_only_ours(
    server_s3: S3Client,
    bucket_with_their_queue: tuple[str, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, before = bucket_with_their_queue
    status, report, err = attach(capsys, ARCHIVE_BUCKET, "--origin", ORIGIN)
    assert status == EXIT_OK
    assert report is not None and report["checks"]["cors"] == f"missing for {ORIGIN}"
    assert ORIGIN in err and "--apply-cors" in err, "the rule to add is printed"
    assert len(server_s3.get_bucket_cors(Bucket=ARCHIVE_BUCKET)["CORSRules"]) == 1
    status, report, err = attach(capsys, ARCHIVE_BUCKET, "--origin", ORIGIN, "--apply-cors")
    assert status == EXIT_OK
    # The checks report the bucket after the change, and what was found before it.
    assert report is not None and report["checks"]["cors"] == "allows uploads"
    assert report["cors_before"] == f"missing for {ORIGIN}"
    assert f"  cors: allows uploads (was: missing for {ORIGIN})" in err, err
    rules = server_s3.get_bucket_cors(Bucket=ARCHIVE_BUCKET)["CORSRules"]
    assert [rule.get("ID") for rule in rules] == ["their-get", "form-archive-uploads"]
    assert rules[1]["AllowedOrigins"] == [ORIGIN] and "PUT" in rules[1]["AllowedMethods"]
    status, report, _ = attach(capsys, ARCHIVE_BUCKET, "--origin", ORIGIN, "--detach")
    assert status == EXIT_OK, report
    assert report is not None and report["checks"]["cors"] == f"missing for {ORIGIN}"
    assert report["cors_before"] == "allows uploads"
    assert notification(server_s3) == before
    assert [rule.get("ID") for rule in server_s3.get_bucket_cors(Bucket=ARCHIVE_BUCKET)["CORSRules"]] == [
        "their-get"
    ]


def test_detach_leaves_eventbridge_on_while_another_rule_uses_the_bucket(
    server_s3: S3Client,
    moto_server: str,
    bucket_with_their_queue: tuple[str, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert attach(capsys, ARCHIVE_BUCKET)[0] == EXIT_OK
    pattern = {"source": ["aws.s3"], "detail": {"bucket": {"name": [ARCHIVE_BUCKET]}}}
    client("events", moto_server).put_rule(Name="someone-elses-rule", EventPattern=json.dumps(pattern))
    status, _, err = attach(capsys, ARCHIVE_BUCKET, "--detach")
    assert status == EXIT_FAILED
    assert "someone-elses-rule" in err and "nothing changed" in err
    assert "EventBridgeConfiguration" in notification(server_s3)


def test_stack_name_supplies_bucket_and_origins(
    server_s3: S3Client,
    moto_server: str,
    bucket_with_their_queue: tuple[str, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    def stack(name: str, route: str) -> None:
        template = {
            "Parameters": {"NotificationRoute": {"Type": "String"}, "AllowedOrigins": {"Type": "String"}},
            "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {"ArchiveBucketName": {"Value": ARCHIVE_BUCKET}},
        }
        client("cloudformation", moto_server).create_stack(
            StackName=name,
            TemplateBody=json.dumps(template),
            Parameters=[
                {"ParameterKey": "NotificationRoute", "ParameterValue": route},
                {"ParameterKey": "AllowedOrigins", "ParameterValue": ORIGIN},
            ],
        )

    stack("form-archive", "eventbridge")
    status, report, _ = attach(capsys, "--stack-name", "form-archive", "--apply-cors")
    assert status == EXIT_OK
    assert report is not None and report["bucket"] == ARCHIVE_BUCKET
    assert report["cors_rule"]["AllowedOrigins"] == [ORIGIN]
    assert "EventBridgeConfiguration" in notification(server_s3)
    stack("direct-stack", "direct")
    status, _, err = attach(capsys, "--stack-name", "direct-stack")
    assert status == EXIT_FAILED and "NotificationRoute=direct" in err


def test_missing_bucket(server_s3: S3Client, capsys: pytest.CaptureFixture[str]) -> None:
    status, report, err = attach(capsys, "no-such-bucket-here")
    assert status == EXIT_FAILED
    assert report is not None and report["result"].startswith("failed")
    assert "does not exist" in err


def test_bucket_in_another_region(server_s3: S3Client, capsys: pytest.CaptureFixture[str]) -> None:
    server_s3.create_bucket(
        Bucket="far-away-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    status, _, err = attach(capsys, "far-away-bucket")
    assert status == EXIT_FAILED
    assert "eu-west-1" in err and "us-east-1" in err
    assert "EventBridgeConfiguration" not in notification_of_bucket(server_s3, "far-away-bucket")


def notification_of_bucket(s3: S3Client, bucket: str) -> dict[str, Any]:
    answer = dict(s3.get_bucket_notification_configuration(Bucket=bucket))
    answer.pop("ResponseMetadata")
    return answer


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (Fault("HEAD", "", status=403, code="AccessDenied"), "access denied to bucket"),
        (Fault("GET", "notification", status=403, code="AccessDenied"), "(AccessDenied)"),
        (Fault("PUT", "notification", status=500, code="InternalError"), "(InternalError); nothing changed"),
    ],
    ids=["bucket-denied", "notification-read-denied", "put-refused"],
)
def test_a_fault_changes_nothing_and_says_so(
    server_s3: S3Client,
    faulty_s3: FaultyS3Proxy,
    bucket_with_their_queue: tuple[str, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    fault: Fault,
    says: str,
) -> None:
    faulty_s3.inject(fault)
    status, report, err = attach(capsys, ARCHIVE_BUCKET)
    assert status == EXIT_FAILED
    assert report is not None and says in report["result"], "the JSON report, errors included"
    assert says in err
    assert notification(server_s3) == bucket_with_their_queue[1]


def test_a_put_whose_answer_is_lost_is_verified_by_reading_back(
    server_s3: S3Client,
    faulty_s3: FaultyS3Proxy,
    bucket_with_their_queue: tuple[str, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    faulty_s3.inject(Fault("PUT", "notification", status=503, code="SlowDown", after_forwarding=True))
    status, report, err = attach(capsys, ARCHIVE_BUCKET)
    assert status == EXIT_OK, err
    assert report is not None and report["result"].startswith("written (the answer was lost")
    assert notification(server_s3) == {**bucket_with_their_queue[1], "EventBridgeConfiguration": {}}
