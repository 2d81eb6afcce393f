"""The S3 side of a multipart upload: start, presign parts, list, complete, abort.

Every call goes through `store_call`, which turns "S3 could not be reached or failed" into
`StoreUnavailable` (a 502 for the client, with the request id) and lets S3's answers about the upload
itself (NoSuchUpload, InvalidPart, ...) through as `ClientError` for the caller to name.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from form_archive_contract.s3 import error_code

from .plan import PartPlan
from .request import CompletedPart, PartDigest
from .token import UploadClaims

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

# The upload is not open (completed, aborted or expired). Ceph RGW answers ListParts of a completed upload
# with NoSuchKey.
NO_SUCH_UPLOAD_CODES = frozenset({"NoSuchUpload", "NoSuchKey", "404"})


class StoreUnavailable(Exception):
    """S3 could not be reached, or answered a server error: the client may try again later."""


@contextlib.contextmanager
def store_call() -> Iterator[None]:
    try:
        yield
    except BotoCoreError as error:  # no connection, timeouts, a broken answer
        raise StoreUnavailable(type(error).__name__) from None
    except ClientError as error:
        if int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) >= 500:
            raise StoreUnavailable(error_code(error)) from None
        raise


def is_no_such_upload(error: ClientError) -> bool:
    return error_code(error) in NO_SUCH_UPLOAD_CODES


@dataclass(frozen=True)
class HeldPart:
    """A part S3 already holds (`ListParts`)."""

    part_number: int
    size: int
    etag: str  # quotes removed
    sha256: str | None  # lowercase hex; None when the store keeps no checksums


def start_upload(client: S3Client, params: dict[str, Any]) -> str:
    """`CreateMultipartUpload` with SHA-256 part checksums; `params` carry key, type and metadata."""
    with store_call():
        answer = client.create_multipart_upload(**params, ChecksumAlgorithm="SHA256")
    return answer["UploadId"]


def part_headers(plan: PartPlan, part: PartDigest) -> dict[str, str]:
    """What the client sends with the part's bytes; every one is signed into the URL."""
    return {
        "Content-Length": str(plan.part_bytes(part.part_number)),
        "x-amz-checksum-sha256": part.sha256_b64,
        # Signed because ChecksumAlgorithm is: S3 accepts it, and moto keeps the checksum only with it.
        "x-amz-sdk-checksum-algorithm": "SHA256",
    }


def presign_part(
    client: S3Client, claims: UploadClaims, plan: PartPlan, part: PartDigest, expires_seconds: int
) -> dict[str, Any]:
    """A presigned `UploadPart` URL that S3 honours only for bytes of that length and SHA-256."""
    url = client.generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": claims.bucket,
            "Key": claims.key,
            "UploadId": claims.upload_id,
            "PartNumber": part.part_number,
            "ContentLength": plan.part_bytes(part.part_number),
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": part.sha256_b64,
        },
        ExpiresIn=expires_seconds,
        HttpMethod="PUT",
    )
    return {"part_number": part.part_number, "url": url, "headers": part_headers(plan, part)}


def _hex_checksum(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True).hex()
    except ValueError:
        return None


def list_held_parts(client: S3Client, claims: UploadClaims) -> list[HeldPart] | None:
    """Every part S3 holds for the upload, or None when the upload is not open (completed or aborted)."""
    held: list[HeldPart] = []
    marker = 0
    while True:
        try:
            with store_call():
                page = client.list_parts(
                    Bucket=claims.bucket,
                    Key=claims.key,
                    UploadId=claims.upload_id,
                    PartNumberMarker=marker,
                    MaxParts=1000,
                )
        except ClientError as error:
            if is_no_such_upload(error):
                return None
            raise
        for item in page.get("Parts", []):
            held.append(
                HeldPart(
                    part_number=item["PartNumber"],
                    size=item["Size"],
                    etag=item["ETag"].strip('"'),
                    sha256=_hex_checksum(item.get("ChecksumSHA256")),
                )
            )
        next_marker = int(page.get("NextPartNumberMarker") or 0)
        if not page.get("IsTruncated") or next_marker <= marker:
            return sorted(held, key=lambda part: part.part_number)
        marker = next_marker


def complete_upload(client: S3Client, claims: UploadClaims, parts: tuple[CompletedPart, ...]) -> None:
    """`CompleteMultipartUpload` with every part's SHA-256, so S3 verifies the composite checksum."""
    listed: list[CompletedPartTypeDef] = [
        {"PartNumber": part.part_number, "ETag": f'"{part.etag}"', "ChecksumSHA256": part.sha256_b64}
        for part in parts
    ]
    with store_call():
        client.complete_multipart_upload(
            Bucket=claims.bucket,
            Key=claims.key,
            UploadId=claims.upload_id,
            MultipartUpload={"Parts": listed},
        )


def abort_upload(client: S3Client, claims: UploadClaims) -> None:
    with store_call():
        client.abort_multipart_upload(Bucket=claims.bucket, Key=claims.key, UploadId=claims.upload_id)


def multipart_etag(part_etags: list[str]) -> str | None:
    """The ETag S3 (and RGW, and moto) gives the object a multipart upload of these parts makes: the MD5
    of the parts' binary MD5s, `-` their count. None when a part's ETag is not an MD5 (SSE-KMS)."""
    try:
        digests = b"".join(bytes.fromhex(etag) for etag in part_etags)
    except ValueError:
        return None
    if len(digests) != 16 * len(part_etags) or not part_etags:
        return None
    return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(part_etags)}"


def completed_by_this_upload(client: S3Client, claims: UploadClaims, part_etags: list[str]) -> bool:
    """Whether the key holds the version this upload made: the ETag of exactly these parts (so not
    another upload of the same key and size), its size, written after the token was issued."""
    expected = multipart_etag(part_etags)
    return expected is not None and any(
        str(version.get("ETag", "")).strip('"') == expected for version in _versions_since(client, claims)
    )


def completed_object_exists(client: S3Client, claims: UploadClaims, part_count: int) -> bool:
    """Whether the key holds a version some upload like this one made (its size, a multipart ETag of its
    part count, written after the token was issued): this upload's, or another's of the same key."""
    return any(
        str(version.get("ETag", "")).strip('"').endswith(f"-{part_count}")
        for version in _versions_since(client, claims)
    )


def _versions_since(client: S3Client, claims: UploadClaims) -> list[Any]:
    """The key's versions of the claimed size written since the token was issued. Lists versions of this
    one key only (no object is read)."""
    issued = datetime.fromtimestamp(claims.issued_at - 1, tz=UTC)
    found: list[Any] = []
    with store_call():
        pages = client.get_paginator("list_object_versions").paginate(Bucket=claims.bucket, Prefix=claims.key)
        for page in pages:
            found.extend(
                version
                for version in page.get("Versions", [])
                if version.get("Key") == claims.key
                and version.get("Size") == claims.size
                and version["LastModified"] >= issued
            )
    return found
