"""Ceph RGW's own bucket notification, end to end (`make test-rgw`): a submission archived through the
local runner makes the gateway push its `ObjectCreated` event (an SNS-API topic with a `push-endpoint`) to
a small endpoint on 127.0.0.1, which runs the notify function through the local runner; the delivery ends
at a loopback webhook receiver and its signature is checked. The event is the gateway's, not ours."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import requests

from notify_webhook.signing import verify_signature
from tests.api_events import api_event
from tests.s3_stores import ARCHIVE_BUCKET, ON_RGW, REGION, S3Server
from tests.webhook_receiver import WebhookReceiver
from tools.local_invoke import invoke, load_env_file
from tools.project import PROJECT_ROOT, function_ids

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.skipif(
    not ON_RGW, reason="needs Ceph RGW's HTTP push notifications (make test-rgw); moto has none"
)

SAMPLE = (PROJECT_ROOT / "tests" / "fixtures" / "sample_submission.json").read_bytes()
TOPIC = "form-archive-object-created"
EVENT_TIMEOUT_SECONDS = 60
# The local runner patches os.environ for the duration of a call: one function runs at a time.
_ONE_INVOCATION_AT_A_TIME = threading.Lock()


def run_function(logical_id: str, event: Any, env: dict[str, dict[str, Any]]) -> Any:
    with _ONE_INVOCATION_AT_A_TIME:
        return invoke(logical_id, event, env)


class _PushHandler(BaseHTTPRequestHandler):
    server: _PushServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        # Acknowledge at once, as Lambda's asynchronous invocation does; the function runs afterwards.
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.server.endpoint.pushed.put(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads what was received."""


class _PushServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, endpoint: NotifyEndpoint) -> None:
        super().__init__(("127.0.0.1", 0), _PushHandler)
        self.endpoint = endpoint


class NotifyEndpoint:
    """Takes the gateway's pushes on 127.0.0.1 and runs the notify function on each through the local
    runner, in a worker thread; `results` holds (event, function result or the exception it raised)."""

    def __init__(self, env: dict[str, dict[str, Any]]) -> None:
        self.env = env
        self.pushed: queue.Queue[bytes | None] = queue.Queue()
        self.results: queue.Queue[tuple[dict[str, Any], Any]] = queue.Queue()
        self._server = _PushServer(self)
        self._threads = [
            threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True),
            threading.Thread(target=self._work, daemon=True),
        ]

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/rgw-events"

    def _work(self) -> None:
        while (body := self.pushed.get()) is not None:
            event = json.loads(body)
            try:
                outcome: Any = run_function(function_ids().notify, event, self.env)
            except Exception as error:  # handed to the test, which shows it
                outcome = error
            self.results.put((event, outcome))

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.pushed.put(None)
        for thread in self._threads:
            thread.join(timeout=30)


# RGW sends keys as they are (`eventSource: ceph:s3`), not URL-encoded as AWS does: a prefix with a space,
# a plus and a percent sign shows that the notify function does not decode them a second time.
PREFIXES = ["submissions", "web forms/a+b%41"]


