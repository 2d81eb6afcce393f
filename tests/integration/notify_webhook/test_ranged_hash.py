"""A multipart object hashed through parallel ranged GETs against moto's server, end to end through the
handler (correctness only: moto reads the whole object for every range, so nothing here is about speed)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.throttle import throttle_proxy
from form_archive_contract.s3 import get_s3_client
from notify_webhook.app import NotificationFailed, lambda_handler
from notify_webhook.object_hash import CarriedDecision, recalled, remember
from notify_webhook.object_hash.ranges import RANGE_ATTEMPTS
from tests.conftest import clear_client_caches
from tests.faulty_s3_proxy import Fault, FaultyS3Proxy
from tests.s3_stores import ARCHIVE_BUCKET, S3Server
from tests.webhook_receiver import WebhookReceiver, object_created_record, s3_event
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

MIB = 1024 * 1024
KEY = "pack/big/upload.bin"
UPLOADER = {
    "uploaded-by": "presigned-url",
    "uploader-name": "Jane Doe",
    "uploader-email": "jane@example.test",
}


@pytest.fixture
def receiver(webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> WebhookReceiver:
    monkeypatch.setenv("WEBHOOK_URL", webhook_receiver.url)
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", "testing")
    monkeypatch.setenv("WEBHOOK_BACKOFF_BASE_SECONDS", "0.001")
    monkeypatch.setenv("HASH_CONNECTIONS", "4")
    monkeypatch.setenv("HASH_PART_BYTES", str(MIB))
    monkeypatch.setenv("HASH_RANGES", "always")  # these tests are about the ranges themselves
    for name in ("WEBHOOK_SECRET_PARAMETER", "ACCEPTED_UPLOADERS", "WEBHOOK_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    return webhook_receiver


def multipart_upload(client: S3Client, body: bytes, part_size: int = 5 * MIB) -> dict[str, Any]:
    """Stored as S3 multipart does (ETag `...-N`, no full-object SHA-256), in a versioned bucket."""
    client.put_bucket_versioning(Bucket=ARCHIVE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    upload_id = client.create_multipart_upload(Bucket=ARCHIVE_BUCKET, Key=KEY, Metadata=UPLOADER)["UploadId"]
    parts: list[CompletedPartTypeDef] = []
    for number, first in enumerate(range(0, len(body), part_size), start=1):
        answer = client.upload_part(
            Bucket=ARCHIVE_BUCKET,
            Key=KEY,
            UploadId=upload_id,
            PartNumber=number,
            Body=body[first : first + part_size],
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    done = client.complete_multipart_upload(
        Bucket=ARCHIVE_BUCKET, Key=KEY, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    return s3_event(
        object_created_record(
            ARCHIVE_BUCKET,
            KEY,
            etag=done["ETag"],
            version_id=done.get("VersionId"),
            size=len(body),
            event_name="ObjectCreated:CompleteMultipartUpload",
        )
    )


def record_get_requests(requests: list[dict[str, Any]]) -> Callable[[], None]:
    """Every GetObject the handler's own cached client sends (its calls and the ranges read through its
    presigned URL alike), as the parameters it pins and the URL it went to; returns the unhook."""
    client = get_s3_client()

    def remember(request: AWSPreparedRequest, **_kwargs: Any) -> None:
        # botocore's own calls carry header values as bytes, the presigned ranges as text
        sent: Any = request.headers
        headers = {
            name: value.decode() if isinstance(value, bytes) else value for name, value in sent.items()
        }
        params = {
            "VersionId": parse_qs(urlsplit(request.url).query)["versionId"][0],
            "IfMatch": headers["If-Match"],
            "url": request.url,
        }
        if "Range" in headers:
            params["Range"] = headers["Range"]
        requests.append(params)

    event = "before-send.s3.GetObject"
    client.meta.events.register(event, remember, unique_id="ranges-seen")
    return lambda: client.meta.events.unregister(event, unique_id="ranges-seen")


def test_a_multipart_object_is_hashed_through_pinned_ranges(
    server_s3: S3Client, receiver: WebhookReceiver
) -> None:
    body = os.urandom(11 * MIB + 4321)  # parts of 5, 5 and 1 MiB+; eleven full ranges and a short one
    event = multipart_upload(server_s3, body)
    head = server_s3.head_object(Bucket=ARCHIVE_BUCKET, Key=KEY, ChecksumMode="ENABLED")
    assert head["ETag"].endswith('-3"') and head.get("ChecksumSHA256") is None
    seen: list[dict[str, Any]] = []
    unhook = record_get_requests(seen)
    try:
        assert lambda_handler(event, LocalLambdaContext())["delivered"] == 1
    finally:
        unhook()

    [request] = receiver.requests
    assert request.json()["sha256"] == hashlib.sha256(body).hexdigest()
    assert request.json()["length"] == len(body)
    ranges = sorted(int(params["Range"].split("=")[1].split("-")[0]) for params in seen)
    assert ranges == list(range(0, len(body), MIB))
    for params in seen:
        assert params["VersionId"] == head["VersionId"]
        assert params["IfMatch"] == head["ETag"]


def test_a_range_cut_short_is_fetched_again_and_the_hash_is_right(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client, receiver: WebhookReceiver
) -> None:
    body = os.urandom(6 * MIB)
    event = multipart_upload(server_s3, body)
    faulty_s3.inject(Fault("GET", f"/{KEY}", truncate_after=1000, times=2))
    assert lambda_handler(event, LocalLambdaContext())["delivered"] == 1
    assert receiver.requests[0].json()["sha256"] == hashlib.sha256(body).hexdigest()
    gets = [seen for seen in faulty_s3.seen if seen[0] == "GET"]
    assert len(gets) == 6 + 2  # six ranges, two of which were cut and asked again


def test_a_range_that_never_arrives_sends_no_webhook(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client, receiver: WebhookReceiver
) -> None:
    body = os.urandom(3 * MIB)
    event = multipart_upload(server_s3, body)
    faulty_s3.inject(Fault("GET", f"/{KEY}", truncate_after=1000))
    with pytest.raises(NotificationFailed, match="S3 unreachable"):
        lambda_handler(event, LocalLambdaContext())
    assert receiver.requests == []
    gets = [seen for seen in faulty_s3.seen if seen[0] == "GET"]
    assert RANGE_ATTEMPTS <= len(gets) <= 3 * RANGE_ATTEMPTS


def test_by_default_a_multipart_object_is_hashed_right_whatever_the_strategy_chose(
    server_s3: S3Client, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HASH_RANGES unset (auto): on the store itself, one fast stream or ranges, the digest is the same."""
    monkeypatch.delenv("HASH_RANGES")
    body = os.urandom(11 * MIB + 4321)
    assert lambda_handler(multipart_upload(server_s3, body), LocalLambdaContext())["delivered"] == 1
    assert receiver.requests[0].json()["sha256"] == hashlib.sha256(body).hexdigest()


