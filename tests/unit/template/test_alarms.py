"""template.yaml's alarms, their topic, the AlarmEmail parameter and the outputs `tools.replay` reads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest

from tools.local_invoke import read_function
from tools.project import PROJECT_ROOT
from tools.replay import FUNCTION_OUTPUT, QUEUE_OUTPUT
from tools.sam_template import load_template

TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
SEVEN_DAYS = 7 * 24 * 3600

# alarm logical id -> (namespace, metric, dimensions, threshold)
ALARMS: dict[str, tuple[str, str, dict[str, Any], Any]] = {
    "NotifyFailureQueueNotEmptyAlarm": (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": {"Fn::GetAtt": ["NotifyFailureQueue", "QueueName"]}},
        1,
    ),
    "NotifyFailureQueueOldMessageAlarm": (
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        {"QueueName": {"Fn::GetAtt": ["NotifyFailureQueue", "QueueName"]}},
        SEVEN_DAYS,
    ),
    "NotifyDeadLetterQueueNotEmptyAlarm": (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": {"Fn::GetAtt": ["NotifyQueueDeadLetter", "QueueName"]}},
        1,
    ),
    "NotifyDeadLetterQueueOldMessageAlarm": (
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        {"QueueName": {"Fn::GetAtt": ["NotifyQueueDeadLetter", "QueueName"]}},
        SEVEN_DAYS,
    ),
    "WorkQueueOldMessageAlarm": (
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        {"QueueName": {"Fn::GetAtt": ["WorkQueue", "QueueName"]}},
        {"Ref": "WorkQueueAgeAlarmSeconds"},
    ),
    "NotifyEventRuleFailedInvocationsAlarm": (
        "AWS/Events",
        "FailedInvocations",
        {"RuleName": {"Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": ["NotifyEventRule", "Arn"]}]}]}},
        1,
    ),
    "WebhooksFailedAlarm": ("FormArchive", "WebhooksFailed", {"service": "notify-webhook"}, 1),
    "NotifyDestinationDeliveryFailuresAlarm": (
        "AWS/Lambda",
        "DestinationDeliveryFailures",
        {"FunctionName": {"Ref": "NotifyWebhookFunction"}},
        1,
    ),
    "SubmissionsFailedAlarm": ("FormArchive", "SubmissionsFailed", {"service": "archive-submission"}, 1),
    "UploadUrlsFailedAlarm": ("FormArchive", "UploadUrlsFailed", {"service": "upload-url"}, 1),
    "BrowserUploadApiServerErrorsAlarm": ("AWS/ApiGateway", "5xx", {"ApiId": {"Ref": "BrowserUploadApi"}}, 1),
    "ApiServerErrorsAlarm": (
        "AWS/ApiGateway",
        "5XXError",
        {"ApiName": {"Fn::Sub": "${AWS::StackName}-api"}, "Stage": "prod"},
        1,
    ),
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]  # type: ignore[no-any-return]


def test_the_template_has_exactly_these_alarms(resources: dict[str, Any]) -> None:
    alarms = {name for name, item in resources.items() if item["Type"] == "AWS::CloudWatch::Alarm"}
    assert alarms == set(ALARMS)


@pytest.mark.parametrize("logical_id", sorted(ALARMS))
def test_alarm_watches_its_metric_and_notifies_the_topic(resources: dict[str, Any], logical_id: str) -> None:
    namespace, metric, dimensions, threshold = ALARMS[logical_id]
    alarm = resources[logical_id]["Properties"]
    assert alarm["Namespace"] == namespace
    assert alarm["MetricName"] == metric
    assert {item["Name"]: item["Value"] for item in alarm["Dimensions"]} == dimensions
    assert alarm["Threshold"] == threshold
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Statistic"] == ("Maximum" if namespace == "AWS/SQS" else "Sum")
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["Period"] <= 300
    # No data is the normal, healthy state of every one of these metrics.
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
    # The key and topic policies let CloudWatch act only for alarms named after the stack.
    assert alarm["AlarmName"]["Fn::Sub"].startswith("${AWS::StackName}-")
    assert len(alarm["AlarmDescription"]) > 40


def test_failure_queue_age_alarm_fires_before_retention_deletes(resources: dict[str, Any]) -> None:
    retention = resources["NotifyFailureQueue"]["Properties"]["MessageRetentionPeriod"]
    threshold = resources["NotifyFailureQueueOldMessageAlarm"]["Properties"]["Threshold"]
    assert threshold == SEVEN_DAYS
    assert threshold <= retention / 2


def test_custom_metric_alarms_match_what_powertools_emits(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    """Powertools Metrics publish under POWERTOOLS_METRICS_NAMESPACE with a `service` dimension that is
    POWERTOOLS_SERVICE_NAME; an alarm with another namespace or dimension would watch nothing."""
    namespace = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    for alarm_id, function_id in (
        ("WebhooksFailedAlarm", "NotifyWebhookFunction"),
        ("SubmissionsFailedAlarm", "ArchiveSubmissionFunction"),
        ("UploadUrlsFailedAlarm", "UploadUrlFunction"),
        ("UploadUrlsFailedAlarm", "BrowserUploadUrlFunction"),
    ):
        alarm = resources[alarm_id]["Properties"]
        service = resources[function_id]["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        assert alarm["Namespace"] == namespace
        assert alarm["Dimensions"] == [{"Name": "service", "Value": service}]


def test_conditional_alarms_exist_exactly_with_what_they_watch(resources: dict[str, Any]) -> None:
    watched = {
        "BrowserUploadApiServerErrorsAlarm": "BrowserUploadApi",
        "NotifyDeadLetterQueueNotEmptyAlarm": "NotifyQueueDeadLetter",
        "NotifyDeadLetterQueueOldMessageAlarm": "NotifyQueueDeadLetter",
        "NotifyEventRuleFailedInvocationsAlarm": "NotifyEventRule",
    }
    for alarm, resource in watched.items():
        assert resources[alarm]["Condition"] == resources[resource]["Condition"]
    unconditional = {name for name in ALARMS if "Condition" not in resources[name]}
    assert unconditional == set(ALARMS) - set(watched)
    # The failure queue exists on both routes (the OnFailure destination is always configured).
    assert "Condition" not in resources["NotifyFailureQueue"]


def test_dead_letter_age_alarm_fires_before_retention_deletes(resources: dict[str, Any]) -> None:
    retention = resources["NotifyQueueDeadLetter"]["Properties"]["MessageRetentionPeriod"]
    assert resources["NotifyDeadLetterQueueOldMessageAlarm"]["Properties"]["Threshold"] <= retention / 2


def test_api_alarm_names_the_api_it_watches(resources: dict[str, Any]) -> None:
    api = resources["FormArchiveApi"]["Properties"]
    dimensions = {
        item["Name"]: item["Value"] for item in resources["ApiServerErrorsAlarm"]["Properties"]["Dimensions"]
    }
    assert dimensions["ApiName"] == api["Name"]
    assert dimensions["Stage"] == api["StageName"]


def test_the_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(resources: dict[str, Any]) -> None:
    topic = resources["AlarmTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    key = resources["AlarmTopicKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = {item["Sid"]: item for item in key["Properties"]["KeyPolicy"]["Statement"]}
    cloudwatch = statements["StackAlarmsPublishToTheTopic"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].endswith(
        ":alarm:${AWS::StackName}-*"
    )


def test_the_topic_policy_lets_only_the_stacks_alarms_publish(resources: dict[str, Any]) -> None:
    policy = resources["AlarmTopicPolicy"]["Properties"]
    assert policy["Topics"] == [{"Ref": "AlarmTopic"}]
    allow, deny = policy["PolicyDocument"]["Statement"]
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].endswith(":alarm:${AWS::StackName}-*")
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_alarm_email_is_optional_and_subscribes_only_when_set(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    parameter = template["Parameters"]["AlarmEmail"]
    assert parameter["Type"] == "String"
    assert parameter["Default"] == ""
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Type"] == "AWS::SNS::Subscription"
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("ops@example.com", True),
        ("first.last+alarms@mail.example.org", True),
        ("ops@example", False),
        ("two words@example.com", False),
        ("@example.com", False),
        ("ops@@example.com", False),
    ],
)
def test_alarm_email_pattern(template: dict[str, Any], value: str, accepted: bool) -> None:
    """CloudFormation matches AllowedPattern against the whole value (Java regex; this one is plain)."""
    assert bool(re.fullmatch(template["Parameters"]["AlarmEmail"]["AllowedPattern"], value)) is accepted


def test_outputs_name_the_topic_and_what_replay_needs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}
    assert outputs[QUEUE_OUTPUT]["Value"] == {"Ref": "NotifyFailureQueue"}
    assert outputs[FUNCTION_OUTPUT]["Value"] == {"Fn::GetAtt": ["NotifyWebhookFunction", "Arn"]}


def test_readme_operations_lists_every_alarm(resources: dict[str, Any]) -> None:
    page = (PROJECT_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    match = re.search(r"^## Alarms\n(.*?)(?=^## )", page, re.MULTILINE | re.DOTALL)
    assert match, "docs/operations.md has no '## Alarms' section"
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", match.group(1), re.MULTILINE))
    names = {resources[logical_id]["Properties"]["AlarmName"]["Fn::Sub"] for logical_id in ALARMS}
    assert {name.removeprefix("${AWS::StackName}-") for name in names} == listed


@pytest.mark.parametrize(
    ("alarm_id", "function_id", "package"),
    [
        ("WebhooksFailedAlarm", "NotifyWebhookFunction", "notify_webhook"),
        ("SubmissionsFailedAlarm", "ArchiveSubmissionFunction", "archive_submission"),
        ("UploadUrlsFailedAlarm", "UploadUrlFunction", "upload_url"),
    ],
)
def test_the_functions_emit_what_the_alarms_watch(
    resources: dict[str, Any], alarm_id: str, function_id: str, package: str
) -> None:
    """Imported with the template's environment, as in Lambda, each function's Powertools Metrics write an
    EMF document whose namespace, metric and dimensions are exactly what the alarm names."""
    alarm = resources[alarm_id]["Properties"]
    environment = read_function(function_id, template_path=TEMPLATE_PATH).environment
    child_env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(PROJECT_ROOT / "functions"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        **{name: value for name, value in environment.items() if name.startswith("POWERTOOLS_")},
    }
    script = (
        "from aws_lambda_powertools.metrics import MetricUnit\n"
        f"from {package}.app import metrics\n"
        f"metrics.add_metric(name={alarm['MetricName']!r}, unit=MetricUnit.Count, value=1)\n"
        "metrics.flush_metrics()\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], env=child_env, capture_output=True, text=True, timeout=60, check=True
    )
    (line,) = [item for item in completed.stdout.splitlines() if '"_aws"' in item]
    document = json.loads(line)
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == alarm["Namespace"]
    assert [metric["Name"] for metric in directive["Metrics"]] == [alarm["MetricName"]]
    dimensions = {item["Name"]: item["Value"] for item in alarm["Dimensions"]}
    assert directive["Dimensions"] == [sorted(dimensions)]
    assert {name: document[name] for name in dimensions} == dimensions
    assert document[alarm["MetricName"]] == [1.0]
