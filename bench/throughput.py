"""Hashing an S3 object: the handbook loop, the I/O and CPU ceilings, and the project's own path."""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from bench.measure import MIB, handbook_sha256, peak_mib, read_to_end, rotated, timed
from bench.project_hash import event_target, project_client, project_sha256_hex
from bench.stats import Series
from notify_webhook.object_hash import RangedReads
from notify_webhook.settings import hash_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from notify_webhook.event_shapes import ObjectRef

STREAM_KEY = "bench/stream.bin"  # uploaded without a SHA-256 checksum: the project must stream it
FASTPATH_KEY = "bench/fastpath.bin"  # uploaded with ChecksumAlgorithm=SHA256: no body should be read


@dataclass(frozen=True)
class BenchObjects:
    bucket: str
    data: bytes
    sha256_hex: str
    targets: dict[str, ObjectRef]  # key -> what the ObjectCreated event of its upload tells the handler

    @property
    def mib(self) -> float:
        return len(self.data) / MIB


def upload_objects(bucket: str, size_bytes: int) -> BenchObjects:
    """Random bytes (nothing compresses or caches), stored twice: with and without a SHA-256 checksum."""
    data = _random_bytes(size_bytes)
    uploader = boto3.client("s3")
    uploader.create_bucket(Bucket=bucket)
    # Versioned like the archive bucket, so the handler's version pinning is part of what is measured.
    uploader.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    streamed = uploader.put_object(Bucket=bucket, Key=STREAM_KEY, Body=data)
    fast = uploader.put_object(Bucket=bucket, Key=FASTPATH_KEY, Body=data, ChecksumAlgorithm="SHA256")
    if uploader.head_object(Bucket=bucket, Key=STREAM_KEY, ChecksumMode="ENABLED").get("ChecksumSHA256"):
        raise RuntimeError(f"{STREAM_KEY} unexpectedly carries a SHA-256 checksum; nothing would stream")
    if not uploader.head_object(Bucket=bucket, Key=FASTPATH_KEY, ChecksumMode="ENABLED").get(
        "ChecksumSHA256"
    ):
        raise RuntimeError(f"the server kept no SHA-256 checksum for {FASTPATH_KEY}")
    return BenchObjects(
        bucket=bucket,
        data=data,
        sha256_hex=hashlib.sha256(data).hexdigest(),
        targets={
            STREAM_KEY: event_target(bucket, STREAM_KEY, streamed),
            FASTPATH_KEY: event_target(bucket, FASTPATH_KEY, fast),
        },
    )


def _random_bytes(size: int) -> bytes:
    return os.urandom(size)


# --- the four ways to get a SHA-256 (or just the bytes) --------------------------------------------


def handbook_hash(client: S3Client, objects: BenchObjects) -> str:
    """The original Lambda's loop, verbatim: botocore's default `iter_chunks()` size (1 KiB)."""
    return handbook_sha256(client, objects.bucket, STREAM_KEY)


def raw_read(client: S3Client, objects: BenchObjects) -> str:
    """The I/O ceiling: the same body read to the end in 1 MiB chunks, no hashing."""
    read_to_end(client, objects.bucket, STREAM_KEY, len(objects.data))
    return objects.sha256_hex


def in_memory_hash(_client: S3Client, objects: BenchObjects) -> str:
    """The CPU ceiling: one hashlib call over bytes already in memory."""
    return hashlib.sha256(objects.data).hexdigest()


# Beside the defaults, labelled: one stream always (HASH_RANGES=never), and ranges always
# (HASH_RANGES=always; moto's server reads the whole object for every range, so a few samples only).
SINGLE_STREAM = RangedReads(mode="never")
ALWAYS_RANGES = RangedReads(mode="always")


def default_reads() -> RangedReads:
    """What the function reads with when nothing is configured (or what HASH_* in this environment say)."""
    return hash_settings(os.environ)


def project_hash(client: S3Client, objects: BenchObjects) -> str:
    """The project's own path (what notify_webhook calls), its default settings, on the streamed object."""
    return project_sha256_hex(client, objects.targets[STREAM_KEY], default_reads())


def project_single_stream(client: S3Client, objects: BenchObjects) -> str:
    """The project's path with HASH_RANGES=never: one stream, no probe."""
    return project_sha256_hex(client, objects.targets[STREAM_KEY], SINGLE_STREAM)


def project_ranged_hash(client: S3Client, objects: BenchObjects) -> str:
    """The project's path with HASH_RANGES=always: parallel ranged GETs from the start."""
    return project_sha256_hex(client, objects.targets[STREAM_KEY], ALWAYS_RANGES)


@dataclass
class Throughput:
    series: dict[str, Series]
    ratios: dict[str, Series] = field(default_factory=dict)
    cores: dict[str, Series] = field(default_factory=dict)  # CPU seconds of this process per wall second


METHODS: dict[str, Callable[[S3Client, BenchObjects], str]] = {
    "handbook_hash_mib_s": handbook_hash,
    "raw_read_mib_s": raw_read,
    "hash_mib_s": project_hash,
    "single_stream_hash_mib_s": project_single_stream,
    "hashlib_mib_s": in_memory_hash,
}


