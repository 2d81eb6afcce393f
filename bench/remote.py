"""Remote mode: hashing as a Lambda function sees S3, through a proxy that caps every connection.

One raw stream, the handbook loop and the notify function end to end (head + hash, parallel ranged
GETs) read the same object through the same proxy in the same run; throughput and CPU seconds per GiB of
this process for each, beside `hashlib` over bytes in memory (the floor is raw read + hashlib).

The store behind the proxy should serve a range in proportion to its size: Ceph RGW (`tools/rgw.sh`).
moto's server reads the whole object for every ranged GET, so against moto the parallel figure shows
moto's cost, not the function's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from bench.measure import MIB, handbook_sha256, peak_mib, read_to_end, rotated, timed
from bench.project_hash import event_target, project_client, project_sha256_hex
from bench.server import moto_server
from bench.stats import Series
from form_archive_contract.s3 import get_s3_client
from notify_webhook.object_hash import forget_reads
from notify_webhook.settings import hash_settings
from tools.environment import patched_environ

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from notify_webhook.event_shapes import ObjectRef

GIB = 1024 * MIB
REMOTE_KEY = "bench/remote.bin"  # no SHA-256 checksum: the function must read the body
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RGW_SCRIPT = ROOT / "tools" / "rgw.sh"


@dataclass(frozen=True)
class Store:
    name: str
    endpoint: str
    environ: dict[str, str]  # credentials and region for clients of this store


@contextlib.contextmanager
def moto_store() -> Iterator[Store]:
    with moto_server() as endpoint:
        yield Store("moto", endpoint, {})


@contextlib.contextmanager
def rgw_store(script: Path, writes_bytes: int | None = None) -> Iterator[Store]:
    """A throwaway Ceph RGW from the project's script, in its own state directory, stopped on any exit.
    `writes_bytes`: what the run writes; the OSD's memstore gets that and 512 MiB more
    (RGW_MEMSTORE_BYTES; the script's default is 1 GiB, and a full OSD blocks writes until the client
    times out)."""
    if not script.is_file():
        raise RuntimeError(f"{script} not found: pass --rgw-script, or --remote moto")
    state = tempfile.mkdtemp(prefix="bench-rgw-")
    env = {**os.environ, "RGW_STATE_DIR": state}
    if writes_bytes is not None:
        env["RGW_MEMSTORE_BYTES"] = str(writes_bytes + 512 * MIB)
    try:
        started = subprocess.run(
            [str(script), "start"], env=env, capture_output=True, text=True, timeout=900, check=False
        )
        if started.returncode != 0:
            raise RuntimeError(f"{script} start failed: {started.stderr.strip()[-2000:]}")
        values = _env_file(Path(started.stdout.strip().splitlines()[-1]))
        yield Store(
            "rgw",
            values["RGW_ENDPOINT"],
            {
                "AWS_ACCESS_KEY_ID": values["RGW_ACCESS_KEY"],
                "AWS_SECRET_ACCESS_KEY": values["RGW_SECRET_KEY"],
                "AWS_DEFAULT_REGION": values.get("RGW_REGION", "us-east-1"),
                "AWS_REGION": values.get("RGW_REGION", "us-east-1"),
            },
        )
    finally:
        subprocess.run([str(script), "stop"], env=env, capture_output=True, timeout=300, check=False)
        shutil.rmtree(state, ignore_errors=True)


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep:
            values[name.strip()] = value.strip().strip("'\"")
    return values


@dataclass(frozen=True)
class RemoteObject:
    bucket: str
    size: int
    sha256_hex: str
    target: ObjectRef


def upload_remote_object(bucket: str, size: int) -> RemoteObject:
    """Random bytes straight to the store (not through the proxy), versioned like the archive bucket."""
    data = os.urandom(size)
    # No flexible request checksum: RGW (Pacific) does not know aws-chunked trailers.
    uploader = boto3.client("s3", config=Config(request_checksum_calculation="when_required"))
    uploader.create_bucket(Bucket=bucket)
    uploader.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put = uploader.put_object(Bucket=bucket, Key=REMOTE_KEY, Body=data)
    return RemoteObject(bucket, size, hashlib.sha256(data).hexdigest(), event_target(bucket, REMOTE_KEY, put))


# --- the three readers, each through the proxy -------------------------------------------------------


def raw_stream(client: S3Client, obj: RemoteObject) -> str:
    """One connection, 1 MiB reads, no hashing: what a single stream can deliver."""
    read_to_end(client, obj.bucket, REMOTE_KEY, obj.size)
    return obj.sha256_hex


def handbook(client: S3Client, obj: RemoteObject) -> str:
    """The original Lambda's loop: botocore's default `iter_chunks()` (1 KiB) into hashlib."""
    return handbook_sha256(client, obj.bucket, REMOTE_KEY)


def function(client: S3Client, obj: RemoteObject) -> str:
    """The notify function's own steps: head with checksums, then its hashing path with its defaults."""
    return project_sha256_hex(client, obj.target)


