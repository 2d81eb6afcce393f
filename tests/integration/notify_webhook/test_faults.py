"""Faults on both sides of the notify function, over real HTTP: S3 (moto's server behind a fault-injecting
proxy) and the webhook receiver on 127.0.0.1. Every event ends delivered or raised; nothing is lost, and
nothing is reported as sent that was not."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from notify_webhook.app import NotificationFailed, lambda_handler
from tests.faulty_s3_proxy import Fault, FaultyS3Proxy
from tests.hypothesis_profiles import scaled
from tests.s3_stores import ARCHIVE_BUCKET
from tests.webhook_receiver import Reply, WebhookReceiver, object_created_record, s3_event
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SECRET = "testing-notify-faults-secret"
UPLOADER = {
    "uploaded-by": "presigned-url",
    "uploader-name": "Jane Doe",
    "uploader-email": "jane@example.test",
}
# Events through the flapping receiver: 500 in CI's deep step (`make test-deep`), a fifth in `make test`.
FLAPPING_EVENTS = 500


@pytest.fixture
def receiver(webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> WebhookReceiver:
    monkeypatch.setenv("WEBHOOK_URL", webhook_receiver.url)
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("WEBHOOK_BACKOFF_BASE_SECONDS", "0.001")
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "2")
    for name in ("WEBHOOK_SECRET_PARAMETER", "ACCEPTED_UPLOADERS", "WEBHOOK_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    return webhook_receiver


def stored_event(client: S3Client, key: str, body: bytes = b'{"a": 1}', **extra: Any) -> dict[str, Any]:
    answer = client.put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=body, Metadata=UPLOADER, **extra)
    return s3_event(object_created_record(ARCHIVE_BUCKET, key, etag=answer["ETag"], size=len(body)))


def nothing_reported_as_sent(logs: str) -> bool:
    return "webhook delivered" not in logs and "WebhooksDelivered" not in logs


def retry_delays(logs: str) -> list[float]:
    lines = (json.loads(line) for line in logs.splitlines() if line.startswith("{") and '"message"' in line)
    return [line["delay_seconds"] for line in lines if line["message"] == "webhook attempt failed; retrying"]


# ------------------------------------------------------------------------------------------------- S3


@pytest.mark.parametrize(
    ("status", "code"), [(500, "InternalError"), (503, "SlowDown"), (403, "AccessDenied")]
)
def test_head_failing_raises_and_sends_no_webhook(
    faulty_s3: FaultyS3Proxy,
    server_s3: S3Client,
    receiver: WebhookReceiver,
    log_output: Callable[[], str],
    status: int,
    code: str,
) -> None:
    event = stored_event(server_s3, "pack/head-fails.json")
    faulty_s3.inject(Fault("HEAD", "/pack/head-fails.json", status=status, code=code))
    with pytest.raises(NotificationFailed, match=f"S3 error {status}|S3 error {code}"):
        lambda_handler(event, LocalLambdaContext())
    assert receiver.requests == []
    heads = [seen for seen in faulty_s3.seen if seen[0] == "HEAD"]
    assert len(heads) > 1 if status >= 500 else len(heads) == 1  # boto3 retries 5xx only, then we raise
    assert nothing_reported_as_sent(log_output())


@pytest.mark.parametrize("truncate_after", [0, 1000, 1024 * 1024 + 7])
def test_get_cut_mid_stream_raises_and_sends_no_webhook(
    faulty_s3: FaultyS3Proxy,
    server_s3: S3Client,
    receiver: WebhookReceiver,
    log_output: Callable[[], str],
    truncate_after: int,
) -> None:
    """No SHA-256 checksum on the object, so the body is streamed through the hash, and cut short."""
    body = bytes(range(256)) * (12 * 1024)  # 3 MiB: several 1 MiB chunks
    event = stored_event(server_s3, "pack/streamed.bin", body)
    assert "ChecksumSHA256" not in server_s3.head_object(
        Bucket=ARCHIVE_BUCKET, Key="pack/streamed.bin", ChecksumMode="ENABLED"
    )
    faulty_s3.inject(Fault("GET", "/pack/streamed.bin", truncate_after=truncate_after))
    with pytest.raises(NotificationFailed, match=r"pack/streamed\.bin: S3 unreachable"):
        lambda_handler(event, LocalLambdaContext())
    assert receiver.requests == []
    assert [seen for seen in faulty_s3.seen if seen[0] == "GET"]
    assert nothing_reported_as_sent(log_output())


def test_get_failing_with_500_raises_and_sends_no_webhook(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client, receiver: WebhookReceiver, log_output: Callable[[], str]
) -> None:
    event = stored_event(server_s3, "pack/get-fails.json")
    faulty_s3.inject(Fault("GET", "/pack/get-fails.json", status=500, code="InternalError"))
    with pytest.raises(NotificationFailed, match="S3 error InternalError"):
        lambda_handler(event, LocalLambdaContext())
    assert receiver.requests == []
    assert nothing_reported_as_sent(log_output())


# ------------------------------------------------------------------------------------------- receiver


def test_receiver_slower_than_the_timeout_is_retried_with_the_same_id(
    server_s3: S3Client, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "0.3")
    receiver.script(Reply(delay_seconds=2.0), 200)
    assert lambda_handler(stored_event(server_s3, "pack/slow.json"), LocalLambdaContext())["delivered"] == 1
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body


def test_receiver_always_slower_than_the_timeout_raises(
    server_s3: S3Client,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
    log_output: Callable[[], str],
) -> None:
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "0.3")
    receiver.script(Reply(delay_seconds=2.0), Reply(delay_seconds=2.0))
    with pytest.raises(NotificationFailed, match="timed out"):
        lambda_handler(stored_event(server_s3, "pack/slower.json"), LocalLambdaContext())
    assert len(receiver.requests) == 2
    assert nothing_reported_as_sent(log_output())


def test_receiver_closing_the_connection_is_retried_then_raised(
    server_s3: S3Client, receiver: WebhookReceiver, log_output: Callable[[], str]
) -> None:
    receiver.script(Reply(drop_connection=True), 200)
    assert (
        lambda_handler(stored_event(server_s3, "pack/dropped.json"), LocalLambdaContext())["delivered"] == 1
    )
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]

    receiver.script(Reply(drop_connection=True), Reply(drop_connection=True))
    with pytest.raises(NotificationFailed, match="connection failed"):
        lambda_handler(stored_event(server_s3, "pack/dropped-twice.json"), LocalLambdaContext())
    assert len(receiver.requests) == 4


def test_429_with_retry_after_is_honoured(
    server_s3: S3Client, receiver: WebhookReceiver, log_output: Callable[[], str]
) -> None:
    receiver.script(Reply(status=429, headers={"Retry-After": "1"}), 200)
    assert lambda_handler(stored_event(server_s3, "pack/busy.json"), LocalLambdaContext())["delivered"] == 1
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    # The pause chosen before the retry (reported in the log), not a measured time.
    assert retry_delays(log_output()) == [1.0]


@pytest.mark.slow
@pytest.mark.deep_property
def test_flapping_receiver_over_many_events_loses_nothing(
    server_s3: S3Client, receiver: WebhookReceiver, log_output: Callable[[], str]
) -> None:
    """The receiver answers 500 or 200 at random (seeded); with two attempts per invocation some events
    exhaust them. Each event is delivered or raised, never dropped, and Lambda's retry of a raised event
    carries the same webhook-id and delivers it."""
    event_count = scaled(FLAPPING_EVENTS)
    rng = random.Random(7)  # noqa: S311 - a reproducible script, not cryptography
    statuses: list[int] = []
    expected_delivered: list[int] = []
    for number in range(event_count):  # exactly the answers the events will consume, in order
        first = rng.choice([500, 200])
        second = rng.choice([500, 200]) if first == 500 else None
        statuses += [first] if second is None else [first, second]
        if 200 in (first, second):
            expected_delivered.append(number)
    receiver.script(*statuses)
    events = [
        stored_event(
            server_s3, f"flap/{number:03d}.json", f'{{"n": {number}}}'.encode(), ChecksumAlgorithm="SHA256"
        )
        for number in range(event_count)
    ]
    delivered: list[int] = []
    raised: list[int] = []
    for number, event in enumerate(events):
        try:
            result = lambda_handler(event, LocalLambdaContext())
        except NotificationFailed as error:
            assert "HTTP 500" in str(error)
            raised.append(number)
        else:
            assert result == {"delivered": 1, "skipped": 0, "ignored": 0, "failed": 0}
            delivered.append(number)
    assert len(delivered) + len(raised) == event_count
    assert delivered == expected_delivered
    assert raised

    requests = receiver.requests
    assert len(requests) == len(statuses)
    answered = list(zip(requests, statuses, strict=True))
    ids_by_display: dict[str, set[str]] = {}
    accepted: dict[str, int] = {}
    for request, status in answered:
        display = request.json()["display"]
        ids_by_display.setdefault(display, set()).add(request.headers["webhook-id"])
        accepted[display] = accepted.get(display, 0) + (status == 200)
    assert all(len(ids) == 1 for ids in ids_by_display.values())  # a retry carries the same id
    assert sorted(name for name, count in accepted.items() if count) == [f"{n:03d}.json" for n in delivered]
    assert all(accepted[f"{n:03d}.json"] == 0 for n in raised)  # a raised event was never accepted

    # Lambda's asynchronous retry of the raised events: the same ids, now delivered (script used up: 200s).
    seen = len(requests)
    for number in raised:
        assert lambda_handler(events[number], LocalLambdaContext())["delivered"] == 1
    for request in receiver.requests[seen:]:
        assert {request.headers["webhook-id"]} == ids_by_display[request.json()["display"]]
    print(  # the figures quoted in the README (pytest -s)
        f"flapping: {event_count} events, {len(delivered)} delivered, {len(raised)} raised "
        f"(all delivered on retry), 0 lost, {len(requests)} POSTs"
    )
