"""What a deploy on LocalStack cannot prove: `Rules`, `AllowedPattern`s and the first-deploy contract.

LocalStack (and moto) ignore `Rules` and `AllowedPattern`; real CloudFormation refuses a template whose
rules use anything but rule functions, and refuses parameter values that break a pattern or an assertion.
So the rules are evaluated here, for the parameter sets docs/deploy.md documents (they must pass) and for
wrong combinations (they must be refused, with the rule's message).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from form_archive_contract.secret_store import store_of
from tools.project import PROJECT_ROOT
from tools.sam_template import NOTHING, Resolver, Unresolvable, load_template

TEMPLATE = load_template(PROJECT_ROOT / "template.yaml")
# CloudFormation's rule functions (AWS::CloudFormation "Rules" reference); nothing else is accepted there.
RULE_FUNCTIONS = frozenset(
    {
        "Fn::And",
        "Fn::Contains",
        "Fn::EachMemberEquals",
        "Fn::EachMemberIn",
        "Fn::Equals",
        "Fn::If",
        "Fn::Not",
        "Fn::Or",
        "Fn::RefAll",
        "Fn::ValueOf",
        "Fn::ValueOfAll",
        "Ref",
    }
)
WEBHOOK = "https://receiver.example/webhook"


def functions_used(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {key for key in node if key == "Ref" or key.startswith("Fn::") or key == "Condition"}
        return own.union(*(functions_used(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(functions_used(item) for item in node))
    return set()


class RuleResolver(Resolver):
    """The template's resolver plus the rule-only functions, over one set of parameter values."""

    def _function(self, name: str, argument: Any) -> Any:
        if name == "Fn::EachMemberEquals":
            members, value = (self.resolve(item) for item in argument)
            return all(member == value for member in members)
        if name == "Fn::EachMemberIn":
            members, allowed = (self.resolve(item) for item in argument)
            return all(member in allowed for member in members)
        if name == "Fn::Contains":
            allowed, value = (self.resolve(item) for item in argument)
            return value in allowed
        return super()._function(name, argument)


def refusals(values: dict[str, str]) -> list[str]:
    """What CloudFormation would refuse for these parameter values: missing values, patterns, allowed
    values, numeric bounds, then each rule's failed assertions (by AssertDescription)."""
    found: list[str] = []
    for name, spec in TEMPLATE["Parameters"].items():
        if name not in values and "Default" not in spec:
            found.append(f"{name}: needs a value")
            continue
        raw = values.get(name, spec.get("Default"))
        text = str(raw)
        items = [item.strip() for item in text.split(",")] if spec["Type"] == "CommaDelimitedList" else [text]
        pattern = spec.get("AllowedPattern")
        if pattern and not all(re.fullmatch(pattern, item) for item in items):
            found.append(f"{name}: {spec.get('ConstraintDescription', pattern)}")
        if "AllowedValues" in spec and text not in {str(value) for value in spec["AllowedValues"]}:
            found.append(f"{name}: not one of the allowed values")
        if spec["Type"] == "Number":
            number = float(text)
            if number < spec.get("MinValue", number) or number > spec.get("MaxValue", number):
                found.append(f"{name}: out of range")
    if found:
        return found
    resolver = RuleResolver(TEMPLATE, values)
    for rule in TEMPLATE["Rules"].values():
        if "RuleCondition" in rule and not resolver._truth(rule["RuleCondition"]):
            continue
        found.extend(
            assertion["AssertDescription"]
            for assertion in rule["Assertions"]
            if not resolver._truth(assertion["Assert"])
        )
    return found


def test_rules_use_only_rule_functions() -> None:
    used = functions_used(TEMPLATE["Rules"])
    assert used, "the walker found nothing: it would pass any template"
    assert used <= RULE_FUNCTIONS, f"not rule functions: {sorted(used - RULE_FUNCTIONS)}"


def test_the_walker_notices_a_non_rule_function() -> None:
    """The old BrowserJwtAudienceWithIssuer rule used Fn::Join; the check above must refuse that."""
    old = {"Assert": {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "BrowserJwtAudience"}]}, ""]}]}}
    assert functions_used(old) - RULE_FUNCTIONS == {"Fn::Join"}


