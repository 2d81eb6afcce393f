"""Shared fixtures: fake credentials, in-process moto, an S3 server on 127.0.0.1.

The S3 server is moto's, or, with `FORM_ARCHIVE_TEST_S3=rgw` and `FORM_ARCHIVE_RGW_ENV=<env file written
by tools/rgw.sh start>`, a Ceph RADOS Gateway (`make test-rgw`), or, with `FORM_ARCHIVE_TEST_S3=localstack`
and `FORM_ARCHIVE_LOCALSTACK_ENV=<env file written by tools/localstack.sh start>`, LocalStack's S3 with
signature validation on (`make test-localstack`): `moto_server` and `server_s3` then point at that store
with its keys, tests marked `moto_only` are skipped with their reason, and
tests marked `needs_s3(...)` are skipped when the store lacks the capability, found by probing it once.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import logging
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, settings
from moto import mock_aws
from moto.server import ThreadedMotoServer

from archive_submission.store_knowledge import forget as forget_store_knowledge
from form_archive_contract.s3 import get_s3_client
from notify_webhook.app import clear_caches as clear_notify_caches
from tests.faulty_s3_proxy import FaultyS3Proxy
from tests.webhook_receiver import WebhookReceiver
from tools.lambda_context import LocalLambdaContext
from upload_url.presign import get_presigning_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

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
S3_BACKENDS = ("moto", "rgw", "localstack")
S3_BACKEND = os.environ.get("FORM_ARCHIVE_TEST_S3", "moto").strip().lower() or "moto"
if S3_BACKEND not in S3_BACKENDS:
    raise pytest.UsageError(f"FORM_ARCHIVE_TEST_S3 must be moto, rgw or localstack, not {S3_BACKEND!r}")
ON_RGW = S3_BACKEND == "rgw"
ON_LOCALSTACK = S3_BACKEND == "localstack"
ON_REAL_STORE = ON_RGW or ON_LOCALSTACK  # a store of its own over HTTP, not moto
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


@dataclass(frozen=True)
class S3Server:
    """The S3 server the HTTP tests talk to, with the keys it accepts."""

    endpoint: str
    access_key: str
    secret_key: str


def load_rgw_env(path: str | None) -> S3Server:
    """The endpoint and keys `tools/rgw.sh start` wrote to its env file (`NAME=value` lines)."""
    if not path:
        raise pytest.UsageError(
            "FORM_ARCHIVE_TEST_S3=rgw needs FORM_ARCHIVE_RGW_ENV=<the file `tools/rgw.sh start` prints>"
        )
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise pytest.UsageError(f"FORM_ARCHIVE_RGW_ENV: cannot read {path}: {error.strerror}") from None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    missing = [name for name in ("RGW_ENDPOINT", "RGW_ACCESS_KEY", "RGW_SECRET_KEY") if not values.get(name)]
    if missing:
        raise pytest.UsageError(f"FORM_ARCHIVE_RGW_ENV: {path} lacks {', '.join(missing)}")
    return S3Server(values["RGW_ENDPOINT"], values["RGW_ACCESS_KEY"], values["RGW_SECRET_KEY"])


def load_localstack_env(path: str | None) -> S3Server:
    """The endpoint and keys `tools/localstack.sh start` wrote to its env file (`NAME=value` lines)."""
    if not path:
        raise pytest.UsageError(
            "FORM_ARCHIVE_TEST_S3=localstack needs FORM_ARCHIVE_LOCALSTACK_ENV=<the file"
            " `tools/localstack.sh start` prints>"
        )
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        message = f"FORM_ARCHIVE_LOCALSTACK_ENV: cannot read {path}: {error.strerror}"
        raise pytest.UsageError(message) from None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    if not values.get("AWS_ENDPOINT_URL"):
        raise pytest.UsageError(f"FORM_ARCHIVE_LOCALSTACK_ENV: {path} lacks AWS_ENDPOINT_URL")
    # LocalStack checks a presigned URL against the secret of a key registered with it, else against its
    # documented default secret `test`: the tests sign with that pair (the env file's keys serve the deploys).
    return S3Server(values["AWS_ENDPOINT_URL"], "test", "test")


def real_store_server() -> S3Server:
    """The store FORM_ARCHIVE_TEST_S3 names (rgw or localstack), from its script's env file."""
    if ON_LOCALSTACK:
        return load_localstack_env(os.environ.get("FORM_ARCHIVE_LOCALSTACK_ENV"))
    return load_rgw_env(os.environ.get("FORM_ARCHIVE_RGW_ENV"))


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


