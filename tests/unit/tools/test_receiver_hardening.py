"""Round-4 hardening of tools/receiver.py: loopback Host only; unsigned junk kept only up to a cap."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest

from notify_webhook.signing import signature_headers
from tools.receiver import MAX_UNVERIFIED_BYTES, MAX_UNVERIFIED_KEPT, WebhookReceiver

SECRET = "testing"
BODY = b'{"display": "a.json", "name": "Ada", "email": "ada@example.com"}'


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver(SECRET)
    started.start()
    try:
        yield started
    finally:
        started.stop()


def request(
    receiver: WebhookReceiver, method: str, path: str, host: str, body: bytes = b"", **headers: str
) -> tuple[int, bytes]:
    port = int(receiver.base_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True)
        connection.putheader("Host", host)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


@pytest.mark.parametrize("host", ["rebound.example", "rebound.example:8000", "127.0.0.1.nip.io", ""])
def test_r4_item6_the_receiver_answers_only_to_a_loopback_host(receiver: WebhookReceiver, host: str) -> None:
    port = receiver.base_url.rsplit(":", 1)[1]
    signed = signature_headers(SECRET, "msg_1", BODY)
    assert request(receiver, "POST", "/webhook", f"127.0.0.1:{port}", BODY, **signed)[0] == 200
    status, body = request(receiver, "GET", "/deliveries", host)
    assert status == 403
    assert b"ada@example.com" not in body
    assert request(receiver, "GET", "/deliveries/last", host)[0] == 403
    assert request(receiver, "POST", "/webhook", host, BODY, **signed)[0] == 403
    assert len(receiver.deliveries) == 1
    for loopback in (f"127.0.0.1:{port}", f"localhost:{port}", "[::1]"):
        status, body = request(receiver, "GET", "/deliveries", loopback)
        assert status == 200 and b"ada@example.com" in body


def test_r4_item6_unsigned_requests_are_counted_but_not_kept_beyond_a_cap(receiver: WebhookReceiver) -> None:
    port = receiver.base_url.rsplit(":", 1)[1]
    junk = b"x" * (1024 * 1024)
    for _ in range(50):
        assert request(receiver, "POST", "/webhook", f"127.0.0.1:{port}", junk)[0] == 401
    kept = [item for item in receiver.requests if item.body]
    assert len(kept) <= MAX_UNVERIFIED_KEPT
    assert sum(len(item.body) for item in kept) <= MAX_UNVERIFIED_BYTES
    assert receiver.unverified_count == 50
    assert receiver.unverified_not_kept == 50 - len(kept)
    # A signed delivery is still kept after the cap was reached.
    signed = signature_headers(SECRET, "msg_2", BODY)
    assert request(receiver, "POST", "/webhook", f"127.0.0.1:{port}", BODY, **signed)[0] == 200
    assert receiver.last is not None and receiver.last.signature_valid is True
