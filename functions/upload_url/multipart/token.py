"""The `upload_token` of a multipart upload: what the client may act on, signed so it cannot change it.

The token binds the bucket, key, upload id, size, part size and expiry (and when it was issued) with an
HMAC-SHA256 under a key only the functions know. A client can therefore not complete, abort or extend an
upload it was not given, nor change its key or size. The token is a bearer credential for one upload: it
is never logged, and errors about it never repeat it.

Format: `v1.<base64url JSON claims>.<base64url HMAC over "v1.<claims>">`, base64url without padding; only
that exact text verifies (one spelling per token).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from typing import Any

from form_archive_contract.api_events import RequestRejected

VERSION = "v1"
# A token is at most a few hundred bytes (S3 keys are at most 1,024 bytes); anything longer is not one.
MAX_TOKEN_CHARS = 4096
MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class UploadClaims:
    bucket: str
    key: str
    upload_id: str
    size: int
    part_size: int
    issued_at: int  # Unix seconds
    expires_at: int  # Unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, signed_part: str) -> bytes:
    return hmac.new(secret, signed_part.encode("ascii"), hashlib.sha256).digest()


def issue_token(secret: bytes, claims: UploadClaims) -> str:
    body = _b64(json.dumps(asdict(claims), separators=(",", ":"), sort_keys=True).encode("utf-8"))
    signed_part = f"{VERSION}.{body}"
    return f"{signed_part}.{_b64(_mac(secret, signed_part))}"


def _forbidden(reason: str) -> RequestRejected:
    return RequestRejected(403, f"upload_token: {reason}")


def _claims(document: Any) -> UploadClaims:
    fields = UploadClaims.__dataclass_fields__
    if not isinstance(document, dict) or set(document) != set(fields):
        raise _forbidden("is not a valid upload token")
    texts = ("bucket", "key", "upload_id")
    if not all(isinstance(document[name], str) for name in texts) or not all(
        type(document[name]) is int for name in fields if name not in texts
    ):
        raise _forbidden("is not a valid upload token")
    return UploadClaims(**document)


def verify_token(secret: bytes, token: Any, *, bucket: str, now: float) -> UploadClaims:
    """The claims of a genuine, unexpired token for `bucket`; otherwise a 403 that says why."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise _forbidden("is not a valid upload token")
    pieces = token.split(".")
    if len(pieces) != 3 or pieces[0] != VERSION:
        raise _forbidden("is not a valid upload token")
    signed_part = f"{pieces[0]}.{pieces[1]}"
    # Authenticity first: nothing a client made up is parsed. The MAC is compared as the text it is issued
    # as, so a token has exactly one accepted spelling (a lenient base64 decoder would also take it with
    # padding, junk characters, `+/` for `-_` or other unused low bits).
    if not hmac.compare_digest(pieces[2].encode("ascii"), _b64(_mac(secret, signed_part)).encode("ascii")):
        raise _forbidden("signature does not match (forged, changed, or from another deployment)")
    try:
        document = json.loads(_unb64(pieces[1]).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise _forbidden("is not a valid upload token") from None
    claims = _claims(document)
    if claims.bucket != bucket:
        raise _forbidden("was issued for another bucket")
    if claims.expires_at <= now:
        raise _forbidden("has expired; start the upload again")
    return claims
