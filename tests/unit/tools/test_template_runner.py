"""The Docker-free runner: template reading and environment rules (tools.sam_template, tools.local_invoke)."""

from __future__ import annotations

import logging
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tools.environment import patched_environ
from tools.local_invoke import (
    FunctionSpec,
    LocalInvokeError,
    function_environment,
    invoke,
    main,
    read_function,
)
from tools.sam_template import NOTHING, Resolver, Unresolvable, load_template

TEMPLATE = textwrap.dedent(
    """
    Transform: AWS::Serverless-2016-10-31
    Parameters:
      Stage: {Type: String, Default: dev}
      Origins: {Type: CommaDelimitedList, Default: "https://a.example, https://b.example"}
      Size: {Type: Number, Default: 42}
      NoDefault: {Type: String}
      Secret: {Type: String, Default: "", NoEcho: true}
    Conditions:
      IsProd: !Equals [!Ref Stage, prod]
      HasSecret: !Not [!Equals [!Ref Secret, ""]]
    Globals:
      Function:
        Timeout: 7
        Environment:
          Variables:
            SHARED: from-globals
            OVERRIDDEN_BY_FUNCTION: globals
    Resources:
      Bucket:
        Type: AWS::S3::Bucket
      Echo:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: code/
          Handler: echo_pkg.app.handler
          MemorySize: 192
          Environment:
            Variables:
              OVERRIDDEN_BY_FUNCTION: function
              STAGE: !Ref Stage
              BUCKET: !Ref Bucket
              BUCKET_ARN: !GetAtt Bucket.Arn
              NAME: !Sub "${AWS::StackName}-${Stage}-${AWS::Region}"
              ORIGINS: !Join [";", !Ref Origins]
              FIRST_ORIGIN: !Select [0, !Ref Origins]
              SIZE: !Ref Size
              MODE: !If [IsProd, strict, relaxed]
              OPTIONAL: !If [HasSecret, !Ref Secret, !Ref AWS::NoValue]
              MISSING: !Ref NoDefault
              LITERAL: !Sub "${!NotAVariable}"
              FLAG: true
      NotAFunction:
        Type: AWS::SQS::Queue
    """
)

