"""SHA-256 of an S3 object: S3's own checksum when it has one, else the body streamed in constant memory."""

from __future__ import annotations

import base64
import binascii
import hashlib
import queue
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024
# 1 MiB reads keep per-call overhead negligible (botocore's default `iter_chunks` reads 1 KiB) while
# a few chunks in flight stay far below the memory budget.
DEFAULT_CHUNK_SIZE = 1 * MIB
MIN_CHUNK_SIZE = 1 * MIB
MAX_CHUNK_SIZE = 8 * MIB
# Chunks waiting for the hashing thread: enough to absorb jitter, small enough to bound memory.
QUEUE_DEPTH = 3
_SHA256_DIGEST_SIZE = 32
_MULTIPART_ETAG = re.compile(r'-\d+"?$')


class Readable(Protocol):
    def read(self, amt: int | None = ..., /) -> bytes: ...


class Digest(Protocol):
    """What the readers feed: `hashlib.sha256()` or the resumable state (`sha256_state.ResumableSha256`)."""

    def update(self, data: bytes, /) -> None: ...


def sha256_hex_from_checksum(head: Mapping[str, Any]) -> str | None:
    """Hex SHA-256 from a `head_object(ChecksumMode="ENABLED")` answer, or None when S3 has none.

    Only a full-object checksum counts: a multipart upload's composite checksum (`...=-3`,
    `ChecksumType: COMPOSITE`) is a hash of part hashes, not of the object's bytes.
    """
    if not checksum_is_full_object(head):
        return None
    value = str(head.get("ChecksumSHA256"))
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(digest) != _SHA256_DIGEST_SIZE:
        return None
    return digest.hex()


def checksum_is_full_object(head: Mapping[str, Any]) -> bool:
    """Whether S3's SHA-256 checksum is the hash of the object's bytes rather than of its parts.

    A multipart object (ETag ending `-N`) counts only when S3 says `ChecksumType: FULL_OBJECT`: some
    S3-compatible stores (moto among them) answer a composite checksum without `-N` or a `ChecksumType`.
    """
    value = head.get("ChecksumSHA256")
    if not isinstance(value, str) or not value or "-" in value:
        return False
    checksum_type = head.get("ChecksumType")
    if checksum_type not in (None, "FULL_OBJECT"):
        return False
    return checksum_type == "FULL_OBJECT" or not _MULTIPART_ETAG.search(str(head.get("ETag") or ""))


def _check_chunk_size(chunk_size: int) -> None:
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE} bytes")


class OverlappedHasher:
    """Feeds chunks to a helper thread that hashes them in order while the caller reads the next one
    (hashlib releases the GIL on large buffers), holding at most `QUEUE_DEPTH` chunks. Use as a context
    manager: leaving it waits for the helper; leaving it on an exception abandons what is queued."""

    def __init__(self, digest: Digest) -> None:
        self._digest = digest
        self._pending: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_DEPTH)
        self._abandoned = threading.Event()
        self._thread = threading.Thread(target=self._hash_chunks, name="sha256-hasher", daemon=True)

    def _hash_chunks(self) -> None:
        while (chunk := self._pending.get()) is not None:
            if not self._abandoned.is_set():
                self._digest.update(chunk)

    def put(self, chunk: bytes) -> None:
        self._pending.put(chunk)

    def __enter__(self) -> OverlappedHasher:
        self._thread.start()
        return self

    def __exit__(self, error_type: type[BaseException] | None, *_details: object) -> None:
        if error_type is not None:
            self._abandoned.set()  # the helper drains what is queued without hashing it
        self._pending.put(None)
        self._thread.join()


def hash_stream(stream: Readable, *, chunk_size: int = DEFAULT_CHUNK_SIZE, overlap: bool = True) -> str:
    """Lowercase hex SHA-256 of everything `stream.read` returns, holding only a few chunks at a time.

    With `overlap`, this thread keeps reading while a helper thread hashes, so the hash costs little more
    than the download itself.
    """
    _check_chunk_size(chunk_size)
    digest = hashlib.sha256()
    if not overlap:
        while chunk := stream.read(chunk_size):
            digest.update(chunk)
        return digest.hexdigest()
    with OverlappedHasher(digest) as hasher:
        while chunk := stream.read(chunk_size):
            hasher.put(chunk)
    return digest.hexdigest()


def sha256_of_object(
    client: S3Client,
    bucket: str,
    key: str,
    *,
    version_id: str | None = None,
    etag: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    overlap: bool = True,
) -> str:
    """Stream one object's body through SHA-256; pinned to `version_id` and `etag` (If-Match) when given.

    The pin makes a concurrent overwrite fail (`PreconditionFailed`) instead of hashing other bytes than
    the ones that were headed. Raises botocore's `ClientError` / `BotoCoreError` on S3 faults.
    """
    _check_chunk_size(chunk_size)
    request: dict[str, str] = {"Bucket": bucket, "Key": key}
    if version_id:
        request["VersionId"] = version_id
    if etag:
        request["IfMatch"] = etag
    response = client.get_object(**request)  # type: ignore[arg-type]
    body = response["Body"]
    try:
        return hash_stream(body, chunk_size=chunk_size, overlap=overlap)
    finally:
        body.close()
