"""A hash that cannot finish before the function's deadline is not started: it is refused, saying why.

Without this, an object too large for the function's `Timeout` burns three full timeouts (the invocation
and Lambda's two retries) and lands on the failure queue as "Task timed out". With it, the refusal is
immediate and the OnFailure record names the size, the time there was and the rate assumed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MIB = 1024 * 1024
# The rate a hash is assumed to reach at the least, in MiB/s. Measured: one stream through the bench's
# per-connection limit (S3 as a Lambda function sees it) reads at 31.9 MiB/s, and the function reads one
# stream whenever parallel ranges do not add throughput; 30 stays below that (docs/performance.md).
DEFAULT_HASH_MIN_MIB_S = 30.0


class ObjectTooLargeToHash(Exception):
    """The object cannot be hashed before the deadline at the assumed rate; nothing was read. With
    `why`, no number of links could hash it either (object_hash.link_plan), and `why` says what stops it."""

    def __init__(self, size: int, budget_seconds: float, min_mib_s: float, why: str | None = None) -> None:
        self.size = size
        self.budget_seconds = budget_seconds
        self.min_mib_s = min_mib_s
        needed = size / MIB / min_mib_s
        if why is not None:
            super().__init__(
                f"ObjectTooLargeToHash: {size} bytes ({size / MIB:,.0f} MiB) cannot be hashed in any number "
                f"of links: {why}"
            )
            return
        super().__init__(
            f"ObjectTooLargeToHash: {size} bytes ({size / MIB:,.0f} MiB) need {needed:,.0f} s at "
            f"{min_mib_s:g} MiB/s (HASH_MIN_MIB_S), but the hash has {max(budget_seconds, 0.0):,.0f} s "
            "(the time left minus one webhook delivery attempt); raise the function's Timeout or see "
            "docs/performance.md"
        )


@dataclass(frozen=True)
class HashBudget:
    """The time a hash may take: what the invocation has left, minus what delivery may still need."""

    remaining_seconds: Callable[[], float]
    delivery_reserve_seconds: float
    min_mib_s: float

    def seconds(self) -> float:
        return self.remaining_seconds() - self.delivery_reserve_seconds

    def check(self, size: int) -> None:
        """Raise `ObjectTooLargeToHash` unless `size` bytes hash in time at `min_mib_s`."""
        budget = self.seconds()
        if size / (self.min_mib_s * MIB) > budget:
            raise ObjectTooLargeToHash(size, budget, self.min_mib_s)


def delivery_reserve_seconds(timeout_seconds: float) -> float:
    """One delivery attempt at its full timeout: a hash must leave at least that much of the deadline.
    Retries use what is left beyond it (delivery never runs past the deadline); the template's Timeout
    leaves room for all of them after the largest promised object (docs/performance.md)."""
    return timeout_seconds
