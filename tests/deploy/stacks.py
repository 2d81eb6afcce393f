"""Deploying with SAM CLI itself against LocalStack, and reading a stack's resources back.

`sam deploy` / `sam delete` run as a user runs them, from the project root (samconfig.toml applies) on
the `sam build` output, with boto3's standard `AWS_ENDPOINT_URL` pointing every client at LocalStack (no
samlocal wrapper needed). The parameter sets are data: add one to `PARAMETER_SETS` to deploy it too.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from tools.project import PROJECT_ROOT

# `sam deploy` picks the `sam build` output (.aws-sam/build/template.yaml) and samconfig.toml by itself.
WEBHOOK_URL = "https://receiver.example/webhook"
SSM_SECRET = "/form-archive-test/webhook-secret"
SM_BODY_TOKEN = "form-archive-test/body-token"
REDEPLOY_STACK = "fa-redeploy"
COGNITO_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_testing"
# The bucket a user already has (docs/existing-bucket.md); the deploy session creates it before the stack.
EXISTING_BUCKET = "fa-existing-bucket-testing"
OTHERS_QUEUE = "fa-someone-elses-queue"


@dataclass(frozen=True)
class ParameterSet:
    """One deploy: its overrides and what the stack must then contain."""

    name: str
    overrides: dict[str, str]
    route: str = "direct"
    browser: bool = False
    generated_secret: bool = True
    cors: bool = False
    existing_bucket: bool = False

    @property
    def stack_name(self) -> str:
        return f"fa-{self.name}"


# Every value of a parameter that changes which resources exist, at least once: NotificationRoute
# (direct, queue, eventbridge; ExistingBucketName, which needs eventbridge), the browser API
# (BrowserJwtIssuer), the generated secret or an existing one (SSM, Secrets Manager), the body token.
PARAMETER_SETS = (
    ParameterSet("direct", {"WebhookUrl": WEBHOOK_URL}),
    ParameterSet("queue", {"WebhookUrl": WEBHOOK_URL, "NotificationRoute": "queue"}, route="queue"),
    ParameterSet(
        "direct-browser-ssm",
        {
            "WebhookUrl": WEBHOOK_URL,
            "WebhookSecretName": SSM_SECRET,
            "BrowserJwtIssuer": COGNITO_ISSUER,
            "BrowserJwtAudience": "testing-client",
            "AllowedOrigins": "https://forms.example",
        },
        browser=True,
        generated_secret=False,
        cors=True,
    ),
    ParameterSet(
        "queue-browser-body-token",
        {
            "WebhookUrl": WEBHOOK_URL,
            "NotificationRoute": "queue",
            "WebhookBodyTokenName": SM_BODY_TOKEN,
            "BrowserJwtIssuer": COGNITO_ISSUER,
            "BrowserJwtAudience": "testing-client",
        },
        route="queue",
        browser=True,
    ),
    ParameterSet(
        "eventbridge", {"WebhookUrl": WEBHOOK_URL, "NotificationRoute": "eventbridge"}, route="eventbridge"
    ),
    ParameterSet(
        "existing-bucket",
        {
            "WebhookUrl": WEBHOOK_URL,
            "NotificationRoute": "eventbridge",
            "ExistingBucketName": EXISTING_BUCKET,
            # With the browser API: all three functions that write to the bucket get its name.
            "BrowserJwtIssuer": COGNITO_ISSUER,
            "BrowserJwtAudience": "testing-client",
        },
        route="eventbridge",
        browser=True,
        existing_bucket=True,
    ),
)


def make_queue(name: str) -> tuple[str, str]:
    """A queue of the test's own (not the stack's): its URL and ARN."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


@dataclass
class Deployer:
    sam: Path
    environment: dict[str, str]
    workdir: Path
    log: list[str] = field(default_factory=list)

    def run(self, *arguments: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **self.environment, "SAM_CLI_TELEMETRY": "0"}
        completed = subprocess.run(
            [str(self.sam), *arguments],
            capture_output=True,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
            timeout=timeout,
            check=False,
        )
        self.log.append(
            f"$ sam {' '.join(arguments)}\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
        )
        return completed

    def deploy(self, stack_name: str, overrides: dict[str, str]) -> None:
        arguments = [
            "deploy",
            "--stack-name",
            stack_name,
            "--no-confirm-changeset",
            "--no-progressbar",
        ]
        if overrides:
            arguments += ["--parameter-overrides", *(f"{name}={value}" for name, value in overrides.items())]
        completed = self.run(*arguments)
        assert completed.returncode == 0, f"sam deploy {stack_name} failed:\n{self.log[-1]}"

    def delete(self, stack_name: str) -> None:
        completed = self.run("delete", "--stack-name", stack_name, "--no-prompts", "--region", "us-east-1")
        assert completed.returncode == 0, f"sam delete {stack_name} failed:\n{self.log[-1]}"


@dataclass(frozen=True)
class Stack:
    """A deployed stack, read back: physical ids by logical id, outputs, status."""

    name: str
    status: str
    resources: dict[str, str]
    outputs: dict[str, str]

    @classmethod
    def read(cls, name: str) -> Stack:
        cloudformation = boto3.client("cloudformation")
        (description,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
        resources = {
            item["LogicalResourceId"]: item["PhysicalResourceId"]
            for item in cloudformation.describe_stack_resources(StackName=name)["StackResources"]
        }
        outputs = {item["OutputKey"]: item["OutputValue"] for item in description.get("Outputs", [])}
        return cls(name, description["StackStatus"], resources, outputs)

    def function_arn(self, logical_id: str) -> str:
        configuration = boto3.client("lambda").get_function_configuration(
            FunctionName=self.resources[logical_id]
        )
        return str(configuration["FunctionArn"])

    def function_environment(self, logical_id: str) -> dict[str, str]:
        configuration = boto3.client("lambda").get_function_configuration(
            FunctionName=self.resources[logical_id]
        )
        return dict(configuration.get("Environment", {}).get("Variables", {}))

    def queue_arn(self, logical_id: str) -> str:
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.resources[logical_id], AttributeNames=["QueueArn"]
        )["Attributes"]
        return attributes["QueueArn"]

    def queue_attributes(self, logical_id: str) -> dict[str, Any]:
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.resources[logical_id], AttributeNames=["All"]
        )["Attributes"]
        return {str(name): value for name, value in attributes.items()}
