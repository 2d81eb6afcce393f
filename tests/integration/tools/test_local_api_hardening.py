"""Issue 23, item 8: the local API checks Host, path, key and length before it reads a body, and one slow
function call does not hold up the others. Raw sockets, so that each request is sent exactly as written
(a client library would refuse to send most of them)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.s3_stores import ARCHIVE_BUCKET
from tests.webhook_receiver import object_created_record, s3_event
from tools.local_api import LocalApi, LocalApiConfig, check_host, check_path, declared_length
from tools.local_api.request_checks import Refused
from tools.project import function_ids
from tools.receiver import Reply, WebhookReceiver

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

KEY = "local-test-key"
ENV = {
    function_ids().archive: {"ARCHIVE_BUCKET": ARCHIVE_BUCKET},
    function_ids().upload: {"ARCHIVE_BUCKET": ARCHIVE_BUCKET},
}
# An answer within this time, or the server is waiting for a body that will never come.
PATIENCE_SECONDS = 10


@pytest.fixture
def api(server_s3: S3Client) -> Iterator[LocalApi]:
    local = LocalApi(LocalApiConfig(env_overrides=ENV, api_key=KEY, say=lambda line: None))
    local.start()
    try:
        yield local
    finally:
        local.stop()


def raw(api: LocalApi, head: str, body: bytes = b"") -> tuple[int, dict[str, Any]]:
    """Send `head` (request line and headers, no blank line) and `body`; the status and JSON answer."""
    port = int(api.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE_SECONDS) as connection:
        connection.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n\r\n" + body)
        received = b""
        while b"\r\n\r\n" not in received or len(received.split(b"\r\n\r\n", 1)[1]) < _length(received):
            chunk = connection.recv(65536)  # socket.timeout here: no answer in time (the old code hung)
            if not chunk:
                break
            received += chunk
    assert received, "the connection was closed without an answer"
    status_line, _, rest = received.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.split(b"\r\n\r\n", 1)[1] or b"{}")


def _length(received: bytes) -> int:
    for line in received.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def post_head(api: LocalApi, length: str, *, key: str = KEY, host: str | None = None) -> str:
    host = host or api.url.removeprefix("http://")
    return (
        f"POST /submissions HTTP/1.1\nHost: {host}\nx-api-key: {key}\n"
        f"Content-Type: application/json\nContent-Length: {length}"
    )


@pytest.mark.parametrize(
    ("length", "status"),
    [("-1", 400), ("abc", 400), ("1e15", 400), ("+5", 400), ("1000000000000000", 413), ("10485761", 413)],
)
def test_issue23_item8_a_bad_content_length_is_refused_before_any_read(
    api: LocalApi, length: str, status: int
) -> None:
    code, answer = raw(api, post_head(api, length))
    assert code == status, answer
    assert answer["message"]


def test_issue23_item8_the_key_is_checked_before_the_body_is_read(api: LocalApi) -> None:
    """5 MB announced, none sent: a wrong key is answered at once, not after waiting for the body."""
    assert raw(api, post_head(api, "5000000", key="wrong")) == (403, {"message": "Forbidden"})


def test_issue23_item8_an_undecodable_path_is_a_400(api: LocalApi) -> None:
    host = api.url.removeprefix("http://")
    for path in ("/%00", "/upload.html%00.png", "/%ff%fe", "/a%0ab"):
        code, answer = raw(api, f"GET {path} HTTP/1.1\nHost: {host}")
        assert code == 400, (path, answer)


def test_issue23_item8_deliveries_need_the_key(api: LocalApi) -> None:
    host = api.url.removeprefix("http://")
    assert raw(api, f"GET /_local/deliveries HTTP/1.1\nHost: {host}") == (403, {"message": "Forbidden"})
    wrong = f"GET /_local/deliveries HTTP/1.1\nHost: {host}\nx-api-key: wrong"
    assert raw(api, wrong) == (403, {"message": "Forbidden"})
    status, listing = raw(api, f"GET /_local/deliveries HTTP/1.1\nHost: {host}\nx-api-key: {KEY}")
    assert status == 200
    assert listing == []  # type: ignore[comparison-overlap]


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:3000", "127.0.0.1.evil.example", "", "10.0.0.1"]
)
def test_issue23_item8_every_route_answers_only_to_loopback_host_names(api: LocalApi, host: str) -> None:
    host_line = f"\nHost: {host}" if host else ""  # "": no Host header at all
    for head in (
        f"GET /_local/deliveries HTTP/1.1{host_line}\nx-api-key: {KEY}",
        f"GET /upload.html HTTP/1.1{host_line}",
        f"POST /submissions HTTP/1.1{host_line}\nx-api-key: {KEY}\nContent-Length: 2",
    ):
        status, answer = raw(api, head, b"{}")
        assert status == 403, (head, answer)
        assert "loopback" in answer["message"], answer


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST"])
def test_loopback_host_names_are_served(api: LocalApi, host: str) -> None:
    port = api.url.rsplit(":", 1)[1]
    status, _ = raw(api, f"GET /_local/deliveries HTTP/1.1\nHost: {host}:{port}\nx-api-key: {KEY}")
    assert status == 200


def test_request_checks_refuse_what_they_cannot_read() -> None:
    assert declared_length(None, None) == 0
    assert declared_length(" 12 ", None) == 12
    for bad in ("-1", "abc", "1e15", "0x10", "", "1 2", "٣"):
        with pytest.raises(Refused) as refused:
            declared_length(bad, None)
        assert refused.value.status == 400, bad
    with pytest.raises(Refused) as refused:
        declared_length("5", "chunked")
    assert refused.value.status == 411
    assert check_path("/a%20b") == "/a b"
    for bad_path in ("/%00", "/é", "/%c3"):
        with pytest.raises(Refused):
            check_path(bad_path)
    check_host("127.0.0.1:3000")
    with pytest.raises(Refused):
        check_host(None)


@pytest.mark.moto_only("the notify function's receiver delay is timed against moto's server")
@pytest.mark.slow
def test_issue23_item8_a_slow_webhook_does_not_hold_up_a_submission(
    server_s3: S3Client, webhook_receiver: WebhookReceiver
) -> None:
    """The notify function waits on a receiver that answers after 10 s; meanwhile a submission is archived.
    With one lock around every invocation the submission would wait for the webhook."""
    env = {
        **ENV,
        function_ids().notify: {
            "WEBHOOK_URL": webhook_receiver.url,
            "WEBHOOK_ALLOW_HTTP": "true",
            "WEBHOOK_SECRET_TOKEN": "testing",
            # The template names the stack's generated secret; a local run gives the value instead.
            "WEBHOOK_SECRET_PARAMETER": "",
            "WEBHOOK_TIMEOUT_SECONDS": "30",
            "WEBHOOK_MAX_ATTEMPTS": "1",
            # No work queue: the template's reference would name one this run has not created.
            "WORK_QUEUE_URL": "",
        },
    }
    api = LocalApi(LocalApiConfig(env_overrides=env, api_key=KEY, say=lambda line: None))
    api.start()
    try:
        status, answer = raw(api, post_head(api, "10"), b'{"a": "b"}')
        assert status == 201, answer
        head = server_s3.head_object(Bucket=ARCHIVE_BUCKET, Key=answer["key"])
        webhook_receiver.script(Reply(status=200, delay_seconds=10))
        event = s3_event(object_created_record(ARCHIVE_BUCKET, answer["key"], etag=head["ETag"], size=10))
        outcome: dict[str, Any] = {}
        notify = threading.Thread(
            target=lambda: outcome.update(result=api.run_function(function_ids().notify, event))
        )
        notify.start()
        waited = threading.Event()
        for _ in range(600):  # until the notify function is waiting on the receiver
            if webhook_receiver.requests:
                break
            waited.wait(0.1)
        assert webhook_receiver.requests, "the notify function never reached the receiver"
        status, answer = raw(api, post_head(api, "10"), b'{"c": "d"}')
        assert status == 201, answer
        assert notify.is_alive(), "the submission was answered only after the slow webhook"
        notify.join(timeout=60)
        assert outcome["result"]["delivered"] == 1
    finally:
        api.stop()
