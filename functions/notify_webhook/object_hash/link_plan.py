"""How far one link of a hash may go and how many links one object may take: from its size and the budget.

A hash that cannot finish in one invocation goes on in links, each hashing what its time allows and
handing a checkpoint to the next (through the work queue). Lambda's recursive loop detection would stop
such a chain after about 16 links, so the function allows recursion and caps the links itself: a link
hashes at least `floor_bytes` unless the store is slower than `HASH_MIN_MIB_S`, so an object needs at most
`ceil(size / floor_bytes)` links and the cap is twice that plus two; a store that slow for that long ends
the hash with a reason instead of an endless chain. Pure arithmetic, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .sha256_state import MAX_MESSAGE_BYTES

MIB = 1024 * 1024
# Kept back from a link's time for the hand-off: the parts already in flight are hashed (at most about
# (connections + 2) x part size, 90 MiB by default: 3 s at 30 MiB/s) and the continuation is sealed
# and sent; the rest is slack for a slow SQS call.
DEFAULT_HANDOFF_SECONDS = 10.0
CAP_FACTOR = 2
CAP_SLACK = 2


class LinkCapReached(Exception):
    """The object took more links than its cap: the store delivered less than the assumed rate for long."""

    def __init__(self, size: int, links: int, cap: int, min_mib_s: float) -> None:
        self.size, self.links, self.cap = size, links, cap
        super().__init__(
            f"LinkCapReached: hashing {size} bytes ({size / MIB:,.0f} MiB) took {links} links, more than its "
            f"cap of {cap} (twice the links {min_mib_s:g} MiB/s, HASH_MIN_MIB_S, needs, plus {CAP_SLACK}); "
            "the store answered slower than that rate for most of the hash"
        )


class NoLinkCanFinish(Exception):
    """No number of links can hash this object: a link has no time to hash, or SHA-256 cannot count it.
    Raised as the cause of `ObjectTooLargeToHash` by the caller (object_hash.links)."""


@dataclass(frozen=True)
class LinkPolicy:
    """`max_link_bytes` (`HASH_LINK_MAX_BYTES`, None = the time alone decides) bounds one link's bytes;
    `handoff_seconds` is kept back from each link's time for the hand-off."""

    max_link_bytes: int | None = None
    handoff_seconds: float = DEFAULT_HANDOFF_SECONDS

    def __post_init__(self) -> None:
        if self.max_link_bytes is not None and self.max_link_bytes < 1:
            raise ValueError("max_link_bytes must be at least 1")
        if self.handoff_seconds < 0:
            raise ValueError("handoff_seconds must not be negative")

    def link_seconds(self, hash_seconds: float) -> float:
        """Of the time a hash has (`HashBudget.seconds()`), what a link may spend reading."""
        return hash_seconds - self.handoff_seconds

    def floor_bytes(self, hash_seconds: float, min_mib_s: float) -> int:
        """Bytes one link hashes at least, at `min_mib_s` over its time (0 when it has no time)."""
        by_time = max(0, math.floor(self.link_seconds(hash_seconds) * min_mib_s * MIB))
        return by_time if self.max_link_bytes is None else min(by_time, self.max_link_bytes)

    def link_end(self, start: int, size: int) -> int:
        """Where a link that starts at `start` stops at the latest: `max_link_bytes` on, or the end."""
        return size if self.max_link_bytes is None else min(size, start + self.max_link_bytes)

    def fits_one_link(self, size: int, start: int, hash_seconds: float, min_mib_s: float) -> bool:
        """Whether the bytes from `start` hash in this invocation: within `max_link_bytes` and, at
        `min_mib_s`, within the time (the hand-off margin is not needed when nothing is handed off)."""
        rest = size - start
        within_bytes = self.max_link_bytes is None or rest <= self.max_link_bytes
        return within_bytes and rest <= hash_seconds * min_mib_s * MIB

    def cap(self, size: int, hash_seconds: float, min_mib_s: float) -> int:
        """Links this object may take; raises `NoLinkCanFinish` when no number of links can finish it."""
        check_possible(size, self.floor_bytes(hash_seconds, min_mib_s), hash_seconds, self.handoff_seconds)
        needed = math.ceil(size / self.floor_bytes(hash_seconds, min_mib_s))
        return CAP_FACTOR * needed + CAP_SLACK


def check_possible(size: int, floor_bytes: int, hash_seconds: float, handoff_seconds: float) -> None:
    """What no number of links can do: hash with no time per link, or count beyond SHA-256's limit."""
    if size > MAX_MESSAGE_BYTES:
        raise NoLinkCanFinish(f"SHA-256 counts at most 2**61-1 bytes; the object has {size}")
    if floor_bytes < 1:
        raise NoLinkCanFinish(
            f"a link has {max(hash_seconds, 0.0):,.1f} s to hash and keeps {handoff_seconds:g} s for the "
            "hand-off, so it cannot hash a byte; raise the function's Timeout"
        )
