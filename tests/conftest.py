"""The suite's fixtures: fake AWS credentials for every test, in-process moto, the HTTP S3 server (one per
session), a webhook receiver, a fault-injecting proxy, captured logs.

Which S3 server the HTTP tests talk to is tests/s3_stores.py; what it supports, tests/s3_capabilities.py;
the property tests' example counts, tests/hypothesis_profiles.py.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

# The function imports its work-queue path on first use; the suite imports it with the app, so its
# Powertools child loggers bind to the app's service (tests set POWERTOOLS_SERVICE_NAME only later).
import notify_webhook.continued_work  # noqa: F401
from archive_submission.store_knowledge import forget as forget_store_knowledge
from form_archive_contract.s3 import get_s3_client
from notify_webhook.app import clear_caches as clear_notify_caches
from tests import hypothesis_profiles
from tests.faulty_s3_proxy import FaultyS3Proxy
from tests.s3_capabilities import S3Capabilities, store_capabilities
from tests.s3_stores import (
    ARCHIVE_BUCKET,
    ON_LOCALSTACK,
    ON_REAL_STORE,
    ON_RGW,
    REGION,
    S3_BACKEND,
    S3Server,
    empty_store,
    real_store_server,
    reset_moto_server,
    server_client,
)
from tests.webhook_receiver import WebhookReceiver
from tools.lambda_context import LocalLambdaContext
from upload_url.presign import get_presigning_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Tests written before these modules existed import these names from here.
__all__ = [
    "ARCHIVE_BUCKET",
    "ON_LOCALSTACK",
    "ON_REAL_STORE",
    "ON_RGW",
    "REGION",
    "S3_BACKEND",
    "S3Capabilities",
    "S3Server",
    "clear_client_caches",
    "server_client",
]

hypothesis_profiles.load()
_ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_SSM",
)


def clear_client_caches() -> None:
    """Clients are cached per container; tests switch endpoints, so each starts with fresh ones."""
    get_s3_client.cache_clear()
    forget_store_knowledge()
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
    swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
    for logger in loggers:
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler and handler.stream is not buffer:
                swapped.append((handler, swap_stream(handler, buffer)))

    def read() -> str:
        captured = capsys.readouterr()
        return buffer.getvalue() + captured.out + captured.err

    yield read
    for handler, stream in reversed(swapped):
        swap_stream(handler, stream)


def swap_stream(handler: logging.StreamHandler[Any], stream: Any) -> Any:
    """`handler.setStream` without its flush of the old stream: a handler made while another test's output
    was captured holds pytest's capture file, closed since (which test ran before depends on the worker)."""
    handler.acquire()
    try:
        old, handler.stream = handler.stream, stream
    finally:
        handler.release()
    return old


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    return LocalLambdaContext(function_name="test-function")


def pytest_configure(config: pytest.Config) -> None:
    if ON_REAL_STORE:
        real_store_server()  # a wrong env file stops the run at once
    config.addinivalue_line(
        "markers", "moto_only(reason): needs a moto feature (reset API, SQS, SSM, in-process mock_aws)"
    )
    config.addinivalue_line(
        "markers",
        "needs_s3(*capabilities): store capabilities the test relies on, from S3Capabilities' fields",
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"S3 server for the HTTP tests: {S3_BACKEND} (FORM_ARCHIVE_TEST_S3)"]
    if ON_REAL_STORE:  # probed when the run starts, so the header says what will be skipped and why
        server = real_store_server()
        capabilities = store_capabilities(server)
        lines.append(f"  {server.endpoint}: {capabilities}")
        lines.extend(
            f"  lacking: {reason}"
            for name, reason in S3Capabilities.REASONS.items()
            if not getattr(capabilities, name)
        )
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not ON_REAL_STORE:
        return
    for item in items:
        marker = item.get_closest_marker("moto_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else "needs moto"
            item.add_marker(pytest.mark.skip(reason=f"moto only: {reason}"))


@pytest.fixture
def mocked_s3() -> Iterator[S3Client]:
    """In-process moto with the archive bucket created."""
    if ON_REAL_STORE:
        pytest.skip(f"moto only: in-process mock_aws; the {S3_BACKEND} run covers the same cases over HTTP")
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=ARCHIVE_BUCKET)
        yield client


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """The HTTP S3 server, one per test session: moto's on loopback (any key goes), RGW, or LocalStack."""
    if ON_REAL_STORE:
        yield real_store_server()
        return
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}", "testing", "testing")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_server(s3_server: S3Server) -> str:
    """The HTTP S3 server's endpoint URL (moto's, unless FORM_ARCHIVE_TEST_S3=rgw)."""
    return s3_server.endpoint


@pytest.fixture(scope="session")
def s3_capabilities(s3_server: S3Server) -> S3Capabilities:
    return store_capabilities(s3_server)


@pytest.fixture(autouse=True)
def _skip_without_s3_capabilities(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("needs_s3")
    if marker is None:
        return
    capabilities: S3Capabilities = request.getfixturevalue("s3_capabilities")
    lacking = [S3Capabilities.REASONS[name] for name in marker.args if not getattr(capabilities, name)]
    if lacking:
        pytest.skip(f"{S3_BACKEND}: {'; '.join(lacking)}")


@pytest.fixture
def server_s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Client:
    """S3 over real HTTP: the code under test reaches the server through AWS_ENDPOINT_URL_S3 and the
    environment's keys. Each test starts with an empty store holding only the archive bucket."""
    if ON_REAL_STORE:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
        # Other services (SSM, SQS) have no server in this run: a closed loopback port, never AWS.
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        empty_store(server_client(s3_server))
    else:
        reset_moto_server(s3_server.endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server.endpoint)
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
