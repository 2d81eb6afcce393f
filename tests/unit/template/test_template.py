"""template.yaml, samconfig.toml and events/*.json against the contract in docs/design.md."""

from __future__ import annotations

import ast
import json
import tomllib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from archive_submission.object_key import (
    build_idempotent_object_key,
    build_object_key,
    idempotent_submission_id,
    new_submission_id,
)
from form_archive_contract import metadata
from form_archive_contract.archive_keys import archive_key_patterns, in_archive_key_space
from tools.local_invoke import load_handler, read_function
from tools.project import PROJECT_ROOT
from tools.sam_template import Resolver, load_template

TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"
EVENTS = PROJECT_ROOT / "events"
FUNCTIONS = {
    "ArchiveSubmissionFunction": "archive_submission",
    "NotifyWebhookFunction": "notify_webhook",
    "UploadUrlFunction": "upload_url",
}
UPLOAD_FUNCTIONS = ("UploadUrlFunction", "BrowserUploadUrlFunction")


def bucket_arn(suffix: str) -> dict[str, Any]:
    """The ARN expression (own bucket or ExistingBucketName) of the bucket followed by `suffix`."""
    existing = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ExistingBucketName}" + suffix}
    return {"Fn::If": ["UsesExistingBucket", existing, {"Fn::Sub": "${ArchiveBucket.Arn}" + suffix}]}


# Lambda sets these itself; a function may read them without the template declaring them.
RUNTIME_PREFIXES = ("AWS_", "LAMBDA_", "_X_AMZN")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]  # type: ignore[no-any-return]


