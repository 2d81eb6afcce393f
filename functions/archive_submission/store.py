"""The one S3 write both entry points share: a conditional, checksummed, encrypted put."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from form_archive_contract.metadata import ARCHIVE_SUBMISSION, RECEIVED_AT, SUBMISSION_ID, UPLOADED_BY
from form_archive_contract.s3 import (
    CONDITIONAL_CONFLICT_CODES,
    MISSING_CODES,
    PRECONDITION_FAILED_CODES,
    error_code,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# 412: the key is taken. 409 ConditionalRequestConflict: another conditional write of the same key is
# still in flight (two retries racing); either way this request must not write.
_ALREADY_EXISTS_CODES = PRECONDITION_FAILED_CODES | CONDITIONAL_CONFLICT_CODES


class ObjectAlreadyExists(Exception):
    """An object already holds this key; the archive never overwrites."""


@dataclass(frozen=True)
class StoredSubmission:
    bucket: str
    key: str
    submission_id: str
    sha256_b64: str


def sha256_b64(body: bytes) -> str:
    """S3's checksum encoding: base64 of the raw digest."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def put_submission(
    client: S3Client,
    bucket: str,
    key: str,
    body: bytes,
    submission_id: str,
    received_at: datetime,
) -> StoredSubmission:
    """Write once; raise `ObjectAlreadyExists` when the key is taken, `ClientError` on other faults."""
    checksum = sha256_b64(body)
    try:
        client.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
            ServerSideEncryption="AES256",
            IfNoneMatch="*",
            Metadata={
                UPLOADED_BY: ARCHIVE_SUBMISSION,
                SUBMISSION_ID: submission_id,
                RECEIVED_AT: received_at.isoformat(timespec="milliseconds"),
            },
        )
    except ClientError as error:
        if error_code(error) in _ALREADY_EXISTS_CODES:
            raise ObjectAlreadyExists(key) from None
        raise
    return StoredSubmission(bucket=bucket, key=key, submission_id=submission_id, sha256_b64=checksum)


def stored_sha256_b64(client: S3Client, bucket: str, key: str) -> str | None:
    """The SHA-256 S3 holds for the object at `key` (None when there is none), to tell a true retry from a
    conflicting reuse. An object without a checksum gives "" so it never matches a body."""
    try:
        head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as error:
        if error_code(error) in MISSING_CODES:
            return None
        raise
    return head.get("ChecksumSHA256") or ""
