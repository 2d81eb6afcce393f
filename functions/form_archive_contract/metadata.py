"""Object metadata: the keys the writers set, the `uploaded-by` values, and how non-ASCII travels.

S3 keeps user metadata as HTTP headers, so a non-ASCII value is stored (and returned) as an RFC 2047
encoded-word, `=?UTF-8?B?...?=`. Writers encode with `encode_metadata_value`, readers decode with
`decode_metadata_value`, and both agree on the text.
"""

from __future__ import annotations

import base64
import email.errors
import re
import unicodedata
from email.header import decode_header

UPLOADED_BY = "uploaded-by"
UPLOADER_NAME = "uploader-name"
UPLOADER_EMAIL = "uploader-email"
SUBMISSION_ID = "submission-id"
RECEIVED_AT = "received-at"

# `uploaded-by` values: who put the object into the bucket.
ARCHIVE_SUBMISSION = "archive-submission"
PRESIGNED_URL = "presigned-url"
KNOWN_UPLOADERS = frozenset({ARCHIVE_SUBMISSION, PRESIGNED_URL})
# The notify function's default: only browser uploads (the handbook's flow). The template widens it.
DEFAULT_ACCEPTED_UPLOADERS = (PRESIGNED_URL,)


# Control (Cc), format (Cf: bidi overrides, zero-width characters, the BOM), line and paragraph separators
# (Zl, Zp) and lone surrogates (Cs): characters that change how text reads without being seen.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Plausible, not RFC 5322: one @, something on each side, a dot in the domain, no spaces or controls.
PLAUSIBLE_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def is_plain_text(text: str) -> bool:
    """No character that is invisible or reorders or breaks the text (see `_HIDDEN_CATEGORIES`)."""
    return not any(unicodedata.category(char) in _HIDDEN_CATEGORIES for char in text)


def encode_metadata_value(text: str) -> str:
    """Plain ASCII unchanged; anything else as one RFC 2047 `B` encoded-word, as S3 itself returns it.

    ASCII that could read as an encoded-word (it holds `=?`) is encoded too: passed through, the reader
    would decode it into text that was never validated. So is text with leading or trailing spaces, which
    an HTTP header cannot carry (clients refuse or strip them, and the signed value would not match)."""
    if text.isascii() and "=?" not in text and text == text.strip():
        return text
    return "=?UTF-8?B?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def decode_metadata_value(value: str | None) -> str | None:
    """The text behind RFC 2047 encoded-words; a value that is not one (or is malformed) stays as it is.

    Chunks are joined as they stand: `email.header.make_header` would put a space between an encoded-word
    and plain text that follows it (`=?UTF-8?Q?Jos=C3=A9?=@example.test` must stay one address)."""
    if value is None or "=?" not in value:
        return value
    try:
        chunks = decode_header(value)
        text = "".join(
            chunk.decode(charset or "ascii") if isinstance(chunk, bytes) else chunk
            for chunk, charset in chunks
        )
    except (email.errors.HeaderParseError, UnicodeDecodeError, LookupError, ValueError):
        return value
    return text or value  # undecodable base64 decodes to nothing: keep what S3 gave


def announced_uploader(value: str | None, *, email: bool = False) -> str | None:
    """The decoded text of an `uploader-name` / `uploader-email` value, or None when it is absent or, once
    decoded, not plain text (or not a plausible address): a signed webhook never carries what the upload
    function would have refused."""
    return None if uploader_problem(value, email=email) else decode_metadata_value(value)


ABSENT = "absent"


def uploader_problem(value: str | None, *, email: bool = False) -> str | None:
    """Why `announced_uploader` gives None for `value` (`ABSENT`, not plain text, not a plausible
    address), or None when the text is announced: each case is reported as what it is."""
    text = decode_metadata_value(value)
    if text is None:
        return ABSENT
    if not is_plain_text(text):
        return "not plain text once decoded"
    if email and not PLAUSIBLE_EMAIL.fullmatch(text):
        return "not a plausible e-mail address"
    return None
