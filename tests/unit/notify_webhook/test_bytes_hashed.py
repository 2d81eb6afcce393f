"""`BytesHashed`: the bytes an invocation hashed, per whole-body read and per link (in-process moto)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from aws_lambda_powertools import Metrics

from notify_webhook.event_shapes import ObjectRef
from notify_webhook.notification import object_sha256
from notify_webhook.object_hash import HashBudget, LinkPolicy, RangedReads, hash_until
from notify_webhook.object_hash.hashed_bytes import METRIC_NAME
from notify_webhook.object_hash.sha256_state import HashCheckpoint
from tests.s3_stores import ARCHIVE_BUCKET

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    """Powertools' one metric set, empty before and after the test."""
    metrics = Metrics(namespace="FormArchive")
    metrics.clear_metrics()
    yield metrics
    metrics.clear_metrics()


def bytes_hashed(metrics: Metrics) -> list[float]:
    entry = metrics.metric_set.get(METRIC_NAME)
    if entry is None:
        return []
    assert entry["Unit"] == "Bytes"
    return list(entry["Value"])


class Pinned:
    def __init__(self, key: str, etag: str, size: int) -> None:
        self.bucket, self.key, self.version_id, self.etag, self.size = ARCHIVE_BUCKET, key, None, etag, size


def test_each_link_counts_only_the_bytes_it_hashed(mocked_s3: S3Client, metrics: Metrics) -> None:
    body = os.urandom(2 * MIB + 7)
    put = mocked_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="pack/big.bin", Body=body)
    pinned = Pinned("pack/big.bin", put["ETag"], len(body))
    budget = HashBudget(lambda: 900.0, 30.0, 30.0)
    policy, reads = LinkPolicy(max_link_bytes=MIB), RangedReads(mode="never")
    per_link: list[list[float]] = []
    answer: str | HashCheckpoint | None = None
    for link in (1, 2, 3):
        checkpoint = answer if isinstance(answer, HashCheckpoint) else None
        answer = hash_until(mocked_s3, pinned, checkpoint, budget, policy, link=link, reads=reads)
        per_link.append(bytes_hashed(metrics))
        metrics.clear_metrics()
    assert answer == hashlib.sha256(body).hexdigest()
    assert per_link == [[MIB], [MIB], [7]]


def test_a_body_read_counts_the_object_and_a_reused_checksum_counts_nothing(
    mocked_s3: S3Client, metrics: Metrics
) -> None:
    mocked_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="read", Body=b"no sha here")
    mocked_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="reused", Body=b"hello", ChecksumAlgorithm="SHA256")
    for key in ("read", "reused"):
        head = mocked_s3.head_object(Bucket=ARCHIVE_BUCKET, Key=key, ChecksumMode="ENABLED")
        object_sha256(mocked_s3, ObjectRef(ARCHIVE_BUCKET, key, None, "", ""), head)
    assert bytes_hashed(metrics) == [len(b"no sha here")]
