"""Ranges read through one presigned URL: what an error answer becomes, and moto's in-process mock
answering them through the client's `before-send` event (nothing leaves the process)."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ClientError

from form_archive_contract.s3 import CLIENT_CONFIG, error_code
from notify_webhook.object_hash.presigned_ranges import _unread, is_server_error
from notify_webhook.object_hash.ranges import RangedReads, RangeReader, pinned_request, sha256_of_ranges

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

        self.closed = False

    def read(self, amount: int | None = None) -> bytes:
        return self.data[:amount]

    def close(self) -> None:
        self.closed = True


def answer(status: int, body: bytes) -> AWSResponse:
    return AWSResponse("http://127.0.0.1/b/k", status, HTTPHeaders(), _Raw(body))


@pytest.mark.parametrize(
    ("status", "body", "code", "server_error"),
    [
        (
            412,
            b"<Error><Code>PreconditionFailed</Code><Message>At least one</Message></Error>",
            "PreconditionFailed",
            False,
        ),
        (404, b"<?xml version='1.0'?><Error><Code>NoSuchVersion</Code></Error>", "NoSuchVersion", False),
        (503, b"<Error><Code>SlowDown</Code></Error>", "SlowDown", True),
        (500, b"", "500", True),
        (403, b"<html>proxy says no</html>", "403", False),
    ],
)
def test_an_error_answer_becomes_the_client_error_botocore_would_raise(
    status: int, body: bytes, code: str, server_error: bool
) -> None:
    error = _unread(answer(status, body), 0, 1)
    assert isinstance(error, ClientError)
    assert error_code(error) == code
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert is_server_error(error) is server_error


def test_in_process_moto_answers_the_presigned_ranges(mocked_s3: S3Client) -> None:
    client = boto3.client("s3", region_name="us-east-1", config=CLIENT_CONFIG)  # the functions' settings
    mocked_s3.create_bucket(Bucket="ranges")
    mocked_s3.put_bucket_versioning(Bucket="ranges", VersioningConfiguration={"Status": "Enabled"})
    body = os.urandom(3 * MIB + 17)
    put = mocked_s3.put_object(Bucket="ranges", Key="big.bin", Body=body)
    seen: list[str] = []
    client.meta.events.register("before-send.s3.GetObject", lambda request, **_: seen.append(request.url))
    digest = sha256_of_ranges(
        client,
        "ranges",
        "big.bin",
        len(body),
        version_id=put["VersionId"],
        etag=put["ETag"],
        reads=RangedReads(connections=3, part_bytes=MIB, mode="always"),
    )
    assert digest == hashlib.sha256(body).hexdigest()
    assert len(seen) == 4 and all("X-Amz-Signature=" in url for url in seen)


def test_a_client_that_presigns_with_sigv2_is_asked_for_each_range(mocked_s3: S3Client) -> None:
    """boto3's default client in us-east-1 still presigns with SigV2: such a URL is not used."""
    assert "Signature=" in mocked_s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    reader = RangeReader.open(mocked_s3, pinned_request("b", "k", None, None), 10)
    assert reader.presigned is None


def test_a_client_that_cannot_presign_is_asked_for_each_range() -> None:
    class Plain:
        def get_object(self, **_request: Any) -> dict[str, Any]:
            raise AssertionError("not called here")

    reader = RangeReader.open(Plain(), pinned_request("b", "k", None, None), 10)  # type: ignore[arg-type]
    assert reader.presigned is None
