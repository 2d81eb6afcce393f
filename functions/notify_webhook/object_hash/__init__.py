"""An S3 object's SHA-256 for the announcement: the one entry notify's code imports; the rest is inside.

`sha256_of_body` hashes a body (one stream first, parallel ranged GETs only when they add throughput);
`sha256_hex_from_checksum` reuses the full-object SHA-256 S3 already holds; `HashBudget` refuses a hash
that cannot finish before the function's deadline. Inside: `stream` (checksum reuse and the one-stream
hash), `body` (the adaptive read), `read_strategy` (how many connections, from measured rates), `ranges`
(ranged GETs hashed in order), `presigned_ranges` (those GETs through one presigned URL), `budget`.
"""

from __future__ import annotations

from .body import sha256_of_body
from .budget import DEFAULT_HASH_MIN_MIB_S, HashBudget, ObjectTooLargeToHash, delivery_reserve_seconds
from .ranges import MAX_PART_BYTES, MIN_PART_BYTES, RANGE_MODES, RangedReads
from .stream import sha256_hex_from_checksum

__all__ = [
    "DEFAULT_HASH_MIN_MIB_S",
    "MAX_PART_BYTES",
    "MIN_PART_BYTES",
    "RANGE_MODES",
    "HashBudget",
    "ObjectTooLargeToHash",
    "RangedReads",
    "delivery_reserve_seconds",
    "sha256_hex_from_checksum",
    "sha256_of_body",
]
