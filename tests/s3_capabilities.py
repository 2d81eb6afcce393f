"""What the S3 store under test supports, probed once per session, so a test the store cannot pass skips
with the reason instead of failing (moto's server, Ceph RGW and LocalStack differ; README's table).

A test marked `needs_s3("field", ...)` skips when one of `S3Capabilities`' fields is false.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.auth import SIGV4_TIMESTAMP, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.s3_stores import REGION, S3Server, server_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


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
        refuses_expired_urls = presigned_put_refused(put_url_signed_ago(server, bucket, "expired", 1), {})
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


SIGNED_AGO = datetime.timedelta(minutes=1)  # well past the one second the URL lives, well within clock skew


class _SignedInThePast(S3SigV4QueryAuth):
    """botocore's presigning (SigV4 query auth), with X-Amz-Date a minute ago instead of now."""

    def _modify_request_before_signing(self, request: AWSRequest) -> None:
        signed_at = datetime.datetime.now(datetime.UTC) - SIGNED_AGO
        request.context["timestamp"] = signed_at.strftime(SIGV4_TIMESTAMP)
        super()._modify_request_before_signing(request)  # type: ignore[misc]


def put_url_signed_ago(server: S3Server, bucket: str, key: str, lives_seconds: int) -> str:
    """A presigned PUT signed a minute ago to live `lives_seconds`: with 1, expired at once, so the probe
    need not wait for a fresh URL to run out (it is what a client holding an old URL sends)."""
    url = f"{server.endpoint}/{bucket}/{urllib.parse.quote(key)}"
    request = AWSRequest(method="PUT", url=url, headers={})
    credentials = Credentials(server.access_key, server.secret_key)
    _SignedInThePast(credentials, "s3", REGION, expires=lives_seconds).add_auth(request)
    signed_url = str(request.url)
    signed_at = urllib.parse.parse_qs(urllib.parse.urlsplit(signed_url).query)["X-Amz-Date"][0]
    age = datetime.datetime.now(datetime.UTC) - datetime.datetime.strptime(
        signed_at, SIGV4_TIMESTAMP
    ).replace(tzinfo=datetime.UTC)
    if age < SIGNED_AGO - datetime.timedelta(seconds=5):  # botocore stopped honouring the override
        raise RuntimeError(f"the expired-URL probe signed at {signed_at}, not {SIGNED_AGO} ago")
    return signed_url
