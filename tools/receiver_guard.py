"""What the webhook receiver checks before it reads or trusts a request: the declared body length, and
whether a signed delivery's `webhook-id` was already accepted.

A body is read only after its `Content-Length` was found to be a number within `MAX_BODY_BYTES`, so a
sender cannot make the receiver hold a large body (or wait for one that never comes) before refusing it.
A delivery whose signature verifies is accepted once per `webhook-id` within the signature's tolerance
window; a repeat (a captured request replayed, or a sender's retry after an answer it did not see) is
answered 200 so retries stop, but it is not handled a second time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from notify_webhook.signing import DEFAULT_TOLERANCE_SECONDS

# A notification is about 1 KiB; this leaves room for anything a sender could legitimately add.
MAX_BODY_BYTES = 1024 * 1024


def declared_length(content_length: str | None, transfer_encoding: str | None) -> int | tuple[int, str]:
    """The body length to read, or (status, reason) to answer without reading anything."""
    if transfer_encoding is not None:
        return 411, "send the body with a Content-Length, not a Transfer-Encoding"
    if content_length is None:
        return 0
    text = content_length.strip()
    if not (text.isascii() and text.isdigit()):
        return 400, "Content-Length must be a non-negative whole number"
    if len(text) > len(str(MAX_BODY_BYTES)) or int(text) > MAX_BODY_BYTES:
        return 413, f"bodies over {MAX_BODY_BYTES} bytes are refused"
    return int(text)


class AcceptedIds:
    """`webhook-id`s accepted in the last `window_seconds`; older ones are forgotten (the signature's
    timestamp check refuses a replay of them)."""

    def __init__(
        self, window_seconds: float = DEFAULT_TOLERANCE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._accepted: dict[str, float] = {}

    def seen(self, webhook_id: str | None) -> bool:
        with self._lock:
            now = self._clock()
            self._accepted = {key: at for key, at in self._accepted.items() if now - at <= self._window}
            return webhook_id is not None and webhook_id in self._accepted

    def add(self, webhook_id: str | None) -> None:
        if webhook_id is not None:
            with self._lock:
                self._accepted[webhook_id] = self._clock()
