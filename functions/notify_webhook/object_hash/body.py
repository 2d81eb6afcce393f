"""SHA-256 of an object's body, or of one span of it (a link): one stream first, parallel ranged GETs
only when they add throughput (`adaptive_read`), ranges at once for `HASH_RANGES=always`, one stream
for small objects or `never`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from .adaptive_read import PROBE_BYTES, AdaptiveRead, OneStream, Span, never, until
from .presigned_ranges import RangeIgnored
from .ranges import (
    RangedReads,
    RangeReader,
    hash_ranges_in_order,
    pinned_request,
    plan_ranges,
    sha256_of_ranges,
)
from .read_strategy import CarriedDecision, FromThroughputs, ReadChoice
from .stream import Digest, sha256_of_object

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["PROBE_BYTES", "Span", "hash_span", "sha256_of_body"]


def sha256_of_body(
    client: S3Client,
    bucket: str,
    key: str,
    size: int | None,
    *,
    version_id: str | None = None,
    etag: str | None = None,
    reads: RangedReads = RangedReads(),  # noqa: B008 - frozen, so one shared default is safe
    choice: ReadChoice = FromThroughputs(),  # noqa: B008 - frozen, as above
    carried: CarriedDecision | None = None,
) -> str:
    """Lowercase hex SHA-256 of the pinned body: one stream for small objects or `mode="never"`, ranges
    at once for `mode="always"`, else one stream that opens ranges only when a probe says they pay.
    `choice` makes the two decisions from what was measured (`read_strategy.FromThroughputs`);
    `carried` (`read_memory`): ranges at once when an earlier read from this store found they pay;
    updated with what this read decided."""
    if size is None or not reads.applies_to(size):
        return sha256_of_object(client, bucket, key, version_id=version_id, etag=etag)
    known = carried.connections if carried is not None else 0
    if reads.mode == "always" or (reads.mode == "auto" and known > 1):
        at_once = (
            reads if reads.mode == "always" else replace(reads, connections=min(known, reads.connections))
        )
        try:
            return sha256_of_ranges(
                client, bucket, key, size, version_id=version_id, etag=etag, reads=at_once
            )
        except RangeIgnored:  # a store that sends the whole object for a range: read it once, as a stream
            if carried is not None:
                carried.connections = 1
            return sha256_of_object(client, bucket, key, version_id=version_id, etag=etag)
    request = pinned_request(bucket, key, version_id, etag)
    digest = hashlib.sha256()
    read = AdaptiveRead(client, request, size, reads, choice, digest)
    read.run()
    if carried is not None and read.decided:
        carried.connections = read.connections
    return digest.hexdigest()


def hash_span(
    client: S3Client,
    request: dict[str, str],
    span: Span,
    digest: Digest,
    *,
    reads: RangedReads = RangedReads(),  # noqa: B008 - frozen, so one shared default is safe
    choice: ReadChoice = FromThroughputs(),  # noqa: B008 - frozen, as above
    should_stop: Callable[[], bool] = never,
    carried: CarriedDecision | None = None,
) -> None:
    """Feed `span`'s bytes of the pinned object (`request`) to `digest`, read as `sha256_of_body` reads a
    body, and stop early, at a chunk or part boundary, once `should_stop()` says so: the caller learns
    how far it got from the digest. What was read is hashed whole; a fault propagates as there.
    `carried` (links): ranges at once when an earlier link found they pay; updated with what this read
    decided."""
    applies = reads.applies_to(span.end - span.start)
    known = carried.connections if carried is not None and reads.mode == "auto" else 0
    if applies and (reads.mode == "always" or known > 1):
        connections = reads.connections if reads.mode == "always" else min(known, reads.connections)
        reader = RangeReader.open(client, request, span.size)
        with ThreadPoolExecutor(max_workers=connections, thread_name_prefix="sha256-range") as pool:
            spans = until(iter(plan_ranges(span.end, reads.part_bytes, span.start)), should_stop)
            hash_ranges_in_order(pool, reader, spans, connections, digest)
        return
    read = AdaptiveRead(
        client, request, span.size, reads, choice if applies else OneStream(), digest, span, should_stop
    )
    read.run()
    if carried is not None and applies and read.decided:
        carried.connections = read.connections
