"""The notify function at DEBUG: no webhook secret, AWS key or payload in any log line or exception text."""

from __future__ import annotations

import base64
import hashlib
import logging
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from notify_webhook.app import NotificationFailed, lambda_handler, logger
from tests.conftest import clear_client_caches
from tests.event_wrappers import SQS_MESSAGE_ID, sqs_event
from tests.s3_stores import ARCHIVE_BUCKET
from tests.webhook_receiver import Reply, WebhookReceiver, object_created_record, s3_event
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACCESS_KEY_ID = "testing-access-key-id-notify"
SECRET_ACCESS_KEY = "testing-secret-access-key-notify"
PLAIN_SECRET = "testing-webhook-secret-notify-hygiene"
WHSEC_KEY = b"testing-whsec-key-notify-hygiene"
WHSEC_SECRET = "whsec_" + base64.b64encode(WHSEC_KEY).decode()
NAME_MARKER = "payload-name-marker-5c1e"
EMAIL_MARKER = "payload-email-marker-5c1e@example.test"
BODY = b'{"comment": "object-body-marker-5c1e"}'
BODY_TOKEN = "testing-body-token-notify-hygiene"


def forbidden(secret: str) -> list[str]:
    values = [secret, BODY_TOKEN, ACCESS_KEY_ID, SECRET_ACCESS_KEY, NAME_MARKER, EMAIL_MARKER]
    values.append("object-body-marker")
    values.append(hashlib.sha256(BODY).hexdigest())  # the payload's hash field
    if secret.startswith("whsec_"):
        values += [secret.removeprefix("whsec_"), WHSEC_KEY.decode(), WHSEC_KEY.hex()]
    return values


@pytest.fixture
def announce(
    mocked_s3: S3Client, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], object]:
    """Store one object and run the handler at DEBUG on its event; returns the result or the exception."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    monkeypatch.setenv("WEBHOOK_URL", webhook_receiver.url)
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("WEBHOOK_BACKOFF_BASE_SECONDS", "0.001")
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("WEBHOOK_BODY_TOKEN", BODY_TOKEN)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    clear_client_caches()
    metadata = {"uploaded-by": "presigned-url", "uploader-name": NAME_MARKER, "uploader-email": EMAIL_MARKER}
    answer = mocked_s3.put_object(
        Bucket=ARCHIVE_BUCKET, Key="pack/hygiene.json", Body=BODY, Metadata=metadata
    )
    event = s3_event(object_created_record(ARCHIVE_BUCKET, "pack/hygiene.json", etag=answer["ETag"]))

    def run(secret: str, wrap: str = "direct") -> object:
        monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", secret)
        previous = logger.log_level
        logger.setLevel("DEBUG")
        assert logger.log_level == logging.DEBUG
        try:
            return lambda_handler(sqs_event(event) if wrap == "sqs" else event, LocalLambdaContext())
        except NotificationFailed as error:
            return error
        finally:
            logger.setLevel(previous)

    return run


@pytest.mark.parametrize("wrap", ["direct", "sqs"])
@pytest.mark.parametrize("secret", [PLAIN_SECRET, WHSEC_SECRET], ids=["plain", "whsec"])
@pytest.mark.parametrize(
    "replies",
    [
        [200],
        [Reply(status=500, body=b"echo"), 500],
        [Reply(status=401, headers={"WWW-Authenticate": "x"})],
        [Reply(drop_connection=True), Reply(status=503, headers={"Retry-After": "0"})],
    ],
    ids=["delivered", "500-twice", "401", "dropped-then-503"],
)
def test_no_secret_key_or_payload_in_debug_logs_or_the_exception(
    announce: Callable[[str, str], object],
    webhook_receiver: WebhookReceiver,
    log_output: Callable[[], str],
    caplog: pytest.LogCaptureFixture,
    secret: str,
    replies: list[Reply | int],
    wrap: str,
) -> None:
    webhook_receiver.script(*replies)
    outcome = announce(secret, wrap)
    assert webhook_receiver.requests, "the handler reached the receiver"
    sent = webhook_receiver.requests[0]
    assert sent.json()["secret_token"] == BODY_TOKEN  # the separate body token was sent, as configured
    assert secret.encode() not in sent.body  # the signing secret never is
    logs = log_output() + caplog.text
    assert '"level":' in logs  # the function's structured log lines were captured
    if replies == [200]:
        delivered: dict[str, object] = {"delivered": 1, "skipped": 0, "ignored": 0, "failed": 0}
        assert outcome == ({"batchItemFailures": []} if wrap == "sqs" else delivered)
        assert "webhook delivered" in logs
        text = ""
    elif wrap == "sqs":
        assert outcome == {"batchItemFailures": [{"itemIdentifier": SQS_MESSAGE_ID}]}
        assert "webhook delivery failed" in logs
        text = str(outcome)
    else:
        assert isinstance(outcome, NotificationFailed)
        assert "webhook delivery failed" in logs
        text = str(outcome) + repr(outcome) + "".join(traceback.format_exception(outcome))
    assert webhook_receiver.requests[0].body.decode() not in logs
    for value in forbidden(secret):
        assert value not in logs, value
        assert value not in text, value
