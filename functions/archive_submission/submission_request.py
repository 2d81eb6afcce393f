"""Validation of an API request body: the exact bytes to store, or the 4xx that explains why not."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, NoReturn

_JSON_TYPE_NAMES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
_JSON_TYPE_NAMES[type(None)] = "null"


class RequestRejected(Exception):
    """A client error: the status code and a message safe to return (it never echoes the body)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@dataclass(frozen=True)
class Submission:
    body: bytes
    field_count: int


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def is_json_content_type(content_type: str | None) -> bool:
    """No header counts as JSON; otherwise `application/json` or any `+json` type, parameters allowed."""
    if content_type is None or not content_type.strip():
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def raw_body_bytes(body: str | None, is_base64_encoded: bool, max_bytes: int) -> bytes:
    """The bytes the client sent, size-checked before any decoding work."""
    if body is None:
        return b""
    if not isinstance(body, str):
        raise RequestRejected(400, "request body must be a string")
    if is_base64_encoded:
        if len(body) // 4 * 3 > max_bytes + 3:
            raise RequestRejected(413, f"submission exceeds {max_bytes} bytes")
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise RequestRejected(400, "request body is not valid base64") from None
    else:
        if len(body) > max_bytes:
            raise RequestRejected(413, f"submission exceeds {max_bytes} bytes")
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:
            raise RequestRejected(400, "request body is not valid UTF-8") from None
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