def server_client(server: S3Server, config: Config | None = None) -> S3Client:
    """A client of the S3 server under test, with its keys (moto's fake ones, or the RGW test user's)."""
    return boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=config,
    )


def empty_store(client: S3Client) -> None:
    """What moto's reset does, on a real store: every bucket of the test user goes, with all versions."""
    for bucket in client.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
            doomed: list[ObjectIdentifierTypeDef] = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            if doomed:
                client.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
        client.delete_bucket(Bucket=name)


@dataclass(frozen=True)
class S3Capabilities:
    """What the HTTP S3 server does, probed once per session; a test marked `needs_s3("name")` skips
    with the reason when the field is false."""

    additional_checksums: bool
    if_none_match_in_versioned_buckets: bool
    signature_checks: bool
    verifies_checksums: bool
    verifies_part_checksums: bool = False
    lists_part_checksums: bool = False
    refuses_expired_urls: bool = False
    verifies_complete_checksums: bool = False
    if_none_match_on_complete: bool = False
    checks_header_signatures: bool = False
    keeps_encoded_words: bool = True

    REASONS = {  # noqa: RUF012 - a class constant, not a field
        "additional_checksums": "the store keeps no additional checksums (x-amz-checksum-sha256)",
        "if_none_match_in_versioned_buckets": "the store ignores If-None-Match: * in a versioned bucket",
        "signature_checks": "the store does not enforce a presigned URL's signed headers",
        "verifies_checksums": "the store does not verify x-amz-checksum-sha256 against the bytes",
        "verifies_part_checksums": "the store does not verify an UploadPart's x-amz-checksum-sha256",
        "lists_part_checksums": "ListParts gives no part checksums",
        "refuses_expired_urls": "the store accepts a presigned URL after it expired",
        "verifies_complete_checksums": "CompleteMultipartUpload accepts a wrong or missing part checksum",
        "if_none_match_on_complete": "CompleteMultipartUpload ignores If-None-Match: * over an existing key",
        "checks_header_signatures": "the store accepts a request signed (in its headers) with a wrong key",
        "keeps_encoded_words": "the store decodes RFC 2047 encoded-words in metadata (and strips the text)",
    }


def probe_capabilities(client: S3Client, server: S3Server) -> S3Capabilities:
    wrong_key = S3Server(server.endpoint, server.access_key, "not-" + server.secret_key)
    try:
        server_client(wrong_key).list_buckets()
        checks_header_signatures = False
    except ClientError:
        checks_header_signatures = True
    bucket = f"form-archive-probe-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    presigner = server_client(server, Config(signature_version="s3v4"))
    expiring = presigner.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "expired"}, ExpiresIn=1
    )
    presigned_at = time.monotonic()
    try:
        signed = presigner.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": "signed", "Metadata": {"probe": "signed"}}
        )
        signature_checks = presigned_put_refused(signed, {"x-amz-meta-probe": "other"})
        client.put_object(Bucket=bucket, Key="sum", Body=b"probe", ChecksumAlgorithm="SHA256")
        head = client.head_object(Bucket=bucket, Key="sum", ChecksumMode="ENABLED")
        encoded = "=?UTF-8?B?" + base64.b64encode(b" probe ").decode() + "?="
        client.put_object(Bucket=bucket, Key="words", Body=b"probe", Metadata={"probe": encoded})
        kept = client.head_object(Bucket=bucket, Key="words")["Metadata"].get("probe")
        keeps_encoded_words = kept == encoded
        wrong_sum = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
        try:
            client.put_object(Bucket=bucket, Key="bad-sum", Body=b"probe", ChecksumSHA256=wrong_sum)
            verifies_checksums = False
        except ClientError:
            verifies_checksums = True
        verifies_part_checksums, lists_part_checksums = probe_part_checksums(client, bucket, wrong_sum)
        verifies_complete_checksums, if_none_match_on_complete = probe_complete(client, bucket, wrong_sum)
        time.sleep(max(0.0, presigned_at + 2.2 - time.monotonic()))  # X-Amz-Date has whole seconds
        refuses_expired_urls = presigned_put_refused(expiring, {})
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        client.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
        try:
            client.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
            refused = False
        except ClientError as error:
            refused = error.response["Error"]["Code"] in {"PreconditionFailed", "412"}
    finally:
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for item in page.get("Versions", []):
                client.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
        client.delete_bucket(Bucket=bucket)
    return S3Capabilities(
        additional_checksums=bool(head.get("ChecksumSHA256")),
        if_none_match_in_versioned_buckets=refused,
        signature_checks=signature_checks,
        verifies_checksums=verifies_checksums,
        verifies_part_checksums=verifies_part_checksums,
        lists_part_checksums=lists_part_checksums,
        refuses_expired_urls=refuses_expired_urls,
        verifies_complete_checksums=verifies_complete_checksums,
        if_none_match_on_complete=if_none_match_on_complete,
        checks_header_signatures=checks_header_signatures,
        keeps_encoded_words=keeps_encoded_words,
    )


