"""Signing-secret rotation end to end: moto's Secrets Manager and S3 over HTTP, the rotation tool's own
write, the notify handler, and real receivers on 127.0.0.1 that know the old secret, the new one or both;
each delivery is checked by the receiver and by the PyPI and npm `standardwebhooks` libraries."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notify_webhook.app import NotificationFailed, lambda_handler
from tests.conftest import ARCHIVE_BUCKET, REGION, clear_client_caches
from tests.npm_verifier import npm_verifies
from tests.webhook_receiver import WebhookReceiver, object_created_record, s3_event
from tools.lambda_context import LocalLambdaContext
from tools.rotate_webhook_secret import new_key, put_new_version

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.moto_only("Secrets Manager on moto's server")

OLD_KEY = "TestingOldKey0123456789abcdefghi"  # the stack's bare form; deliveries use whsec_<key>
OLD = f"whsec_{OLD_KEY}"
UPLOADER = {
    "uploaded-by": "presigned-url",
    "uploader-name": "Jane Doe",
    "uploader-email": "jane@example.test",
}
HOUR = 3600


@pytest.fixture
def secret_arn(server_s3: S3Client, monkeypatch: pytest.MonkeyPatch) -> str:
    """The stack's generated secret on moto's server, as the template configures the function."""
    arn = str(
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="fa-rotation/webhook", SecretString=OLD_KEY
        )["ARN"]
    )
    monkeypatch.setenv("WEBHOOK_SECRET_PARAMETER", arn)
    monkeypatch.setenv("WEBHOOK_SECRET_PREFIX", "whsec_")
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "1")
    for name in ("WEBHOOK_SECRET_TOKEN", "WEBHOOK_ROTATION_OVERLAP_HOURS", "ACCEPTED_UPLOADERS"):
        monkeypatch.delenv(name, raising=False)
    return arn


@pytest.fixture
def receivers() -> Iterator[dict[str, WebhookReceiver]]:
    """Receivers named by what they know; filled in by `rotate` once the new secret exists."""
    started: dict[str, WebhookReceiver] = {}
    yield started
    for receiver in started.values():
        receiver.stop()


def rotate(arn: str, monkeypatch: pytest.MonkeyPatch, *, hours_ago: float = 0) -> str:
    """The tool's write: a new generated key becomes AWSCURRENT; moto records it `hours_ago` (its clock
    only, through moto's own `time` module), so the window's end is reached without waiting."""
    from moto.secretsmanager import models  # noqa: PLC0415

    recorded = time.time() - hours_ago * HOUR
    monkeypatch.setattr(models, "time", SimpleNamespace(time=lambda: recorded))
    key = new_key()
    put_new_version(boto3.client("secretsmanager", region_name=REGION), arn, key)
    monkeypatch.setattr(models, "time", time)
    clear_client_caches()  # a cold container: the cached secret is read again
    return f"whsec_{key}"


def start(receivers: dict[str, WebhookReceiver], name: str, secrets: list[str]) -> WebhookReceiver:
    receiver = WebhookReceiver(secrets)
    receiver.start()
    receivers[name] = receiver
    return receiver


def deliver_to(
    receiver: WebhookReceiver, server_s3: S3Client, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=b'{"a": 1}', Metadata=UPLOADER)
    record = object_created_record(ARCHIVE_BUCKET, key, etag=answer["ETag"], size=8)
    monkeypatch.setenv("WEBHOOK_URL", receiver.url)
    lambda_handler(s3_event(record), LocalLambdaContext())


def pypi_verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


def verified_by(secret: str, receiver: WebhookReceiver) -> tuple[bool, bool]:
    """(PyPI verifies, npm verifies) the receiver's last request with `secret`."""
    request = receiver.requests[-1]
    return pypi_verifies(secret, request.headers, request.body), npm_verifies(
        secret, request.headers, request.body
    ) == 0