def test_behind_a_per_connection_throttle_the_default_hashes_right_with_pinned_ranges(
    server_s3: S3Client, s3_server: S3Server, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that caps every connection (bench.throttle, as S3 looks from Lambda). Whether the probe
    ran and paid depends on measured rates, so on a busy machine on its timing: only what holds in any
    timing is asserted (one stream first, every request pinned, the digest); `make bench-remote` shows
    what the choice gains, and tests/unit/notify_webhook/test_read_strategy.py checks the choice from
    simulated rates."""
    monkeypatch.delenv("HASH_RANGES")
    body = os.urandom(12 * MIB)
    event = multipart_upload(server_s3, body)
    head = server_s3.head_object(Bucket=ARCHIVE_BUCKET, Key=KEY)
    with throttle_proxy(s3_server.endpoint, rate_mib_s=8, first_byte_ms=5) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy)
        clear_client_caches()
        seen: list[dict[str, Any]] = []
        unhook = record_get_requests(seen)
        try:
            assert lambda_handler(event, LocalLambdaContext())["delivered"] == 1
        finally:
            unhook()
            clear_client_caches()
    assert receiver.requests[0].json()["sha256"] == hashlib.sha256(body).hexdigest()
    ranges = [params["Range"] for params in seen if "Range" in params]
    assert len(seen) - len(ranges) == 1 and "Range" not in seen[0]  # one stream first
    for params in seen:
        assert (params["VersionId"], params["IfMatch"]) == (head["VersionId"], head["ETag"])


def test_a_warm_container_reads_the_next_object_as_ranges_at_once_once_they_paid_on_that_store(
    server_s3: S3Client, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`object_hash.read_memory`: when a read from this store found that ranges pay (fixed here with
    `remember`, as a probe behind a capped store decides it), the next object starts with the ranges, no
    stream and no probe, every one pinned; the digest is the same."""
    monkeypatch.delenv("HASH_RANGES")
    body = os.urandom(11 * MIB + 4321)
    event = multipart_upload(server_s3, body)
    head = server_s3.head_object(Bucket=ARCHIVE_BUCKET, Key=KEY)
    remember(get_s3_client().meta.endpoint_url, ARCHIVE_BUCKET, CarriedDecision(connections=4))
    seen: list[dict[str, Any]] = []
    unhook = record_get_requests(seen)
    try:
        assert lambda_handler(event, LocalLambdaContext())["delivered"] == 1
    finally:
        unhook()
    assert receiver.requests[0].json()["sha256"] == hashlib.sha256(body).hexdigest()
    ranges = sorted(int(params["Range"].split("=")[1].split("-")[0]) for params in seen)
    assert ranges == list(range(0, len(body), MIB))  # every GET a range: no stream, no probe
    for params in seen:
        assert (params["VersionId"], params["IfMatch"]) == (head["VersionId"], head["ETag"])
    assert recalled(get_s3_client().meta.endpoint_url, ARCHIVE_BUCKET).connections == 4
    assert recalled(get_s3_client().meta.endpoint_url, "another-bucket").connections == 0


def test_a_range_answered_with_a_server_error_is_asked_again(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client, receiver: WebhookReceiver
) -> None:
    """The ranges go through one presigned URL, not botocore calls: a 5xx is retried by the reader."""
    body = os.urandom(3 * MIB)
    event = multipart_upload(server_s3, body)
    faulty_s3.inject(Fault("GET", f"/{KEY}", status=503, code="SlowDown", times=2))
    assert lambda_handler(event, LocalLambdaContext())["delivered"] == 1
    assert receiver.requests[0].json()["sha256"] == hashlib.sha256(body).hexdigest()
    gets = [seen for seen in faulty_s3.seen if seen[0] == "GET"]
    assert len(gets) == 3 + 2


def test_a_range_that_keeps_failing_with_a_server_error_names_the_code(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client, receiver: WebhookReceiver
) -> None:
    body = os.urandom(2 * MIB)
    event = multipart_upload(server_s3, body)
    faulty_s3.inject(Fault("GET", f"/{KEY}", status=500, code="InternalError"))
    with pytest.raises(NotificationFailed, match="S3 error InternalError"):
        lambda_handler(event, LocalLambdaContext())
    assert receiver.requests == []


def test_a_range_refused_by_its_precondition_reads_as_a_replaced_object(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client, receiver: WebhookReceiver
) -> None:
    """A presigned range's 412 carries S3's own code, so it means what a refused `get_object` means: the
    object was replaced while it was read, its own event announces it, no webhook goes out."""
    body = os.urandom(2 * MIB)
    event = multipart_upload(server_s3, body)
    faulty_s3.inject(Fault("GET", f"/{KEY}", status=412, code="PreconditionFailed"))
    result = lambda_handler(event, LocalLambdaContext())
    assert result["delivered"] == 0 and result["skipped"] == 1
    assert receiver.requests == []


def test_every_range_url_is_signed_with_sigv4_for_the_host_only(
    server_s3: S3Client, receiver: WebhookReceiver
) -> None:
    body = os.urandom(2 * MIB)
    event = multipart_upload(server_s3, body)
    seen: list[dict[str, Any]] = []
    unhook = record_get_requests(seen)
    try:
        assert lambda_handler(event, LocalLambdaContext())["delivered"] == 1
    finally:
        unhook()
    urls = [params["url"] for params in seen if "Range" in params]
    assert len(urls) == 2 and len(set(urls)) == 1  # one URL, signed once, for every range
    query = parse_qs(urlsplit(urls[0]).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-SignedHeaders"] == ["host"]
    assert "AWSAccessKeyId" not in query
