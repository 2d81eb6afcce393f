"""The demo's servers: moto's server (S3 + SQS), the bucket with its S3 -> SQS trigger, the receiver."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import boto3

from tools.demo.model import ALLOW_HTTP, FAKE_CREDENTIAL, REGION, DemoFailed, Say
from tools.receiver import WebhookReceiver
from tools.template_bucket import create_template_bucket

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

QUEUE_WAIT_SECONDS = 20.0
# Unset while the handlers run: the runner passes the shell environment through, and boto3 reads
# endpoints, region and credentials from it.
RUN_ENVIRONMENT_REMOVED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL_SQS")


@dataclass
class DemoServers:
    """What is running while the session lasts: moto's endpoint, the receiver, the bucket and queue."""

    endpoint: str
    receiver: WebhookReceiver
    bucket: str
    queue_url: str = ""

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=FAKE_CREDENTIAL,
            aws_secret_access_key=FAKE_CREDENTIAL,
        )

    def s3(self) -> S3Client:
        client: S3Client = self.client("s3")
        return client

    def sqs(self) -> SQSClient:
        client: SQSClient = self.client("sqs")
        return client


def run_environment(endpoint: str) -> dict[str, str]:
    """The process environment while the handlers run: moto's endpoint, fake credentials, no config
    files; metrics and tracing off; plain http allowed for the loopback receiver."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIAL,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        ALLOW_HTTP: "true",
    }


def clear_handler_caches() -> None:
    """The handlers cache their clients per container; a demo in a process that already ran one (tests)
    must not reuse clients bound to an earlier endpoint. Only modules already imported are touched."""
    archive_clients = sys.modules.get("form_archive_contract.s3")
    if archive_clients is not None:
        archive_clients.get_s3_client.cache_clear()
    notify_app = sys.modules.get("notify_webhook.app")
    if notify_app is not None:
        notify_app.clear_caches()
    presign = sys.modules.get("upload_url.presign")
    if presign is not None:
        presign.get_presigning_client.cache_clear()


def start_moto() -> tuple[ThreadedMotoServer, str]:
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - moto is a dev dependency, imported late

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines in the demo's output
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def create_bucket_with_queue(servers: DemoServers, say: Say) -> None:
    """The bucket as the template makes it, plus the S3 -> SQS notification standing in for the trigger."""
    s3, sqs = servers.s3(), servers.sqs()
    bucket = servers.bucket
    create_template_bucket(s3, bucket)
    queue_name = f"{bucket}-object-created"
    servers.queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=servers.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "NotifyWebhookFunctionObjectCreated",
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                }
            ]
        },
    )
    say(f"  bucket    s3://{bucket} (versioned, SSE-S3, public access blocked)")
    say(f"  trigger   s3:ObjectCreated:* -> SQS queue {queue_name}")


def s3_event_for(servers: DemoServers, key: str, say: Say) -> dict[str, Any]:
    """The ObjectCreated event moto sent to the queue for `key`; s3:TestEvent messages are skipped."""
    sqs = servers.sqs()
    deadline = time.monotonic() + QUEUE_WAIT_SECONDS
    while time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=servers.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            sqs.delete_message(QueueUrl=servers.queue_url, ReceiptHandle=message["ReceiptHandle"])
            try:
                body = json.loads(message.get("Body") or "")
            except ValueError:
                continue
            if not isinstance(body, dict):
                continue
            if body.get("Event") == "s3:TestEvent":
                say("  skipped   s3:TestEvent (sent by S3 when the notification was configured)")
                continue
            records = body.get("Records") or []
            keys = [unquote_plus(str(record["s3"]["object"]["key"])) for record in records]
            if key in keys:
                return body
            say(f"  skipped   an event for another object: {keys}")
    raise DemoFailed(
        f"no s3:ObjectCreated event for {key} arrived on the queue within {QUEUE_WAIT_SECONDS:g} s"
    )
