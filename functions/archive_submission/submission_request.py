"""Validation of an API request body: the exact bytes to store, or the 4xx that explains why not."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

from form_archive_contract.api_events import RequestRejected, decode_body, is_json_content_type

__all__ = ["RequestRejected", "Submission", "is_json_content_type", "parse_submission", "raw_body_bytes"]

_JSON_TYPE_NAMES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
_JSON_TYPE_NAMES[type(None)] = "null"


@dataclass(frozen=True)
class Submission:
    body: bytes
    field_count: int


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def raw_body_bytes(body: str | None, is_base64_encoded: bool, max_bytes: int) -> bytes:
    """The bytes the client sent, size-checked before any decoding work."""
    if body is None:
        return b""
    if not isinstance(body, str):
        raise RequestRejected(400, "request body must be a string")
    # Before decoding: base64 carries 3 bytes in every 4 characters (and up to 3 of padding slack).
    too_long = len(body) // 4 * 3 > max_bytes + 3 if is_base64_encoded else len(body) > max_bytes
    if too_long:
        raise RequestRejected(413, f"submission exceeds {max_bytes} bytes")
    raw = decode_body(body, is_base64_encoded)
    if len(raw) > max_bytes:
        raise RequestRejected(413, f"submission exceeds {max_bytes} bytes")
    return raw


def parse_submission(raw: bytes) -> Submission:
    """Accept only a non-empty JSON object; the stored bytes stay exactly as received."""
    if not raw.strip():
        raise RequestRejected(400, "request body is empty; send a JSON object")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRejected(400, "request body is not valid UTF-8") from None
    try:
        document: Any = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise RequestRejected(400, "request body is not valid JSON") from None
    if not isinstance(document, dict):
        kind = _JSON_TYPE_NAMES.get(type(document), "value")
        raise RequestRejected(400, f"submission must be a JSON object, not a JSON {kind}")
    if not document:
        raise RequestRejected(400, "submission is an empty JSON object")
    return Submission(body=raw, field_count=len(document))
