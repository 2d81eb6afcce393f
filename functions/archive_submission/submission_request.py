"""Validation of an API request body: the exact bytes to store, or the 4xx that explains why not."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

from form_archive_contract.api_events import RequestRejected, is_json_content_type

__all__ = ["RequestRejected", "Submission", "is_json_content_type", "parse_submission"]

_JSON_TYPE_NAMES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
_JSON_TYPE_NAMES[type(None)] = "null"


@dataclass(frozen=True)
class Submission:
    body: bytes
    field_count: int


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


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
