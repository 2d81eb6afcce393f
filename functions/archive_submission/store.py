"""The one S3 write both entry points share: a conditional, checksummed, encrypted put; and the look-ups
that tell an `Idempotency-Key` retry from a conflicting reuse on any S3 store, including one that keeps no
additional checksums or ignores `If-None-Match` (Ceph RGW 16 in a versioned bucket)."""

from __future__ import annotations

import base64
import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

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
    etag: str = ""
    version_id: str | None = None  # set only in a versioned bucket


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
    sent: IO[bytes] | None = None,
) -> StoredSubmission:
    """Write once; raise `ObjectAlreadyExists` when the key is taken, `ClientError` on other faults.
    `sent`: a stream of the same bytes to send instead (one that decides when they may go)."""
    checksum = sha256_b64(body)
    try:
        answer = client.put_object(
            Bucket=bucket,
            Key=key,
            Body=body if sent is None else sent,
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
    return StoredSubmission(
        bucket=bucket,
        key=key,
        submission_id=submission_id,
        sha256_b64=checksum,
        etag=_unquoted(answer.get("ETag", "")),
        version_id=answer.get("VersionId"),
    )


def _unquoted(etag: str) -> str:
    return etag.strip('"')


def oldest_version(client: S3Client, bucket: str, key: str) -> str | None:
    """The version id of `key`'s oldest version, also one hidden behind a delete marker ("null" in an
    unversioned bucket); None when the key has no version at all. The oldest version holds the first
    answer to an `Idempotency-Key`, whatever was written or deleted after it."""
    oldest: str | None = None
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        for item in page.get("Versions", []):  # newest first: the last one seen is the oldest
            if item.get("Key") == key:
                oldest = item.get("VersionId") or "null"
    return oldest


class KeyState(enum.Enum):
    """What a HEAD of a key found: an object, a delete marker over older versions, or nothing at all."""

    PRESENT = "present"
    DELETED = "deleted"
    ABSENT = "absent"


@dataclass(frozen=True)
class KeyLookup:
    state: KeyState
    head: Mapping[str, Any] = field(default_factory=dict)  # the HEAD answer when PRESENT


def look_up(client: S3Client, bucket: str, key: str) -> KeyLookup:
    """One HEAD: whether `key` holds an object, only a delete marker (older versions hide behind it in a
    versioned bucket), or nothing; S3 and the stores in the suite mark the delete marker in the 404."""
    try:
        head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as error:
        if error_code(error) not in MISSING_CODES:
            raise
        headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        marked = str(headers.get("x-amz-delete-marker", "")).lower() == "true"
        return KeyLookup(KeyState.DELETED if marked else KeyState.ABSENT)
    return KeyLookup(KeyState.PRESENT, head)


def holds_body(
    client: S3Client, bucket: str, key: str, body: bytes, version_id: str | None = None
) -> bool | None:
    """Whether the object at `key` (that version of it) holds exactly `body` (None when there is no such
    object), to tell a true retry from a conflicting reuse."""
    version: dict[str, str] = {} if version_id in (None, "null") else {"VersionId": str(version_id)}
    try:
        head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED", **version)  # type: ignore[arg-type]
    except ClientError as error:
        if error_code(error) in MISSING_CODES:
            return None
        raise
    return head_holds_body(client, bucket, key, body, head, version_id)


def head_holds_body(
    client: S3Client,
    bucket: str,
    key: str,
    body: bytes,
    head: Mapping[str, Any],
    version_id: str | None = None,
) -> bool:
    """Whether the object a HEAD answered about holds exactly `body`. S3 answers from the SHA-256 it
    stored with the object; a store without additional checksums (Ceph RGW 16) costs a GET when the
    lengths agree (a submission is small)."""
    stored = head.get("ChecksumSHA256")
    if stored:
        return bool(stored == sha256_b64(body))
    if head.get("ContentLength") != len(body):
        return False
    version: dict[str, str] = {} if version_id in (None, "null") else {"VersionId": str(version_id)}
    obj = client.get_object(Bucket=bucket, Key=key, IfMatch=str(head["ETag"]), **version)  # type: ignore[arg-type]
    return bool(obj["Body"].read() == body)


def versions_oldest_first(client: S3Client, written: StoredSubmission) -> list[tuple[str, str]]:
    """(version id, ETag) of every version of `written.key`, oldest first: more than the one just written
    only when the store accepted a conditional write over an existing object (or two writes raced on a
    store that ignores `If-None-Match`)."""
    listing = client.list_object_versions(Bucket=written.bucket, Prefix=written.key)
    # S3 lists a key's versions newest first.
    return [
        (item.get("VersionId", ""), _unquoted(item.get("ETag", "")))
        for item in reversed(listing.get("Versions", []))
        if item.get("Key") == written.key
    ]
