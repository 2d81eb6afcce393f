"""The notification for one object: the head that filters it, the hash, the exact JSON body sent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from form_archive_contract.metadata import UPLOADER_EMAIL, UPLOADER_NAME
from form_archive_contract.s3 import MISSING_CODES, PRECONDITION_FAILED_CODES, error_code

from .hashing import sha256_hex_from_checksum
from .object_key_parts import split_key
from .ranged_hash import RangedReads, sha256_of_body

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef


class ObjectGone(Exception):
    """The object (or the event's version of it) no longer exists: nothing left to announce."""


class ObjectReplaced(Exception):
    """The key now holds other bytes than the event announced; the newer write brings its own event."""


def strip_etag(etag: str | None) -> str:
    return (etag or "").strip('"')


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    version_id: str | None
    event_etag: str
    sequencer: str


def head_object(client: S3Client, target: S3Object) -> HeadObjectOutputTypeDef:
    """Head with checksums; a 404 becomes `ObjectGone`, other S3 errors propagate."""
    request: dict[str, str] = {"Bucket": target.bucket, "Key": target.key, "ChecksumMode": "ENABLED"}
    if target.version_id:
        request["VersionId"] = target.version_id
    try:
        return client.head_object(**request)  # type: ignore[arg-type]
    except ClientError as error:
        if error_code(error) in MISSING_CODES:
            raise ObjectGone(target.key) from None
        raise


def object_sha256(
    client: S3Client,
    target: S3Object,
    head: HeadObjectOutputTypeDef,
    reads: RangedReads = RangedReads(),  # noqa: B008 - frozen, so one shared default is safe
) -> tuple[str, bool]:
    """(hex SHA-256, whether S3's checksum was used). The body read (one stream, or parallel ranges for a
    large object) is pinned to what was headed."""
    from_checksum = sha256_hex_from_checksum(head)
    if from_checksum is not None:
        return from_checksum, True
    try:
        digest = sha256_of_body(
            client,
            target.bucket,
            target.key,
            head.get("ContentLength"),
            version_id=head.get("VersionId") or target.version_id,
            etag=head.get("ETag"),
            reads=reads,
        )
    except ClientError as error:
        code = error_code(error)
        if code in MISSING_CODES:
            raise ObjectGone(target.key) from None
        if code in PRECONDITION_FAILED_CODES:
            raise ObjectReplaced(target.key) from None
        raise
    return digest, False


def build_payload(
    target: S3Object, head: HeadObjectOutputTypeDef, sha256: str, secret: str | None
) -> dict[str, Any]:
    """Exactly the fields receivers expect; `secret_token` only when the secret goes in the body."""
    parts = split_key(target.key)
    metadata = head.get("Metadata") or {}
    payload: dict[str, Any] = {
        "datapack_identifier": parts.datapack_identifier,
        "display": parts.display,
        "path": parts.path,
        "content_type": head.get("ContentType"),
        "length": head.get("ContentLength"),
        "etag": target.event_etag or strip_etag(head.get("ETag")),
        "sha256": sha256,
        "submitter_name": metadata.get(UPLOADER_NAME),
        "submitter_email": metadata.get(UPLOADER_EMAIL),
        "_updated": str(head.get("LastModified")),
    }
    if secret is not None:
        payload["secret_token"] = secret
    return payload


def encode_body(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed are the bytes that are sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
