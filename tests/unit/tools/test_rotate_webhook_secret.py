"""tools.rotate_webhook_secret and tools.webhook_secret against a stack in moto's CloudFormation: a new
generated key becomes current, only the stack's own secret is touched, and refusals change nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.secretsmanager.models import secretsmanager_backends

from form_archive_contract.secret_store import clear_secret_cache
from tools import rotate_webhook_secret, webhook_secret
from tools.project import function_ids
from tools.rotate_webhook_secret import main, new_key

OLD_KEY = "TestingOldKey0123456789abcdefghi"
ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


class _StackSecret(CloudFormationModel):
    """moto's CloudFormation has no AWS::SecretsManager::Secret; this one creates it in moto's Secrets
    Manager (the value is a fixed test key instead of GenerateSecretString's) and answers Ref with its ARN."""

    def __init__(self, arn: str) -> None:
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> _StackSecret:
        created = secretsmanager_backends[account_id][region_name].create_secret(
            name=resource_name,
            secret_string=OLD_KEY,
            secret_binary=None,
            description=None,
            tags=None,
            kms_key_id=None,
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        return cls(json.loads(created)["ARN"])

    @classmethod
    def update_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def delete_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> None:
        return None


def _template(*, generated: bool) -> str:
    secret_reference: Any = {"Ref": "WebhookSecret"} if generated else "someone/elses-secret"
    resources: dict[str, Any] = {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": ROLE_POLICY}},
        function_ids().notify: {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.13",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
                "Environment": {
                    "Variables": {
                        "WEBHOOK_SECRET_PARAMETER": secret_reference,
                        "WEBHOOK_SECRET_PREFIX": "whsec_" if generated else "",
                        "WEBHOOK_ROTATION_OVERLAP_HOURS": "24",
                    }
                },
            },
        },
    }
    if generated:
        resources["WebhookSecret"] = {"Type": "AWS::SecretsManager::Secret", "Properties": {}}
    return json.dumps({"Resources": resources})


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    original = parsing.resource_class_from_type

    def with_secrets(resource_type: str) -> Any:
        return _StackSecret if resource_type == "AWS::SecretsManager::Secret" else original(resource_type)

    monkeypatch.setattr(parsing, "resource_class_from_type", with_secrets)
    clear_secret_cache()
    with mock_aws():
        yield boto3.client("secretsmanager")
    clear_secret_cache()


def _stack(name: str, *, generated: bool = True) -> str | None:
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=_template(generated=generated))
    if not generated:
        boto3.client("secretsmanager").create_secret(Name="someone/elses-secret", SecretString="testing-own")
        return None
    resource = boto3.client("cloudformation").describe_stack_resource(
        StackName=name, LogicalResourceId="WebhookSecret"
    )
    return str(resource["StackResourceDetail"]["PhysicalResourceId"])


def _versions(client: Any, secret_id: str) -> list[tuple[str, tuple[str, ...]]]:
    return sorted(
        (item["VersionId"], tuple(item.get("VersionStages", [])))
        for item in client.list_secret_version_ids(SecretId=secret_id)["Versions"]
    )


def test_new_keys_have_the_generated_secrets_form() -> None:
    keys = {new_key() for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        assert re.fullmatch(r"[A-Za-z0-9]{32}", key), "GenerateSecretString: 32, ExcludePunctuation"
        assert re.search("[A-Z]", key) and re.search("[a-z]", key) and re.search("[0-9]", key)


def test_rotation_makes_a_new_current_and_keeps_the_old_as_previous(
    aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = _stack("fa-rotate")
    assert arn is not None
    assert main(["--stack-name", "fa-rotate"]) == 0
    out = capsys.readouterr().out
    current = aws.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    previous = aws.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"]
    assert previous == OLD_KEY and re.fullmatch(r"[A-Za-z0-9]{32}", current) and current != OLD_KEY
    assert current not in out and OLD_KEY not in out, "the tool prints no secret"
    assert "until" in out and "make webhook-secret STACK=fa-rotate" in out and "remove the old secret" in out
    # make webhook-secret: both, labelled, during the window; the previous one with its end.
    clear_secret_cache()
    assert webhook_secret.main(["--stack-name", "fa-rotate"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"current   whsec_{current}"
    assert lines[1].startswith(f"previous  whsec_{OLD_KEY}  (sent until ")


def test_webhook_secret_prints_the_secret_alone_outside_a_window(
    aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _stack("fa-plain")
    assert webhook_secret.main(["--stack-name", "fa-plain"]) == 0
    assert capsys.readouterr().out == f"whsec_{OLD_KEY}\n"
    secrets = webhook_secret.signing_secret(webhook_secret.function_environment("fa-plain"))
    later = datetime.now(UTC) + timedelta(hours=25)
    assert webhook_secret.printed_lines(secrets, later.timestamp()) == [f"whsec_{OLD_KEY}"]


def test_dry_run_changes_nothing(aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    arn = _stack("fa-dry")
    assert arn is not None
    before = _versions(aws, arn)
    assert main(["--stack-name", "fa-dry", "--dry-run"]) == 0
    assert "dry run: nothing changed" in capsys.readouterr().out
    assert _versions(aws, arn) == before


def test_a_second_rotation_inside_the_overlap_is_refused_unless_forced(
    aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = _stack("fa-twice")
    assert arn is not None
    assert main(["--stack-name", "fa-twice"]) == 0
    after_first = _versions(aws, arn)
    assert main(["--stack-name", "fa-twice"]) == 1
    assert "still in its overlap" in capsys.readouterr().err
    assert _versions(aws, arn) == after_first
    assert main(["--stack-name", "fa-twice", "--force"]) == 0


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "cannot be read"),
        ("own-secret", "has no generated secret"),
    ],
)
def test_refusals_exit_1_and_change_nothing(
    aws: Any, capsys: pytest.CaptureFixture[str], setup: str, message: str
) -> None:
    if setup == "own-secret":
        _stack("fa-own", generated=False)
    before = {item["Name"]: _versions(aws, item["ARN"]) for item in aws.list_secrets()["SecretList"]}
    name = "fa-own" if setup == "own-secret" else "fa-missing"
    assert main(["--stack-name", name]) == 1
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
    after = {item["Name"]: _versions(aws, item["ARN"]) for item in aws.list_secrets()["SecretList"]}
    assert after == before


def test_a_function_that_reads_another_secret_is_refused(
    aws: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = _stack("fa-swapped")
    assert arn is not None
    real = rotate_webhook_secret.function_environment
    monkeypatch.setattr(
        rotate_webhook_secret,
        "function_environment",
        lambda stack: {**real(stack), "WEBHOOK_SECRET_PARAMETER": "someone/elses-secret"},
    )
    before = _versions(aws, arn)
    assert main(["--stack-name", "fa-swapped"]) == 1
    assert "does not sign with the stack's generated secret" in capsys.readouterr().err
    assert _versions(aws, arn) == before
