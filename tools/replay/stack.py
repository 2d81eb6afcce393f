"""Where the deployed queue and function are: the stack's outputs, and a queue name made a URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from tools.replay.errors import ReplayError
from tools.replay.queue import sqs_problem

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_sqs import SQSClient

QUEUE_OUTPUT = "NotifyFailureQueueUrl"
FUNCTION_OUTPUT = "NotifyWebhookFunctionArn"


def stack_outputs(client: CloudFormationClient, stack_name: str) -> dict[str, str]:
    try:
        stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    except (ClientError, BotoCoreError) as error:
        raise ReplayError(f"stack {stack_name} cannot be read: {sqs_problem(error)}") from None
    if not stacks:
        raise ReplayError(f"stack {stack_name} not found")
    return {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs", [])}


def resolve_deployed(
    cloudformation: CloudFormationClient, stack_name: str, queue: str | None, function: str | None
) -> tuple[str, str]:
    """Queue URL and function from the stack's outputs, unless both were given."""
    if queue and function:
        return queue, function
    outputs = stack_outputs(cloudformation, stack_name)
    missing = [name for name in (QUEUE_OUTPUT, FUNCTION_OUTPUT) if not outputs.get(name)]
    if missing:
        raise ReplayError(f"stack {stack_name} has no output {' or '.join(missing)}: is it form-archive?")
    return queue or outputs[QUEUE_OUTPUT], function or outputs[FUNCTION_OUTPUT]


def queue_url(client: SQSClient, name_or_url: str) -> str:
    if "://" in name_or_url:
        return name_or_url
    try:
        return client.get_queue_url(QueueName=name_or_url)["QueueUrl"]
    except (ClientError, BotoCoreError) as error:
        raise ReplayError(f"queue {name_or_url} cannot be found: {sqs_problem(error)}") from None
