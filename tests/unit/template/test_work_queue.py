"""template.yaml's work beyond one invocation (issue 29): the work queue every route ends on, the
checkpoint key, the notify function's recursion setting, the EventBridge dead-letter queue, the alarms
on stuck work and the dashboard."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.unit.template.test_template import _prune, environment, policy_statements, properties
from tools.local_invoke import read_function
from tools.project import PROJECT_ROOT
from tools.sam_template import Resolver, load_template

TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
ROUTES = ("direct", "queue", "eventbridge")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]  # type: ignore[no-any-return]


def created(template: dict[str, Any], **parameters: str) -> dict[str, Any]:
    resolver = Resolver(template, parameters)
    return {
        logical_id: _prune(resource, resolver)
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource or resolver.condition(resource["Condition"])
    }


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_work_queue_is_encrypted_outlives_the_schedule_and_redrives_to_the_failure_queue(
    resources: dict[str, Any],
) -> None:
    queue = properties(resources, "WorkQueue")
    notify_timeout = properties(resources, "NotifyWebhookFunction")["Timeout"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["VisibilityTimeout"] >= 6 * notify_timeout, "a link may run the whole Timeout"
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["NotifyFailureQueue", "Arn"]}
    # A link killed mid-way comes back a few times (not once, not forever), then it is parked.
    assert 3 <= redrive["maxReceiveCount"] <= 10
    assert "Condition" not in resources["WorkQueue"], "every route continues through it"


def test_schedule_fits_in_the_work_queue_retention(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    schedule = template["Parameters"]["WebhookRetrySchedule"]
    steps = [int(item) for item in schedule["Default"].split(",")]
    assert schedule["Default"] == "5,300,1800,7200,18000,36000,36000"
    assert re.fullmatch(schedule["AllowedPattern"], schedule["Default"])
    assert not re.fullmatch(schedule["AllowedPattern"], "5, 300") and not re.fullmatch(
        schedule["AllowedPattern"], "5,,300"
    )
    assert 24 * 3600 <= sum(steps) < properties(resources, "WorkQueue")["MessageRetentionPeriod"]


@pytest.mark.parametrize("route", ROUTES)
def test_notify_consumes_the_work_queue_on_every_route(template: dict[str, Any], route: str) -> None:
    stack = created(template, NotificationRoute=route)
    mapping = stack["WorkQueueEventSource"]
    assert mapping["Type"] == "AWS::Lambda::EventSourceMapping"
    assert mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["WorkQueue", "Arn"]}
    assert mapping["Properties"]["FunctionName"] == {"Ref": "NotifyWebhookFunction"}
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["Properties"]["BatchSize"] == 1, "one link per invocation: a link may take the Timeout"
    assert "WorkQueue" in stack and "CheckpointKeySecret" in stack


def test_notify_environment_names_the_queues_the_key_and_the_schedule(template: dict[str, Any]) -> None:
    variables = environment(template, "NotifyWebhookFunction")
    assert variables["WORK_QUEUE_URL"] == {"Ref": "WorkQueue"}
    assert variables["FAILURE_QUEUE_URL"] == {"Ref": "NotifyFailureQueue"}
    assert variables["CHECKPOINT_KEY_PARAMETER"] == {"Ref": "CheckpointKeySecret"}
    assert variables["CHECKPOINT_KEY"] == "", "a deployed stack holds the key by reference only"
    assert variables["WEBHOOK_RETRY_SCHEDULE"] == {"Ref": "WebhookRetrySchedule"}
    local = read_function("NotifyWebhookFunction", template_path=TEMPLATE_PATH).environment
    assert local["WEBHOOK_RETRY_SCHEDULE"] == "5,300,1800,7200,18000,36000,36000"


def test_checkpoint_key_is_generated_and_only_notify_reads_it(resources: dict[str, Any]) -> None:
    secret = resources["CheckpointKeySecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    readers = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        and any(
            statement.get("Resource") == {"Ref": "CheckpointKeySecret"}
            for statement in policy_statements(resources, logical_id)
            if isinstance(statement, dict)
        )
    }
    assert readers == {"NotifyWebhookFunction"}


def test_notify_role_may_consume_and_feed_the_work_queue_and_park(template: dict[str, Any]) -> None:
    resolver = Resolver(template, {"NotificationRoute": "direct"})
    statements = _prune(policy_statements(template["Resources"], "NotifyWebhookFunction"), resolver)
    granted: dict[str, set[str]] = {}
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        for resource in _listed(statement["Resource"]):
            granted.setdefault(json.dumps(resource), set()).update(_listed(statement["Action"]))
    work = granted[json.dumps({"Fn::GetAtt": ["WorkQueue", "Arn"]})]
    assert {
        "sqs:SendMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
    } <= work
    assert granted[json.dumps({"Fn::GetAtt": ["NotifyFailureQueue", "Arn"]})] == {"sqs:SendMessage"}
    assert granted[json.dumps({"Ref": "CheckpointKeySecret"})] == {"secretsmanager:GetSecretValue"}


def test_notify_function_may_loop_through_its_own_queue(resources: dict[str, Any]) -> None:
    assert properties(resources, "NotifyWebhookFunction")["RecursiveLoop"] == "Allow"


def test_eventbridge_target_parks_undelivered_events_on_the_failure_queue(template: dict[str, Any]) -> None:
    stack = created(template, NotificationRoute="eventbridge")
    (target,) = stack["NotifyEventRule"]["Properties"]["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["NotifyFailureQueue", "Arn"]}}
    statements = stack["NotifyFailureQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [statement for statement in statements if statement["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["NotifyEventRule", "Arn"]}}}
    for route in ("direct", "queue"):
        other = created(template, NotificationRoute=route)["NotifyFailureQueuePolicy"]
        kept = [
            item
            for item in other["Properties"]["PolicyDocument"]["Statement"]
            if item != {"Ref": "AWS::NoValue"}
        ]
        assert [item["Effect"] for item in kept] == ["Deny"], "no route but eventbridge lets EventBridge in"


def _alarm(resources: dict[str, Any], logical_id: str) -> dict[str, Any]:
    alarm = properties(resources, logical_id)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
    return alarm


def test_alarm_on_the_rules_failed_invocations(resources: dict[str, Any]) -> None:
    assert resources["NotifyEventRuleFailedInvocationsAlarm"]["Condition"] == "RouteEventBridge"
    alarm = _alarm(resources, "NotifyEventRuleFailedInvocationsAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Events", "FailedInvocations")
    rule_name = {"Fn::Select": [1, {"Fn::Split": ["/", {"Fn::GetAtt": ["NotifyEventRule", "Arn"]}]}]}
    assert alarm["Dimensions"] == [{"Name": "RuleName", "Value": rule_name}]
    assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 1


def test_alarm_when_pending_work_is_older_than_the_threshold(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    alarm = _alarm(resources, "WorkQueueOldMessageAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateAgeOfOldestMessage")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["WorkQueue", "QueueName"]}}]
    assert alarm["Threshold"] == {"Ref": "WorkQueueAgeAlarmSeconds"}
    assert template["Parameters"]["WorkQueueAgeAlarmSeconds"]["Default"] == 3600
    assert "Condition" not in resources["WorkQueueOldMessageAlarm"]


def test_dashboard_shows_deliveries_failures_work_and_hash_throughput(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    dashboard = resources["Dashboard"]
    assert dashboard["Type"] == "AWS::CloudWatch::Dashboard"
    text, variables = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    assert set(variables) == {"WorkQueueName", "FailureQueueName"}
    body = json.loads(text)  # valid JSON before substitution: every ${...} sits inside a string
    titles = [widget["properties"]["title"] for widget in body["widgets"]]
    assert titles == ["Deliveries", "Failures", "Pending and parked work", "Hash throughput (bytes/s)"]
    metrics = json.dumps(body)
    for name in (
        "WebhooksDelivered",
        "WebhooksFailed",
        "${WorkQueueName}",
        "${FailureQueueName}",
        "BytesHashed",
    ):
        assert name in metrics, name
    names = set(re.findall(r"\$\{([^}]+)\}", text)) - set(variables)
    assert names <= {"AWS::Region", "NotifyWebhookFunction"}
    url = template["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]
    assert url.startswith("https://${AWS::Region}.console.aws.amazon.com/cloudwatch/")
    assert url.endswith("#dashboards/dashboard/${Dashboard}")
