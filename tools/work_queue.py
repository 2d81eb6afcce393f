"""The work queue driven in-process, as Lambda's SQS event source mapping drives it in the stack.

`drain` receives what is visible on a (moto) SQS queue, hands it to the notify handler as an SQS batch
event, and deletes each message the handler did not report in `batchItemFailures`, exactly what the
mapping with `ReportBatchItemFailures` does. A message that is not yet visible (SQS `DelaySeconds`, or a
continuation hidden until it is due) is left for a later call: nothing here sleeps, so a local run uses a
compressed schedule (`WEBHOOK_RETRY_SCHEDULE=0,0`, `WEBHOOK_INLINE_WAIT_SECONDS=0`) to see every attempt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

BATCH_SIZE = 10
Handler = Callable[[dict[str, Any]], Any]


def batch_event(messages: list[MessageTypeDef], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda builds from received messages (the shape of AWS's published SQS example)."""
    records = []
    for message in messages:
        body = message.get("Body", "")
        records.append(
            {
                "messageId": message.get("MessageId", ""),
                "receiptHandle": message.get("ReceiptHandle", ""),
                "body": body,
                "attributes": {str(name): value for name, value in (message.get("Attributes") or {}).items()},
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def queue_arn(client: SQSClient, queue_url: str) -> str:
    attributes = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def drain(client: SQSClient, queue_url: str, handler: Handler, *, max_batches: int = 100) -> int:
    """Hand every visible message to `handler` in batches until none is visible; the batches handled.
    A handler that raises leaves its whole batch on the queue (as the mapping does) and stops the drain."""
    arn = queue_arn(client, queue_url)
    region = client.meta.region_name
    batches = 0
    while batches < max_batches:
        received = client.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=BATCH_SIZE,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            break
        batches += 1
        answer = handler(batch_event(received, arn, region))
        failed = {
            item.get("itemIdentifier")
            for item in (answer or {}).get("batchItemFailures", [])
            if isinstance(item, dict)
        }
        done = [message for message in received if message.get("MessageId") not in failed]
        if done:
            client.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message.get("ReceiptHandle", "")}
                    for index, message in enumerate(done)
                ],
            )
    return batches
