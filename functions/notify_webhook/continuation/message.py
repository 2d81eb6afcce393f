"""What a continuation says: the pinned object, the phase, the hash checkpoint and the delivery so far.

Plain data with a JSON form. The form carries no secret (the body token and the signing secret are read
again by the invocation that resumes) and no body: a deliver-phase message holds the SHA-256 already
computed, and the body is rebuilt from the pinned object. `sealing` authenticates the JSON form.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from ..object_hash.sha256_state import HashCheckpoint, InvalidHashState
from .pinned import PinnedObject

HASH_PHASE = "hash"
DELIVER_PHASE = "deliver"
PHASES = (HASH_PHASE, DELIVER_PHASE)
# The most state bytes a message may carry, checked before the state itself is (the real state is smaller).
MAX_STATE_BYTES = 1024
# The history kept in a message (and a parked record): the schedule's attempts and then some.
MAX_HISTORY = 32
MAX_REASON_CHARS = 300
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class InvalidContinuation(ValueError):
    """An authenticated message that still cannot be resumed; the message names the field, never a value."""


@dataclass(frozen=True)
class AttemptRecord:
    """One delivery attempt that failed: its number, when (unix seconds) and why (status or error type)."""

    attempt: int
    at: float
    reason: str


@dataclass(frozen=True)
class Continuation:
    """Where to resume. `attempts` counts the delivery attempts already made; `due` is unix seconds."""

    target: PinnedObject
    phase: str
    webhook_id: str
    due: float
    attempts: int = 0
    checkpoint: HashCheckpoint | None = None
    sha256: str | None = None
    links: int = 0
    last_failure: str | None = None
    history: tuple[AttemptRecord, ...] = ()
    # The hash's read decision so far (`object_hash.CarriedDecision`): 0 unknown, 1 one stream, N ranges.
    read_connections: int = 0


def short_reason(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def to_document(work: Continuation) -> dict[str, Any]:
    """The JSON form, every field present."""
    target = work.target
    return {
        "bucket": target.bucket,
        "key": target.key,
        "version_id": target.version_id,
        "etag": target.etag,
        "size": target.size,
        "sequencer": target.sequencer,
        "phase": work.phase,
        "webhook_id": work.webhook_id,
        "due": work.due,
        "attempts": work.attempts,
        "checkpoint": None
        if work.checkpoint is None
        else {
            "offset": work.checkpoint.offset,
            "state": base64.b64encode(work.checkpoint.state).decode("ascii"),
        },
        "sha256": work.sha256,
        "links": work.links,
        "last_failure": work.last_failure,
        "history": [{"attempt": item.attempt, "at": item.at, "reason": item.reason} for item in work.history],
        "read_connections": work.read_connections,
    }


def _text(document: dict[str, Any], name: str, *, optional: bool = False) -> Any:
    value = document.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not value and not optional and name not in ("etag", "sequencer")):
        raise InvalidContinuation(f"{name} must be a{' non-empty' if not optional else ''} string")
    return value


def _count(document: dict[str, Any], name: str) -> int:
    value = document.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidContinuation(f"{name} must be a non-negative integer")
    return value


def _moment(value: Any, name: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 1e11:
        raise InvalidContinuation(f"{name} must be unix seconds")
    return float(value)


def _checkpoint(value: Any, size: int) -> HashCheckpoint:
    if not isinstance(value, dict):
        raise InvalidContinuation("a hash-phase continuation needs a checkpoint")
    offset, encoded = value.get("offset"), value.get("state")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidContinuation("checkpoint offset must be a non-negative integer")
    if offset > size:
        raise InvalidContinuation(f"checkpoint offset {offset} is beyond the object's size {size}")
    if not isinstance(encoded, str):
        raise InvalidContinuation("checkpoint state must be base64 text")
    try:
        state = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidContinuation("checkpoint state is not base64") from None
    if len(state) > MAX_STATE_BYTES:
        raise InvalidContinuation(f"checkpoint state has the wrong length ({len(state)} bytes)")
    try:
        return HashCheckpoint(offset=offset, state=state)
    except InvalidHashState as error:  # a length that does not fit the offset, a wrong format or count
        raise InvalidContinuation(f"checkpoint state has the wrong length or form: {error}") from None


def _history(value: Any) -> tuple[AttemptRecord, ...]:
    if not isinstance(value, list) or len(value) > MAX_HISTORY:
        raise InvalidContinuation(f"history must be a list of at most {MAX_HISTORY} attempts")
    records = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("reason"), str):
            raise InvalidContinuation("a history entry must have attempt, at and reason")
        records.append(
            AttemptRecord(
                attempt=_count(item, "attempt"), at=_moment(item.get("at"), "at"), reason=item["reason"]
            )
        )
    return tuple(records)


def from_document(document: Any) -> Continuation:
    """The continuation a JSON form describes; `InvalidContinuation` says which field is wrong."""
    if not isinstance(document, dict):
        raise InvalidContinuation("the continuation is not a JSON object")
    phase = document.get("phase")
    if phase not in PHASES:
        raise InvalidContinuation("unknown phase (expected hash or deliver)")
    size = _count(document, "size")
    target = PinnedObject(
        bucket=_text(document, "bucket"),
        key=_text(document, "key"),
        version_id=_text(document, "version_id", optional=True) or None,
        etag=_text(document, "etag"),
        size=size,
        sequencer=_text(document, "sequencer"),
    )
    checkpoint = None
    sha256 = _text(document, "sha256", optional=True)
    if phase == HASH_PHASE:
        checkpoint = _checkpoint(document.get("checkpoint"), size)
    elif sha256 is None or not _SHA256_HEX.fullmatch(sha256):
        raise InvalidContinuation("a deliver-phase continuation needs the object's sha256 (64 hex digits)")
    return Continuation(
        target=target,
        phase=phase,
        webhook_id=_text(document, "webhook_id"),
        due=_moment(document.get("due"), "due"),
        attempts=_count(document, "attempts"),
        checkpoint=checkpoint,
        sha256=sha256,
        links=_count(document, "links"),
        last_failure=_text(document, "last_failure", optional=True),
        history=_history(document.get("history")),
        # absent from messages sealed before it existed: nothing decided yet
        read_connections=_count(document, "read_connections") if "read_connections" in document else 0,
    )
