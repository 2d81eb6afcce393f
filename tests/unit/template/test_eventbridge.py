"""template.yaml's eventbridge route and ExistingBucketName, conditions decided by tools/sam_template.py."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.unit.template.test_rules import RULE_FUNCTIONS, functions_used
from tests.unit.template.test_template import _prune, environment, policy_statements
from tools.project import PROJECT_ROOT
from tools.sam_template import Resolver, load_template

EXISTING = "someone-elses-bucket"
# The default name with SAM CLI's local pseudo parameters (account, region, the stack id's first part).
OWN_BUCKET = "form-archive-123456789012-us-east-1-51af3dc0"
BUCKET_FUNCTIONS = ("ArchiveSubmissionFunction", "UploadUrlFunction", "BrowserUploadUrlFunction")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(PROJECT_ROOT / "template.yaml")


def created(template: dict[str, Any], **parameters: str) -> dict[str, Any]:
    """The resources a stack with these parameters creates, each with its `Fn::If`s decided."""
    resolver = Resolver(template, parameters)
    return {
        logical_id: _prune(resource, resolver)
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource or resolver.condition(resource["Condition"])
    }


def mentions(node: Any, logical_id: str) -> bool:
    if isinstance(node, dict):
        if node.get("Ref") == logical_id or node.get("Fn::GetAtt", [None])[0] == logical_id:
            return True
        sub = node.get("Fn::Sub")
        text = sub if isinstance(sub, str) else sub[0] if isinstance(sub, list) else ""
        if re.search(r"\$\{" + logical_id + r"[.}]", text):
            return True
        return any(mentions(value, logical_id) for value in node.values())
    if isinstance(node, list):
        return any(mentions(item, logical_id) for item in node)
    return False


def rule_passes(template: dict[str, Any], name: str, **parameters: str) -> bool:
    """Whether CloudFormation accepts the parameters under the rule `name` (no RuleCondition: always)."""
    resolver = Resolver(template, parameters)
    rule = template["Rules"][name]
    if "RuleCondition" in rule and not resolver.resolve(rule["RuleCondition"]):
        return True
    return all(resolver.resolve(assertion["Assert"]) is True for assertion in rule["Assertions"])


# ------------------------------------------------------------------ eventbridge on the stack's own bucket


def test_eventbridge_route_turns_on_the_buckets_eventbridge_delivery(template: dict[str, Any]) -> None:
    stack = created(template, NotificationRoute="eventbridge")
    notification = stack["ArchiveBucket"]["Properties"]["NotificationConfiguration"]
    assert notification == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert not {"NotifyInvokePermission", "NotifyQueue", "NotifyQueuePolicy"} & set(stack)
    for route in ("direct", "queue"):
        assert "NotifyEventRule" not in created(template, NotificationRoute=route)


def test_the_rule_picks_new_objects_of_the_bucket_and_invokes_the_function(template: dict[str, Any]) -> None:
    resolver = Resolver(template, {"NotificationRoute": "eventbridge"})
    stack = created(template, NotificationRoute="eventbridge")
    rule = stack["NotifyEventRule"]["Properties"]
    assert rule["EventBusName"] == "default"
    assert rule["State"] == "ENABLED"
    pattern = resolver.resolve(rule["EventPattern"])
    assert pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [OWN_BUCKET]}},
    }
    assert resolver.resolve(stack["ArchiveBucket"]["Properties"]["BucketName"]) == OWN_BUCKET
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["NotifyWebhookFunction", "Arn"]}
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 24 * 3600
    permission = stack["NotifyEventRulePermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["NotifyEventRule", "Arn"]}
    # The bucket (and so its first events) waits for the rule's permission.
    assert stack["NotificationTargetReady"]["Metadata"]["EventRulePermission"] == {
        "Ref": "NotifyEventRulePermission"
    }
    assert stack["ArchiveBucket"]["DependsOn"] == "NotificationTargetReady"
    assert not mentions(rule, "ArchiveBucket"), "the bucket waits for the rule: a reference back is a cycle"


def test_eventbridge_keeps_the_functions_retries_and_failure_queue(template: dict[str, Any]) -> None:
    invoke = created(template, NotificationRoute="eventbridge")["NotifyWebhookFunction"]["Properties"]
    config = invoke["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["NotifyFailureQueue", "Arn"]
    }


def test_key_prefix_filters_the_rule(template: dict[str, Any]) -> None:
    parameters = {"NotificationRoute": "eventbridge", "EventBridgeKeyPrefix": "uploads/"}
    rule = created(template, **parameters)["NotifyEventRule"]["Properties"]
    pattern = Resolver(template, parameters).resolve(rule["EventPattern"])
    assert pattern["detail"]["object"] == {"key": [{"prefix": "uploads/"}]}


# ------------------------------------------------------------------ ExistingBucketName


def test_existing_bucket_creates_no_bucket_and_no_bucket_policy(template: dict[str, Any]) -> None:
    stack = created(template, NotificationRoute="eventbridge", ExistingBucketName=EXISTING)
    assert "ArchiveBucket" not in stack
    assert "ArchiveBucketPolicy" not in stack
    assert not mentions(stack, "ArchiveBucket"), "a created resource still references the absent bucket"
    outputs = Resolver(template, {"ExistingBucketName": EXISTING}).resolve(
        template["Outputs"]["ArchiveBucketName"]["Value"]
    )
    assert outputs == EXISTING


@pytest.mark.parametrize("function", BUCKET_FUNCTIONS)
def test_functions_use_the_existing_bucket(template: dict[str, Any], function: str) -> None:
    parameters = {
        "NotificationRoute": "eventbridge",
        "ExistingBucketName": EXISTING,
        "BrowserJwtIssuer": "https://issuer.example.com",
    }
    resolver = Resolver(template, parameters)
    assert function in created(template, **parameters)
    assert resolver.resolve(environment(template, function))["ARCHIVE_BUCKET"] == EXISTING
    resources = {
        resource
        for statement in resolver.resolve(policy_statements(template["Resources"], function))
        for resource in (
            [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        )
        if statement["Action"] != "secretsmanager:GetSecretValue"
    }
    assert resources
    assert all(re.fullmatch(rf"arn:aws:s3:::{EXISTING}(/.*)?", resource) for resource in resources), resources


def test_archive_function_policy_on_the_existing_bucket_is_as_narrow_as_on_its_own(
    template: dict[str, Any],
) -> None:
    def statements(**parameters: str) -> list[dict[str, Any]]:
        function = created(template, **parameters)["ArchiveSubmissionFunction"]["Properties"]
        return [statement for policy in function["Policies"] for statement in policy["Statement"]]

    parameters = {"NotificationRoute": "eventbridge", "ExistingBucketName": EXISTING}
    existing = statements(**parameters)
    resolver = Resolver(template, parameters)
    assert [resolver.resolve(statement["Resource"]) for statement in existing] == [
        f"arn:aws:s3:::{EXISTING}/submissions/*",
        f"arn:aws:s3:::{EXISTING}",
    ]
    own = statements(NotificationRoute="eventbridge")
    assert [statement["Action"] for statement in existing] == [statement["Action"] for statement in own]


def test_notify_function_reads_only_the_existing_bucket(template: dict[str, Any]) -> None:
    parameters = {"NotificationRoute": "eventbridge", "ExistingBucketName": EXISTING}
    resolver = Resolver(template, parameters)
    notify = created(template, **parameters)["NotifyWebhookFunction"]["Properties"]
    s3_resources = {
        resolver.resolve(statement["Resource"])
        for policy in notify["Policies"]
        for statement in policy.get("Statement", [])
        if "s3:" in str(statement["Action"])
    }
    assert s3_resources == {f"arn:aws:s3:::{EXISTING}/*", f"arn:aws:s3:::{EXISTING}"}
    rule = created(template, **parameters)["NotifyEventRule"]["Properties"]
    assert resolver.resolve(rule["EventPattern"])["detail"]["bucket"]["name"] == [EXISTING]


@pytest.mark.parametrize(
    ("route", "existing", "accepted"),
    [
        ("eventbridge", EXISTING, True),
        ("direct", EXISTING, False),
        ("queue", EXISTING, False),
        ("direct", "", True),
        ("queue", "", True),
        ("eventbridge", "", True),
    ],
)
def test_rule_refuses_other_routes_for_an_existing_bucket(
    template: dict[str, Any], route: str, existing: str, accepted: bool
) -> None:
    assert (
        rule_passes(
            template, "ExistingBucketNeedsEventBridge", NotificationRoute=route, ExistingBucketName=existing
        )
        is accepted
    )


def test_rule_says_why_and_uses_only_rule_functions(template: dict[str, Any]) -> None:
    rule = template["Rules"]["ExistingBucketNeedsEventBridge"]
    [assertion] = rule["Assertions"]
    message = assertion["AssertDescription"]
    assert "NotificationRoute=eventbridge" in message
    assert "other notifications" in message

    assert functions_used(rule) <= RULE_FUNCTIONS


@pytest.mark.parametrize(
    ("name", "accepted"),
    [("", True), ("my-bucket", True), ("a.b-c1", True), ("My_Bucket", False), ("ab", False), ("-ab", False)],
)
def test_existing_bucket_name_pattern(template: dict[str, Any], name: str, accepted: bool) -> None:
    pattern = template["Parameters"]["ExistingBucketName"]["AllowedPattern"]
    assert (re.fullmatch(pattern, name) is not None) is accepted
