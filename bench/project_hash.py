"""The one place the bench touches notify_webhook's hashing: called exactly as its handler calls it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from form_archive_contract.s3 import get_s3_client
from notify_webhook.event_shapes import ObjectRef
from notify_webhook.notification import head_object, object_sha256, strip_etag
from notify_webhook.object_hash import RangedReads
from notify_webhook.settings import hash_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import PutObjectOutputTypeDef


def project_client() -> S3Client:
    """notify_webhook's own cached client (its config, its connection pool)."""
    return get_s3_client()


def event_target(bucket: str, key: str, put: PutObjectOutputTypeDef) -> ObjectRef:
    """What the handler builds from the ObjectCreated record of this upload."""
    return ObjectRef(
        bucket=bucket,
        key=key,
        version_id=put.get("VersionId") or None,
        event_etag=strip_etag(put.get("ETag")),
        sequencer="0000000000000000000000000000000000",
    )


def project_sha256_hex(client: S3Client, target: ObjectRef, reads: RangedReads | None = None) -> str:
    """The handler's two steps: head (checksums enabled), then S3's SHA-256 or the pinned body (one stream,
    or parallel ranges for a large object). `reads` defaults to the function's, from the environment."""
    head = head_object(client, target)
    digest, _from_checksum = object_sha256(client, target, head, reads or hash_settings(os.environ))
    return digest
