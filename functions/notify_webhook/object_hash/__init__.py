"""An S3 object's SHA-256 for the announcement: the one entry notify's code imports; the rest is inside.

`sha256_of_body` hashes a body (one stream first, parallel ranged GETs only when they add throughput);
`sha256_hex_from_checksum` reuses the full-object SHA-256 S3 already holds; `HashBudget` refuses a hash
that cannot finish before the function's deadline. Inside: `stream` (checksum reuse and the one-stream
hash), `body` (the adaptive read), `read_strategy` (how many connections, from measured rates),
`read_memory` (what this container learnt per store), `ranges` (ranged GETs hashed in order),
`presigned_ranges` (those GETs through one presigned URL), `budget`.
A hash one invocation cannot finish goes on in links: `hash_until` (`links`) hashes from a
`HashCheckpoint` (`sha256_state`, the resumable SHA-256 state) as far as the time allows; `link_plan`
says how far a link goes and caps the links per object. `hashed_bytes` reports the `BytesHashed` metric.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .body import sha256_of_body
from .budget import DEFAULT_HASH_MIN_MIB_S, HashBudget, ObjectTooLargeToHash, delivery_reserve_seconds
from .hashed_bytes import count_bytes_hashed
from .ranges import MAX_PART_BYTES, MIN_PART_BYTES, RANGE_MODES, RangedReads
from .read_memory import forget_reads, recalled, remember
from .read_strategy import CarriedDecision
from .stream import sha256_hex_from_checksum

if TYPE_CHECKING:
    from .link_plan import LinkCapReached, LinkPolicy, NoLinkCanFinish
    from .links import CheckpointBeyondObject, hash_until
    from .sha256_state import HashCheckpoint, InvalidHashState, ResumableSha256

# Links (work beyond one invocation) load on first use: a cold start that hashes in one go never needs them.
_LINK_NAMES = {
    "LinkCapReached": "link_plan",
    "LinkPolicy": "link_plan",
    "NoLinkCanFinish": "link_plan",
    "CheckpointBeyondObject": "links",
    "hash_until": "links",
    "HashCheckpoint": "sha256_state",
    "InvalidHashState": "sha256_state",
    "ResumableSha256": "sha256_state",
}


def __getattr__(name: str) -> Any:
    module = _LINK_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "DEFAULT_HASH_MIN_MIB_S",
    "MAX_PART_BYTES",
    "MIN_PART_BYTES",
    "RANGE_MODES",
    "CarriedDecision",
    "CheckpointBeyondObject",
    "HashBudget",
    "HashCheckpoint",
    "InvalidHashState",
    "LinkCapReached",
    "LinkPolicy",
    "NoLinkCanFinish",
    "ObjectTooLargeToHash",
    "RangedReads",
    "ResumableSha256",
    "count_bytes_hashed",
    "delivery_reserve_seconds",
    "forget_reads",
    "hash_until",
    "recalled",
    "remember",
    "sha256_hex_from_checksum",
    "sha256_of_body",
]