def function_first(client: S3Client, obj: RemoteObject) -> str:
    """The function as a fresh container's first object from this store reads it: nothing remembered
    (`object_hash.read_memory`), so the read decides from its own sample and probe."""
    forget_reads()
    return project_sha256_hex(client, obj.target)


def _function_with(mode: str) -> Callable[[S3Client, RemoteObject], str]:
    def read(client: S3Client, obj: RemoteObject) -> str:
        reads = dataclasses.replace(hash_settings(os.environ), mode=mode)
        return project_sha256_hex(client, obj.target, reads)

    read.__name__ = f"function_{mode}"
    return read


READERS: dict[str, Callable[[S3Client, RemoteObject], str]] = {
    "raw": raw_stream,
    "handbook": handbook,
    "function": function,
    "first": function_first,
    # The function's path with HASH_RANGES fixed, beside its default (auto): what auto should match.
    "always": _function_with("always"),
    "never": _function_with("never"),
}


@dataclass
class RemoteFigures:
    mib_s: dict[str, Series] = field(default_factory=dict)
    cpu_s_per_gib: dict[str, Series] = field(default_factory=dict)
    speedup_vs_raw: Series = field(default_factory=lambda: Series("remote_function_vs_raw", "x"))
    auto_vs_best: Series = field(default_factory=lambda: Series("remote_auto_vs_best", "x"))
    first_vs_best: Series = field(default_factory=lambda: Series("remote_first_vs_best", "x"))
    peak_mib: float = 0.0


def _hashlib_cpu_per_gib(size: int) -> float:
    data = os.urandom(size)
    started = time.process_time()
    hashlib.sha256(data).hexdigest()
    return (time.process_time() - started) / (size / GIB)


def measure_remote(obj: RemoteObject, rounds: int) -> RemoteFigures:
    """Every reader once per round, the order rotated each round; plus hashlib's CPU on the same size."""
    client = project_client()
    figures = RemoteFigures(
        mib_s={name: Series(f"remote_{name}_mib_s", "MiB/s") for name in READERS},
        cpu_s_per_gib={name: Series(f"remote_{name}_cpu_s_per_gib", "CPU-s/GiB") for name in READERS},
    )
    figures.cpu_s_per_gib["hashlib"] = Series("remote_hashlib_cpu_s_per_gib", "CPU-s/GiB")
    for reader in READERS.values():  # warm connections and code paths
        _check(reader, client, obj)
    names = list(READERS)
    for index in range(rounds):
        this_round: dict[str, float] = {}
        for name in rotated(names, index):
            wall, cpu = timed(functools.partial(_check, READERS[name], client, obj))
            this_round[name] = obj.size / MIB / wall
            figures.mib_s[name].add(this_round[name])
            figures.cpu_s_per_gib[name].add(cpu / (obj.size / GIB))
        figures.speedup_vs_raw.add(this_round["function"] / this_round["raw"])
        best = max(this_round["always"], this_round["never"])
        figures.auto_vs_best.add(this_round["function"] / best)
        figures.first_vs_best.add(this_round["first"] / best)
        figures.cpu_s_per_gib["hashlib"].add(_hashlib_cpu_per_gib(min(obj.size, 64 * MIB)))
    figures.peak_mib = _peak_mib(client, obj)
    return figures


def _check(reader: Callable[[S3Client, RemoteObject], str], client: S3Client, obj: RemoteObject) -> None:
    digest = reader(client, obj)
    if digest != obj.sha256_hex:
        raise RuntimeError(f"{reader.__name__} returned {digest}, expected {obj.sha256_hex}")


def _peak_mib(client: S3Client, obj: RemoteObject) -> float:
    """tracemalloc peak growth while the function hashes the object (client warm, as in a warm container)."""
    return peak_mib(functools.partial(_check, function, client, obj))


@contextlib.contextmanager
def use_store(store: Store, endpoint: str | None = None) -> Iterator[None]:
    """Point boto3 (and the function's cached client) at `endpoint` (default: the store) with its keys."""
    with patched_environ({**store.environ, "AWS_ENDPOINT_URL_S3": endpoint or store.endpoint}):
        get_s3_client.cache_clear()
        try:
            yield
        finally:
            get_s3_client.cache_clear()
