"""New objects announced as the template's trigger does: S3 -> SQS (moto) -> the notify function, in a
background thread; each outcome is kept for `GET /_local/deliveries`. The same thread drains the notify
function's work queue (later delivery attempts, hash links) as the stack's event source mapping does."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote_plus

from tools.local_api.embedded_s3 import client
from tools.project import function_ids
from tools.work_queue import drain

NOTIFY_FUNCTION = function_ids().notify
# A fake key for local runs only; the stack generates its own (Secrets Manager).
LOCAL_CHECKPOINT_KEY = "testing-local-checkpoint-key"
# A multipart upload's ETag: the MD5 of the parts' MD5s, a dash, the number of parts.
_MULTIPART_ETAG = re.compile(r"^[0-9a-f]{32}-[0-9]+$")


def moto_duplicate(record: Any) -> bool:
    """Whether `record` is the extra `ObjectCreated:Put` moto sends next to `CompleteMultipartUpload` for
    one multipart upload (S3 sends only the latter). A single PUT never has a multipart ETag."""
    if not isinstance(record, dict) or record.get("eventName") != "ObjectCreated:Put":
        return False
    s3 = record.get("s3")
    obj = s3.get("object") if isinstance(s3, dict) else None
    etag = obj.get("eTag") if isinstance(obj, dict) else None
    return isinstance(etag, str) and _MULTIPART_ETAG.match(etag.strip('"')) is not None


@dataclass
class Delivery:
    key: str
    ok: bool
    detail: str
    at: float = field(default_factory=time.time)


class _Reporting(Protocol):
    @property
    def say(self) -> Callable[[str], None]: ...


class AnnouncerHost(Protocol):
    """What the announcer needs of the local API (`LocalApi`): run a function, keep and report outcomes."""

    @property
    def config(self) -> _Reporting: ...

    @property
    def deliveries(self) -> list[Delivery]: ...

    def run_function(self, logical_id: str, event: dict[str, Any]) -> Any: ...


class Announcer:
    """S3 -> SQS (moto) -> the notify function, as the template's trigger does, in a background thread."""

    def __init__(self, api: AnnouncerHost, endpoint: str, bucket: str) -> None:
        self.api = api
        self.endpoint = endpoint
        self.bucket = bucket
        self.queue_url = ""
        self.work_queue_url = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        s3, sqs = client("s3", self.endpoint), client("sqs", self.endpoint)
        self.queue_url = sqs.create_queue(QueueName=f"{self.bucket}-object-created")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        s3.put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        self._thread = threading.Thread(
            target=self._poll, args=(sqs,), name="local-api-announcer", daemon=True
        )
        self._thread.start()

    def work_variables(self) -> dict[str, str]:
        """The notify function's work queue and failure queue on the embedded SQS, and a local key."""
        sqs = client("sqs", self.endpoint)
        self.work_queue_url = sqs.create_queue(QueueName=f"{self.bucket}-notify-work")["QueueUrl"]
        failures = sqs.create_queue(QueueName=f"{self.bucket}-notify-failures")["QueueUrl"]
        return {
            "AWS_ENDPOINT_URL_SQS": self.endpoint,
            "WORK_QUEUE_URL": self.work_queue_url,
            "FAILURE_QUEUE_URL": failures,
            "CHECKPOINT_KEY": LOCAL_CHECKPOINT_KEY,
            "CHECKPOINT_KEY_PARAMETER": "",
        }

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _poll(self, sqs: Any) -> None:
        while not self._stop.is_set():
            try:
                answer = sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                )
            except Exception as error:  # the embedded S3 stopped under us
                if not self._stop.is_set():
                    self.api.config.say(f"  announcer: cannot read the queue ({type(error).__name__})")
                    self._stop.wait(1)
                continue
            for message in answer.get("Messages", []):
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                self.announce(message.get("Body") or "")
            if self.work_queue_url:
                self._drain_work(sqs)

    def _drain_work(self, sqs: Any) -> None:
        """Continuations that are due, each batch one notify invocation; failures stay on the queue."""

        def run(event: dict[str, Any]) -> Any:
            result = self.api.run_function(NOTIFY_FUNCTION, event)
            self.api.config.say(
                f"  work queue: {len(event['Records'])} continuation(s) -> {json.dumps(result)}"
            )
            return result

        try:
            drain(sqs, self.work_queue_url, run)
        except Exception as error:  # one bad batch must not stop the announcer; SQS brings it back
            if not self._stop.is_set():
                self.api.config.say(f"  work queue: a batch failed ({type(error).__name__})")

    def announce(self, body: str) -> None:
        try:
            event = json.loads(body)
        except ValueError:
            return
        if not isinstance(event, dict) or event.get("Event") == "s3:TestEvent":
            return
        records = [record for record in event.get("Records") or [] if not moto_duplicate(record)]
        if not records:
            return
        event = {**event, "Records": records}
        keys = [unquote_plus(str(record["s3"]["object"]["key"])) for record in event.get("Records") or []]
        try:
            result = self.api.run_function(NOTIFY_FUNCTION, event)
        except Exception as error:
            for key in keys:
                self.api.deliveries.append(Delivery(key, ok=False, detail=f"{type(error).__name__}: {error}"))
                self.api.config.say(f"  announced {key}: FAILED ({type(error).__name__})")
            return
        for key in keys:
            self.api.deliveries.append(Delivery(key, ok=True, detail=json.dumps(result)))
            self.api.config.say(f"  announced {key}: delivered ({json.dumps(result)})")
