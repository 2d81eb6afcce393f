"""Shared fixtures: fake credentials, in-process moto, moto's HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import logging
import urllib.request
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from hypothesis import HealthCheck, settings
from moto import mock_aws
from moto.server import ThreadedMotoServer

from form_archive_contract.s3 import get_s3_client
from notify_webhook.app import clear_caches as clear_notify_caches
from tests.faulty_s3_proxy import FaultyS3Proxy
from tests.webhook_receiver import WebhookReceiver
from tools.lambda_context import LocalLambdaContext
from upload_url.presign import get_presigning_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# `ci` runs in `make test`; `pytest --hypothesis-profile=long` digs deeper.
settings.register_profile(
    "ci", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile(
    "long", max_examples=20000, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile(
    "dev", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")

ARCHIVE_BUCKET = "form-archive-test"
REGION = "us-east-1"
_ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_SSM",
)


def clear_client_caches() -> None:
    """Clients are cached per container; tests switch endpoints, so each starts with fresh ones."""
    get_s3_client.cache_clear()
    clear_notify_caches()
    get_presigning_client.cache_clear()


@pytest.fixture(autouse=True)
def aws_test_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Obviously fake credentials, no endpoint override, no profile: nothing can reach real AWS."""
    for name in (*_ENDPOINT_VARIABLES, "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "FormArchiveTest")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    clear_client_caches()
    yield
    clear_client_caches()


@pytest.fixture
def log_output(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """Everything the code printed or logged during the test, as a user would see it on stdout/stderr.

    Powertools loggers bind their stream at import, before pytest swaps `sys.stdout`, so their
    handlers are pointed at a buffer for the test's duration.
    """
    buffer = io.StringIO()
    loggers = [logging.getLogger()] + [
        item for item in logging.Logger.manager.loggerDict.values() if isinstance(item, logging.Logger)
    ]
    swapped: list[tuple[logging.StreamHandler[io.TextIOWrapper], object]] = []
    for logger in loggers:
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:
                swapped.append((handler, handler.setStream(buffer)))

    def read() -> str:
        captured = capsys.readouterr()
        return buffer.getvalue() + captured.out + captured.err

    yield read
    for handler, stream in swapped:
        handler.setStream(stream)  # type: ignore[arg-type]


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    return LocalLambdaContext(function_name="test-function")


@pytest.fixture
def mocked_s3() -> Iterator[S3Client]:
    """In-process moto with the archive bucket created."""
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=ARCHIVE_BUCKET)
        yield client


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's real HTTP server on loopback, one per test session; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset_moto_server(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        json.loads(response.read() or b"{}")


@pytest.fixture
def server_s3(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> S3Client:
    """S3 over real HTTP: the code under test reaches moto's server through AWS_ENDPOINT_URL_S3."""
    reset_moto_server(moto_server)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server)
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=ARCHIVE_BUCKET)
    return client


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A real HTTP webhook receiver on 127.0.0.1 (port 0) that records requests and answers from a script."""
    receiver = WebhookReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def faulty_s3(
    server_s3: S3Client, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FaultyS3Proxy]:
    """The code under test reaches moto's server through a fault-injecting proxy; `server_s3` goes direct."""
    proxy = FaultyS3Proxy(moto_server)
    proxy.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
    clear_client_caches()
    try:
        yield proxy
    finally:
        proxy.stop()
