"""SHA-256 of a large S3 object from parallel ranged GETs, hashed strictly in order in bounded memory.

S3 serves one connection far slower than many; AWS's guidance for large objects is parallel byte-range
GETs. Each range is pinned to the version and ETag that were headed, is retried on its own, and either
arrives whole or fails the whole hash: a partial digest is never returned.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError

from .hashing import MIB, sha256_of_object

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_CONNECTIONS = 8
DEFAULT_PART_BYTES = 8 * MIB
MIN_PART_BYTES = 1 * MIB
MAX_PART_BYTES = 64 * MIB
# Attempts per range for faults botocore does not retry itself (a body cut short, a read timeout).
RANGE_ATTEMPTS = 3


class RangeReadError(Exception):
    """A range came back with other bytes than asked for (wrong length or Content-Range)."""


@dataclass(frozen=True)
class RangedReads:
    """How a large body is read: `connections` ranged GETs in flight, `part_bytes` each.

    Memory stays at about (connections + 2) x part_bytes: the connections' parts, one more that is queued
    or waiting its turn, and the part being hashed.
    """

    connections: int = DEFAULT_CONNECTIONS
    part_bytes: int = DEFAULT_PART_BYTES

    def __post_init__(self) -> None:
        if self.connections < 1:
            raise ValueError("connections must be at least 1")
        if not MIN_PART_BYTES <= self.part_bytes <= MAX_PART_BYTES:
            raise ValueError(f"part_bytes must be between {MIN_PART_BYTES} and {MAX_PART_BYTES}")

    def applies_to(self, size: int | None) -> bool:
        """Ranges pay off from two parts on, and only with more than one connection."""
        return self.connections > 1 and size is not None and size > self.part_bytes


def plan_ranges(size: int, part_bytes: int) -> list[tuple[int, int]]:
    """Inclusive (first, last) byte offsets that cover `size` bytes in order, `part_bytes` each."""
    if size < 0 or part_bytes < 1:
        raise ValueError("size must be >= 0 and part_bytes >= 1")
    return [(first, min(first + part_bytes, size) - 1) for first in range(0, size, part_bytes)]


@dataclass(frozen=True)
class _RangeReader:
    client: S3Client
    request: dict[str, str]
    size: int
    stop: threading.Event

    def fetch(self, first: int, last: int) -> bytes:
        """One range, retried on its own; gives up early once the hash as a whole has failed."""
        for attempt in range(1, RANGE_ATTEMPTS + 1):
            try:
                return self._fetch_once(first, last)
            except (BotoCoreError, OSError):
                if attempt == RANGE_ATTEMPTS or self.stop.is_set():
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _fetch_once(self, first: int, last: int) -> bytes:
        response = self.client.get_object(**self.request, Range=f"bytes={first}-{last}")  # type: ignore[arg-type]
        body = response["Body"]
        try:
            expected = last - first + 1
            content_range = f"bytes {first}-{last}/{self.size}"
            if response.get("ContentLength") != expected or response.get("ContentRange") != content_range:
                # A store that ignores Range would send the whole object: do not read it.
                raise RangeReadError(
                    f"asked for {content_range}, got {response.get('ContentRange')!r} "
                    f"({response.get('ContentLength')} bytes)"
                )
            data = body.read()  # botocore checks the length against Content-Length
        finally:
            body.close()
        if len(data) != expected:  # pragma: no cover - botocore raises IncompleteReadError first
            raise RangeReadError(f"range {first}-{last}: {len(data)} of {expected} bytes")
        return data


def sha256_of_ranges(
    client: S3Client,
    bucket: str,
    key: str,
    size: int,
    *,
    version_id: str | None = None,
    etag: str | None = None,
    reads: RangedReads = RangedReads(),
) -> str:
    """Lowercase hex SHA-256 of `size` bytes fetched as ranged GETs over `reads.connections` threads.

    Parts are hashed in object order whatever order they arrive in; at most `connections + 1` parts are
    in flight or waiting, plus the one being hashed. Any range that still fails after its retries cancels
    the rest and propagates (botocore's `ClientError` / `BotoCoreError`, or `RangeReadError`).
    """
    request: dict[str, str] = {"Bucket": bucket, "Key": key}
    if version_id:
        request["VersionId"] = version_id
    if etag:
        request["IfMatch"] = etag
    reader = _RangeReader(client, request, size, threading.Event())
    ranges: Iterator[tuple[int, int]] = iter(plan_ranges(size, reads.part_bytes))
    digest = hashlib.sha256()
    with ThreadPoolExecutor(max_workers=reads.connections, thread_name_prefix="sha256-range") as pool:
        # One more range than connections is queued, so a connection that finishes early starts the next
        # part at once instead of waiting for the part ahead of it in the hash order.
        pending: deque[Future[bytes]] = deque(
            pool.submit(reader.fetch, *span) for span in islice(ranges, reads.connections + 1)
        )
        try:
            while pending:
                part = pending.popleft().result()
                following = next(ranges, None)
                if following is not None:  # keep every connection busy while this part is hashed
                    pending.append(pool.submit(reader.fetch, *following))
                digest.update(part)  # hashlib releases the GIL: the downloads go on meanwhile
                del part
        except BaseException:
            reader.stop.set()
            for future in pending:
                future.cancel()
            raise
    return digest.hexdigest()


def sha256_of_body(
    client: S3Client,
    bucket: str,
    key: str,
    size: int | None,
    *,
    version_id: str | None = None,
    etag: str | None = None,
    reads: RangedReads = RangedReads(),
) -> str:
    """Parallel ranges from two parts on, else the single overlapped stream; both pinned the same way."""
    if size is not None and reads.applies_to(size):
        return sha256_of_ranges(client, bucket, key, size, version_id=version_id, etag=etag, reads=reads)
    return sha256_of_object(client, bucket, key, version_id=version_id, etag=etag)
