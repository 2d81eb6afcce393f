"""Round-4 hardening of tools/attach_bucket against moto's server: detach, a racing writer, the report.

moto's server has no TestEventPattern (it answers without a `Result`), so the rule evaluation runs
through the tool's own evaluation of the pattern language there; a pattern it cannot evaluate is refused.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from tests.s3_stores import ARCHIVE_BUCKET, REGION
from tools.attach_bucket import bucket, cli
from tools.attach_bucket.cli import EXIT_FAILED, EXIT_OK, main
from tools.moto_eventbridge import report_eventbridge_configuration

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.moto_only("EventBridge rules and SQS queues")


@pytest.fixture(autouse=True)
def _moto_reports_eventbridge() -> None:
    report_eventbridge_configuration()


def events(endpoint: str) -> Any:
    return boto3.client("events", region_name=REGION, endpoint_url=endpoint)


def notification(s3: S3Client) -> dict[str, Any]:
    answer = dict(s3.get_bucket_notification_configuration(Bucket=ARCHIVE_BUCKET))
    answer.pop("ResponseMetadata")
    return answer


def attach(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    status = main([*args])
    out, err = capsys.readouterr()
    return status, json.loads(out), err


@pytest.mark.parametrize(
    "pattern",
    [
        {"source": ["aws.s3"], "resources": [f"arn:aws:s3:::{ARCHIVE_BUCKET}"]},
        {"source": ["aws.s3"]},
        {"detail": {"bucket": {"name": [{"prefix": ARCHIVE_BUCKET[:4]}]}}},
        {"source": ["aws.s3"], "detail": {"object": {"key": [{"prefix": "theirs/"}]}}},
    ],
    ids=["by-resources", "catch-all", "name-prefix", "key-prefix-only"],
)
def test_r4_item1_detach_refuses_while_a_rule_matches_the_buckets_events(
    server_s3: S3Client, moto_server: str, capsys: pytest.CaptureFixture[str], pattern: dict[str, Any]
) -> None:
    assert attach(capsys, ARCHIVE_BUCKET)[0] == EXIT_OK
    events(moto_server).put_rule(Name="their-rule", EventPattern=json.dumps(pattern))
    before = notification(server_s3)
    status, report, err = attach(capsys, ARCHIVE_BUCKET, "--detach")
    assert status == EXIT_FAILED, report
    assert "their-rule" in err and "nothing changed" in err
    assert report["rules_using_the_bucket"] == ["their-rule"]
    assert notification(server_s3) == before


def test_r4_item1_rules_that_cannot_match_do_not_block_detach(
    server_s3: S3Client, moto_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert attach(capsys, ARCHIVE_BUCKET)[0] == EXIT_OK
    client = events(moto_server)
    client.put_rule(Name="ec2", EventPattern=json.dumps({"source": ["aws.ec2"]}))
    client.put_rule(
        Name="other-bucket", EventPattern=json.dumps({"detail": {"bucket": {"name": ["someone-else"]}}})
    )
    client.put_rule(Name="hourly", ScheduleExpression="rate(1 hour)")
    client.put_rule(Name="switched-off", EventPattern=json.dumps({"source": ["aws.s3"]}), State="DISABLED")
    status, report, err = attach(capsys, ARCHIVE_BUCKET, "--detach")
    assert status == EXIT_OK, err
    assert "EventBridgeConfiguration" not in notification(server_s3)
    assert report["rules_using_the_bucket"] == []


def test_r4_item1_a_pattern_that_cannot_be_evaluated_is_refused_not_guessed(
    server_s3: S3Client, moto_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert attach(capsys, ARCHIVE_BUCKET)[0] == EXIT_OK
    pattern = {"source": ["aws.s3"], "account": [{"cidr": "10.0.0.0/8"}]}
    events(moto_server).put_rule(Name="unknowable", EventPattern=json.dumps(pattern))
    status, report, err = attach(capsys, ARCHIVE_BUCKET, "--detach")
    assert status == EXIT_FAILED
    assert "unknowable" in err and "could not be evaluated" in err
    assert report["rules_not_evaluated"] == ["unknowable"]
    assert "EventBridgeConfiguration" in notification(server_s3)


def test_r4_item1_detach_refuses_delivery_that_attach_did_not_turn_on(
    server_s3: S3Client, capsys: pytest.CaptureFixture[str]
) -> None:
    server_s3.put_bucket_notification_configuration(
        Bucket=ARCHIVE_BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    status, _, err = attach(capsys, ARCHIVE_BUCKET, "--detach")
    assert status == EXIT_FAILED
    assert "not turned on by attach" in err and "nothing changed" in err
    assert "EventBridgeConfiguration" in notification(server_s3)


def test_r4_item1_force_detaches_only_with_the_rules_printed(
    server_s3: S3Client, moto_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server_s3.put_bucket_notification_configuration(
        Bucket=ARCHIVE_BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    events(moto_server).put_rule(Name="catch-all", EventPattern=json.dumps({"source": ["aws.s3"]}))
    status, report, err = attach(capsys, ARCHIVE_BUCKET, "--detach", "--force")
    assert status == EXIT_OK, err
    assert "catch-all" in err and "--force" in err
    assert report["rules_using_the_bucket"] == ["catch-all"]
    assert "EventBridgeConfiguration" not in notification(server_s3)


def test_r4_item5_a_configuration_changed_by_another_writer_is_not_overwritten(
    server_s3: S3Client, moto_server: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=moto_server)
    url = sqs.create_queue(QueueName="late-writer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    theirs: Any = {"QueueConfigurations": [{"Id": "late", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
    original = bucket.check_requirements

    def another_writer_meanwhile(*args: Any, **kwargs: Any) -> Any:
        server_s3.put_bucket_notification_configuration(
            Bucket=ARCHIVE_BUCKET, NotificationConfiguration=theirs, SkipDestinationValidation=True
        )
        return original(*args, **kwargs)

    monkeypatch.setattr(cli, "check_requirements", another_writer_meanwhile)
    status, report, err = attach(capsys, ARCHIVE_BUCKET)
    assert status == EXIT_FAILED
    assert "changed since it was read" in err and "nothing written" in err
    assert "changed since it was read" in report["result"]
    assert notification(server_s3) == theirs


def test_r4_item11_attach_prints_a_json_report_also_when_it_fails(
    server_s3: S3Client, capsys: pytest.CaptureFixture[str]
) -> None:
    status, report, err = attach(capsys, "no-such-bucket-here")
    assert status == EXIT_FAILED
    assert report["bucket"] == "no-such-bucket-here"
    assert report["result"].startswith("failed") and "does not exist" in report["result"]
    assert "does not exist" in err
