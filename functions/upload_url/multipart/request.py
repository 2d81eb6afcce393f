"""Validation of the multipart routes' requests: what the client asks for, or the 4xx naming the field.

Pure functions (nothing here talks to AWS or checks the token's signature), so every rule has a unit test
and a property test. Digests travel as 64 hex digits, like `sha256` of `POST /uploads`; S3 wants base64.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from form_archive_contract.api_events import RequestRejected
from form_archive_contract.request_body import json_object, read_body

from .plan import S3_MAX_PARTS

# At most 100 presigned parts per `parts` request (docs/uploads.md): a page asks again as it goes.
MAX_PARTS_PER_REQUEST = 100
# `complete` lists every part (up to 10,000 of about 140 bytes each).
MAX_MULTIPART_REQUEST_BYTES = 2 * 1024 * 1024
MAX_ETAG_CHARS = 128
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_ETAG = re.compile(r'"?[!#-~]{1,126}"?')  # printable ASCII, optionally quoted as S3 returns it


@dataclass(frozen=True)
class PartDigest:
    part_number: int
    sha256: str  # lowercase hex

    @property
    def sha256_b64(self) -> str:
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


@dataclass(frozen=True)
class CompletedPart(PartDigest):
    etag: str  # as S3 returned it, quotes removed


@dataclass(frozen=True)
class MultipartRequest:
    upload_token: Any  # checked by token.verify_token
    parts: tuple[Any, ...]  # PartDigest for `parts`, CompletedPart for `complete`, empty otherwise


def _reject(field: str, rule: str, status: int = 400) -> NoReturn:
    raise RequestRejected(status, f"{field}: {rule}")


def read_json_object(body: str | None, is_base64_encoded: bool) -> dict[str, Any]:
    """The request's JSON object; size-checked before decoding."""
    if body is None:
        _reject("request body", "must be a JSON object")
    raw = read_body(body, is_base64_encoded, MAX_MULTIPART_REQUEST_BYTES)
    return json_object(raw)


def _only(document: dict[str, Any], fields: set[str]) -> None:
    unknown = sorted(set(document) - fields)
    if unknown:
        _reject(str(unknown[0])[:64], "unknown field")
    if document.get("upload_token") is None:
        _reject("upload_token", "is required")


def _part_number(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _reject(f"{where}.part_number", "must be a whole number")
    if not 1 <= value <= S3_MAX_PARTS:
        _reject(f"{where}.part_number", f"must be 1-{S3_MAX_PARTS}")
    return value


def _sha256(where: str, value: Any) -> str:
    if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value):
        _reject(f"{where}.sha256", "must be 64 hexadecimal digits")
    return value.lower()


def _etag(where: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_ETAG_CHARS or not _ETAG.fullmatch(value):
        _reject(f"{where}.etag", "must be the ETag S3 answered for the part")
    return value.strip('"')


def _part_list(document: dict[str, Any], *, fields: set[str], limit: int) -> list[dict[str, Any]]:
    parts = document.get("parts")
    if parts is None:
        _reject("parts", "is required")
    if not isinstance(parts, list) or not parts:
        _reject("parts", "must be a non-empty list")
    if len(parts) > limit:
        _reject("parts", f"at most {limit} parts per request")
    for index, part in enumerate(parts):
        if not isinstance(part, dict):
            _reject(f"parts[{index}]", "must be an object")
        missing = sorted(fields - set(part))
        if missing:
            _reject(f"parts[{index}].{missing[0]}", "is required")
        unknown = sorted(set(part) - fields)
        if unknown:
            _reject(f"parts[{index}].{str(unknown[0])[:64]}", "unknown field")
    return parts


def _no_duplicates(parts: Sequence[PartDigest]) -> None:
    seen: set[int] = set()
    for index, part in enumerate(parts):
        if part.part_number in seen:
            _reject(f"parts[{index}].part_number", f"part {part.part_number} is listed twice")
        seen.add(part.part_number)


def parse_parts_request(document: dict[str, Any]) -> MultipartRequest:
    """`{"upload_token", "parts": [{"part_number", "sha256"}...]}`, at most 100 parts, no duplicates."""
    _only(document, {"upload_token", "parts"})
    raw = _part_list(document, fields={"part_number", "sha256"}, limit=MAX_PARTS_PER_REQUEST)
    parts = [
        PartDigest(_part_number(f"parts[{i}]", p["part_number"]), _sha256(f"parts[{i}]", p["sha256"]))
        for i, p in enumerate(raw)
    ]
    _no_duplicates(parts)
    return MultipartRequest(document["upload_token"], tuple(parts))


def parse_complete_request(document: dict[str, Any]) -> MultipartRequest:
    """`{"upload_token", "parts": [{"part_number", "etag", "sha256"}...]}`, every part once."""
    _only(document, {"upload_token", "parts"})
    raw = _part_list(document, fields={"part_number", "etag", "sha256"}, limit=S3_MAX_PARTS)
    parts = [
        CompletedPart(
            part_number=_part_number(f"parts[{i}]", p["part_number"]),
            sha256=_sha256(f"parts[{i}]", p["sha256"]),
            etag=_etag(f"parts[{i}]", p["etag"]),
        )
        for i, p in enumerate(raw)
    ]
    _no_duplicates(parts)
    return MultipartRequest(document["upload_token"], tuple(sorted(parts, key=lambda p: p.part_number)))


def parse_token_request(document: dict[str, Any]) -> MultipartRequest:
    """`{"upload_token"}` for `status` and `abort`."""
    _only(document, {"upload_token"})
    return MultipartRequest(document["upload_token"], ())


def check_part_numbers(parts: tuple[PartDigest, ...], part_count: int, *, every: bool) -> None:
    """Each number within 1..part_count (the token's); with `every`, none missing (for `complete`)."""
    for index, part in enumerate(parts):
        if part.part_number > part_count:
            _reject(f"parts[{index}].part_number", f"must be 1-{part_count} for this upload")
    if every and len(parts) != part_count:
        listed = {part.part_number for part in parts}
        missing = [number for number in range(1, part_count + 1) if number not in listed]
        _reject("parts", f"{len(parts)} of {part_count} parts listed; missing part {missing[0]}")