def test_only_the_webhook_url_needs_an_answer() -> None:
    parameters = TEMPLATE["Parameters"]
    assert [name for name, spec in parameters.items() if "Default" not in spec] == ["WebhookUrl"]


def test_no_noecho_parameter_for_guided_mode_to_loop_on() -> None:
    """SAM CLI's guided mode re-asks a NoEcho parameter until it is non-empty: secrets go by reference."""
    assert not [name for name, spec in TEMPLATE["Parameters"].items() if spec.get("NoEcho")]


def test_every_parameter_is_grouped_and_labelled() -> None:
    interface = TEMPLATE["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [name for group in interface["ParameterGroups"] for name in group["Parameters"]]
    assert sorted(grouped) == sorted(TEMPLATE["Parameters"]), "each parameter in exactly one group"
    assert set(interface["ParameterLabels"]) == set(TEMPLATE["Parameters"])
    assert grouped[0] == "WebhookUrl", "the one required answer comes first"


# The documented parameter sets (docs/deploy.md); each must pass every pattern and rule.
ACCEPTED = {
    "first deploy (the guided answer)": {"WebhookUrl": WEBHOOK},
    "queue route": {"WebhookUrl": WEBHOOK, "NotificationRoute": "queue"},
    "existing SSM SecureString": {"WebhookUrl": WEBHOOK, "WebhookSecretName": "/form-archive/webhook-secret"},
    "existing Secrets Manager name": {"WebhookUrl": WEBHOOK, "WebhookSecretName": "form-archive/webhook"},
    "existing Secrets Manager ARN": {
        "WebhookUrl": WEBHOOK,
        "WebhookSecretName": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:form-archive-AbCdEf",
    },
    "body token from another secret": {
        "WebhookUrl": WEBHOOK,
        "WebhookSecretName": "/form-archive/webhook-secret",
        "WebhookBodyTokenName": "/form-archive/body-token",
    },
    "browser API": {
        "WebhookUrl": WEBHOOK,
        "BrowserJwtIssuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
        "BrowserJwtAudience": "client-one,client-two",
        "AllowedOrigins": "https://forms.example",
    },
    "everything else changed": {
        "WebhookUrl": WEBHOOK,
        "ArchivePrefix": "forms/2026",
        "ArchiveBucketName": "my-archive-bucket",
        "NoncurrentVersionExpirationDays": "30",
        "AlarmEmail": "ops@example.org",
        "LogLevel": "DEBUG",
        "LogRetentionDays": "90",
    },
    "eventbridge route on the stack's own bucket": {
        "WebhookUrl": WEBHOOK,
        "NotificationRoute": "eventbridge",
    },
    "existing bucket (docs/existing-bucket.md)": {
        "WebhookUrl": WEBHOOK,
        "NotificationRoute": "eventbridge",
        "ExistingBucketName": "my-existing-bucket",
        "EventBridgeKeyPrefix": "submissions/",
    },
}

REFUSED = {
    "no webhook URL": ({}, "WebhookUrl: needs a value"),
    "plain http webhook": (
        {"WebhookUrl": "http://receiver.example/webhook"},
        "WebhookUrl: must be an https:// URL",
    ),
    "issuer without audience": (
        {"WebhookUrl": WEBHOOK, "BrowserJwtIssuer": "https://issuer.example"},
        "BrowserJwtIssuer needs BrowserJwtAudience (for Cognito, the app client id).",
    ),
    "body token is the signing secret": (
        {"WebhookUrl": WEBHOOK, "WebhookSecretName": "/same", "WebhookBodyTokenName": "/same"},
        "WebhookBodyTokenName must name another secret than WebhookSecretName.",
    ),
    "secret name with a space": (
        {"WebhookUrl": WEBHOOK, "WebhookSecretName": "my secret"},
        "WebhookSecretName: empty, an SSM parameter name starting with /, or a Secrets Manager",
    ),
    "unknown route": ({"WebhookUrl": WEBHOOK, "NotificationRoute": "email"}, "NotificationRoute: not one of"),
    "prefix with ..": ({"WebhookUrl": WEBHOOK, "ArchivePrefix": "a/../b"}, "ArchivePrefix: folder without"),
    # LocalStack ignores Rules, so the deploy tests cannot show these refusals; this evaluation does.
    "existing bucket on the default (direct) route": (
        {"WebhookUrl": WEBHOOK, "ExistingBucketName": "my-existing-bucket"},
        "ExistingBucketName needs NotificationRoute=eventbridge",
    ),
    "existing bucket on the direct route": (
        {"WebhookUrl": WEBHOOK, "ExistingBucketName": "my-existing-bucket", "NotificationRoute": "direct"},
        "ExistingBucketName needs NotificationRoute=eventbridge",
    ),
    "existing bucket on the queue route": (
        {"WebhookUrl": WEBHOOK, "ExistingBucketName": "my-existing-bucket", "NotificationRoute": "queue"},
        "ExistingBucketName needs NotificationRoute=eventbridge",
    ),
    "existing bucket name with capitals": (
        {"WebhookUrl": WEBHOOK, "ExistingBucketName": "My_Bucket", "NotificationRoute": "eventbridge"},
        "ExistingBucketName: empty, or an S3 bucket name",
    ),
}


@pytest.mark.parametrize("values", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_documented_parameter_sets_pass(values: dict[str, str]) -> None:
    assert refusals(values) == []


@pytest.mark.parametrize(("values", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_wrong_parameter_sets_are_refused_with_the_rule_message(values: dict[str, str], message: str) -> None:
    found = refusals(values)
    assert any(item.startswith(message) for item in found), found


@pytest.mark.parametrize(
    "reference",
    [
        "",
        "/form-archive/webhook-secret",
        "form-archive/webhook",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:form-archive-AbCdEf",
    ],
)
def test_the_role_may_read_the_store_the_function_reads(reference: str) -> None:
    """The template's conditions and secret_store.store_of must agree on where a reference points, or the
    function would be denied its own secret. Empty = the generated Secrets Manager secret."""
    resolver = RuleResolver(TEMPLATE, {"WebhookUrl": WEBHOOK, "WebhookSecretName": reference})
    policies = TEMPLATE["Resources"]["NotifyWebhookFunction"]["Properties"]["Policies"]
    # The work queue's statements (tests/unit/template/test_work_queue.py) name resources that exist only
    # in a deployed stack; the checkpoint key is not the signing secret.
    continuation = ("WorkQueue", "NotifyFailureQueue", "CheckpointKeySecret")
    statements = [
        resolver.resolve(raw)
        for policy in policies
        if "Statement" in policy
        for raw in policy["Statement"]
        if not any(name in json.dumps(raw) for name in continuation)
    ]
    statements = [
        statement
        for statement in statements
        if statement is not NOTHING
        and any(str(action).startswith(("ssm:", "secretsmanager:")) for action in [statement["Action"]])
    ]
    (statement,) = statements
    expected = "secretsmanager" if not reference else store_of(reference)
    assert statement["Action"].split(":")[0] == expected
    variables = resolver.resolve(
        TEMPLATE["Resources"]["NotifyWebhookFunction"]["Properties"]["Environment"]["Variables"]
    )
    assert variables["WEBHOOK_SECRET_PARAMETER"] == (reference or "WebhookSecret")
    assert variables["WEBHOOK_SECRET_PREFIX"] == ("" if reference else "whsec_")
    if expected == "ssm":
        assert statement["Resource"].endswith(f":parameter{reference}")
    elif reference.startswith("arn:"):
        assert statement["Resource"] == reference
    elif reference:
        assert statement["Resource"].endswith(f":secret:{reference}-??????")
    else:
        assert statement["Resource"] == "WebhookSecret"


def test_generated_secret_is_a_standard_webhooks_key() -> None:
    """32 characters of the base64 alphabet = a 24-byte key, usable as whsec_<value> everywhere."""
    secret = TEMPLATE["Resources"]["WebhookSecret"]
    assert secret["Condition"] == "GeneratesSecret"
    generate = secret["Properties"]["GenerateSecretString"]
    assert generate == {"PasswordLength": 32, "ExcludePunctuation": True}


def test_unresolvable_rule_values_are_not_silently_true() -> None:
    """The evaluator must not pass a rule it cannot compute."""
    with pytest.raises(Unresolvable):
        RuleResolver(TEMPLATE, {})._truth({"Fn::Equals": [{"Fn::GetAtt": ["X", "Y"]}, ""]})
