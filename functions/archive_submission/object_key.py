"""Object key layout: `{bucket_path}/{yyyy}/{mm}/{dd}/{submission_id}.json`, and for an `Idempotency-Key`
`{bucket_path}/{idem id}.json`, whose key must not depend on the day a retry arrives."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class BucketPathError(ValueError):
    """The configured folder cannot be turned into a safe key prefix."""


def normalise_bucket_path(bucket_path: str) -> str:
    """Drop leading, trailing and doubled slashes; refuse `.`/`..` segments (they read as traversal)."""
    segments = [segment for segment in bucket_path.split("/") if segment]
    for segment in segments:
        if segment in {".", ".."}:
            raise BucketPathError(f"bucket_path may not contain a '{segment}' segment")
    return "/".join(segments)


def _encode_base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, index = divmod(value, 32)
        chars.append(_CROCKFORD[index])
    return "".join(reversed(chars))


def new_submission_id(now_ms: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, so ids sort by time and never collide."""
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    randomness = int.from_bytes(os.urandom(10), "big")
    return _encode_base32(millis, 10) + _encode_base32(randomness, 16)


def idempotent_submission_id(idempotency_key: str) -> str:
    """The same client key always names the same object, which lets `IfNoneMatch` deduplicate."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()
    return f"idem-{digest[:40]}"


def build_object_key(bucket_path: str, received_at: datetime, submission_id: str) -> str:
    """Date folders use UTC so one day's submissions sit together wherever the caller is."""
    day = received_at.astimezone(UTC).strftime("%Y/%m/%d")
    return _in_folder(bucket_path, f"{day}/{submission_id}.json")


def build_idempotent_object_key(bucket_path: str, submission_id: str) -> str:
    """No date folder: a retry on any later day names the same object, so one conditional write (and
    no look-up in other days' folders) tells a new key from a used one."""
    return _in_folder(bucket_path, f"{submission_id}.json")


def _in_folder(bucket_path: str, leaf: str) -> str:
    prefix = normalise_bucket_path(bucket_path)
    return f"{prefix}/{leaf}" if prefix else leaf
