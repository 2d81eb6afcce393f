"""Standard Webhooks v1 signing: the published test vector, verification, secrets, deterministic ids."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from notify_webhook.signing import (
    InvalidSecret,
    message_id,
    sign,
    signature_headers,
    signing_key,
    verify_signature,
)

# The published Standard Webhooks test vector (docs/design.md).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = '{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_sign_matches_the_published_vector() -> None:
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE
    assert sign(SECRET, MSG_ID, str(TIMESTAMP), BODY.encode()) == SIGNATURE


def test_whsec_secret_is_a_base64_key_and_plain_tokens_are_utf8() -> None:
    assert signing_key(SECRET) == base64.b64decode(SECRET.removeprefix("whsec_"))
    assert signing_key("testing") == b"testing"
    assert signing_key("pässwörd") == "pässwörd".encode()
    assert sign("testing", MSG_ID, TIMESTAMP, BODY) != SIGNATURE


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_not base64!"])
def test_unusable_secrets_are_refused_without_echoing_them(secret: str) -> None:
    with pytest.raises(InvalidSecret) as raised:
        signing_key(secret)
    if secret.removeprefix("whsec_"):
        assert secret.removeprefix("whsec_") not in str(raised.value)


def test_verify_accepts_the_vector_at_its_own_time() -> None:
    assert verify_signature(SECRET, MSG_ID, TIMESTAMP, BODY, SIGNATURE, now=TIMESTAMP)
    assert verify_signature(SECRET, MSG_ID, str(TIMESTAMP), BODY.encode(), SIGNATURE, now=TIMESTAMP + 299)


def test_verify_accepts_any_of_several_signatures() -> None:
    header = f"v1,{base64.b64encode(b'x' * 32).decode()} {SIGNATURE}"
    assert verify_signature(SECRET, MSG_ID, TIMESTAMP, BODY, header, now=TIMESTAMP)


@pytest.mark.parametrize(
    ("msg_id", "timestamp", "body", "signature"),
    [
        (MSG_ID, TIMESTAMP, '{"test": 2432232315}', SIGNATURE),  # tampered body
        ("msg_other", TIMESTAMP, BODY, SIGNATURE),  # another id
        (MSG_ID, TIMESTAMP + 1, BODY, SIGNATURE),  # another timestamp
        (MSG_ID, TIMESTAMP, BODY, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF="),  # tampered signature
        (MSG_ID, TIMESTAMP, BODY, "v2," + SIGNATURE.removeprefix("v1,")),  # unknown version
        (MSG_ID, TIMESTAMP, BODY, ""),
        (MSG_ID, "not-a-number", BODY, SIGNATURE),
    ],
)
def test_verify_rejects_tampering(msg_id: str, timestamp: int | str, body: str, signature: str) -> None:
    assert not verify_signature(SECRET, msg_id, timestamp, body, signature, now=TIMESTAMP)


def test_verify_rejects_another_secret() -> None:
    other = "whsec_" + base64.b64encode(b"another key of some length").decode()
    assert not verify_signature(other, MSG_ID, TIMESTAMP, BODY, SIGNATURE, now=TIMESTAMP)


def test_verify_rejects_stale_and_future_timestamps() -> None:
    assert not verify_signature(SECRET, MSG_ID, TIMESTAMP, BODY, SIGNATURE, now=TIMESTAMP + 301)
    assert not verify_signature(SECRET, MSG_ID, TIMESTAMP, BODY, SIGNATURE, now=TIMESTAMP - 301)
    assert verify_signature(SECRET, MSG_ID, TIMESTAMP, BODY, SIGNATURE, now=TIMESTAMP - 300)
    assert not verify_signature(
        SECRET, MSG_ID, TIMESTAMP, BODY, SIGNATURE, now=TIMESTAMP + 61, tolerance_seconds=60
    )


def test_signature_headers_verify_with_the_standardwebhooks_package() -> None:
    body = b'{"sha256":"abc","display":"f\xc3\xa9.txt"}'
    headers = signature_headers(SECRET, "msg_1", body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert verify_signature(SECRET, "msg_1", headers["webhook-timestamp"], body, headers["webhook-signature"])
    Webhook(SECRET).verify(body, headers)  # raises on a bad signature


def test_message_id_is_deterministic_and_tells_events_apart() -> None:
    first = message_id("bucket", "a/b.txt", "v1", "0062E99A88DC407460")
    assert first == message_id("bucket", "a/b.txt", "v1", "0062E99A88DC407460")
    assert first.startswith("msg_")
    assert len(first) == 36
    others = {
        message_id("bucket2", "a/b.txt", "v1", "0062E99A88DC407460"),
        message_id("bucket", "a/b.txt2", "v1", "0062E99A88DC407460"),
        message_id("bucket", "a/b.txt", "v2", "0062E99A88DC407460"),
        message_id("bucket", "a/b.txt", "v1", "0062E99A88DC407461"),
        message_id("bucket", "a/b.tx", "tv1", "0062E99A88DC407460"),
    }
    assert first not in others
    assert len(others) == 5


@pytest.mark.parametrize("key", [b"k" * 31, b"k" * 32, b"k" * 33], ids=["one-pad", "two-pad", "no-pad"])
def test_unpadded_whsec_secret_is_accepted_like_the_standard_webhooks_libraries(key: bytes) -> None:
    padded = "whsec_" + base64.b64encode(key).decode()
    unpadded = padded.rstrip("=")
    assert signing_key(unpadded) == signing_key(padded) == key
    body = b'{"display":"f.txt"}'
    headers = signature_headers(unpadded, "msg_unpadded", body)
    assert headers["webhook-signature"] == sign(padded, "msg_unpadded", headers["webhook-timestamp"], body)
    Webhook(unpadded).verify(body, headers)  # the PyPI library reads the same key from the same text


def test_a_whsec_secret_that_no_padding_can_fix_is_refused() -> None:
    with pytest.raises(InvalidSecret, match="must be base64"):
        signing_key("whsec_" + "A" * 5)  # 4n+1 characters are never base64


@pytest.mark.parametrize(
    ("msg_id", "timestamp", "body", "signature"),
    [
        (MSG_ID, "9" * 400, BODY, SIGNATURE),  # OverflowError before the fix
        (MSG_ID, "9" * 5000, BODY, SIGNATURE),  # over int()'s digit limit
        (MSG_ID, 10**400, BODY, SIGNATURE),
        (MSG_ID, "1614265330.0", BODY, SIGNATURE),
        (MSG_ID, "١٦١٤٢٦٥٣٣٠", BODY, SIGNATURE),  # Arabic-Indic digits, which int() accepts
        (MSG_ID, f"{TIMESTAMP}\x1f", BODY, SIGNATURE),  # str.strip() removes it, int() refused it: raised
        (MSG_ID, f"\x1c{TIMESTAMP}", BODY, SIGNATURE),
        (MSG_ID, True, BODY, SIGNATURE),
        (MSG_ID, None, BODY, SIGNATURE),
        ("msg_\ud800", TIMESTAMP, BODY, SIGNATURE),
        (MSG_ID, TIMESTAMP, "body \udfff", SIGNATURE),
        (MSG_ID, TIMESTAMP, BODY, None),
        (MSG_ID, TIMESTAMP, BODY, "v1," + "A" * 100_000),
        (None, TIMESTAMP, BODY, SIGNATURE),
        (MSG_ID, TIMESTAMP, 12345, SIGNATURE),
    ],
)
def test_item6_verify_signature_is_false_for_any_malformed_header(
    msg_id: Any, timestamp: Any, body: Any, signature: Any
) -> None:
    """Review round 3, item 6: a malformed header (a huge number above all) is False; it never raises."""
    assert verify_signature(SECRET, msg_id, timestamp, body, signature, now=float(TIMESTAMP)) is False


@given(
    timestamp=st.one_of(st.text(max_size=40), st.integers()),
    msg_id=st.text(max_size=40),
    signature=st.text(max_size=120),
)
def test_item6_verify_signature_never_raises(timestamp: Any, msg_id: str, signature: str) -> None:
    assert verify_signature(SECRET, msg_id, timestamp, BODY, signature, now=float(TIMESTAMP)) in (True, False)
