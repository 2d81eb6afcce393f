"""One link of a hash, on in-process moto: stopping on time, the link cap, what no link can finish."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from notify_webhook.object_hash import HashBudget, ObjectTooLargeToHash, RangedReads
from notify_webhook.object_hash.link_plan import LinkCapReached, LinkPolicy, NoLinkCanFinish
from notify_webhook.object_hash.links import CheckpointBeyondObject, hash_until
from notify_webhook.object_hash.sha256_state import HashCheckpoint, ResumableSha256
from tests.s3_stores import ARCHIVE_BUCKET

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024


class Pinned:
    def __init__(self, key: str, etag: str, size: int) -> None:
        self.bucket, self.key, self.version_id, self.etag, self.size = ARCHIVE_BUCKET, key, None, etag, size


def store(client: S3Client, body: bytes) -> Pinned:
    answer = client.put_object(Bucket=ARCHIVE_BUCKET, Key="pack/big.bin", Body=body)
    return Pinned("pack/big.bin", answer["ETag"], len(body))


def clock_running_out(after_calls: int) -> Callable[[], float]:
    """Remaining seconds: plenty for `after_calls` looks, then none (a clock that needs no sleeping)."""
    calls = 0

    def remaining() -> float:
        nonlocal calls
        calls += 1
        return 900.0 if calls <= after_calls else 0.0

    return remaining


def test_a_link_whose_time_runs_out_hands_over_where_it_stopped(mocked_s3: S3Client) -> None:
    body = os.urandom(12 * MIB)
    pinned = store(mocked_s3, body)
    budget = HashBudget(clock_running_out(6), delivery_reserve_seconds=30.0, min_mib_s=0.01)
    answer = hash_until(mocked_s3, pinned, None, budget, LinkPolicy(), reads=RangedReads(mode="never"))
    assert isinstance(answer, HashCheckpoint)
    assert 0 < answer.offset < len(body)
    rest = ResumableSha256(answer)
    rest.update(body[answer.offset :])
    assert rest.hexdigest() == hashlib.sha256(body).hexdigest()


def test_a_link_that_reaches_the_end_answers_the_digest(mocked_s3: S3Client) -> None:
    body = os.urandom(3 * MIB + 5)
    pinned = store(mocked_s3, body)
    state = ResumableSha256()
    state.update(body[: 2 * MIB + 10])
    budget = HashBudget(lambda: 900.0, 30.0, 30.0)
    answer = hash_until(mocked_s3, pinned, state.checkpoint(), budget, LinkPolicy(max_link_bytes=MIB), link=3)
    assert answer == hashlib.sha256(body).hexdigest()


def test_a_link_past_the_objects_cap_is_refused_naming_the_cap(mocked_s3: S3Client) -> None:
    pinned = store(mocked_s3, os.urandom(4 * MIB))
    policy = LinkPolicy(max_link_bytes=MIB)  # 4 links needed: a cap of 10
    budget = HashBudget(lambda: 900.0, 30.0, 30.0)
    assert isinstance(hash_until(mocked_s3, pinned, None, budget, policy, link=10), HashCheckpoint)
    with pytest.raises(LinkCapReached, match="took 11 links, more than its cap of 10"):
        hash_until(mocked_s3, pinned, None, budget, policy, link=11)


def test_an_object_no_number_of_links_can_finish_is_too_large_saying_why(mocked_s3: S3Client) -> None:
    pinned = store(mocked_s3, os.urandom(2 * MIB))
    budget = HashBudget(lambda: 35.0, delivery_reserve_seconds=30.0, min_mib_s=0.1)  # 5 s; hand-off 10 s
    with pytest.raises(ObjectTooLargeToHash) as raised:
        hash_until(mocked_s3, pinned, None, budget, LinkPolicy(), link=1)
    assert isinstance(raised.value.__cause__, NoLinkCanFinish)
    assert "cannot be hashed in any number of links: a link has 5.0 s to hash" in str(raised.value)
    assert "cannot hash a byte; raise the function's Timeout" in str(raised.value)


def test_a_checkpoint_past_the_end_is_refused(mocked_s3: S3Client) -> None:
    pinned = store(mocked_s3, os.urandom(MIB))
    past = HashCheckpoint(MIB + 64, ResumableSha256().checkpoint().state[:33] + (MIB + 64).to_bytes(8, "big"))
    with pytest.raises(CheckpointBeyondObject, match=f"offset {MIB + 64} is beyond the object's size {MIB}"):
        hash_until(mocked_s3, pinned, past, HashBudget(lambda: 900.0, 30.0, 30.0), LinkPolicy())
