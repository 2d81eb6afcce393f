"""What the local API checks of a request before it reads a byte of its body.

A tool that listens, even on loopback, is reachable from every page a browser on this machine opens
(a DNS name that resolves to 127.0.0.1 makes a page "same-origin" with it). So it answers only to
loopback `Host` names, refuses a path it cannot decode, and trusts a declared `Content-Length` only
when it is a plain number within the limit: `-1`, `abc` or `1e15` are refused before any read.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from tools.loopback_host import REFUSAL, is_loopback_host

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
_DIGITS = re.compile(r"[0-9]{1,20}")


class Refused(Exception):
    """The request is refused before its body is read: `status` and a message safe to send back."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def check_host(host: str | None) -> None:
    """`Refused(403)` unless the `Host` header names the loopback interface (with any port)."""
    if not is_loopback_host(host):
        raise Refused(403, REFUSAL)


def check_path(raw_path: str) -> str:
    """The percent-decoded path; `Refused(400)` for non-ASCII, invalid UTF-8 or a control character."""
    if not raw_path.isascii():
        raise Refused(400, "the path must be ASCII (percent-encode anything else)")
    try:
        decoded = unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        raise Refused(400, "the path is not percent-encoded UTF-8") from None
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in decoded):
        raise Refused(400, "the path holds a control character")
    return decoded


def declared_length(content_length: str | None, transfer_encoding: str | None) -> int:
    """The body's length in bytes from `Content-Length`; `Refused` (400/411/413) for anything else."""
    if transfer_encoding is not None:
        raise Refused(411, "send the body with a Content-Length (no Transfer-Encoding)")
    if content_length is None:
        return 0
    text = content_length.strip()
    if not _DIGITS.fullmatch(text):
        raise Refused(400, "Content-Length must be a whole number of bytes")
    length = int(text)
    if length > MAX_BODY_BYTES:
        raise Refused(413, "Request Too Long")
    return length
