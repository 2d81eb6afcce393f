"""What this container learned about its S3 store, once: whether the bucket keeps versions (from a write's
answer) and whether the store refuses a conditional write over an existing object (one probe). With both
known, a new `Idempotency-Key` costs one conditional write and no look-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from form_archive_contract.s3 import CONDITIONAL_CONFLICT_CODES, PRECONDITION_FAILED_CODES, error_code

from .object_key import normalise_bucket_path

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The probe's object: empty, without `uploaded-by`, so the notify function skips it; at most one version
# per container start on a store that ignores the condition, none more on one that honours it.
PROBE_LEAF = ".conditional-write-probe"


@dataclass
class StoreKnowledge:
    """None: not learned yet; every decision then takes the path that is right on any store."""

    keeps_versions: bool | None = None
    refuses_overwrites: bool | None = None


_learned: dict[tuple[str, str], StoreKnowledge] = {}


def knowledge(client: S3Client, bucket: str) -> StoreKnowledge:
    """This container's knowledge of `bucket` at the client's endpoint (kept for the container's life)."""
    return _learned.setdefault((client.meta.endpoint_url, bucket), StoreKnowledge())


def forget() -> None:
    """A fresh container's view (tests switch stores between cases)."""
    _learned.clear()


def probe_key(bucket_path: str) -> str:
    prefix = normalise_bucket_path(bucket_path)
    return f"{prefix}/{PROBE_LEAF}" if prefix else PROBE_LEAF


def refuses_overwrites(client: S3Client, bucket: str, key: str) -> bool:
    """Whether the store refuses `If-None-Match: *` over an existing object: write the probe object
    conditionally until it exists, then once more; a 412 (or 409, a conditional write in flight) at any
    step proves the condition is honoured. Any other refusal answers False: the careful path."""
    for _ in range(2):
        try:
            client.put_object(
                Bucket=bucket, Key=key, Body=b"", IfNoneMatch="*", ServerSideEncryption="AES256"
            )
        except ClientError as error:
            return error_code(error) in PRECONDITION_FAILED_CODES | CONDITIONAL_CONFLICT_CODES
    return False
