"""The resumable SHA-256 state against `hashlib.sha256` over the same bytes in memory: what links cost in CPU.

Both hash the same random bytes in 1 MiB chunks (as the function's reads hand them over), interleaved in
16 MiB slices so that a busy machine slows both alike; the figure is hashlib's seconds over the resumable
state's, per round (1.0 = as fast).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from typing import Protocol

from bench.measure import MIB
from bench.stats import Series
from notify_webhook.object_hash.sha256_state import ResumableSha256

CHUNK_BYTES = MIB
SEGMENT_CHUNKS = 16


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


@dataclass(frozen=True)
class StateFigures:
    hashlib_mib_s: Series
    resumable_mib_s: Series
    ratio: Series


def _timed_update(hasher: _Hasher, chunks: list[bytes]) -> float:
    started = time.perf_counter()
    for chunk in chunks:
        hasher.update(chunk)
    return time.perf_counter() - started


def measure_state_vs_hashlib(total_mib: int, rounds: int) -> StateFigures:
    """`rounds` rounds, each hashing the same `total_mib` MiB of random bytes with both, interleaved in
    `SEGMENT_CHUNKS` slices (the order alternating), so a busy machine's pauses fall on both alike."""
    chunks = [os.urandom(CHUNK_BYTES) for _ in range(total_mib)]
    figures = StateFigures(
        Series("state_hashlib_mib_s", "MiB/s"),
        Series("state_resumable_mib_s", "MiB/s"),
        Series("state_vs_hashlib", "x"),
    )
    for _ in range(rounds):
        reference, resumable = hashlib.sha256(), ResumableSha256()
        seconds = {"hashlib": 0.0, "resumable": 0.0}
        for index, first in enumerate(range(0, len(chunks), SEGMENT_CHUNKS)):
            segment = chunks[first : first + SEGMENT_CHUNKS]
            pair: list[tuple[str, _Hasher]] = [("hashlib", reference), ("resumable", resumable)]
            for name, hasher in pair if index % 2 == 0 else pair[::-1]:
                seconds[name] += _timed_update(hasher, segment)
        if reference.hexdigest() != resumable.hexdigest():
            raise RuntimeError("the resumable state's digest differs from hashlib's")
        figures.hashlib_mib_s.add(total_mib / seconds["hashlib"])
        figures.resumable_mib_s.add(total_mib / seconds["resumable"])
        figures.ratio.add(seconds["hashlib"] / seconds["resumable"])
    return figures
