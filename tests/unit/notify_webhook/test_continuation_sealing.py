"""A continuation opens only as it was sealed: forged, altered or unresumable messages are refused."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import pytest

from notify_webhook.continuation.message import (
    MAX_STATE_BYTES,
    AttemptRecord,
    Continuation,
    to_document,
)
from notify_webhook.continuation.pinned import PinnedObject
from notify_webhook.continuation.sealing import (
    MARKER,
    RefusedContinuation,
    is_continuation,
    open_sealed,
    seal,
)
from notify_webhook.object_hash.sha256_state import HashCheckpoint, ResumableSha256

KEY = b"testing-checkpoint-key"
TARGET = PinnedObject("bucket", "pack/a b.json", "v1", "abc123", 1000, "0062E99A88DC407460")
DELIVER = Continuation(
    target=TARGET,
    phase="deliver",
    webhook_id="msg_test",
    due=1_800_000_000.5,
    attempts=2,
    sha256="a" * 64,
    last_failure="HTTP 500",
    history=(AttemptRecord(1, 1_799_999_000.0, "HTTP 500"), AttemptRecord(2, 1_799_999_005.0, "HTTP 500")),
)


def checkpoint_after(data: bytes) -> HashCheckpoint:
    state = ResumableSha256(None)
    state.update(data)
    return state.checkpoint()


CHECKPOINT = checkpoint_after(b"x" * 500)
STATE = CHECKPOINT.state
HASH = Continuation(target=TARGET, phase="hash", webhook_id="msg_test", due=0.0, checkpoint=CHECKPOINT)
HASH_WITH_RANGES = replace(HASH, read_connections=16)  # the links so far found that ranges pay


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def envelope(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    return document


def resealed(change: dict[str, Any], work: Continuation = DELIVER) -> dict[str, Any]:
    """A message sealed with the right key whose fields say something no invocation would write."""
    document = {**to_document(work), **change}
    sealed = envelope(seal(work, KEY))
    text = json.dumps(document)
    sealed["work"] = text
    # Re-seal with the key, as someone holding it (or a bug) would: the MAC is right, the content is not.
    from notify_webhook.continuation import sealing  # noqa: PLC0415 - the private MAC, for this test only

    sealed["mac"] = sealing._mac(KEY, text)
    return sealed


@pytest.mark.parametrize("work", [DELIVER, HASH, HASH_WITH_RANGES], ids=["deliver", "hash", "hash-ranges"])
def test_a_sealed_continuation_opens_to_the_same_work(work: Continuation) -> None:
    assert open_sealed(envelope(seal(work, KEY)), KEY) == work


def test_a_message_sealed_with_another_key_is_refused_as_forged() -> None:
    with pytest.raises(RefusedContinuation, match="MAC does not match"):
        open_sealed(envelope(seal(DELIVER, b"another-key-of-16-bytes")), KEY)


def test_a_message_altered_on_the_queue_is_refused() -> None:
    sealed = envelope(seal(DELIVER, KEY))
    sealed["work"] = sealed["work"].replace('"a' + "a" * 63, '"b' + "a" * 63)
    with pytest.raises(RefusedContinuation, match="forged or altered"):
        open_sealed(sealed, KEY)


def test_a_message_without_its_mac_is_refused() -> None:
    sealed = envelope(seal(DELIVER, KEY))
    del sealed["mac"]
    with pytest.raises(RefusedContinuation, match="lacks its work or its MAC"):
        open_sealed(sealed, KEY)


@pytest.mark.parametrize(
    ("change", "work", "reason"),
    [
        ({"phase": "compress"}, DELIVER, "unknown phase"),
        ({"checkpoint": {"offset": 1001, "state": b64(STATE)}}, HASH, "beyond the object's size"),
        ({"checkpoint": {"offset": 500, "state": b64(STATE[:-1])}}, HASH, "wrong length"),
        ({"checkpoint": {"offset": 500, "state": b64(STATE + b"s")}}, HASH, "wrong length"),
        ({"checkpoint": {"offset": 500, "state": b64(b"s" * (MAX_STATE_BYTES + 1))}}, HASH, "wrong length"),
        ({"checkpoint": {"offset": 564, "state": b64(STATE)}}, HASH, "wrong length or form"),
        ({"checkpoint": None}, HASH, "needs a checkpoint"),
        ({"sha256": "not-a-digest"}, DELIVER, "sha256"),
        ({"attempts": -1}, DELIVER, "attempts"),
        ({"due": "tomorrow"}, DELIVER, "due"),
        ({"read_connections": -1}, HASH, "read_connections"),
        ({"read_connections": "16"}, HASH, "read_connections"),
    ],
    ids=[
        "unknown-phase",
        "offset-beyond-size",
        "state-short",
        "state-long",
        "state-over-1kib",
        "offset-not-the-states",
        "no-checkpoint",
        "bad-sha256",
        "negative-attempts",
        "due-not-a-time",
        "negative-read-connections",
        "read-connections-not-a-count",
    ],
)
def test_an_authentic_message_that_cannot_be_resumed_is_refused_with_the_reason(
    change: dict[str, Any], work: Continuation, reason: str
) -> None:
    with pytest.raises(RefusedContinuation, match=reason):
        open_sealed(resealed(change, work), KEY)


def test_a_message_sealed_before_the_read_decision_was_carried_opens_with_none_decided() -> None:
    """A hash-phase message from before `read_connections` existed (sealed, still on the queue during a
    deployment) resumes, the next link deciding how to read afresh."""
    document = to_document(HASH_WITH_RANGES)
    del document["read_connections"]
    sealed = resealed({}, HASH_WITH_RANGES)
    sealed["work"] = json.dumps(document)
    from notify_webhook.continuation import sealing  # noqa: PLC0415 - the private MAC, for this test only

    sealed["mac"] = sealing._mac(KEY, sealed["work"])
    assert open_sealed(sealed, KEY) == HASH


def test_the_carried_read_decision_is_sealed_with_the_rest() -> None:
    sealed = envelope(seal(HASH_WITH_RANGES, KEY))
    sealed["work"] = sealed["work"].replace('"read_connections":16', '"read_connections":1')
    assert '"read_connections":1}' in sealed["work"]
    with pytest.raises(RefusedContinuation, match="forged or altered"):
        open_sealed(sealed, KEY)


def test_continuations_are_told_apart_from_s3_events() -> None:
    assert is_continuation(envelope(seal(DELIVER, KEY)))
    assert not is_continuation({"Records": [{"eventSource": "aws:s3"}]})
    assert not is_continuation([MARKER])


def test_the_sealed_text_holds_no_body_and_no_secret() -> None:
    text = seal(replace(DELIVER, last_failure="HTTP 503"), KEY)
    assert KEY.decode() not in text
    assert "secret" not in text
