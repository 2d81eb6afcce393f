"""Object key layout: `{bucket_path}/{yyyy}/{mm}/{dd}/{submission_id}.json`."""

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
    prefix = normalise_bucket_path(bucket_path)
    leaf = f"{day}/{submission_id}.json"
    return f"{prefix}/{leaf}" if prefix else leaf