HANDLER = textwrap.dedent(
    """
    import os

    def handler(event, context):
        return {
            "event": event,
            "function_name": context.function_name,
            "memory": context.memory_limit_in_mb,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "env": {name: os.environ.get(name) for name in event.get("read", [])},
        }
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    package = tmp_path / "code" / "echo_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "app.py").write_text(HANDLER, encoding="utf-8")
    return tmp_path / "template.yaml"


@pytest.fixture
def spec(project: Path) -> FunctionSpec:
    return read_function("Echo", template_path=project)


def test_short_tags_become_plain_dicts(project: Path) -> None:
    template = load_template(project)
    variables = template["Resources"]["Echo"]["Properties"]["Environment"]["Variables"]
    assert variables["STAGE"] == {"Ref": "Stage"}
    assert variables["BUCKET_ARN"] == {"Fn::GetAtt": ["Bucket", "Arn"]}
    assert variables["ORIGINS"] == {"Fn::Join": [";", {"Ref": "Origins"}]}
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


def test_template_values_resolved_like_sam_local(spec: FunctionSpec) -> None:
    assert spec.handler == "echo_pkg.app.handler"
    assert spec.timeout_seconds == 7
    assert spec.memory_mb == 192
    assert spec.environment == {
        "SHARED": "from-globals",
        "OVERRIDDEN_BY_FUNCTION": "function",
        "STAGE": "dev",
        "BUCKET": "Bucket",  # a resource's Ref is its logical id locally, as in SAM CLI
        "BUCKET_ARN": "",  # GetAtt cannot be known locally: blank, as in SAM CLI
        "NAME": "local-dev-us-east-1",
        "ORIGINS": "https://a.example;https://b.example",
        "FIRST_ORIGIN": "https://a.example",
        "SIZE": "42",
        "MODE": "relaxed",
        "MISSING": "",  # a parameter without a default: blank
        "LITERAL": "${NotAVariable}",
        "FLAG": "true",
    }
    assert "OPTIONAL" not in spec.environment, "!Ref AWS::NoValue removes the variable"


def test_parameter_overrides_feed_conditions(project: Path) -> None:
    spec = read_function("Echo", template_path=project, parameter_overrides={"Stage": "prod", "Secret": "s"})
    assert spec.environment["MODE"] == "strict"
    assert spec.environment["OPTIONAL"] == "s"
    assert spec.environment["NAME"] == "local-prod-us-east-1"


def test_resolver_no_value_and_unknown_refs(project: Path) -> None:
    resolver = Resolver(load_template(project))
    assert resolver.resolve({"Ref": "AWS::NoValue"}) is NOTHING
    assert resolver.resolve({"a": {"Ref": "AWS::NoValue"}, "b": 1}) == {"b": 1}
    assert resolver.resolve([1, {"Ref": "AWS::NoValue"}, 2]) == [1, 2]
    with pytest.raises(Unresolvable):
        resolver.resolve({"Ref": "Nowhere"})
    with pytest.raises(Unresolvable):
        resolver.resolve({"Fn::ImportValue": "x"})


def test_env_file_rules(spec: FunctionSpec, caplog: pytest.LogCaptureFixture) -> None:
    shell = {"STAGE": "from-shell", "SHARED": "from-shell", "UNDECLARED": "x"}
    overrides = {
        "Parameters": {"SHARED": "from-parameters", "MODE": "from-parameters"},
        "Echo": {"MODE": "from-function", "NOT_DECLARED": "ignored"},
        "Other": {"STAGE": "never"},
    }
    with caplog.at_level(logging.WARNING, logger="tools.local_invoke"):
        env = function_environment(spec, overrides, shell=shell)
    assert env["STAGE"] == "from-shell"  # shell beats the template
    assert env["SHARED"] == "from-parameters"  # the file beats the shell
    assert env["MODE"] == "from-function"  # the function's object beats "Parameters"
    assert "NOT_DECLARED" not in env
    assert "UNDECLARED" not in env
    assert "NOT_DECLARED" in caplog.text


def test_invoke_runs_the_handler_with_env_and_context(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STAGE", raising=False)
    monkeypatch.setenv("SHARED", "before")
    result: dict[str, Any] = invoke(
        "Echo",
        {"read": ["STAGE", "SHARED", "MODE", "AWS_SAM_LOCAL", "AWS_LAMBDA_FUNCTION_NAME"]},
        {"Echo": {"MODE": "from-file"}},
        template_path=project,
    )
    assert result["function_name"] == "Echo"
    assert result["memory"] == 192
    assert 0 < result["remaining_ms"] <= 7000
    assert result["env"] == {
        "STAGE": "dev",
        "SHARED": "before",
        "MODE": "from-file",
        "AWS_SAM_LOCAL": "true",
        "AWS_LAMBDA_FUNCTION_NAME": "Echo",
    }
    assert "STAGE" not in os.environ, "the environment is restored after the call"
    assert os.environ["SHARED"] == "before"


def test_patched_environ_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEPT", "old")
    monkeypatch.setenv("REMOVED", "there")
    monkeypatch.delenv("ADDED", raising=False)
    with patched_environ(set={"KEPT": "new", "ADDED": "x"}, unset=["REMOVED", "NEVER_SET"]):
        assert os.environ["KEPT"] == "new"
        assert os.environ["ADDED"] == "x"
        assert "REMOVED" not in os.environ
        assert "NEVER_SET" not in os.environ
    assert os.environ["KEPT"] == "old"
    assert os.environ["REMOVED"] == "there"
    assert "ADDED" not in os.environ
    assert "NEVER_SET" not in os.environ


def test_unknown_or_non_function_ids_are_refused(project: Path) -> None:
    with pytest.raises(LocalInvokeError, match="functions: \\['Echo'\\]"):
        read_function("NotAFunction", template_path=project)
    with pytest.raises(LocalInvokeError):
        read_function("Nope", template_path=project)


def test_cli_prints_the_result_as_json(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")  # the runner insists on a local S3
    event = tmp_path / "event.json"
    event.write_text('{"read": ["STAGE"]}', encoding="utf-8")
    env_file = tmp_path / "env.json"
    env_file.write_text('{"Echo": {"STAGE": "cli"}}', encoding="utf-8")
    code = main(["Echo", "--event", str(event), "--env-vars", str(env_file), "--template", str(project)])
    out = capsys.readouterr().out
    assert code == 0
    assert '"STAGE": "cli"' in out


def test_cli_reports_bad_input(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event = tmp_path / "event.json"
    event.write_text("not json", encoding="utf-8")
    assert main(["Echo", "--event", str(event), "--template", str(project)]) == 2
    assert "local_invoke:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("MemorySize: 192", "MemorySize: !GetAtt Bucket.Arn", "MemorySize cannot be resolved"),
        ("MemorySize: 192", "MemorySize: lots", "MemorySize must be a number"),
        ("Handler: echo_pkg.app.handler", "Handler: !Ref Bucket.Missing", "Handler cannot be resolved"),
    ],
)
def test_cli_reports_properties_that_only_a_deployed_stack_knows(
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    replace: str,
    by: str,
    message: str,
) -> None:
    project.write_text(project.read_text(encoding="utf-8").replace(replace, by), encoding="utf-8")
    event = tmp_path / "event.json"
    event.write_text("{}", encoding="utf-8")
    assert main(["Echo", "--event", str(event), "--template", str(project)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("local_invoke: ")
    assert message in err
    assert "Traceback" not in err
