"""A continuation on the queue is authenticated: an HMAC-SHA256 over its exact JSON text, with a key the
stack holds and never sends anywhere. Anyone who can write to the queue could otherwise make the function
announce a SHA-256 it never computed, or deliver to a schedule of their choosing.

The envelope is `{"form_archive_continuation": 1, "work": "<JSON text>", "mac": "<base64>"}`; the MAC
covers the text as sent, so no canonical form of the JSON is needed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from .message import Continuation, InvalidContinuation, from_document, to_document

MARKER = "form_archive_continuation"
VERSION = 1
MIN_KEY_BYTES = 16
_DOMAIN = b"form-archive continuation v1\n"


class RefusedContinuation(Exception):
    """A continuation that must not be resumed: forged, altered, or not describing resumable work.
    The message is safe to log and to park: it names the problem, never the key or the message."""


def is_continuation(document: Any) -> bool:
    """An envelope of ours (authentic or not): what the work queue carries, told apart from S3 events."""
    return isinstance(document, dict) and MARKER in document


def _mac(key: bytes, text: str) -> str:
    digest = hmac.new(key, _DOMAIN + text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def seal(work: Continuation, key: bytes) -> str:
    """The message body to send: the continuation's JSON text and its MAC."""
    text = json.dumps(to_document(work), ensure_ascii=False, separators=(",", ":"))
    return json.dumps({MARKER: VERSION, "work": text, "mac": _mac(key, text)}, ensure_ascii=False)


def open_sealed(document: Any, key: bytes) -> Continuation:
    """The continuation inside an envelope, after its MAC and its fields are checked; else
    `RefusedContinuation` with the reason."""
    if not is_continuation(document) or document.get(MARKER) != VERSION:
        raise RefusedContinuation("not a continuation of a known version")
    text, mac = document.get("work"), document.get("mac")
    if not isinstance(text, str) or not isinstance(mac, str):
        raise RefusedContinuation("continuation lacks its work or its MAC")
    if not hmac.compare_digest(_mac(key, text).encode("ascii"), mac.encode("utf-8", "replace")):
        raise RefusedContinuation("continuation's MAC does not match: forged or altered on the queue")
    try:
        return from_document(json.loads(text))
    except ValueError as error:  # InvalidContinuation is a ValueError, so is bad JSON
        problem = str(error) if isinstance(error, InvalidContinuation) else "work is not JSON"
        raise RefusedContinuation(f"continuation cannot be resumed: {problem}") from None
