"""The function's environment, read per invocation: a misconfiguration names the variable, never a value."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from form_archive_contract.settings import ServerMisconfigured, bounded_int

# S3's limit for one PUT.
S3_SINGLE_PUT_LIMIT = 5 * 1024**3
# S3's limit for one object; above MULTIPART_THRESHOLD_BYTES an upload is multipart.
S3_MAX_OBJECT_BYTES = 5 * 1024**4
DEFAULT_MAX_UPLOAD_BYTES = S3_MAX_OBJECT_BYTES
DEFAULT_EXPIRES_SECONDS = 900
# SigV4 presigned URLs live at most 7 days (and never longer than the signing credentials).
MAX_EXPIRES_SECONDS = 604_800
DEFAULT_ARCHIVE_PREFIX = "submissions"


@dataclass(frozen=True)
class UploadSettings:
    bucket: str
    max_upload_bytes: int
    expires_seconds: int
    # The first folder of ARCHIVE_PREFIX: archived submissions live there, uploads may not.
    reserved_identifier: str | None


def load_settings(environ: Mapping[str, str] = os.environ) -> UploadSettings:
    bucket = environ.get("ARCHIVE_BUCKET", "").strip()
    if not bucket:
        raise ServerMisconfigured("ARCHIVE_BUCKET is not set")
    prefix = environ.get("ARCHIVE_PREFIX", DEFAULT_ARCHIVE_PREFIX).strip("/")
    return UploadSettings(
        bucket=bucket,
        max_upload_bytes=bounded_int(
            environ, "MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES, 1, S3_MAX_OBJECT_BYTES
        ),
        expires_seconds=bounded_int(
            environ, "UPLOAD_URL_EXPIRES_SECONDS", DEFAULT_EXPIRES_SECONDS, 1, MAX_EXPIRES_SECONDS
        ),
        reserved_identifier=prefix.split("/", 1)[0] or None,
    )
