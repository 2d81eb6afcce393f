"""The archive's key space, written as IAM resource patterns so that validation and IAM agree exactly.

Archived submissions are `{prefix}/{yyyy}/{mm}/{dd}/{ULID}.json` (a 26-character id) and, for an
`Idempotency-Key`, `{prefix}/idem-{40 hex digits}.json` (an id anyone can compute; before round 4 these
also sat in date folders, and such keys stay covered). With a prefix the whole
folder belongs to the archive; at the bucket root (empty prefix) only that shape does. IAM patterns know
`*` (any run of characters, `/` included) and `?` (any one character); the template denies the upload
roles these patterns and `POST /uploads` refuses every key they match, so no URL is signed that IAM
would refuse and no upload can replace an archived submission or plant one first.
"""

from __future__ import annotations

import functools
import re

_DAY = "????/??/??/"
ROOT_ARCHIVE_KEY_PATTERNS = (
    _DAY + "?" * 26 + ".json",
    _DAY + "idem-" + "?" * 40 + ".json",
    "idem-" + "?" * 40 + ".json",
)


def archive_key_patterns(prefix: str) -> tuple[str, ...]:
    """The IAM resource patterns (after `arn:aws:s3:::bucket/`) that cover every archived submission."""
    folder = prefix.strip("/")
    return (f"{folder}/*",) if folder else ROOT_ARCHIVE_KEY_PATTERNS


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), re.DOTALL)


def in_archive_key_space(key: str, prefix: str) -> bool:
    """Whether IAM's matching of `archive_key_patterns(prefix)` covers `key`."""
    return any(_compiled(pattern).fullmatch(key) for pattern in archive_key_patterns(prefix))
