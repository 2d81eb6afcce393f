"""The work queue's two moves: send a continuation (due after SQS's own delay), and hide one that came
back before it was due (SQS's visibility timeout). Nothing sleeps: SQS keeps the time.

SQS delays a new message by at most 900 s and hides a received one for at most 12 hours. A longer wait is
therefore a message sent with the largest delay that is hidden again, for the rest, when it arrives.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MAX_DELAY_SECONDS = 900
MAX_VISIBILITY_SECONDS = 43_200
# A message that arrives this close to its due time is handled now rather than hidden for a moment.
DUE_TOLERANCE_SECONDS = 1.0
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=5, read_timeout=20)


@functools.cache
def get_sqs_client() -> SQSClient:
    """One client per container (`AWS_ENDPOINT_URL_SQS` points it at a local SQS)."""
    return boto3.client("sqs", config=_CONFIG)


def delay_seconds(wait_seconds: float) -> int:
    """The `DelaySeconds` for a message due in `wait_seconds`: rounded up, at most SQS's 900."""
    return max(0, min(MAX_DELAY_SECONDS, math.ceil(wait_seconds)))


def hidden_seconds(due: float, now: float) -> int:
    """How long to hide a message that arrived at `now` and is due at `due`; 0 when it is due now."""
    wait = due - now
    if wait <= DUE_TOLERANCE_SECONDS:
        return 0
    return min(MAX_VISIBILITY_SECONDS, math.ceil(wait))


def send_continuation(queue_url: str, body: str, wait_seconds: float) -> str:
    """Send the sealed continuation; its `MessageId`."""
    answer = get_sqs_client().send_message(
        QueueUrl=queue_url, MessageBody=body, DelaySeconds=delay_seconds(wait_seconds)
    )
    return answer["MessageId"]


def hide_until_due(queue_url: str, receipt_handle: str, seconds: int) -> None:
    """Keep a message that came back early out of sight for `seconds` more."""
    get_sqs_client().change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
    )