def test_during_the_window_old_only_new_only_and_both_receivers_verify(
    secret_arn: str,
    server_s3: S3Client,
    receivers: dict[str, WebhookReceiver],
    monkeypatch: pytest.MonkeyPatch,
    log_output: Callable[[], str],
) -> None:
    new = rotate(secret_arn, monkeypatch, hours_ago=23)  # an hour of the 24 h window left
    known = {"old-only": [OLD], "new-only": [new], "both": [OLD, new]}
    for name, secrets in known.items():
        receiver = start(receivers, name, secrets)
        deliver_to(receiver, server_s3, f"pack/{name}.json", monkeypatch)
        [delivery] = receiver.deliveries
        assert delivery.status == 200 and delivery.signature_valid, name
        signatures = delivery.headers["webhook-signature"].split(" ")
        assert len(signatures) == 2, "v1,<new> v1,<old>"
        for secret in secrets:
            assert verified_by(secret, receiver) == (True, True), (name, secret)
    request = receivers["both"].requests[-1]
    assert npm_verifies([OLD, new], request.headers, request.body) == 0
    assert OLD not in log_output() and new not in log_output()


def test_after_the_window_old_only_fails_and_new_only_passes(
    secret_arn: str,
    server_s3: S3Client,
    receivers: dict[str, WebhookReceiver],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    new = rotate(secret_arn, monkeypatch, hours_ago=25)
    new_only = start(receivers, "new-only", [new])
    deliver_to(new_only, server_s3, "pack/new-only.json", monkeypatch)
    assert new_only.deliveries[0].status == 200
    assert len(new_only.requests[0].headers["webhook-signature"].split(" ")) == 1
    assert verified_by(new, new_only) == (True, True)
    old_only = start(receivers, "old-only", [OLD])
    with pytest.raises(NotificationFailed, match="401"):
        deliver_to(old_only, server_s3, "pack/old-only.json", monkeypatch)
    assert old_only.deliveries[0].status == 401 and old_only.deliveries[0].signature_valid is False
    assert verified_by(OLD, old_only) == (False, False)


def test_the_overlap_setting_decides_the_window(
    secret_arn: str,
    server_s3: S3Client,
    receivers: dict[str, WebhookReceiver],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """WEBHOOK_ROTATION_OVERLAP_HOURS=0: the previous secret is never sent, even right after a rotation."""
    monkeypatch.setenv("WEBHOOK_ROTATION_OVERLAP_HOURS", "0")
    rotate(secret_arn, monkeypatch)
    old_only = start(receivers, "old-only", [OLD])
    with pytest.raises(NotificationFailed, match="401"):
        deliver_to(old_only, server_s3, "pack/zero.json", monkeypatch)


@pytest.mark.parametrize(
    ("previous_key", "warning"),
    [(None, "no previous webhook secret (AWSPREVIOUS)"), ("not base64 !", "is not a usable key")],
    ids=["never-rotated", "malformed-previous"],
)
def test_no_usable_previous_secret_signs_once_with_a_warning(
    secret_arn: str,
    server_s3: S3Client,
    receivers: dict[str, WebhookReceiver],
    monkeypatch: pytest.MonkeyPatch,
    log_output: Callable[[], str],
    previous_key: str | None,
    warning: str,
) -> None:
    current = OLD
    if previous_key is not None:
        client = boto3.client("secretsmanager", region_name=REGION)
        client.put_secret_value(SecretId=secret_arn, SecretString=previous_key)
        current = rotate(secret_arn, monkeypatch)
    receiver = start(receivers, "current", [current])
    deliver_to(receiver, server_s3, "pack/once.json", monkeypatch)
    [delivery] = receiver.deliveries
    assert delivery.status == 200
    assert len(delivery.headers["webhook-signature"].split(" ")) == 1
    assert verified_by(current, receiver) == (True, True)
    logs = log_output()
    assert warning in logs and '"level":"WARNING"' in logs.replace(" ", "")
    assert "not base64" not in logs, "the warning never quotes the value"


def test_one_read_per_container_for_both_stages(
    secret_arn: str,
    server_s3: S3Client,
    receivers: dict[str, WebhookReceiver],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both stages are cached like the secret always was: three invocations, two reads (one per stage)."""
    from botocore.client import BaseClient  # noqa: PLC0415

    rotate(secret_arn, monkeypatch, hours_ago=1)
    original = BaseClient._make_api_call  # type: ignore[attr-defined]
    stages: list[Any] = []

    def record(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "GetSecretValue":
            stages.append(params.get("VersionStage"))
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    receiver = start(receivers, "any", [OLD])
    for name in ("a", "b", "c"):
        deliver_to(receiver, server_s3, f"pack/{name}.json", monkeypatch)
    assert sorted(stages) == ["AWSCURRENT", "AWSPREVIOUS"]
    assert len(receiver.deliveries) == 3
