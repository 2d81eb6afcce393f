"""Property, end to end: any S3 key, stored in moto's server and announced by an event encoded either way,
reaches the local receiver with the right fields and a signature that verifies."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from notify_webhook.app import lambda_handler
from notify_webhook.object_key_parts import split_key
from notify_webhook.signing import verify_signature
from tests.hypothesis_profiles import scaled
from tests.s3_stores import ARCHIVE_BUCKET, ON_LOCALSTACK, ON_RGW
from tests.unit.notify_webhook.test_properties import s3_keys
from tests.webhook_receiver import WebhookReceiver, object_created_record, s3_event
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
END_TO_END_EXAMPLES = scaled(150)


def without_line_feeds(key: str) -> str:
    """moto's server answers 404 to a put of a key holding a line feed (its URL routing does not match
    it): a limit of the fake, not of S3 or of our code, whose decoding and split are checked with line
    feeds in tests/unit/notify_webhook/test_properties.py."""
    return key.replace("\n", "_")


def storable(key: str) -> str:
    """Ceph RGW answers 400 to a put of a key holding NUL, and LocalStack 500 to a key of slashes only (it
    reads `/bucket//` as a bucket request): limits of those stores, not of our code (the unit properties
    cover both)."""
    key = without_line_feeds(key)
    if ON_LOCALSTACK and not key.strip("/"):
        key += "_"
    return key.replace("\x00", "_") if ON_RGW else key


@pytest.mark.deep_property
def test_any_key_is_announced_with_the_right_fields_and_a_valid_signature(
    server_s3: S3Client, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each example costs a put, a head, a get and a POST over real HTTP (about 20 ms), so this runs
    150 examples in the deep profile (30 in `make test`; tests/hypothesis_profiles.py) instead of the
    profile's count; the key analysis itself is checked on the profile's count of keys without I/O in
    tests/unit/notify_webhook/test_properties.py."""
    monkeypatch.setenv("WEBHOOK_URL", webhook_receiver.url)
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "true")
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("ACCEPTED_UPLOADERS", "presigned-url")
    sequence = iter(range(1, 1_000_000))
    tried = {"examples": 0, "long": 0, "slash_encoded": 0}

    @settings(max_examples=END_TO_END_EXAMPLES)
    @given(key=s3_keys().map(storable), body=st.binary(max_size=64), encode_slash=st.booleans())
    def check(key: str, body: bytes, encode_slash: bool) -> None:
        answer = server_s3.put_object(
            Bucket=ARCHIVE_BUCKET,
            Key=key,
            Body=body,
            ContentType="application/octet-stream",
            Metadata={"uploaded-by": "presigned-url", "uploader-name": "Jane", "uploader-email": "j@e.test"},
        )
        record = object_created_record(
            ARCHIVE_BUCKET,
            key,
            etag=answer["ETag"],
            sequencer=f"{next(sequence):018X}",
            size=len(body),
            encode_slash=encode_slash,
        )
        seen = len(webhook_receiver.requests)
        try:
            assert lambda_handler(s3_event(record), LocalLambdaContext())["delivered"] == 1
        finally:
            server_s3.delete_object(Bucket=ARCHIVE_BUCKET, Key=key)
        [request] = webhook_receiver.requests[seen:]
        payload = request.json()
        parts = split_key(key)
        assert (payload["datapack_identifier"], payload["path"], payload["display"]) == (
            parts.datapack_identifier,
            parts.path,
            parts.display,
        )
        assert payload["sha256"] == hashlib.sha256(body).hexdigest()
        assert payload["length"] == len(body)
        assert payload["etag"] == answer["ETag"].strip('"')
        assert payload["content_type"] == "application/octet-stream"
        headers = request.headers
        assert verify_signature(
            SECRET,
            headers["webhook-id"],
            headers["webhook-timestamp"],
            request.body,
            headers["webhook-signature"],
        )
        Webhook(SECRET).verify(request.body, headers)
        tried["examples"] += 1
        tried["long"] += len(key.encode()) > 900
        tried["slash_encoded"] += encode_slash and "/" in key

    check()
    assert tried["examples"] >= END_TO_END_EXAMPLES // 2, tried
