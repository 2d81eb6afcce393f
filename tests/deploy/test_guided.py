"""A first-time user's `sam deploy --guided` against LocalStack: only the webhook URL is typed, every other
prompt gets Enter, and the stack must be created. docs/deploy.md shows this dialogue."""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

import boto3
import pytest

from tests.deploy.guided import drive
from tests.deploy.stacks import WEBHOOK_URL
from tools.project import PROJECT_ROOT
from tools.sam_template import load_template

# A deploy takes about a minute; the first test also waits for all parameter sets deployed in parallel.
pytestmark = pytest.mark.timeout(900)

# SAM CLI's own questions around the template's parameters: stack name and region before them; confirm
# changes, IAM role creation, rollback, save, config file and config environment after them.
SAM_QUESTIONS_BEFORE = ("Stack Name", "AWS Region")
SAM_QUESTIONS_AFTER = 6


def template_parameters() -> list[str]:
    """Every parameter of template.yaml is asked once, so the count follows the template as it grows."""
    return list(load_template(PROJECT_ROOT / "template.yaml")["Parameters"])


# Before issue 20 the same answers never reached a stack: the NoEcho WebhookSecretToken was asked again
# after every Enter (Stack Name, AWS Region, WebhookUrl, then WebhookSecretToken forever).
def expected_prompts() -> int:
    return len(SAM_QUESTIONS_BEFORE) + len(template_parameters()) + SAM_QUESTIONS_AFTER


def test_guided_deploy_with_one_answer_creates_the_stack(tmp_path: Path, aws: dict[str, str]) -> None:
    # A copy of what a user's checkout holds, so that "Save arguments" writes there, not into the project.
    shutil.copy(PROJECT_ROOT / "samconfig.toml", tmp_path / "samconfig.toml")
    shutil.copy(PROJECT_ROOT / "template.yaml", tmp_path / "template.yaml")
    (tmp_path / ".aws-sam").symlink_to(PROJECT_ROOT / ".aws-sam")
    env = {**os.environ, **aws, "SAM_CLI_TELEMETRY": "0"}
    run = drive(Path(os.environ["FORM_ARCHIVE_SAM"]), tmp_path, env, WEBHOOK_URL)
    (tmp_path / "transcript.txt").write_text(run.transcript, encoding="utf-8")
    assert run.stopped == "stack created", f"{run.stopped}; prompts: {run.prompts}\n{run.transcript[-3000:]}"
    assert run.stack_name == "form-archive"
    # SAM CLI shows "[]" for a parameter without a default; it is asked once and answered once.
    assert [prompt for prompt in run.prompts if prompt.startswith("Parameter WebhookUrl")] == [
        "Parameter WebhookUrl []"
    ]
    assert len(run.prompts) == expected_prompts(), run.prompts
    assert [prompt.split(" [")[0] for prompt in run.prompts[: len(SAM_QUESTIONS_BEFORE)]] == list(
        SAM_QUESTIONS_BEFORE
    )
    asked = [
        prompt.split(" [")[0].removeprefix("Parameter ")
        for prompt in run.prompts
        if prompt.startswith("Parameter ")
    ]
    assert sorted(asked) == sorted(template_parameters()), "each parameter asked exactly once"
    (stack,) = boto3.client("cloudformation").describe_stacks(StackName="form-archive")["Stacks"]
    assert stack["StackStatus"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    saved = tomllib.loads((tmp_path / "samconfig.toml").read_text(encoding="utf-8"))
    overrides = saved["default"]["deploy"]["parameters"]["parameter_overrides"]
    assert f'WebhookUrl="{WEBHOOK_URL}"' in overrides
    assert "whsec_" not in (tmp_path / "samconfig.toml").read_text(encoding="utf-8"), "no secret saved"
