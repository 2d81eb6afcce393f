"""SHA-256 of an object: S3's checksum fast path, the streamed path, pinning, and bounded memory."""

from __future__ import annotations

import base64
import hashlib
import io
import threading
import tracemalloc
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from notify_webhook.event_shapes import ObjectRef
from notify_webhook.notification import ObjectReplaced, object_sha256
from notify_webhook.object_hash.stream import (
    DEFAULT_CHUNK_SIZE,
    MIB,
    checksum_is_full_object,
    hash_stream,
    sha256_hex_from_checksum,
    sha256_of_object,
)
from tests.s3_stores import ARCHIVE_BUCKET

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LARGE_SIZE = 96 * MIB
PEAK_LIMIT = 24 * MIB


class PatternStream(io.RawIOBase):
    """`size` bytes of a repeating pattern, produced on demand: the test itself holds no big buffer."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = bytes(range(256)) * 1024  # 256 KiB

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.left, len(self.block))
        buffer[:count] = self.block[:count]
        self.left -= count
        return count


def pattern_sha256(size: int) -> str:
    digest = hashlib.sha256()
    stream = PatternStream(size)
    while chunk := stream.read(MIB):
        digest.update(chunk)
    return digest.hexdigest()


class FailingStream:
    def __init__(self) -> None:
        self.reads = 0

    def read(self, amt: int | None = None, /) -> bytes:
        self.reads += 1
        if self.reads > 3:
            raise ConnectionResetError("peer went away")
        return b"x" * (amt or 1)


class FakeClient:
    """Answers `get_object` with a synthetic body and records the request; `head_object` is never needed."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.requests: list[dict[str, Any]] = []

    def get_object(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        raw = io.BufferedReader(PatternStream(self.size), buffer_size=64 * 1024)
        return {"Body": StreamingBody(raw, self.size)}


def test_checksum_fast_path_converts_base64_to_hex() -> None:
    digest = hashlib.sha256(b"hello")
    head = {"ChecksumSHA256": base64.b64encode(digest.digest()).decode()}
    assert sha256_hex_from_checksum(head) == digest.hexdigest()
    assert sha256_hex_from_checksum({**head, "ChecksumType": "FULL_OBJECT"}) == digest.hexdigest()


@pytest.mark.parametrize(
    "head",
    [
        {},
        {"ChecksumCRC32": "NhCmhg=="},
        {"ChecksumSHA256": base64.b64encode(b"x" * 32).decode() + "-3"},  # multipart composite
        {"ChecksumSHA256": base64.b64encode(b"x" * 32).decode(), "ChecksumType": "COMPOSITE"},
        {"ChecksumSHA256": "not base64!"},
        {"ChecksumSHA256": base64.b64encode(b"short").decode()},
        # a multipart object whose store marks neither the checksum (`-N`) nor its type: never trusted
        {
            "ChecksumSHA256": base64.b64encode(b"x" * 32).decode(),
            "ETag": '"0123456789abcdef0123456789abcdef-2"',
        },
        {
            "ChecksumSHA256": base64.b64encode(b"x" * 32).decode(),
            "ETag": "0123456789abcdef0123456789abcdef-12",
        },
    ],
)
def test_no_usable_full_object_checksum(head: dict[str, Any]) -> None:
    assert sha256_hex_from_checksum(head) is None


def test_a_multipart_checksum_counts_only_when_s3_says_full_object() -> None:
    value = base64.b64encode(hashlib.sha256(b"whole").digest()).decode()
    multipart = {"ChecksumSHA256": value, "ETag": '"0123456789abcdef0123456789abcdef-3"'}
    assert not checksum_is_full_object(multipart)
    assert checksum_is_full_object({**multipart, "ChecksumType": "FULL_OBJECT"})
    assert (
        sha256_hex_from_checksum({**multipart, "ChecksumType": "FULL_OBJECT"})
        == hashlib.sha256(b"whole").hexdigest()
    )
    assert checksum_is_full_object({"ChecksumSHA256": value, "ETag": '"0123456789abcdef0123456789abcdef"'})
    assert checksum_is_full_object({"ChecksumSHA256": value, "ETag": '"a-b-c"'})  # not `-<digits>` at the end


def test_fast_path_reads_no_body(mocked_s3: S3Client) -> None:
    mocked_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="a/b.txt", Body=b"hello", ChecksumAlgorithm="SHA256")
    head = mocked_s3.head_object(Bucket=ARCHIVE_BUCKET, Key="a/b.txt", ChecksumMode="ENABLED")
    client = FakeClient(0)
    target = ObjectRef(ARCHIVE_BUCKET, "a/b.txt", None, "", "")
    digest, from_checksum = object_sha256(client, target, head)  # type: ignore[arg-type]
    assert (digest, from_checksum) == (hashlib.sha256(b"hello").hexdigest(), True)
    assert client.requests == []


