"""The archive function's environment, read per invocation: a wrong one names the variable, never a value."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from form_archive_contract.settings import ServerMisconfigured, bounded_int

DEFAULT_PREFIX = "submissions"
DEFAULT_MAX_SUBMISSION_BYTES = 262_144


@dataclass(frozen=True)
class ArchiveSettings:
    """Where submissions are archived (`ARCHIVE_BUCKET`, below `ARCHIVE_PREFIX`) and the largest body
    taken (`MAX_SUBMISSION_BYTES`)."""

    bucket: str
    prefix: str
    max_bytes: int


def load_settings(environ: Mapping[str, str] = os.environ) -> ArchiveSettings:
    """Read per invocation: cheap, and a fixed environment makes a misconfiguration obvious at once."""
    bucket = environ.get("ARCHIVE_BUCKET", "").strip()
    if not bucket:
        raise ServerMisconfigured("ARCHIVE_BUCKET is not set")
    return ArchiveSettings(
        bucket=bucket,
        prefix=environ.get("ARCHIVE_PREFIX", DEFAULT_PREFIX),
        max_bytes=bounded_int(environ, "MAX_SUBMISSION_BYTES", DEFAULT_MAX_SUBMISSION_BYTES, 1),
    )
