"""Validation of a `POST /uploads` request: an `UploadRequest`, or the 4xx that names the faulty field.

Pure functions: nothing here talks to AWS, so every rule has a unit test.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, NoReturn

from form_archive_contract.api_events import RequestRejected, is_json_content_type
from form_archive_contract.archive_keys import in_archive_key_space
from form_archive_contract.metadata import PLAUSIBLE_EMAIL, is_plain_text
from form_archive_contract.request_body import json_object

__all__ = [
    "RequestRejected",
    "UploadRequest",
    "is_json_content_type",
    "parse_upload_request",
]

# The request itself is a few fields; anything bigger is not a request for an upload.
MAX_REQUEST_BYTES = 16_384
# S3's limit for an object key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
MAX_FILENAME_BYTES = 255
MAX_UPLOADER_CHARS = 256
MAX_CONTENT_TYPE_CHARS = 255

FIELDS = frozenset(
    {
        "datapack_identifier",
        "path",
        "filename",
        "content_type",
        "size",
        "sha256",
        "uploader_name",
        "uploader_email",
    }
)
_SEGMENT = re.compile(r"[A-Za-z0-9._-]{1,128}")
_MEDIA_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_CONTENT_TYPE = re.compile(rf"{_MEDIA_NAME}/{_MEDIA_NAME}")
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
# Characters that read as a folder separator without being `/` (fraction slash, division slash, fullwidth
# and big solidus) or are one on another system (backslash and its look-alikes).
_LOOK_ALIKE_SEPARATORS = frozenset("\u2044\u2215\uff0f\u29f8\\\uff3c\ufe68\u2216")
ARCHIVE_KEY_RULE = "datapack_identifier, path and filename make the key of an archived submission"
_HIDDEN_CHARACTERS = "must not contain format characters (bidi overrides, zero-width, BOM) or U+2028/U+2029"


@dataclass(frozen=True)
class UploadRequest:
    datapack_identifier: str
    path: str  # "/" or "/seg/seg"
    filename: str
    content_type: str
    size: int
    sha256: str | None  # lowercase hex
    uploader_name: str
    uploader_email: str

    @property
    def sha256_b64(self) -> str | None:
        """The digest as S3's `x-amz-checksum-sha256` header carries it (base64 of the 32 bytes)."""
        if self.sha256 is None:
            return None
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


def _reject(field: str, rule: str) -> NoReturn:
    raise RequestRejected(400, f"{field}: {rule}")


def _has_control_character(text: str) -> bool:
    return any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in text)


def _segment(field: str, value: str) -> str:
    if not _SEGMENT.fullmatch(value) or value in {".", ".."}:
        _reject(field, "1-128 of A-Z a-z 0-9 . _ - (not . or ..)")
    return value


def _required_text(document: dict[str, Any], field: str) -> str:
    value = document.get(field)
    if value is None:
        _reject(field, "is required")
    if not isinstance(value, str):
        _reject(field, "must be a string")
    return value


def _identifier(document: dict[str, Any], reserved: str | None) -> str:
    value = _segment("datapack_identifier", _required_text(document, "datapack_identifier"))
    if reserved is not None and value == reserved:
        _reject("datapack_identifier", f"{value!r} is reserved for archived submissions")
    return value


def _path(document: dict[str, Any]) -> str:
    value = document.get("path", "/")
    if value is None:
        value = "/"
    if not isinstance(value, str):
        _reject("path", "must be a string")
    if value == "/":
        return value
    if not value.startswith("/"):
        _reject("path", "must start with /")
    for segment in value[1:].split("/"):
        if not segment:
            _reject("path", "has an empty segment (a doubled or trailing /)")
        _segment("path", segment)
    return value


def _filename(document: dict[str, Any]) -> str:
    """NFC, so `März.csv` typed on any system is one key; refused: what hides, reorders or splits the name."""
    value = _required_text(document, "filename")
    if not _is_unicode(value):
        _reject("filename", "is not valid Unicode text")
    value = unicodedata.normalize("NFC", value)
    if not 1 <= len(value.encode("utf-8")) <= MAX_FILENAME_BYTES:
        _reject("filename", f"must be 1-{MAX_FILENAME_BYTES} UTF-8 bytes")
    if "/" in value or _has_control_character(value) or value in {".", ".."}:
        _reject("filename", "must not contain / or control characters, and not be . or ..")
    if not is_plain_text(value):
        _reject("filename", _HIDDEN_CHARACTERS)
    if any(char in _LOOK_ALIKE_SEPARATORS for char in value):
        _reject("filename", "must not contain a backslash or a character that looks like a slash")
    if value[-1] in ". ":
        _reject("filename", "must not end with a dot or a space")
    return value


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _content_type(document: dict[str, Any]) -> str:
    value = _required_text(document, "content_type")
    if len(value) > MAX_CONTENT_TYPE_CHARS or not _CONTENT_TYPE.fullmatch(value):
        _reject("content_type", "must be a media type like type/subtype, without parameters")
    return value


def _size(document: dict[str, Any], max_bytes: int) -> int:
    value = document.get("size")
    if value is None:
        _reject("size", "is required")
    if isinstance(value, bool) or not isinstance(value, int):
        _reject("size", "must be a whole number of bytes")
    if value < 1:
        _reject("size", "must be at least 1 byte")
    if value > max_bytes:
        raise RequestRejected(413, f"size: at most {max_bytes} bytes")
    return value


def _sha256(document: dict[str, Any]) -> str | None:
    value = document.get("sha256")
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value):
        _reject("sha256", "must be 64 hexadecimal digits")
    return value.lower()


def _uploader(document: dict[str, Any], field: str) -> str:
    value = _required_text(document, field)
    if not value.strip() or len(value) > MAX_UPLOADER_CHARS:
        _reject(field, f"must be 1-{MAX_UPLOADER_CHARS} characters")
    if _has_control_character(value):
        _reject(field, "must not contain control characters")
    if not _is_unicode(value):
        _reject(field, "is not valid Unicode text")
    if not is_plain_text(value):
        _reject(field, _HIDDEN_CHARACTERS)
    if field == "uploader_email" and not PLAUSIBLE_EMAIL.fullmatch(value):
        _reject(field, "is not a plausible e-mail address")
    return value


def parse_upload_request(
    raw: bytes, *, max_upload_bytes: int, reserved_identifier: str | None
) -> UploadRequest:
    """A JSON object with the fields docs/uploads.md lists; an unknown field is refused."""
    document = json_object(raw)
    unknown = sorted(set(document) - FIELDS)
    if unknown:
        _reject(unknown[0], "unknown field")
    request = UploadRequest(
        datapack_identifier=_identifier(document, reserved_identifier),
        path=_path(document),
        filename=_filename(document),
        content_type=_content_type(document),
        size=_size(document, max_upload_bytes),
        sha256=_sha256(document),
        uploader_name=_uploader(document, "uploader_name"),
        uploader_email=_uploader(document, "uploader_email"),
    )
    key = object_key(request)
    if reserved_identifier is None and in_archive_key_space(key, ""):
        _reject("filename", ARCHIVE_KEY_RULE)
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        _reject("path", f"datapack_identifier, path and filename make a key over {MAX_KEY_BYTES} bytes")
    return request


def object_key(request: UploadRequest) -> str:
    """`{datapack_identifier}{path}/{filename}` at the bucket root; path `/` adds nothing."""
    folder = "" if request.path == "/" else request.path
    return f"{request.datapack_identifier}{folder}/{request.filename}"
