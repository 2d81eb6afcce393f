"""Standard Webhooks v1 signatures: what receivers check before trusting a notification."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
_MAX_TIMESTAMP_DIGITS = 12
_TIMESTAMP = re.compile(rf"-?[0-9]{{1,{_MAX_TIMESTAMP_DIGITS}}}")


class InvalidSecret(ValueError):
    """The secret cannot be turned into a key; the message never contains the secret."""


def signing_key(secret: str) -> bytes:
    """A `whsec_` secret is a base64 key (the Standard Webhooks form); anything else is used as UTF-8."""
    if not secret:
        raise InvalidSecret("the webhook secret is empty")
    if secret.startswith(SECRET_PREFIX):
        try:
            encoded = secret[len(SECRET_PREFIX) :]
            # Padding is optional, as in the npm and PyPI Standard Webhooks libraries.
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidSecret("a 'whsec_' webhook secret must be base64 after the prefix") from None
        if not key:
            raise InvalidSecret("a 'whsec_' webhook secret must not be empty after the prefix")
        return key
    return secret.encode("utf-8")


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _signature(key: bytes, signed: bytes) -> str:
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def sign(secret: str, msg_id: str, timestamp: int | str, body: bytes | str) -> str:
    """`v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` over the exact bytes sent."""
    return _signature(signing_key(secret), f"{msg_id}.{timestamp}.".encode() + _as_bytes(body))


def _secrets(secret: str | Sequence[str]) -> tuple[str, ...]:
    return (secret,) if isinstance(secret, str) else tuple(secret)


def signature_headers(
    secret: str | Sequence[str], msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers of one delivery attempt; a retry gets a fresh timestamp and signature.

    Several secrets (the current one first, then the previous one during a rotation's overlap) give one
    `v1,` signature each, space-separated: a receiver that knows any one of them verifies."""
    secrets = _secrets(secret)
    if not secrets:
        raise InvalidSecret("no webhook secret to sign with")
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": " ".join(sign(item, msg_id, stamp, body) for item in secrets),
    }


def verify_signature(
    secret: str | Sequence[str],
    msg_id: str,
    timestamp: int | str,
    body: bytes | str,
    signature_header: str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when one of the space-separated `v1,` signatures matches one of the secrets (a receiver lists
    the old and the new one while the sender rotates) and the timestamp is within ±tolerance.

    Comparison is constant-time. Stale and future timestamps are refused, so a captured request cannot be
    replayed later. A malformed header of any kind (a huge or non-numeric timestamp, a lone surrogate, a
    value that is not text) gives False; only an unusable `secret` (`InvalidSecret`, also for an empty
    list) raises.
    """
    secrets = _secrets(secret)
    if not secrets:
        raise InvalidSecret("no webhook secret to verify with")
    keys = [signing_key(item) for item in secrets]  # every secret is checked before any request data
    stamp = _parse_timestamp(timestamp)
    if stamp is None or not isinstance(msg_id, str) or not isinstance(signature_header, str):
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance_seconds:
        return False
    try:
        signed = f"{msg_id}.{stamp}.".encode() + _as_bytes(body)
    except (UnicodeEncodeError, TypeError):  # a lone surrogate in the id or body, a body of another type
        return False
    expected = [_signature(key, signed).encode("ascii") for key in keys]
    matched = False
    for candidate in signature_header.split():
        version, _, value = candidate.partition(",")
        if version != SIGNATURE_VERSION or not value:
            continue
        offered = candidate.encode("ascii", "replace")
        # Keep looping after a match so timing does not reveal which candidate or secret matched.
        for signature in expected:
            matched |= hmac.compare_digest(signature, offered)
    return matched


def _parse_timestamp(value: object) -> int | None:
    """Unix seconds of at most 12 digits (the year 33658): a longer number cannot be compared with the
    clock as a float (`OverflowError`), and no valid header holds one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 10**_MAX_TIMESTAMP_DIGITS else None
    if isinstance(value, str):
        # Only HTTP's optional whitespace around the value: str.strip() also removes characters that
        # int() refuses (U+001F), so a header that passed the pattern could still raise.
        digits = value.strip(" \t")
        return int(digits) if _TIMESTAMP.fullmatch(digits) else None
    return None


def message_id(bucket: str, key: str, version_or_etag: str, sequencer: str) -> str:
    """A duplicated S3 event gives the same id, so receivers can drop repeats."""
    material = "\x00".join((bucket, key, version_or_etag, sequencer)).encode("utf-8")
    return "msg_" + hashlib.sha256(material).hexdigest()[:32]


def verify_headers(secret: str | Sequence[str], headers: Mapping[str, str], body: bytes | str) -> bool:
    """`verify_signature` for a request as received: header names in any case; False when one of
    `webhook-id`, `webhook-timestamp`, `webhook-signature` is missing."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        msg_id = lowered["webhook-id"]
        timestamp = lowered["webhook-timestamp"]
        signature = lowered["webhook-signature"]
    except KeyError:
        return False
    return verify_signature(secret, msg_id, timestamp, body, signature)