def presigned_put_refused(url: str, headers: dict[str, str]) -> bool:
    """Whether the store answers a presigned PUT with these headers with 403."""
    request = urllib.request.Request(url, data=b"probe", method="PUT", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10):
            return False
    except urllib.error.HTTPError as error:
        return error.code == 403


def probe_complete(client: S3Client, bucket: str, wrong_sum: str) -> tuple[bool, bool]:
    """Whether CompleteMultipartUpload refuses a wrong and a missing part checksum, and whether it
    answers 412 to `IfNoneMatch: *` over an existing key (unversioned bucket)."""
    right_sum = base64.b64encode(hashlib.sha256(b"probe").digest()).decode()
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="whole", ChecksumAlgorithm="SHA256")[
        "UploadId"
    ]
    etag = client.upload_part(
        Bucket=bucket, Key="whole", UploadId=upload_id, PartNumber=1, Body=b"probe", ChecksumSHA256=right_sum
    )["ETag"]
    refusals = []
    for checksum in ({"ChecksumSHA256": wrong_sum}, {}):
        try:
            client.complete_multipart_upload(
                Bucket=bucket,
                Key="whole",
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag, **checksum}]},  # type: ignore[typeddict-item]
            )
            refusals.append(False)
            break  # completed: nothing left to try on this upload
        except ClientError:
            refusals.append(True)
    else:
        client.complete_multipart_upload(
            Bucket=bucket,
            Key="whole",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag, "ChecksumSHA256": right_sum}]},
        )
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="whole")["UploadId"]
    etag = client.upload_part(Bucket=bucket, Key="whole", UploadId=upload_id, PartNumber=1, Body=b"again")[
        "ETag"
    ]
    try:
        client.complete_multipart_upload(
            Bucket=bucket,
            Key="whole",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
            IfNoneMatch="*",
        )
        precondition = False
    except ClientError as error:
        precondition = error.response["ResponseMetadata"]["HTTPStatusCode"] == 412
        client.abort_multipart_upload(Bucket=bucket, Key="whole", UploadId=upload_id)
    return all(refusals), precondition


def probe_part_checksums(client: S3Client, bucket: str, wrong_sum: str) -> tuple[bool, bool]:
    """Whether an UploadPart whose bytes differ from its x-amz-checksum-sha256 is refused, and whether
    ListParts gives the SHA-256 of a part uploaded with one."""
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="part", ChecksumAlgorithm="SHA256")[
        "UploadId"
    ]
    right_sum = base64.b64encode(hashlib.sha256(b"probe").digest()).decode()
    try:
        try:
            client.upload_part(
                Bucket=bucket,
                Key="part",
                UploadId=upload_id,
                PartNumber=1,
                Body=b"probe",
                ChecksumSHA256=wrong_sum,
            )
            verifies = False
        except ClientError:
            verifies = True
        client.upload_part(
            Bucket=bucket,
            Key="part",
            UploadId=upload_id,
            PartNumber=2,
            Body=b"probe",
            ChecksumSHA256=right_sum,
        )
        listed = client.list_parts(Bucket=bucket, Key="part", UploadId=upload_id).get("Parts", [])
    finally:
        client.abort_multipart_upload(Bucket=bucket, Key="part", UploadId=upload_id)
    return verifies, any(part.get("ChecksumSHA256") == right_sum for part in listed)


@functools.cache
def store_capabilities(server: S3Server) -> S3Capabilities:
    """One probe per server and test run."""
    return probe_capabilities(server_client(server), server)


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


def reset_moto_server(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        json.loads(response.read() or b"{}")


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