def properties(resources: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return resources[logical_id]["Properties"]  # type: ignore[no-any-return]


def bucket_by_name(resources: dict[str, Any]) -> dict[str, Any]:
    """The bucket by name: ExistingBucketName, else the expression of ArchiveBucket's BucketName."""
    own = properties(resources, "ArchiveBucket")["BucketName"]
    return {"Fn::If": ["UsesExistingBucket", {"Ref": "ExistingBucketName"}, own]}


def environment(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """The function's variables as SAM merges them: Globals first, the function's own over them."""
    variables = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    function = properties(template["Resources"], logical_id)
    variables.update(function.get("Environment", {}).get("Variables", {}))
    return variables


def policy_statements(resources: dict[str, Any], logical_id: str) -> list[Any]:
    """The statements of the function's `Policies`: inline documents, and the managed policies of this
    template it names by `Ref` (the document of that AWS::IAM::ManagedPolicy)."""
    found: list[Any] = []
    for policy in properties(resources, logical_id)["Policies"]:
        if set(policy) == {"Ref"}:
            managed = resources[policy["Ref"]]
            assert managed["Type"] == "AWS::IAM::ManagedPolicy", policy
            found.extend(managed["Properties"]["PolicyDocument"]["Statement"])
        else:
            found.extend(policy.get("Statement", []) if isinstance(policy, dict) else [])
    return found


def mentions(node: Any, logical_id: str) -> bool:
    """Whether any Ref/GetAtt/Sub inside `node` points at the resource `logical_id`."""
    if isinstance(node, dict):
        if node.get("Ref") == logical_id:
            return True
        if "Fn::GetAtt" in node and node["Fn::GetAtt"][0] == logical_id:
            return True
        if "Fn::Sub" in node:
            text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
            if "${" + logical_id + "}" in text or "${" + logical_id + "." in text:
                return True
        return any(mentions(value, logical_id) for value in node.values())
    if isinstance(node, list):
        return any(mentions(item, logical_id) for item in node)
    return False


# ------------------------------------------------------------------ functions


def test_globals(template: dict[str, Any]) -> None:
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Tracing"] == "Active"
    assert 3 <= globals_["Timeout"] <= 900
    assert 128 <= globals_["MemorySize"] <= 10240
    variables = globals_["Environment"]["Variables"]
    assert {"POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"} <= set(variables)


@pytest.mark.parametrize(("logical_id", "package"), FUNCTIONS.items())
def test_handler_resolves_to_a_real_function(logical_id: str, package: str) -> None:
    spec = read_function(logical_id, template_path=TEMPLATE_PATH)
    assert spec.code_uri == (PROJECT_ROOT / "functions").resolve()
    assert spec.handler == f"{package}.app.lambda_handler"
    handler = load_handler(spec)
    assert callable(handler)
    assert handler.__module__ == f"{package}.app"


def _environment_reads(package: str) -> set[str]:
    """Names of environment variables the package reads: `os.environ.get("X")`, `os.getenv("X")`,
    `environ["X"]`, and helpers called with an environ mapping and a literal name (`_value(environ, "X")`)."""
    names: set[str] = set()
    for path in (PROJECT_ROOT / "functions" / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Subscript)
                and "environ" in ast.unparse(node.value)
                and isinstance(node.slice, ast.Constant)
                and isinstance(node.slice.value, str)
            ):
                names.add(node.slice.value)
            if not isinstance(node, ast.Call):
                continue
            callee = ast.unparse(node.func)
            reads_env = callee.endswith("getenv") or "environ" in callee
            reads_env = reads_env or any("environ" in ast.unparse(argument) for argument in node.args)
            if not reads_env:
                continue
            names.update(
                argument.value
                for argument in node.args
                if isinstance(argument, ast.Constant)
                and isinstance(argument.value, str)
                and argument.value.isupper()
                and argument.value.replace("_", "").isalnum()
            )
    return {name for name in names if not name.startswith(RUNTIME_PREFIXES)}


def test_env_scanner_finds_the_documented_variables() -> None:
    """Guards the next test against a scanner that finds nothing."""
    assert {"ARCHIVE_BUCKET", "ARCHIVE_PREFIX", "MAX_SUBMISSION_BYTES"} <= _environment_reads(
        "archive_submission"
    )
    assert {
        "WEBHOOK_URL",
        "WEBHOOK_SECRET_TOKEN",
        "WEBHOOK_SECRET_PARAMETER",
        "ACCEPTED_UPLOADERS",
        "WEBHOOK_TIMEOUT_SECONDS",
        "WEBHOOK_MAX_ATTEMPTS",
        "WEBHOOK_BODY_TOKEN",
        "WEBHOOK_BODY_TOKEN_PARAMETER",
    } <= _environment_reads("notify_webhook")
    assert {"ARCHIVE_BUCKET", "ARCHIVE_PREFIX", "MAX_UPLOAD_BYTES", "UPLOAD_URL_EXPIRES_SECONDS"} <= (
        _environment_reads("upload_url")
    )


@pytest.mark.parametrize(("logical_id", "package"), FUNCTIONS.items())
def test_every_variable_the_code_reads_is_set_in_the_template(logical_id: str, package: str) -> None:
    declared = set(read_function(logical_id, template_path=TEMPLATE_PATH).environment)
    missing = _environment_reads(package) - declared
    assert not missing, f"{logical_id} reads {sorted(missing)} but the template does not set them"


def test_function_environment_values(template: dict[str, Any], resources: dict[str, Any]) -> None:
    archive = environment(template, "ArchiveSubmissionFunction")
    assert archive["ARCHIVE_BUCKET"] == bucket_by_name(resources)
    assert archive["ARCHIVE_PREFIX"] == {"Ref": "ArchivePrefix"}
    notify = properties(resources, "NotifyWebhookFunction")["Environment"]["Variables"]
    assert notify["ACCEPTED_UPLOADERS"] == "presigned-url,archive-submission"
    assert notify["WEBHOOK_URL"] == {"Ref": "WebhookUrl"}
    accepted = set(notify["ACCEPTED_UPLOADERS"].split(","))
    assert accepted == {metadata.ARCHIVE_SUBMISSION, metadata.PRESIGNED_URL} == set(metadata.KNOWN_UPLOADERS)
    assert notify["WEBHOOK_SECRET_TOKEN"] == "", "a deployed stack holds no secret value, only a reference"
    assert notify["WEBHOOK_SECRET_PARAMETER"] == {
        "Fn::If": ["GeneratesSecret", {"Ref": "WebhookSecret"}, {"Ref": "WebhookSecretName"}]
    }


def test_notify_timeout_covers_all_delivery_attempts(resources: dict[str, Any]) -> None:
    notify = properties(resources, "NotifyWebhookFunction")
    variables = notify["Environment"]["Variables"]
    worst_case = float(variables["WEBHOOK_TIMEOUT_SECONDS"]) * int(variables["WEBHOOK_MAX_ATTEMPTS"])
    assert notify["Timeout"] > worst_case + 10


# ------------------------------------------------------------------ API


def test_rest_api_requires_an_api_key_with_a_usage_plan(resources: dict[str, Any]) -> None:
    event = properties(resources, "ArchiveSubmissionFunction")["Events"]["PostSubmission"]
    assert event["Type"] == "Api"
    assert event["Properties"]["Path"] == "/submissions"
    assert event["Properties"]["Method"].upper() == "POST"
    api_id = event["Properties"]["RestApiId"]["Ref"]
    api = resources[api_id]
    assert api["Type"] == "AWS::Serverless::Api"
    auth = api["Properties"]["Auth"]
    assert auth["ApiKeyRequired"] is True
    assert auth["UsagePlan"]["CreateUsagePlan"] == "PER_API"
    assert {"RateLimit", "BurstLimit"} <= set(auth["UsagePlan"]["Throttle"])
    assert "Limit" in auth["UsagePlan"]["Quota"]


def test_archive_function_writes_only_to_the_archive_bucket(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    statements = policy_statements(resources, "ArchiveSubmissionFunction")
    actions = {action for statement in statements for action in statement["Action"]}
    assert actions == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListBucket",
        "s3:ListBucketVersions",
    }
    assert all(mentions(statement["Resource"], "ArchiveBucket") for statement in statements)
    # ListBucket (HEAD of an absent key answers 404, not 403) and ListBucketVersions (a conditional write
    # accepted over an existing version) are the bucket itself, never its objects.
    [listing] = [statement for statement in statements if "s3:ListBucket" in statement["Action"]]
    assert _prune(listing["Resource"], Resolver(template)) == {"Fn::GetAtt": ["ArchiveBucket", "Arn"]}


# ------------------------------------------------------------------ bucket and trigger


ROUTES = ("direct", "queue", "eventbridge")


def _prune(node: Any, resolver: Resolver) -> Any:
    """`node` with every `Fn::If` replaced by the branch the route takes (intrinsics otherwise kept)."""
    if isinstance(node, list):
        return [_prune(item, resolver) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Fn::If"}:
        condition, when_true, when_false = node["Fn::If"]
        return _prune(when_true if resolver.condition(condition) else when_false, resolver)
    return {key: _prune(value, resolver) for key, value in node.items()}


def _created(template: dict[str, Any], route: str) -> dict[str, Any]:
    """The resources a stack with `NotificationRoute=route` creates, each with its `Fn::If`s decided."""
    resolver = Resolver(template, {"NotificationRoute": route})
    return {
        logical_id: _prune(resource, resolver)
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource or resolver.condition(resource["Condition"])
    }


def _dependencies(resource: dict[str, Any], names: set[str]) -> set[str]:
    """Resources `resource` waits for: DependsOn, Ref, GetAtt and `${X}` / `${X.Attr}` in Sub."""
    depends_on = resource.get("DependsOn", [])
    found = set([depends_on] if isinstance(depends_on, str) else depends_on)
    return found | {name for name in names if mentions(resource, name)}


def test_notification_route_parameter(template: dict[str, Any]) -> None:
    route = template["Parameters"]["NotificationRoute"]
    assert route["Default"] == "direct"
    assert sorted(route["AllowedValues"]) == sorted(ROUTES)
    assert "Events" not in properties(template["Resources"], "NotifyWebhookFunction"), (
        "SAM Events can't be conditional"
    )


@pytest.mark.parametrize("route", ROUTES)
def test_each_route_references_only_what_it_creates_and_has_no_cycle(
    template: dict[str, Any], route: str
) -> None:
    created = _created(template, route)
    names = set(created)
    missing = {
        (logical_id, name)
        for logical_id, resource in created.items()
        for name in set(template["Resources"]) - names
        if mentions(resource, name) or name in _dependencies(resource, {name})
    }
    assert missing == set(), "a created resource references one this route does not create"
    graph = {
        logical_id: _dependencies(resource, names - {logical_id}) for logical_id, resource in created.items()
    }
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in visiting, f"circular dependency: {' -> '.join((*path, node))}"
        if node in done:
            return
        visiting.add(node)
        for dependency in graph[node]:
            visit(dependency, (*path, node))
        visiting.discard(node)
        done.add(node)

    for logical_id in graph:
        visit(logical_id, ())


def test_direct_route_lets_s3_invoke_the_function(template: dict[str, Any]) -> None:
    created = _created(template, "direct")
    assert not {name for name in created if name.startswith("NotifyQueue")}
    notification = created["ArchiveBucket"]["Properties"]["NotificationConfiguration"]
    assert notification == {
        "LambdaConfigurations": [
            {"Event": "s3:ObjectCreated:*", "Function": {"Fn::GetAtt": ["NotifyWebhookFunction", "Arn"]}}
        ]
    }
    permission = created["NotifyInvokePermission"]["Properties"]
    assert permission["Principal"] == "s3.amazonaws.com"
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    bucket_name = properties(template["Resources"], "ArchiveBucket")["BucketName"]
    assert permission["SourceArn"]["Fn::Sub"][1]["Name"] == _prune(bucket_name, Resolver(template))
    ready = created["NotificationTargetReady"]["Metadata"]
    assert ready == {
        "InvokePermission": {"Ref": "NotifyInvokePermission"},
        "QueuePolicy": "",
        "EventRulePermission": "",
    }
    assert created["ArchiveBucket"]["DependsOn"] == "NotificationTargetReady"


def test_queue_route_puts_a_queue_with_a_dead_letter_queue_between_bucket_and_function(
    template: dict[str, Any],
) -> None:
    created = _created(template, "queue")
    assert "NotifyInvokePermission" not in created
    notification = created["ArchiveBucket"]["Properties"]["NotificationConfiguration"]
    assert notification == {
        "QueueConfigurations": [
            {"Event": "s3:ObjectCreated:*", "Queue": {"Fn::GetAtt": ["NotifyQueue", "Arn"]}}
        ]
    }
    queue = created["NotifyQueue"]["Properties"]
    function_timeout = properties(template["Resources"], "NotifyWebhookFunction")["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * function_timeout
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["NotifyQueueDeadLetter", "Arn"]}
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 1
    assert queue["SqsManagedSseEnabled"] is True
    dead_letter = created["NotifyQueueDeadLetter"]["Properties"]
    assert dead_letter["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert dead_letter["SqsManagedSseEnabled"] is True
    mapping = created["NotifyQueueEventSource"]
    assert mapping["Type"] == "AWS::Lambda::EventSourceMapping"
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["NotifyQueue", "Arn"]}
    assert mapping["Properties"]["FunctionName"] == {"Ref": "NotifyWebhookFunction"}
    statements = created["NotifyQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    send = next(statement for statement in statements if statement["Effect"] == "Allow")
    assert send["Principal"] == {"Service": "s3.amazonaws.com"}
    assert send["Action"] == "sqs:SendMessage"
    assert set(send["Condition"]) == {"ArnLike", "StringEquals"}
    poll = [
        statement
        for policy in created["NotifyWebhookFunction"]["Properties"]["Policies"]
        for statement in policy.get("Statement", [])
        if "sqs:ReceiveMessage" in statement["Action"]
    ]
    assert poll
    assert poll[0]["Resource"] == {"Fn::GetAtt": ["NotifyQueue", "Arn"]}
    assert created["NotificationTargetReady"]["Metadata"]["QueuePolicy"] == {"Ref": "NotifyQueuePolicy"}


def test_notify_role_names_the_bucket_without_a_circular_reference(resources: dict[str, Any]) -> None:
    """The bucket's notification depends on the function, so the function's policies must not reference
    the bucket resource; they use the same name expression as the bucket's BucketName instead."""
    notify = properties(resources, "NotifyWebhookFunction")
    assert not mentions(notify["Policies"], "ArchiveBucket")
    assert not mentions(notify["Environment"], "ArchiveBucket")
    bucket_name = properties(resources, "ArchiveBucket")["BucketName"]
    statements = [statement for policy in notify["Policies"] for statement in policy.get("Statement", [])]
    s3_statements = [statement for statement in statements if "s3:" in str(statement.get("Action"))]
    assert s3_statements
    for statement in s3_statements:
        name = statement["Resource"]["Fn::Sub"][1]["Name"]
        assert name == {"Fn::If": ["UsesExistingBucket", {"Ref": "ExistingBucketName"}, bucket_name]}
    actions = {action for statement in s3_statements for action in _listed(statement["Action"])}
    assert actions == {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"}, "read-only"


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_bucket_is_private_encrypted_and_versioned(resources: dict[str, Any]) -> None:
    bucket = properties(resources, "ArchiveBucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    assert resources["ArchiveBucket"]["DeletionPolicy"] == "Retain"


def test_bucket_cors_comes_from_allowed_origins(template: dict[str, Any], resources: dict[str, Any]) -> None:
    condition, cors, otherwise = properties(resources, "ArchiveBucket")["CorsConfiguration"]["Fn::If"]
    assert condition in template["Conditions"]
    assert otherwise == {"Ref": "AWS::NoValue"}
    (rule,) = cors["CorsRules"]
    assert rule["AllowedOrigins"] == {"Ref": "AllowedOrigins"}
    assert set(rule["AllowedMethods"]) == {"PUT", "POST", "DELETE"}
    assert template["Parameters"]["AllowedOrigins"]["Type"] == "CommaDelimitedList"


def test_bucket_policy_denies_requests_without_tls(resources: dict[str, Any]) -> None:
    policy = properties(resources, "ArchiveBucketPolicy")
    assert policy["Bucket"] == {"Ref": "ArchiveBucket"}
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"][0] == {"Fn::GetAtt": ["ArchiveBucket", "Arn"]}
    assert statement["Resource"][1] == {"Fn::Sub": "${ArchiveBucket.Arn}/*"}


# ------------------------------------------------------------------ failures


def test_failed_notifications_end_on_an_encrypted_queue(resources: dict[str, Any]) -> None:
    config = properties(resources, "NotifyWebhookFunction")["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    assert 60 <= config["MaximumEventAgeInSeconds"] <= 21600
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    assert on_failure["Destination"] == {"Fn::GetAtt": ["NotifyFailureQueue", "Arn"]}
    queue = resources["NotifyFailureQueue"]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["Properties"].get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue["Properties"]


# ------------------------------------------------------------------ parameters and outputs


def test_secret_parameters(template: dict[str, Any], resources: dict[str, Any]) -> None:
    """Secrets go by reference (docs/deploy.md); tests/unit/template/test_rules.py checks the policies."""
    parameters = template["Parameters"]
    for name in ("WebhookSecretName", "WebhookBodyTokenName"):
        assert parameters[name]["Default"] == ""
        assert "NoEcho" not in parameters[name]
    retired = {"WebhookSecretToken", "WebhookSecretParameterName", "WebhookBodyToken", "WebhookSecretInBody"}
    assert not retired & set(parameters), "no secret value is a parameter any more"
    variables = properties(resources, "NotifyWebhookFunction")["Environment"]["Variables"]
    assert variables["WEBHOOK_BODY_TOKEN"] == ""
    assert variables["WEBHOOK_BODY_TOKEN_PARAMETER"] == {"Ref": "WebhookBodyTokenName"}
    assert "WEBHOOK_SECRET_IN_BODY" not in variables
    assert template["Outputs"]["WebhookSecretReference"]["Value"] == {
        "Fn::If": ["GeneratesSecret", {"Ref": "WebhookSecret"}, {"Ref": "WebhookSecretName"}]
    }
    assert {"WebhookUrl", "AllowedOrigins", "ArchivePrefix", "ApiThrottleRateLimit", "ApiQuotaLimit"} <= set(
        parameters
    )


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert "/submissions" in outputs["ApiUrl"]["Value"]["Fn::Sub"]
    assert outputs["ApiKeyId"]["Value"] == {"Ref": "FormArchiveApiApiKey"}
    assert outputs["ArchiveBucketName"]["Value"] == {
        "Fn::If": ["UsesExistingBucket", {"Ref": "ExistingBucketName"}, {"Ref": "ArchiveBucket"}]
    }
    assert outputs["NotifyFailureQueueUrl"]["Value"] == {"Ref": "NotifyFailureQueue"}
    assert {"ArchiveSubmissionFunctionArn", "NotifyWebhookFunctionArn"} <= set(outputs)


def test_every_ref_points_at_something_declared(template: dict[str, Any]) -> None:
    """Catches typos; generated names (FormArchiveApiApiKey) are SAM's own for a PER_API usage plan."""
    known = set(template["Parameters"]) | set(template["Resources"]) | {"FormArchiveApiApiKey"}

    def refs(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {node["Ref"]} if isinstance(node.get("Ref"), str) else set()
            return found.union(*(refs(value) for value in node.values()))
        if isinstance(node, list):
            return set().union(*(refs(item) for item in node))
        return set()

    unknown = {name for name in refs(template) if not name.startswith("AWS::")} - known
    assert not unknown


# ------------------------------------------------------------------ samconfig and events


def test_samconfig() -> None:
    config = tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text(encoding="utf-8"))["default"]
    assert config["global"]["parameters"]["stack_name"]
    assert config["global"]["parameters"]["region"]
    deploy = config["deploy"]["parameters"]
    assert "CAPABILITY_IAM" in deploy["capabilities"]
    assert deploy["confirm_changeset"] is False, "Enter at every guided prompt must reach a created stack"
    assert deploy["resolve_s3"] is True
    assert "parameter_overrides" not in deploy, "no placeholder values that would deploy as configuration"
    assert config["build"]["parameters"] == {"cached": True, "parallel": True}
    assert config["validate"]["parameters"]["lint"] is True


def test_submission_event_carries_the_sample_submission_verbatim() -> None:
    event = json.loads((EVENTS / "submission.json").read_text(encoding="utf-8"))
    sample = (PROJECT_ROOT / "tests" / "fixtures" / "sample_submission.json").read_text(encoding="utf-8")
    assert event["httpMethod"] == "POST"
    assert event["path"] == event["resource"] == "/submissions"
    assert event["body"] == sample
    assert event["isBase64Encoded"] is False


def test_bad_submission_event_is_not_a_json_object() -> None:
    event = json.loads((EVENTS / "submission_bad.json").read_text(encoding="utf-8"))
    assert not isinstance(json.loads(event["body"]), dict)


def test_s3_event_has_an_encoded_key() -> None:
    event = json.loads((EVENTS / "s3_put.json").read_text(encoding="utf-8"))
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"].startswith("ObjectCreated:")
    key = record["s3"]["object"]["key"]
    assert "+" in key
    assert "%2F" in key


def test_sqs_event_carries_the_s3_event_as_its_body() -> None:
    event = json.loads((EVENTS / "sqs_s3_put.json").read_text(encoding="utf-8"))
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:sqs"
    assert json.loads(record["body"]) == json.loads((EVENTS / "s3_put.json").read_text(encoding="utf-8"))


def test_env_file_overrides_only_declared_variables_with_local_values() -> None:
    """`sam local invoke` silently ignores undeclared names; loopback URLs and fake values only."""
    env = json.loads((EVENTS / "env.json").read_text(encoding="utf-8"))
    declared_everywhere = set.intersection(
        *(set(read_function(name, template_path=TEMPLATE_PATH).environment) for name in FUNCTIONS)
    )
    assert set(env.get("Parameters", {})) <= declared_everywhere
    assert set(env) <= {"Parameters", *FUNCTIONS}
    for logical_id in FUNCTIONS:
        declared = set(read_function(logical_id, template_path=TEMPLATE_PATH).environment)
        assert set(env[logical_id]) <= declared, logical_id
        for name, value in env[logical_id].items():
            assert isinstance(value, str)
            if value.startswith("http"):
                assert urlsplit(value).hostname == "127.0.0.1", name
    assert env["NotifyWebhookFunction"]["WEBHOOK_SECRET_TOKEN"] == "testing"


def test_events_are_valid_json() -> None:
    names = sorted(path.name for path in EVENTS.glob("*.json"))
    assert {"submission.json", "submission_bad.json", "s3_put.json", "env.json"} <= set(names)
    for path in EVENTS.glob("*.json"):
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict), path.name


# ------------------------------------------------------------------ browser uploads


@pytest.mark.parametrize("logical_id", UPLOAD_FUNCTIONS)
def test_both_upload_functions_use_the_one_upload_policy(resources: dict[str, Any], logical_id: str) -> None:
    """One managed policy, not two copies: a change to the upload permissions is made once."""
    assert properties(resources, logical_id)["Policies"] == [{"Ref": "UploadUrlPolicy"}]
    assert resources["UploadUrlPolicy"]["Type"] == "AWS::IAM::ManagedPolicy"
    assert "Condition" not in resources["UploadUrlPolicy"], "UploadUrlFunction always exists"


def test_upload_policy_may_only_put_objects(resources: dict[str, Any]) -> None:
    statements = policy_statements(resources, "UploadUrlFunction")
    allow, deny, versions, secret = statements
    # Multipart: PutObject covers create, upload part and complete; list parts and abort. No read.
    multipart = ["s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
    assert allow == {"Effect": "Allow", "Action": multipart, "Resource": bucket_arn("/*")}
    # Not into the archive folder: archived submissions cannot be overwritten through an upload URL
    # (with an empty prefix, the archive key shape: test_item1_the_upload_roles_are_denied_...).
    condition, denied, absent = deny["Fn::If"]
    assert condition == "HasArchivePrefix"
    assert denied == {"Effect": "Deny", "Action": multipart, "Resource": bucket_arn("/${ArchivePrefix}/*")}
    assert absent["Effect"] == "Deny"
    assert absent["Action"] == "s3:PutObject"
    # Versions' names, sizes and ETags of one key (with a prefix), to answer a repeated complete.
    assert versions == {
        "Effect": "Allow",
        "Action": "s3:ListBucketVersions",
        "Resource": {
            "Fn::If": [
                "UsesExistingBucket",
                {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ExistingBucketName}"},
                {"Fn::GetAtt": ["ArchiveBucket", "Arn"]},
            ]
        },
        "Condition": {"Null": {"s3:prefix": "false"}, "StringLike": {"s3:prefix": "?*/?*"}},
    }
    assert secret == {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": {"Ref": "UploadTokenKey"},
    }
    actions = json.dumps(statements)
    assert "GetObject" not in actions and '"s3:ListBucket"' not in actions and "s3:*" not in actions


def test_multipart_routes_and_lifecycle(template: dict[str, Any], resources: dict[str, Any]) -> None:
    for logical_id, kind in (("UploadUrlFunction", "Api"), ("BrowserUploadUrlFunction", "HttpApi")):
        events = properties(resources, logical_id)["Events"]
        paths = {event["Properties"]["Path"] for event in events.values() if event["Type"] == kind}
        multipart = {f"/uploads/{name}" for name in ("parts", "complete", "status", "abort")}
        assert paths == {"/uploads", *multipart}
        variables = environment(template, logical_id)
        assert variables["UPLOAD_TOKEN_KEY_PARAMETER"] == {"Ref": "UploadTokenKey"}
        assert variables["UPLOAD_TOKEN_EXPIRES_DAYS"] == {"Ref": "AbortIncompleteUploadsDays"}
    assert properties(resources, "UploadTokenKey")["GenerateSecretString"]["PasswordLength"] >= 32
    assert template["Parameters"]["AbortIncompleteUploadsDays"]["Default"] == 2
    [rule] = [
        rule
        for rule in properties(resources, "ArchiveBucket")["LifecycleConfiguration"]["Rules"]
        if "AbortIncompleteMultipartUpload" in rule
    ]
    days = {"Ref": "AbortIncompleteUploadsDays"}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": days}


@pytest.mark.parametrize("logical_id", UPLOAD_FUNCTIONS)
def test_upload_function_settings(
    template: dict[str, Any], resources: dict[str, Any], logical_id: str
) -> None:
    function = properties(resources, logical_id)
    assert function["Handler"] == "upload_url.app.lambda_handler"
    assert read_function(logical_id, template_path=TEMPLATE_PATH).timeout_seconds == 29, (
        "API Gateway waits 29 s"
    )
    variables = environment(template, logical_id)
    assert variables["POWERTOOLS_SERVICE_NAME"] == "upload-url"
    assert variables["ARCHIVE_BUCKET"] == bucket_by_name(resources)
    assert variables["ARCHIVE_PREFIX"] == {"Ref": "ArchivePrefix"}
    assert variables["MAX_UPLOAD_BYTES"] == {"Ref": "MaxUploadBytes"}
    assert variables["UPLOAD_URL_EXPIRES_SECONDS"] == {"Ref": "UploadUrlExpiresSeconds"}


def test_upload_limits_match_the_code(template: dict[str, Any]) -> None:
    from upload_url import settings  # noqa: PLC0415 - only this test needs the package

    parameters = template["Parameters"]
    assert parameters["MaxUploadBytes"]["Default"] == settings.DEFAULT_MAX_UPLOAD_BYTES
    assert parameters["MaxUploadBytes"]["MaxValue"] == settings.S3_MAX_OBJECT_BYTES
    assert parameters["UploadUrlExpiresSeconds"]["Default"] == settings.DEFAULT_EXPIRES_SECONDS
    assert parameters["UploadUrlExpiresSeconds"]["MaxValue"] == settings.MAX_EXPIRES_SECONDS


def test_post_uploads_is_on_the_rest_api_with_the_api_key(resources: dict[str, Any]) -> None:
    event = properties(resources, "UploadUrlFunction")["Events"]["PostUpload"]
    assert event["Type"] == "Api"
    assert event["Properties"] == {
        "RestApiId": {"Ref": "FormArchiveApi"},
        "Path": "/uploads",
        "Method": "POST",
        "Auth": {"ApiKeyRequired": True},
    }


def test_browser_authorizer_is_optional_and_jwt_checked(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    parameters = template["Parameters"]
    assert parameters["BrowserJwtIssuer"]["Default"] == ""
    assert parameters["BrowserJwtAudience"]["Default"] == ""
    assert template["Conditions"]["HasBrowserAuthorizer"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "BrowserJwtIssuer"}, ""]}]
    }
    # Every resource of the browser path exists only with an issuer; empty = API key only.
    browser = {"BrowserUploadApi", "BrowserUploadUrlFunction", "BrowserUploadApiServerErrorsAlarm"}
    assert {
        name for name, item in resources.items() if item.get("Condition") == "HasBrowserAuthorizer"
    } == browser
    assert template["Outputs"]["BrowserUploadsUrl"]["Condition"] == "HasBrowserAuthorizer"
    api = properties(resources, "BrowserUploadApi")
    assert resources["BrowserUploadApi"]["Type"] == "AWS::Serverless::HttpApi"
    auth = api["Auth"]
    assert auth["DefaultAuthorizer"] == "BrowserJwt"
    jwt = auth["Authorizers"]["BrowserJwt"]
    assert jwt["IdentitySource"] == "$request.header.Authorization"
    assert jwt["JwtConfiguration"] == {
        "issuer": {"Ref": "BrowserJwtIssuer"},
        "audience": {"Ref": "BrowserJwtAudience"},
    }
    cors = api["CorsConfiguration"]["Fn::If"]
    assert cors[0] == "HasAllowedOrigins"
    assert cors[1]["AllowOrigins"] == {"Ref": "AllowedOrigins"}
    event = properties(resources, "BrowserUploadUrlFunction")["Events"]["PostUpload"]
    assert event["Type"] == "HttpApi"
    assert event["Properties"] == {"ApiId": {"Ref": "BrowserUploadApi"}, "Path": "/uploads", "Method": "POST"}
    # An issuer without an audience would accept any token the issuer signs: a rule refuses it.
    rule = template["Rules"]["BrowserJwtAudienceWithIssuer"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "BrowserJwtIssuer"}, ""]}]}


