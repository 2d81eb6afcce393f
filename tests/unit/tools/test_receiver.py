"""tools/receiver.py: the one webhook receiver (demo, README, tests) and `signing.verify_headers`."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from notify_webhook.signing import signature_headers, verify_headers
from tools.project import PROJECT_ROOT
from tools.receiver import WEBHOOK_PATH, WebhookReceiver

SECRET = "testing"
BODY = b'{"display": "a.json", "secret_token": "testing"}'


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def verifying_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(SECRET)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def test_verify_headers_any_case_and_missing_headers() -> None:
    headers = signature_headers(SECRET, "msg_1", BODY)
    assert verify_headers(SECRET, headers, BODY)
    assert verify_headers(SECRET, {name.upper(): value for name, value in headers.items()}, BODY)
    assert verify_headers(SECRET, {name.title(): value for name, value in headers.items()}, BODY.decode())
    assert not verify_headers("another-secret", headers, BODY)
    assert not verify_headers(SECRET, headers, BODY + b" ")
    for missing in headers:
        assert not verify_headers(SECRET, {k: v for k, v in headers.items() if k != missing}, BODY)
    assert not verify_headers(SECRET, {}, BODY)


def test_valid_signature_is_200_invalid_401_elsewhere_404(verifying_receiver: WebhookReceiver) -> None:
    headers = {**signature_headers(SECRET, "msg_1", BODY), "Content-Type": "application/json"}
    assert post(verifying_receiver.url, BODY, headers)[0] == 200
    assert post(verifying_receiver.url, BODY + b" ", headers)[0] == 401
    assert post(verifying_receiver.url, BODY, {"Content-Type": "application/json"})[0] == 401
    assert post(verifying_receiver.base_url + "/other", BODY, headers)[0] == 404
    deliveries = verifying_receiver.deliveries
    assert [(d.status, d.signature_valid) for d in deliveries] == [
        (200, True),
        (401, False),
        (401, False),
        (404, True),
    ]
    assert deliveries[0].body == BODY, "the raw bytes are recorded"
    assert deliveries[0].path == WEBHOOK_PATH


def test_listing_masks_the_secret_token(verifying_receiver: WebhookReceiver) -> None:
    post(verifying_receiver.url, BODY, signature_headers(SECRET, "msg_2", BODY))
    with urllib.request.urlopen(verifying_receiver.base_url + "/deliveries/last", timeout=10) as response:
        last = json.loads(response.read())
    assert last["payload"] == {"display": "a.json", "secret_token": "***"}
    assert last["headers"]["webhook-id"] == "msg_2"
    assert SECRET not in verifying_receiver.deliveries[0].line()


def test_scripted_replies_come_before_the_verdict(verifying_receiver: WebhookReceiver) -> None:
    verifying_receiver.script(503)
    headers = signature_headers(SECRET, "msg_3", BODY)
    assert post(verifying_receiver.url, BODY, headers)[0] == 503
    assert post(verifying_receiver.url, BODY, headers)[0] == 200


def test_command_line_prints_each_delivery_and_stops_with_exit_0() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.receiver", "--port", "0", "--secret", SECRET],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        assert process.stdout is not None
        started = process.stderr.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+/webhook)", started)
        assert found is not None, started
        assert post(found.group(1), BODY, signature_headers(SECRET, "msg_4", BODY))[0] == 200
        assert post(found.group(1), BODY, signature_headers("wrong", "msg_5", BODY))[0] == 401
        first, second = process.stdout.readline(), process.stdout.readline()
        assert "delivery 1: POST /webhook signature valid, answered 200" in first
        assert "msg_4" in first
        assert '"secret_token": "***"' in first
        assert "delivery 2: POST /webhook SIGNATURE INVALID, answered 401" in second
        assert SECRET not in first + second
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("args", [["--port", "70000"], ["--path", "webhook"], []])
def test_unusable_options_exit_2(args: list[str]) -> None:
    secret = [] if not args else ["--secret", SECRET]
    completed = subprocess.run(
        [sys.executable, "-m", "tools.receiver", *args, *secret],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""


def test_item9_a_delivery_already_accepted_is_not_handled_twice(verifying_receiver: WebhookReceiver) -> None:
    """Review round 3, item 9: the same signed delivery sent again (a captured request replayed within the
    signature's tolerance) is answered 200, so a sender stops retrying, but it is not a second delivery."""
    headers = {**signature_headers(SECRET, "msg_once", BODY), "Content-Type": "application/json"}
    first = post(verifying_receiver.url, BODY, headers)
    again = post(verifying_receiver.url, BODY, headers)
    assert first[0] == again[0] == 200
    assert json.loads(again[1]) == {"received": True, "duplicate": True}
    assert [delivery.headers["webhook-id"] for delivery in verifying_receiver.deliveries] == ["msg_once"]
    # Another id is a delivery of its own.
    assert post(verifying_receiver.url, BODY, signature_headers(SECRET, "msg_other", BODY))[0] == 200
    assert len(verifying_receiver.deliveries) == 2


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("declared", "status"),
    [
        ("Content-Length: 20971520", 413),  # 20 MiB announced, not one byte of it sent
        ("Content-Length: 1" + "0" * 30, 413),
        ("Content-Length: -1", 400),
        ("Content-Length: abc", 400),
        ("Content-Length: 1e15", 400),
        ("Transfer-Encoding: chunked", 411),
    ],
)
def test_item9_the_declared_length_is_checked_before_a_body_is_read(
    verifying_receiver: WebhookReceiver, declared: str, status: int
) -> None:
    """Review round 3, item 9: the receiver answers from the headers alone; it never waits for (or holds)
    a body it is going to refuse. The client sends no body at all: an answer proves none was read."""
    host, port = verifying_receiver.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {host}\r\n{declared}\r\n\r\n".encode())
        answer = connection.recv(4096)
    assert answer.split(b"\r\n", 1)[0].split(b" ")[1] == str(status).encode()
    assert verifying_receiver.requests == []
