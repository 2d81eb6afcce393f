"""An API request's body as bytes, bounded before it is decoded and base64-aware: every API function's reader.

API Gateway hands a body over as text, base64-encoded when it is binary (or when the API says so). The size
bound is checked on that text first, so an oversized body is refused without allocating its decoded copy,
and again on the bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .api_events import RequestRejected


def decode_body(body: str, is_base64_encoded: bool) -> bytes:
    """The bytes the client sent: API Gateway base64-encodes some bodies; any other body is UTF-8 text.

    Size limits are the caller's, checked before this (it allocates the decoded copy)."""
    if is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise RequestRejected(400, "request body is not valid base64") from None
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        raise RequestRejected(400, "request body is not valid UTF-8") from None


def read_body(body: Any, is_base64_encoded: bool, max_bytes: int, *, what: str = "request body") -> bytes:
    """The bytes the client sent (b"" for no body), or a 413 naming `what` and the bound, or a 400."""
    if body is None:
        return b""
    if not isinstance(body, str):
        raise RequestRejected(400, "request body must be a string")
    # Before decoding: base64 carries 3 bytes in every 4 characters (and up to 3 of padding slack).
    too_long = len(body) // 4 * 3 > max_bytes + 3 if is_base64_encoded else len(body) > max_bytes
    if too_long:
        raise RequestRejected(413, f"{what} exceeds {max_bytes} bytes")
    raw = decode_body(body, is_base64_encoded)
    if len(raw) > max_bytes:
        raise RequestRejected(413, f"{what} exceeds {max_bytes} bytes")
    return raw


def json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; a 400 when it is not UTF-8 JSON or not an object."""
    try:
        document: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RequestRejected(400, "request body is not valid JSON") from None
    if not isinstance(document, dict):
        raise RequestRejected(400, "request body must be a JSON object")
    return document
