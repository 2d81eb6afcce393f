"""Presigned ranges against a store that does not answer as S3 does: a 200 for a range (it ignores
`Range`), a large error body, a connection closed before any answer. Real HTTP on 127.0.0.1.

What a reader takes in is measured on the server's side: the bytes it managed to send before the reader
dropped the connection (the socket buffers hold a few MiB at most), never the whole object.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from notify_webhook.app import NotificationFailed, lambda_handler
from notify_webhook.object_hash.body import sha256_of_body
from notify_webhook.object_hash.presigned_ranges import RangeIgnored, presigned_ranges
from notify_webhook.object_hash.ranges import RangedReads, pinned_request
from notify_webhook.object_hash.stream import MIB
from tests.conftest import ARCHIVE_BUCKET
from tests.faulty_s3_proxy import Fault, FaultyS3Proxy
from tests.integration.notify_webhook.test_event_shapes import UPLOADER
from tests.webhook_receiver import WebhookReceiver, object_created_record, s3_event
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BIG = 256 * MIB  # what the store would send for each range if a reader let it
SMALL = 3 * MIB  # the object the one-stream fallback reads whole
CHUNK = 64 * 1024


def content(size: int) -> bytes:
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


class Store(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = mode  # "ignore-range", "error", "hang-up"
        self.sent: list[int] = []  # bytes sent, per answered GET that had a Range
        self.finished = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Store
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        ranged = "Range" in self.headers
        if ranged and self.server.mode == "hang-up":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if not ranged:  # the one stream of the fallback: the small object, whole
            body = content(SMALL)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", '"e"')
            self.end_headers()
            self.wfile.write(body)
            return
        status = 200 if self.server.mode == "ignore-range" else 500
        self.send_response(status)
        self.send_header("Content-Length", str(BIG))
        self.send_header("Content-Type", "application/xml")
        self.end_headers()
        sent = 0
        chunk = b"<Error><Code>InternalError</Code><Message>m</Message></Error>".ljust(CHUNK, b" ")
        try:
            while sent < BIG:
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        finally:
            self.close_connection = True
            with self.server.finished:
                self.server.sent.append(sent)
                self.server.finished.notify_all()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    server = Store(request.param)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", retries={"total_max_attempts": 1}, read_timeout=30),
    )


def sent_per_range(store: Store, count: int) -> list[int]:
    deadline = time.monotonic() + 60
    with store.finished:
        while len(store.sent) < count and time.monotonic() < deadline:
            store.finished.wait(1)
    return list(store.sent)


@pytest.mark.parametrize("store", ["ignore-range"], indirect=True)
def test_r4_item2_a_200_for_a_range_is_not_read(store: Store) -> None:
    ranges = presigned_ranges(s3_client(store.url), pinned_request("bucket", "key", None, '"e"'))
    assert ranges is not None
    for _ in range(3):
        with pytest.raises(RangeIgnored, match="nothing read"):
            ranges.get_range(0, 1023)
    sent = sent_per_range(store, 3)
    assert len(sent) == 3
    assert max(sent) < 32 * MIB, f"the reader took in {max(sent)} bytes of a {BIG}-byte answer"


@pytest.mark.parametrize("store", ["error"], indirect=True)
def test_r4_item2_only_the_start_of_an_error_body_is_read(store: Store) -> None:
    ranges = presigned_ranges(s3_client(store.url), pinned_request("bucket", "key", None, '"e"'))
    assert ranges is not None
    with pytest.raises(ClientError) as raised:
        ranges.get_range(0, 1023)
    assert raised.value.response["Error"]["Code"] == "InternalError"
    [sent] = sent_per_range(store, 1)
    assert sent < 32 * MIB, f"the reader took in {sent} bytes of a {BIG}-byte error answer"


@pytest.mark.parametrize("store", ["ignore-range"], indirect=True)
def test_r4_item2_a_store_that_ignores_range_is_read_as_one_stream(store: Store) -> None:
    reads = RangedReads(connections=4, part_bytes=1 * MIB, mode="always")
    digest = sha256_of_body(s3_client(store.url), "bucket", "key", SMALL, etag="e", reads=reads)
    assert digest == hashlib.sha256(content(SMALL)).hexdigest()
    assert max(sent_per_range(store, 1)) < 32 * MIB


@pytest.mark.parametrize("store", ["hang-up"], indirect=True)
def test_r4_item11_a_connection_error_never_carries_the_presigned_url(store: Store) -> None:
    ranges = presigned_ranges(s3_client(store.url), pinned_request("bucket", "key", None, '"e"'))
    assert ranges is not None
    assert "X-Amz-Signature=" in ranges.url
    with pytest.raises(BotoCoreError) as raised:
        ranges.get_range(0, 1023)
    shown = f"{raised.value} {raised.value!r} {raised.value.kwargs}"
    assert "X-Amz-Signature" not in shown and "X-Amz-Credential" not in shown
    assert store.url.removeprefix("http://") in str(raised.value), "the endpoint itself is still named"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_r4_item11_no_log_line_carries_a_presigned_url_when_ranges_cannot_connect(
    faulty_s3: FaultyS3Proxy,
    server_s3: S3Client,
    webhook_receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    log_output: Callable[[], str],
    lambda_context: LocalLambdaContext,
) -> None:
    """The notify function with every presigned range hung up on (a connection error each time), at
    DEBUG: neither its log lines nor the error it raises name the URL's signature."""
    for name, value in {
        "WEBHOOK_URL": webhook_receiver.url,
        "WEBHOOK_ALLOW_HTTP": "true",
        "WEBHOOK_SECRET_TOKEN": "testing",
        "WEBHOOK_MAX_ATTEMPTS": "1",
        "HASH_RANGES": "always",
        "HASH_PART_BYTES": str(MIB),
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("ACCEPTED_UPLOADERS", "WEBHOOK_SECRET_PARAMETER", "WORK_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    put = server_s3.put_object(
        Bucket=ARCHIVE_BUCKET, Key="pack/big.bin", Body=content(SMALL), Metadata=UPLOADER
    )
    faulty_s3.inject(Fault("GET", "X-Amz-Signature", hang_up=True))
    with pytest.raises(NotificationFailed) as raised:
        record = object_created_record(ARCHIVE_BUCKET, "pack/big.bin", etag=put["ETag"], size=SMALL)
        lambda_handler(s3_event(record), lambda_context)
    shown = log_output() + str(raised.value) + "".join(traceback.format_exception(raised.value))
    assert any("X-Amz-Signature" in path for _, path, _ in faulty_s3.seen), "the ranges were presigned"
    assert "X-Amz-Signature" not in shown
    assert webhook_receiver.requests == []
