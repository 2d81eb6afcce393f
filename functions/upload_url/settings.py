"""The function's environment, read per invocation: a misconfiguration names the variable, never a value."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# S3's limit for one PUT.
S3_SINGLE_PUT_LIMIT = 5 * 1024**3
# S3's limit for one object; above MULTIPART_THRESHOLD_BYTES an upload is multipart.
S3_MAX_OBJECT_BYTES = 5 * 1024**4
DEFAULT_MAX_UPLOAD_BYTES = S3_MAX_OBJECT_BYTES
DEFAULT_EXPIRES_SECONDS = 900
# SigV4 presigned URLs live at most 7 days (and never longer than the signing credentials).
MAX_EXPIRES_SECONDS = 604_800
DEFAULT_ARCHIVE_PREFIX = "submissions"


class ServerMisconfigured(Exception):
    """The function's environment is wrong."""


@dataclass(frozen=True)
class UploadSettings:
    bucket: str
    max_upload_bytes: int
    expires_seconds: int
    # The first folder of ARCHIVE_PREFIX: archived submissions live there, uploads may not.
    reserved_identifier: str | None


def bounded_int(environ: Mapping[str, str], name: str, default: int, maximum: int, minimum: int = 1) -> int:
    raw = environ.get(name, "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ServerMisconfigured(f"{name} is not an integer") from None
    if not minimum <= value <= maximum:
        raise ServerMisconfigured(f"{name} must be {minimum}-{maximum}")
    return value


def load_settings(environ: Mapping[str, str] = os.environ) -> UploadSettings:
    bucket = environ.get("ARCHIVE_BUCKET", "").strip()
    if not bucket:
        raise ServerMisconfigured("ARCHIVE_BUCKET is not set")
    prefix = environ.get("ARCHIVE_PREFIX", DEFAULT_ARCHIVE_PREFIX).strip("/")
    return UploadSettings(
        bucket=bucket,
        max_upload_bytes=bounded_int(
            environ, "MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES, S3_MAX_OBJECT_BYTES
        ),
        expires_seconds=bounded_int(
            environ, "UPLOAD_URL_EXPIRES_SECONDS", DEFAULT_EXPIRES_SECONDS, MAX_EXPIRES_SECONDS
        ),
        reserved_identifier=prefix.split("/", 1)[0] or None,
    )