@pytest.mark.parametrize("overlap", [True, False])
def test_streamed_hash_matches_hashlib(mocked_s3: S3Client, overlap: bool) -> None:
    body = bytes(range(256)) * 12_000 + b"tail"  # about 3 MiB: several chunks and a short last one
    put = mocked_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="big.bin", Body=body)
    digest = sha256_of_object(mocked_s3, ARCHIVE_BUCKET, "big.bin", etag=put["ETag"], overlap=overlap)
    assert digest == hashlib.sha256(body).hexdigest()


def test_streamed_path_is_used_without_a_sha256_checksum(mocked_s3: S3Client) -> None:
    mocked_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="k", Body=b"no sha here")
    head = mocked_s3.head_object(Bucket=ARCHIVE_BUCKET, Key="k", ChecksumMode="ENABLED")
    target = ObjectRef(ARCHIVE_BUCKET, "k", None, "", "")
    assert object_sha256(mocked_s3, target, head) == (hashlib.sha256(b"no sha here").hexdigest(), False)


def test_read_is_pinned_to_the_headed_version_and_etag() -> None:
    client = FakeClient(10)
    sha256_of_object(client, "b", "k", version_id="v-1", etag='"abc"')  # type: ignore[arg-type]
    assert client.requests == [{"Bucket": "b", "Key": "k", "VersionId": "v-1", "IfMatch": '"abc"'}]


def test_a_replaced_object_is_not_hashed(mocked_s3: S3Client) -> None:
    mocked_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="k", Body=b"first")
    head = mocked_s3.head_object(Bucket=ARCHIVE_BUCKET, Key="k", ChecksumMode="ENABLED")
    mocked_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="k", Body=b"second")
    with pytest.raises(ClientError, match="PreconditionFailed"):
        sha256_of_object(mocked_s3, ARCHIVE_BUCKET, "k", etag=head["ETag"])
    with pytest.raises(ObjectReplaced):
        object_sha256(mocked_s3, ObjectRef(ARCHIVE_BUCKET, "k", None, "", ""), head)


@pytest.mark.parametrize("chunk_size", [1024, 64 * 1024, 9 * MIB])
def test_chunk_size_stays_between_1_and_8_mib(chunk_size: int) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        hash_stream(io.BytesIO(b"x"), chunk_size=chunk_size)


@pytest.mark.parametrize("overlap", [True, False])
def test_a_failing_read_propagates_and_stops_the_helper_thread(overlap: bool) -> None:
    with pytest.raises(ConnectionResetError):
        hash_stream(FailingStream(), overlap=overlap)
    assert [thread for thread in threading.enumerate() if thread.name == "sha256-hasher"] == []


def test_empty_stream() -> None:
    assert hash_stream(io.BytesIO(b"")) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("overlap", [True, False])
def test_large_object_hashes_in_bounded_memory(overlap: bool) -> None:
    """96 MiB through botocore's StreamingBody: Python allocations stay far below 24 MiB."""
    expected = pattern_sha256(LARGE_SIZE)
    client = FakeClient(LARGE_SIZE)
    tracemalloc.start()
    try:
        digest = sha256_of_object(client, "b", "k", chunk_size=DEFAULT_CHUNK_SIZE, overlap=overlap)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest == expected
    assert peak < PEAK_LIMIT, f"peak {peak / MIB:.1f} MiB"