@pytest.fixture(params=PREFIXES, ids=["plain", "space-plus-percent"])
def local_env(webhook_receiver: WebhookReceiver, request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """events/env.json, with the archive bucket of the tests, an archive prefix and the loopback receiver."""
    env = copy.deepcopy(load_env_file(PROJECT_ROOT / "events" / "env.json"))
    env[function_ids().archive]["ARCHIVE_BUCKET"] = ARCHIVE_BUCKET
    env[function_ids().archive]["ARCHIVE_PREFIX"] = request.param
    env[function_ids().notify]["WEBHOOK_URL"] = webhook_receiver.url
    return env


@pytest.fixture
def notify_endpoint(local_env: dict[str, dict[str, Any]]) -> Iterator[NotifyEndpoint]:
    endpoint = NotifyEndpoint(local_env)
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture
def bucket_notifies(
    server_s3: S3Client, s3_server: S3Server, notify_endpoint: NotifyEndpoint
) -> Iterator[str]:
    """An SNS-API topic on the gateway pushing to the endpoint, and the archive bucket's notification
    for every ObjectCreated event on it; yields the topic's ARN."""
    sns = boto3.client(
        "sns",
        region_name=REGION,
        endpoint_url=s3_server.endpoint,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
    )
    topic_arn = sns.create_topic(Name=TOPIC, Attributes={"push-endpoint": notify_endpoint.url})["TopicArn"]
    server_s3.put_bucket_notification_configuration(
        Bucket=ARCHIVE_BUCKET,
        NotificationConfiguration={
            "TopicConfigurations": [
                {"Id": "archived", "TopicArn": topic_arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    try:
        yield topic_arn
    finally:  # the bucket's notification goes with the bucket, when the next test empties the store
        sns.delete_topic(TopicArn=topic_arn)


def test_the_gateways_own_event_for_an_archived_submission_ends_in_a_verified_webhook(
    bucket_notifies: str,
    notify_endpoint: NotifyEndpoint,
    local_env: dict[str, dict[str, Any]],
    webhook_receiver: WebhookReceiver,
) -> None:
    archived = run_function(
        function_ids().archive,
        json.loads((PROJECT_ROOT / "events" / "submission.json").read_text(encoding="utf-8")),
        local_env,
    )
    assert archived["statusCode"] == 201, archived
    key = json.loads(archived["body"])["key"]

    event, outcome = notify_endpoint.results.get(timeout=EVENT_TIMEOUT_SECONDS)

    [record] = event["Records"]
    assert record["eventSource"] == "ceph:s3"  # written by the gateway, not by a test
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == ARCHIVE_BUCKET
    assert record["s3"]["object"]["key"] == key
    assert not isinstance(outcome, Exception), repr(outcome)
    assert outcome["delivered"] == 1, outcome
    [request] = webhook_receiver.requests
    payload = request.json()
    prefix = local_env[function_ids().archive]["ARCHIVE_PREFIX"]
    assert key.startswith(f"{prefix}/")
    assert payload["datapack_identifier"] == prefix.split("/")[0]
    assert payload["path"] == "/" + key.split("/", 1)[1].rsplit("/", 1)[0]
    assert payload["display"] == key.rsplit("/", 1)[1]
    assert payload["sha256"] == hashlib.sha256(SAMPLE).hexdigest()
    assert payload["length"] == len(SAMPLE)
    secret = local_env[function_ids().notify]["WEBHOOK_SECRET_TOKEN"]
    assert verify_signature(
        secret,
        request.headers["webhook-id"],
        request.headers["webhook-timestamp"],
        request.body,
        request.headers["webhook-signature"],
    )
    assert notify_endpoint.results.empty()


def test_the_gateways_event_for_a_completed_multipart_upload_is_announced_with_the_files_sha256(
    bucket_notifies: str,
    notify_endpoint: NotifyEndpoint,
    local_env: dict[str, dict[str, Any]],
    webhook_receiver: WebhookReceiver,
) -> None:
    """POST /uploads above a lowered threshold, the parts PUT with the answered (signed) URLs and headers,
    complete: the gateway's CompleteMultipartUpload event ends in an announcement with the whole file's
    SHA-256 (the notify function hashes it; a multipart object carries no full-object checksum)."""
    part = 5 * 1024 * 1024
    content = os.urandom(2 * part + 4321)
    env = copy.deepcopy(local_env)
    env[function_ids().upload].update(
        {
            "ARCHIVE_BUCKET": ARCHIVE_BUCKET,
            "MULTIPART_THRESHOLD_BYTES": str(part),
            "MULTIPART_PART_BYTES": str(part),
        }
    )
    request = {
        "datapack_identifier": "DP-rgw",
        "path": "/multipart",
        "filename": "three parts.bin",
        "content_type": "application/octet-stream",
        "size": len(content),
        "uploader_name": "Ana",
        "uploader_email": "ana@example.org",
    }

    def post(path: str, document: dict[str, Any]) -> dict[str, Any]:
        answer = run_function(function_ids().upload, api_event(json.dumps(document), path=path), env)
        assert answer["statusCode"] in {200, 201}, answer
        return dict(json.loads(answer["body"]))

    upload = post("/uploads", request)["upload"]
    assert (upload["method"], upload["part_count"]) == ("MULTIPART", 3)
    token = upload["upload_token"]
    chunks = [content[i : i + part] for i in range(0, len(content), part)]
    digests = [hashlib.sha256(chunk).hexdigest() for chunk in chunks]
    presigned = post(
        "/uploads/parts",
        {"upload_token": token, "parts": [{"part_number": n, "sha256": d} for n, d in enumerate(digests, 1)]},
    )["parts"]
    done = []
    for item, chunk, digest in zip(presigned, chunks, digests, strict=True):
        headers = {name: value for name, value in item["headers"].items() if name != "Content-Length"}
        response = requests.put(item["url"], data=chunk, headers=headers, timeout=60)
        assert response.status_code == 200, response.text
        done.append({"part_number": item["part_number"], "etag": response.headers["ETag"], "sha256": digest})
    assert post("/uploads/complete", {"upload_token": token, "parts": done})["size"] == len(content)

    event, outcome = notify_endpoint.results.get(timeout=EVENT_TIMEOUT_SECONDS)
    [record] = event["Records"]
    assert record["eventSource"] == "ceph:s3"
    assert record["eventName"] == "ObjectCreated:CompleteMultipartUpload"
    assert record["s3"]["object"]["key"] == "DP-rgw/multipart/three parts.bin"
    assert not isinstance(outcome, Exception), repr(outcome)
    assert outcome["delivered"] == 1, outcome
    [delivery] = webhook_receiver.requests
    payload = delivery.json()
    assert payload["sha256"] == hashlib.sha256(content).hexdigest()
    assert payload["length"] == len(content)
    assert payload["display"] == "three parts.bin"
    assert notify_endpoint.results.empty()
