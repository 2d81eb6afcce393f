"""Hashing in links over HTTP (moto's server, or RGW / LocalStack): each link resumes from the checkpoint
the previous one handed over, reads only from its offset, and the last one ends at hashlib's digest."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from form_archive_contract.s3 import error_code, get_s3_client
from notify_webhook.object_hash import CarriedDecision, HashBudget, RangedReads
from notify_webhook.object_hash.link_plan import LinkPolicy
from notify_webhook.object_hash.links import hash_until
from notify_webhook.object_hash.sha256_state import HashCheckpoint
from tests.s3_stores import ARCHIVE_BUCKET

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024
# Plenty of time: the links are forced by HASH_LINK_MAX_BYTES, never by a clock.
BUDGET = HashBudget(remaining_seconds=lambda: 900.0, delivery_reserve_seconds=30.0, min_mib_s=30.0)


class Pinned:
    def __init__(self, key: str, etag: str, size: int) -> None:
        self.bucket, self.key, self.version_id, self.etag, self.size = ARCHIVE_BUCKET, key, None, etag, size


def store(client: S3Client, key: str, body: bytes) -> Pinned:
    client.put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=body)
    head = client.head_object(Bucket=ARCHIVE_BUCKET, Key=key)
    return Pinned(key, head["ETag"], head["ContentLength"])


def record_ranges(client: S3Client) -> list[str]:
    """The Range header of every GET the function's client sends, in order (None for a whole body)."""
    ranges: list[str] = []

    def before_send(request: Any, **_: Any) -> None:
        if request.method == "GET":
            value = request.headers.get("Range") or ""
            ranges.append(value.decode() if isinstance(value, bytes) else value)

    client.meta.events.register("before-send.s3", before_send)
    return ranges


def as_on_the_queue(checkpoint: HashCheckpoint) -> HashCheckpoint:
    """What the next link sees: the checkpoint rebuilt from the bytes a message carries."""
    return HashCheckpoint(int(str(checkpoint.offset)), bytes(bytearray(checkpoint.state)))


def hash_in_links(pinned: Pinned, policy: LinkPolicy, reads: RangedReads) -> tuple[str, list[int]]:
    """Every link in turn, each with the previous one's checkpoint; the digest and each link's offset."""
    checkpoint: HashCheckpoint | None = None
    offsets: list[int] = []
    for link in range(1, 100):
        offsets.append(0 if checkpoint is None else checkpoint.offset)
        answer = hash_until(get_s3_client(), pinned, checkpoint, BUDGET, policy, link=link, reads=reads)
        if isinstance(answer, str):
            return answer, offsets
        assert answer.offset > offsets[-1], "every link makes progress"
        checkpoint = as_on_the_queue(answer)
    raise AssertionError("no digest after 99 links")


@pytest.mark.parametrize(
    ("mode", "size_mib"),
    # 256 MiB with the defaults; the other modes smaller (moto reads the whole object for every range).
    [("auto", 256), ("never", 64), ("always", 32)],
)
def test_an_object_in_links_ends_at_hashlibs_digest(server_s3: S3Client, mode: str, size_mib: int) -> None:
    body = os.urandom(size_mib * MIB)
    pinned = store(server_s3, "pack/links/recording.bin", body)
    sent = record_ranges(get_s3_client())
    link_bytes = size_mib * MIB // 5 + 7  # not a multiple of 64: states with a partial block
    policy = LinkPolicy(max_link_bytes=link_bytes)
    digest, offsets = hash_in_links(pinned, policy, RangedReads(mode=mode))
    assert digest == hashlib.sha256(body).hexdigest()
    assert offsets == [n * link_bytes for n in range(5)]
    for offset in offsets[1:]:  # each later link reads from its checkpoint on, never from byte 0
        assert any(value.startswith(f"bytes={offset}-") for value in sent), offset
    assert all(value for value in sent), "no link read the whole body"


def test_a_link_told_that_ranges_pay_reads_its_span_as_ranges_and_ends_right(server_s3: S3Client) -> None:
    """The read decision carried from link to link (in the continuation): a link that starts with
    `read_connections` > 1 opens ranges over HTTP at once, from its checkpoint on, and hands it on."""
    body = os.urandom(24 * MIB + 5)
    pinned = store(server_s3, "pack/links/carried.bin", body)
    sent = record_ranges(get_s3_client())
    policy = LinkPolicy(max_link_bytes=12 * MIB + 3)
    carried = CarriedDecision(connections=3)
    checkpoint: HashCheckpoint | None = None
    reads = RangedReads(connections=4, part_bytes=4 * MIB)
    for link in (1, 2, 3):
        answer = hash_until(
            get_s3_client(), pinned, checkpoint, BUDGET, policy, link=link, reads=reads, carried=carried
        )
        if isinstance(answer, str):
            break
        checkpoint = as_on_the_queue(answer)
    assert answer == hashlib.sha256(body).hexdigest()
    assert carried.connections == 3
    assert f"bytes=0-{4 * MIB - 1}" in sent  # no stream, no probe: the first part as a range
    assert any(value.startswith(f"bytes={12 * MIB + 3}-") for value in sent)  # link 2 from its checkpoint
    assert all(value for value in sent), "no link read the whole body"


def test_an_object_replaced_between_links_fails_the_next_link_as_replaced(server_s3: S3Client) -> None:
    pinned = store(server_s3, "pack/links/replaced.bin", os.urandom(8 * MIB))
    policy = LinkPolicy(max_link_bytes=3 * MIB)
    first = hash_until(get_s3_client(), pinned, None, BUDGET, policy, link=1)
    assert isinstance(first, HashCheckpoint)
    server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key=pinned.key, Body=os.urandom(8 * MIB))
    with pytest.raises(ClientError) as raised:
        hash_until(get_s3_client(), pinned, first, BUDGET, policy, link=2)
    assert error_code(raised.value) in ("PreconditionFailed", "412")


def test_an_object_deleted_between_links_fails_the_next_link_as_gone(server_s3: S3Client) -> None:
    pinned = store(server_s3, "pack/links/deleted.bin", os.urandom(8 * MIB))
    policy = LinkPolicy(max_link_bytes=3 * MIB)
    first = hash_until(get_s3_client(), pinned, None, BUDGET, policy, link=1)
    assert isinstance(first, HashCheckpoint)
    server_s3.delete_object(Bucket=ARCHIVE_BUCKET, Key=pinned.key)
    with pytest.raises(ClientError) as raised:
        hash_until(get_s3_client(), pinned, first, BUDGET, policy, link=2)
    assert error_code(raised.value) in ("NoSuchKey", "404")
