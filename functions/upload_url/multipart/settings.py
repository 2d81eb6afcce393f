"""Settings of multipart uploads, read per invocation; a misconfiguration names the variable, never a value.

The token key comes from `UPLOAD_TOKEN_KEY` (the value: tests and local runs) or
`UPLOAD_TOKEN_KEY_PARAMETER` (a Secrets Manager name/ARN, or an SSM SecureString name starting with `/`;
the stack generates one). Without either the multipart routes answer 500: a key made up per container
would not survive a cold start, and every token issued before it would stop working.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from form_archive_contract.secret_store import key_from_environ
from form_archive_contract.settings import bounded_int

from ..settings import S3_SINGLE_PUT_LIMIT
from .plan import MIB, S3_MAX_PART_BYTES, S3_MIN_PART_BYTES
from .token import MIN_KEY_BYTES

DEFAULT_MULTIPART_THRESHOLD_BYTES = 64 * MIB
DEFAULT_PART_BYTES = 16 * MIB
# How long a client may keep working on one multipart upload: as long as the bucket keeps it (its
# lifecycle rule aborts incomplete uploads after AbortIncompleteUploadsDays, default 2).
DEFAULT_TOKEN_EXPIRES_DAYS = 2
MAX_TOKEN_EXPIRES_DAYS = 30
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class MultipartSettings:
    """When an upload goes in parts, how large they are, and how long its token lasts."""

    threshold_bytes: int
    part_bytes: int
    token_expires_seconds: int


def load_multipart_settings(environ: Mapping[str, str] = os.environ) -> MultipartSettings:
    return MultipartSettings(
        # Up to the threshold a single presigned PUT, which S3 takes up to 5 GiB.
        threshold_bytes=bounded_int(
            environ, "MULTIPART_THRESHOLD_BYTES", DEFAULT_MULTIPART_THRESHOLD_BYTES, 0, S3_SINGLE_PUT_LIMIT
        ),
        part_bytes=bounded_int(
            environ, "MULTIPART_PART_BYTES", DEFAULT_PART_BYTES, S3_MIN_PART_BYTES, S3_MAX_PART_BYTES
        ),
        token_expires_seconds=DAY_SECONDS
        * bounded_int(
            environ, "UPLOAD_TOKEN_EXPIRES_DAYS", DEFAULT_TOKEN_EXPIRES_DAYS, 1, MAX_TOKEN_EXPIRES_DAYS
        ),
    )


def load_token_key(environ: Mapping[str, str] = os.environ) -> bytes:
    """The HMAC key for upload tokens (at least 16 bytes), from the value or the secret it names."""
    return key_from_environ(
        environ,
        "UPLOAD_TOKEN_KEY",
        "UPLOAD_TOKEN_KEY_PARAMETER",
        MIN_KEY_BYTES,
        "multipart uploads need UPLOAD_TOKEN_KEY or UPLOAD_TOKEN_KEY_PARAMETER",
    )
