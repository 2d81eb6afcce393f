"""SHA-256 of a large S3 object from parallel ranged GETs, hashed strictly in order in bounded memory.

S3 serves one connection far slower than many; AWS's guidance for large objects is parallel byte-range
GETs. Each range is pinned to the version and ETag that were headed, is retried on its own, and either
arrives whole or fails the whole hash: a partial digest is never returned.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .presigned_ranges import PresignedRanges, RangeIgnored, is_server_error, presigned_ranges
from .stream import MIB, Digest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# 16 x 5 MiB: behind a 32 MiB/s-per-connection store, 16 connections read 256 MiB 1.2x faster than 12
# (make bench-remote), and the buffers stay at (16 + 2) x 5 = 90 MiB at most.
DEFAULT_CONNECTIONS = 16
DEFAULT_PART_BYTES = 5 * MIB
MIN_PART_BYTES = 1 * MIB
MAX_PART_BYTES = 64 * MIB
# Attempts per range for faults botocore does not retry itself (a body cut short, a read timeout).
RANGE_ATTEMPTS = 3
# Seconds: the first pause after a range's 5xx answer is up to twice this, the next up to four times.
SERVER_ERROR_PAUSE = 0.1
# HASH_RANGES: "auto" opens ranges only when a probe shows they add throughput (read_strategy), "always"
# opens `connections` ranges at once (a store known to cap each connection), "never" reads one stream.
RANGE_MODES = ("auto", "always", "never")


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
    mode: str = "auto"

    def __post_init__(self) -> None:
        if self.connections < 1:
            raise ValueError("connections must be at least 1")
        if self.mode not in RANGE_MODES:
            raise ValueError(f"mode must be one of {', '.join(RANGE_MODES)}")
        if not MIN_PART_BYTES <= self.part_bytes <= MAX_PART_BYTES:
            raise ValueError(f"part_bytes must be between {MIN_PART_BYTES} and {MAX_PART_BYTES}")

    def applies_to(self, size: int | None) -> bool:
        """Ranges may pay off from two parts on, and only with more than one connection."""
        return self.mode != "never" and self.connections > 1 and size is not None and size > self.part_bytes


def plan_ranges(size: int, part_bytes: int, start: int = 0) -> list[tuple[int, int]]:
    """Inclusive (first, last) byte offsets that cover bytes `start` to `size` in order, `part_bytes` each."""
    if size < 0 or part_bytes < 1 or not 0 <= start <= size:
        raise ValueError("size must be >= 0, part_bytes >= 1 and start within the size")
    return [(first, min(first + part_bytes, size) - 1) for first in range(start, size, part_bytes)]


def pinned_request(bucket: str, key: str, version_id: str | None, etag: str | None) -> dict[str, str]:
    """GetObject parameters pinned to what was headed: another version or other bytes fail, not hash."""
    request: dict[str, str] = {"Bucket": bucket, "Key": key}
    if version_id:
        request["VersionId"] = version_id
    if etag:
        request["IfMatch"] = etag
    return request


@dataclass(frozen=True)
class RangeReader:
    """Ranges of one pinned object. With `presigned`, each is a GET on one presigned URL (a SigV4 botocore
    client signs once per object: `presigned_ranges`); without, a `get_object` call each."""

    client: S3Client
    request: dict[str, str]
    size: int
    stop: threading.Event
    presigned: PresignedRanges | None = None

    @classmethod
    def open(cls, client: S3Client, request: dict[str, str], size: int) -> RangeReader:
        return cls(client, request, size, threading.Event(), presigned_ranges(client, request))

    def fetch(self, first: int, last: int, answered: list[float] | None = None) -> bytes:
        """One range, retried on its own; gives up early once the hash as a whole has failed. `answered`
        gets the moment (perf_counter) each attempt's answer began, when given. A presigned range's 5xx is
        asked again after a short, jittered pause, as botocore's own retries do for its calls."""
        for attempt in range(1, RANGE_ATTEMPTS + 1):
            try:
                return self._fetch_once(first, last, answered)
            except ClientError as error:
                retried_by_botocore = self.presigned is None
                if (
                    retried_by_botocore
                    or not is_server_error(error)
                    or attempt == RANGE_ATTEMPTS
                    or self.stop.is_set()
                ):
                    raise
                time.sleep(random.uniform(0, SERVER_ERROR_PAUSE * 2**attempt))  # noqa: S311 - jitter
            except (BotoCoreError, OSError):
                if attempt == RANGE_ATTEMPTS or self.stop.is_set():
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _fetch_once(self, first: int, last: int, answered: list[float] | None) -> bytes:
        if self.presigned is not None:
            response: Any = self.presigned.get_range(first, last)
        else:
            response = self.client.get_object(**self.request, Range=f"bytes={first}-{last}")  # type: ignore[arg-type]
        if answered is not None:
            answered.append(time.perf_counter())
        body = response["Body"]
        try:
            expected = last - first + 1
            content_range = f"bytes {first}-{last}/{self.size}"
            if response.get("ContentRange") is None:  # the whole object: a store that ignores Range
                raise RangeIgnored(f"asked for {content_range}, got no Content-Range; nothing read")
            if response.get("ContentLength") != expected or response.get("ContentRange") != content_range:
                # A store that ignores Range would send the whole object: do not read it.
                raise RangeReadError(
                    f"asked for {content_range}, got {response.get('ContentRange')!r} "
                    f"({response.get('ContentLength')} bytes)"
                )
            data: bytes = body.read()  # botocore checks the length against Content-Length
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
    reader = RangeReader.open(client, pinned_request(bucket, key, version_id, etag), size)
    digest = hashlib.sha256()
    with ThreadPoolExecutor(max_workers=reads.connections, thread_name_prefix="sha256-range") as pool:
        hash_ranges_in_order(
            pool, reader, iter(plan_ranges(size, reads.part_bytes)), reads.connections, digest
        )
    return digest.hexdigest()


def hash_ranges_in_order(
    pool: ThreadPoolExecutor,
    reader: RangeReader,
    ranges: Iterator[tuple[int, int]],
    connections: int,
    digest: Digest,
    started: list[Future[bytes]] | None = None,
) -> None:
    """Fetch `ranges` with `connections` in flight and feed them to `digest` in order, after the ranges
    `started` earlier. `started` is taken over (emptied): a future still referenced elsewhere would keep
    its part alive after it was hashed. On any failure the rest is cancelled and the error propagates."""
    # One more range than connections is queued, so a connection that finishes early starts the next
    # part at once instead of waiting for the part ahead of it in the hash order.
    pending: deque[Future[bytes]] = deque(started or ())
    if started:
        started.clear()
    pending.extend(
        pool.submit(reader.fetch, *span) for span in islice(ranges, connections + 1 - len(pending))
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
