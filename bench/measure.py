"""Measuring steps the throughput benches share: the reference readers, one timed call, a memory peak."""

from __future__ import annotations

import hashlib
import time
import tracemalloc
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024


def handbook_sha256(client: S3Client, bucket: str, key: str) -> str:
    """The original Lambda's loop, verbatim: botocore's default `iter_chunks()` size (1 KiB) into hashlib."""
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    sha = hashlib.sha256()
    for chunk in body.iter_chunks():
        sha.update(chunk)
    return sha.hexdigest()


def read_to_end(client: S3Client, bucket: str, key: str, expected_size: int) -> None:
    """The I/O ceiling: one GET read to the end in 1 MiB chunks, no hashing; checks the byte count."""
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    total = sum(len(chunk) for chunk in body.iter_chunks(MIB))
    if total != expected_size:
        raise RuntimeError(f"the raw read got {total} bytes, expected {expected_size}")


def rotated(names: list[str], index: int) -> list[str]:
    """Round `index`'s order: each round starts one name later, so no reader always goes first."""
    offset = index % len(names)
    return names[offset:] + names[:offset]


def timed(call: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (this process, all its threads) of one call."""
    cpu_started, started = time.process_time(), time.perf_counter()
    call()
    return time.perf_counter() - started, time.process_time() - cpu_started


def peak_mib(call: Callable[[], object]) -> float:
    """Peak growth of Python allocations (tracemalloc) during one call, in MiB."""
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - baseline) / MIB
