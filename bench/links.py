"""One object hashed in links against the same object hashed in one invocation: what a hand-off costs.

Both run the function's own link code (`object_hash.links.hash_until`) with its read settings on the same
store in the same run, interleaved round by round (the order alternating): once with no byte limit (one
invocation), once with `HASH_LINK_MAX_BYTES` set so that the hash takes `links` links, each link a new
call that starts from the checkpoint the previous one handed over (rebuilt from its bytes, as from a
message) and with the read decision it handed on (`CarriedDecision`, as the continuation carries it).
The hand-off's own SQS round trip and a new invocation's start are not in these figures.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from bench.measure import MIB
from bench.stats import Series
from notify_webhook.object_hash import CarriedDecision, HashBudget
from notify_webhook.object_hash.link_plan import LinkPolicy
from notify_webhook.object_hash.links import hash_until
from notify_webhook.object_hash.sha256_state import HashCheckpoint

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from notify_webhook.object_hash import RangedReads

LINKS_KEY = "bench/links.bin"
# As much time as a 900 s function has: the links are made by the byte limit, never by the clock.
_BUDGET = HashBudget(remaining_seconds=lambda: 900.0, delivery_reserve_seconds=30.0, min_mib_s=30.0)


@dataclass(frozen=True)
class LinksObject:
    bucket: str
    key: str
    version_id: str | None
    etag: str
    size: int
    sha256_hex: str


@dataclass(frozen=True)
class LinkFigures:
    links: int
    one_mib_s: Series
    links_mib_s: Series
    ratio: Series


def upload_links_object(bucket: str, size: int) -> LinksObject:
    """Random bytes straight to the store (no checksum, so the body must be read), bucket as it is."""
    data = os.urandom(size)
    uploader = boto3.client("s3", config=Config(request_checksum_calculation="when_required"))
    # In parts, as a browser uploads a large file: one 1 GiB PUT is more than some stores take at once.
    parts = TransferConfig(multipart_threshold=64 * MIB, multipart_chunksize=64 * MIB, max_concurrency=4)
    uploader.upload_fileobj(io.BytesIO(data), bucket, LINKS_KEY, Config=parts)
    head = uploader.head_object(Bucket=bucket, Key=LINKS_KEY)
    return LinksObject(
        bucket, LINKS_KEY, head.get("VersionId") or None, head["ETag"], size, hashlib.sha256(data).hexdigest()
    )


def hash_in_links(
    client: S3Client, obj: LinksObject, policy: LinkPolicy, reads: RangedReads
) -> tuple[str, int]:
    """Link after link until the digest; (the digest, the links it took)."""
    checkpoint: HashCheckpoint | None = None
    carried = CarriedDecision()  # the read decision, handed on as a continuation carries it
    link = 1
    while True:
        answer = hash_until(client, obj, checkpoint, _BUDGET, policy, link=link, reads=reads, carried=carried)
        if isinstance(answer, str):
            return answer, link
        checkpoint = HashCheckpoint(answer.offset, bytes(answer.state))  # as a message carries it
        link += 1


def _timed_mib_s(
    client: S3Client, obj: LinksObject, policy: LinkPolicy, reads: RangedReads
) -> tuple[float, int]:
    started = time.perf_counter()
    digest, links = hash_in_links(client, obj, policy, reads)
    seconds = time.perf_counter() - started
    if digest != obj.sha256_hex:
        raise RuntimeError(f"{links} link(s) gave {digest}, expected {obj.sha256_hex}")
    return obj.size / MIB / seconds, links


def measure_links(
    client: S3Client, obj: LinksObject, links: int, rounds: int, reads: RangedReads
) -> LinkFigures:
    """`rounds` pairs of (one invocation, `links` links), the order alternating, after one warm-up pair."""
    per_link = LinkPolicy(max_link_bytes=math.ceil(obj.size / links))
    whole = LinkPolicy()
    figures = LinkFigures(
        links,
        Series("links_one_invocation_mib_s", "MiB/s"),
        Series("links_chained_mib_s", "MiB/s"),
        Series("links_vs_one_invocation", "x"),
    )
    _timed_mib_s(client, obj, whole, reads)
    _timed_mib_s(client, obj, per_link, reads)
    for index in range(rounds):
        pair = [("one", whole), ("links", per_link)]
        rates: dict[str, float] = {}
        for name, policy in pair if index % 2 == 0 else pair[::-1]:
            rates[name], taken = _timed_mib_s(client, obj, policy, reads)
            expected = 1 if name == "one" else links
            if taken != expected:
                raise RuntimeError(f"{name}: {taken} links, expected {expected}")
        figures.one_mib_s.add(rates["one"])
        figures.links_mib_s.add(rates["links"])
        figures.ratio.add(rates["links"] / rates["one"])
    return figures