def measure_throughput(objects: BenchObjects, rounds: int) -> Throughput:
    """Every method once per round, the order rotated each round; ratios are also paired per round."""
    client = project_client()
    for method in METHODS.values():  # warm connections, code paths and the server's caches
        _check(method, client, objects)
    result = Throughput(series={key: Series(key, "MiB/s") for key in METHODS})
    speedup = Series("hash_speedup_vs_handbook", "x")
    vs_raw = Series("hash_vs_raw_read", "x")
    rounds_auto_never: list[tuple[float, float]] = []
    names = list(METHODS)
    cores = {key: Series(key.replace("_mib_s", "_cpu_cores"), "cores") for key in names}
    for index in range(rounds):
        this_round: dict[str, float] = {}
        for key in rotated(names, index):
            wall, cpu = timed(functools.partial(_check, METHODS[key], client, objects))
            this_round[key] = objects.mib / wall
            result.series[key].add(this_round[key])
            cores[key].add(cpu / wall)  # this process only (all its threads); the server is another
        speedup.add(this_round["hash_mib_s"] / this_round["handbook_hash_mib_s"])
        vs_raw.add(this_round["hash_mib_s"] / this_round["raw_read_mib_s"])
        rounds_auto_never.append((this_round["hash_mib_s"], this_round["single_stream_hash_mib_s"]))
    result.cores = cores
    ranged = result.series["ranged_hash_mib_s"] = Series("ranged_hash_mib_s", "MiB/s")
    for _ in range(min(rounds, 3)):  # slow on moto (see ALWAYS_RANGES): a few samples, after the rounds
        started = time.perf_counter()
        _check(project_ranged_hash, client, objects)
        ranged.add(objects.mib / (time.perf_counter() - started))
    # The default (auto) against the better of never (same round) and always (its median: few samples).
    auto_vs_best = Series("hash_auto_vs_best", "x")
    for auto, never in rounds_auto_never:
        auto_vs_best.add(auto / max(never, ranged.median))
    result.ratios = {
        "hash_speedup_vs_handbook": speedup,
        "hash_vs_raw_read": vs_raw,
        "hash_auto_vs_best": auto_vs_best,
    }
    return result


def _check(method: Callable[[S3Client, BenchObjects], str], client: S3Client, objects: BenchObjects) -> None:
    digest = method(client, objects)
    if digest != objects.sha256_hex:
        raise RuntimeError(f"{method.__name__} returned {digest}, expected {objects.sha256_hex}")


# --- memory -----------------------------------------------------------------------------------------


def measure_hash_peak_mib(objects: BenchObjects) -> float:
    """Peak growth of Python allocations (tracemalloc) while the project hashes the streamed object.

    The client exists and has been used before tracing starts, as in a warm Lambda container.
    """
    client = project_client()
    project_hash(client, objects)
    return peak_mib(functools.partial(_check, project_hash, client, objects))


# --- body bytes actually read -----------------------------------------------------------------------


@dataclass
class BodyCounter:
    get_object_calls: int = 0
    body_bytes: int = 0


class _CountingStream:
    """Wraps the urllib3 response under a botocore StreamingBody; every read path goes through here."""

    def __init__(self, raw: Any, counter: BodyCounter) -> None:
        self._raw = raw
        self._counter = counter

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        data: bytes = self._raw.read(*args, **kwargs)
        self._counter.body_bytes += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        count: int = self._raw.readinto(buffer) or 0
        self._counter.body_bytes += count
        return count

    def readlines(self) -> list[bytes]:
        lines: list[bytes] = self._raw.readlines()
        self._counter.body_bytes += sum(len(line) for line in lines)
        return lines

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        for chunk in self._raw.stream(*args, **kwargs):
            self._counter.body_bytes += len(chunk)
            yield chunk

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._raw:
            self._counter.body_bytes += len(chunk)
            yield chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def count_body_bytes(objects: BenchObjects, key: str) -> BodyCounter:
    """Bytes the project's path reads from GetObject bodies for one object, via a botocore event hook.

    The hook is on the project's own client (every GetObject, direct or through s3transfer, passes it)
    and only for this call, so the timed runs carry no instrumentation.
    """
    client = project_client()
    counter = BodyCounter()

    def wrap_body(parsed: dict[str, Any], **_kwargs: Any) -> None:
        body = parsed.get("Body")
        if body is not None:
            counter.get_object_calls += 1
            body._raw_stream = _CountingStream(body._raw_stream, counter)

    hook_id = "bench-count-body-bytes"
    client.meta.events.register("after-call.s3.GetObject", wrap_body, unique_id=hook_id)
    try:
        digest = project_sha256_hex(client, objects.targets[key])
    finally:
        client.meta.events.unregister("after-call.s3.GetObject", unique_id=hook_id)
    if digest != objects.sha256_hex:
        raise RuntimeError(f"the project's hash of {key} is {digest}, expected {objects.sha256_hex}")
    return counter
