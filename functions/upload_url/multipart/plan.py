"""How a multipart upload is cut into parts: S3's limits and the part size the function chooses.

S3 takes at most 10,000 parts of 5 MiB to 5 GiB each (the last may be smaller) and objects up to 5 TiB.
The function prefers `MULTIPART_PART_BYTES` and grows the part size (in whole MiB) only when the file
would otherwise need more than 10,000 parts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import S3_MAX_OBJECT_BYTES

MIB = 1024**2
S3_MIN_PART_BYTES = 5 * MIB
S3_MAX_PART_BYTES = 5 * 1024**3
S3_MAX_PARTS = 10_000


@dataclass(frozen=True)
class PartPlan:
    size: int
    part_size: int
    part_count: int

    def part_bytes(self, part_number: int) -> int:
        """The exact length of part `part_number` (1-based): `part_size`, except the last part's rest."""
        if part_number < self.part_count:
            return self.part_size
        return self.size - (self.part_count - 1) * self.part_size


def plan_parts(size: int, preferred_part_bytes: int) -> PartPlan:
    if not 1 <= size <= S3_MAX_OBJECT_BYTES:
        raise ValueError(f"size must be 1-{S3_MAX_OBJECT_BYTES} bytes")
    part_size = max(preferred_part_bytes, S3_MIN_PART_BYTES)
    if -(-size // part_size) > S3_MAX_PARTS:
        needed = -(-size // S3_MAX_PARTS)
        part_size = -(-needed // MIB) * MIB
    part_size = min(part_size, S3_MAX_PART_BYTES)
    return PartPlan(size=size, part_size=part_size, part_count=-(-size // part_size))