def test_browser_function_matches_the_api_key_function(resources: dict[str, Any]) -> None:
    api_key = properties(resources, "UploadUrlFunction")
    browser = properties(resources, "BrowserUploadUrlFunction")
    for name in ("Handler", "Environment", "Policies", "LoggingConfig"):
        assert browser[name] == api_key[name], name
    for name in ("CodeUri", "Timeout", "MemorySize"):
        assert name not in browser and name not in api_key, f"{name}: both take the Globals value"


def test_every_function_shares_code_and_runtime_through_globals(template: dict[str, Any]) -> None:
    globals_ = template["Globals"]["Function"]
    assert globals_["CodeUri"] == "functions/"
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            assert not {"CodeUri", "Runtime", "Architectures", "Tracing"} & set(resource["Properties"]), (
                logical_id
            )


@pytest.mark.parametrize("logical_id", UPLOAD_FUNCTIONS)
@pytest.mark.parametrize("prefix", ["", "submissions", "forms/archive"])
def test_item1_the_upload_roles_are_denied_the_archive_key_space_for_every_prefix(
    template: dict[str, Any], logical_id: str, prefix: str
) -> None:
    """Review round 3, item 1: IAM denies the upload roles exactly `archive_key_patterns(prefix)` (which
    `POST /uploads` refuses too), for every `ArchivePrefix`, the empty one included; and those patterns
    cover the keys the archive function writes, fresh and idempotent ids alike."""
    resolver = Resolver(template, {"ArchivePrefix": prefix})
    statements = _prune(policy_statements(template["Resources"], logical_id), resolver)
    statements = [statement for statement in statements if statement != {"Ref": "AWS::NoValue"}]
    denied = [
        statement
        for statement in statements
        if statement["Effect"] == "Deny" and "s3:PutObject" in _listed(statement["Action"])
    ]
    assert len(denied) == 1
    resources = denied[0]["Resource"]
    resources = resources if isinstance(resources, list) else [resources]
    patterns = [
        item["Fn::Sub"].replace("${ArchiveBucket.Arn}/", "").replace("${ArchivePrefix}", prefix)
        for item in resources
    ]
    assert tuple(patterns) == archive_key_patterns(prefix)
    when = datetime(2026, 11, 27, 23, 59, tzinfo=UTC)
    for submission_id in (new_submission_id(), idempotent_submission_id("order-42")):
        assert in_archive_key_space(build_object_key(prefix, when, submission_id), prefix)
    assert in_archive_key_space(
        build_idempotent_object_key(prefix, idempotent_submission_id("order-42")), prefix
    )
