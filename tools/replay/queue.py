"""The failure queue through SQS: receive, delete one message, make messages visible again, and scan
each message once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from tools.replay.errors import ReplayError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef, MessageTypeDef

SQS_BATCH = 10


@dataclass
class Parked:
    """One received message, with the receipt handle of this receive."""

    message_id: str
    receipt_handle: str
    body: str
    sent_at: float | None  # epoch seconds

    def age_seconds(self, now: float) -> int | None:
        return None if self.sent_at is None else max(0, int(now - self.sent_at))


def _parked(message: MessageTypeDef) -> Parked:
    sent = (message.get("Attributes") or {}).get("SentTimestamp")
    return Parked(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        body=message.get("Body", ""),
        sent_at=int(sent) / 1000 if sent and sent.isdigit() else None,
    )


def sqs_problem(error: Exception) -> str:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "ClientError")
        return f"{code}: {error.response.get('Error', {}).get('Message', '')}".rstrip(": ")
    return str(error) or type(error).__name__


class FailureQueue:
    """The failure queue through SQS: receive, delete one message, make messages visible again."""

    def __init__(self, client: SQSClient, url: str) -> None:
        self.client = client
        self.url = url

    def approximate_count(self) -> int:
        """Visible messages; also proves the queue can be reached (`ReplayError` otherwise)."""
        try:
            attributes = self.client.get_queue_attributes(
                QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
        except (ClientError, BotoCoreError) as error:
            raise ReplayError(f"queue {self.url} cannot be reached: {sqs_problem(error)}") from None
        return int(attributes.get("ApproximateNumberOfMessages", "0"))

    def receive(self, count: int, visibility_seconds: int, wait_seconds: int) -> list[Parked]:
        try:
            answer = self.client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=max(1, min(SQS_BATCH, count)),
                VisibilityTimeout=visibility_seconds,
                WaitTimeSeconds=wait_seconds,
                MessageSystemAttributeNames=["SentTimestamp"],
            )
        except (ClientError, BotoCoreError) as error:
            raise ReplayError(f"queue {self.url} cannot be read: {sqs_problem(error)}") from None
        return [_parked(message) for message in answer.get("Messages", [])]

    def delete(self, message: Parked) -> str | None:
        """None when deleted, else why not (the message then reappears after its visibility timeout)."""
        try:
            self.client.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt_handle)
        except (ClientError, BotoCoreError) as error:
            return sqs_problem(error)
        return None

    def release(self, messages: Sequence[Parked]) -> list[str]:
        """Make messages visible again now; returns the ids it could not release (they reappear later)."""
        failed: list[str] = []
        for start in range(0, len(messages), SQS_BATCH):
            batch = messages[start : start + SQS_BATCH]
            entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
                {"Id": str(index), "ReceiptHandle": item.receipt_handle, "VisibilityTimeout": 0}
                for index, item in enumerate(batch)
            ]
            try:
                answer = self.client.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)
            except (ClientError, BotoCoreError):
                failed.extend(item.message_id for item in batch)
                continue
            failed.extend(batch[int(entry["Id"])].message_id for entry in answer.get("Failed", []))
        return failed


def scan(
    queue: FailureQueue, limit: int | None, visibility_seconds: int, wait_seconds: int, batch: int
) -> Iterator[Parked]:
    """Each message once, up to `limit`: receive, yield the new ones, until a receive brings nothing new.

    A message seen twice in a run (its visibility timeout ran out while the run went on) is not handled
    again; its newest receipt handle is kept so that it can still be released."""
    seen: dict[str, Parked] = {}
    while limit is None or len(seen) < limit:
        wanted = batch if limit is None else min(batch, limit - len(seen))
        fresh = []
        for message in queue.receive(wanted, visibility_seconds, wait_seconds):
            if message.message_id in seen:
                seen[message.message_id].receipt_handle = message.receipt_handle
            else:
                seen[message.message_id] = message
                fresh.append(message)
        if not fresh:
            return
        yield from fresh
