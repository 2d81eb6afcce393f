"""A conditional write whose body waits for a look-up sent at the same time: the look costs no round trip of
its own, yet the write cannot land before the look has cleared it.

An S3 put asks `Expect: 100-continue` (botocore sends every PutObject body that way) and sends its body only
after the store's `100 Continue`, one round trip after the headers. The look-up (a HEAD of the key) runs
in that round trip on a second connection; the body is read, and so sent, only once the look found no
object and no delete marker. If the look found either, reading the body raises `LookFoundTheKey`: the
request is abandoned with no body sent, so the store writes nothing, and the caller answers from the look.
A store that sends no `100 Continue` only makes the body wait for the look, as a look before the write
would have. Over plain HTTP botocore hashes the payload to sign it; it signs the same bytes, not the stream,
so the hash does not wait for the look either (over HTTPS the SHA-256 checksum header stands in for it).
"""

from __future__ import annotations

import io
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .store import KeyLookup, KeyState, StoredSubmission, look_up, put_submission

if TYPE_CHECKING:
    from datetime import datetime

    from mypy_boto3_s3 import S3Client

# One look at a time per request; a few threads cover a container serving one request at a time.
_looks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="idempotency-look")


class LookFoundTheKey(CancelledError):
    """The look-up found the key used (an object or a delete marker); the write was abandoned unsent.

    A `CancelledError`: botocore re-raises it as it is, without retrying the write."""

    def __init__(self, found: KeyLookup) -> None:
        super().__init__(found.state.value)
        self.found = found


class _LookFailed(CancelledError):
    """The look-up itself failed; the write is abandoned unsent and not retried (its own fault is raised)."""


class _BodyAfterTheLook(io.BytesIO):
    """The submission's bytes, readable only once the look found nothing at the key."""

    def __init__(self, body: bytes, look: Future[KeyLookup]) -> None:
        super().__init__(body)
        self._look = look

    def read(self, size: int | None = -1) -> bytes:
        try:
            found = self._look.result()
        except Exception as error:
            raise _LookFailed(type(error).__name__) from error
        if found.state is not KeyState.ABSENT:
            raise LookFoundTheKey(found)
        return super().read(size)


_HELD = "form-archive-body-after-the-look"


def _sign_the_bytes(request: Any, **_: Any) -> None:
    """Before signing: the signer hashes the bytes themselves, so signing does not wait for the look."""
    if isinstance(request.data, _BodyAfterTheLook):
        request.context[_HELD] = request.data
        request.data = request.data.getvalue()


def _send_the_stream(request: Any, **_: Any) -> None:
    """After signing: the stream that waits for the look goes back in, to be sent."""
    held = request.context.pop(_HELD, None)
    if held is not None:
        request.data = held


def _hold_bodies_past_signing(client: S3Client) -> None:
    events = client.meta.events
    events.register("before-sign.s3.PutObject", _sign_the_bytes, unique_id=_HELD + "-sign")
    # Registered last on the node the signer is on: runs after it.
    events.register_last("request-created.s3", _send_the_stream, unique_id=_HELD + "-send")


def put_after_look(
    client: S3Client,
    bucket: str,
    key: str,
    body: bytes,
    submission_id: str,
    received_at: datetime,
) -> StoredSubmission:
    """Look at `key` and write `body` there conditionally, in the round trips of the write alone. Raises
    `LookFoundTheKey` (nothing written) when the key holds an object or a delete marker, what
    `put_submission` raises when the conditional write is refused, and the look's own faults."""
    _hold_bodies_past_signing(client)
    look = _looks.submit(look_up, client, bucket, key)
    try:
        gated = _BodyAfterTheLook(body, look)
        return put_submission(client, bucket, key, body, submission_id, received_at, gated)
    except LookFoundTheKey:
        raise
    except Exception:
        look.result()  # a fault of the look explains the failed write better than its echo
        raise
