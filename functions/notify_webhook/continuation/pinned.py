"""The object one piece of work is about, pinned to the bytes the first invocation saw.

Its own module because every announcement builds one, with or without a work queue: the direct route
imports this and not the rest of `message` (a cold start that never continues work loads no more).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PinnedObject:
    """The object one piece of work is about, pinned to the bytes the first invocation saw."""

    bucket: str
    key: str
    version_id: str | None
    etag: str
    size: int
    sequencer: str = ""
