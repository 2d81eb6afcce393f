"""What reading a store taught this container: the next large body from the same store starts as the last
one ended, instead of paying a new sample and probe.

A warm Lambda container reads object after object from one bucket. Once ranges paid there, a sample and
a probe per object only delay them (about 80 ms behind a capped store: a tenth of a 256 MiB read). So
the decision (`read_strategy.CarriedDecision`) is kept per store (endpoint and bucket) for
`REMEMBER_SECONDS`, then made afresh; only "ranges paid" changes how the next read starts (a kept "one
stream" still samples, which costs nothing on a store where ranges do not pay).
"""

from __future__ import annotations

import threading
import time

from .read_strategy import CarriedDecision

REMEMBER_SECONDS = 300.0

_lock = threading.Lock()
_decisions: dict[tuple[str, str], tuple[int, float]] = {}


def recalled(endpoint: str, bucket: str, now: float | None = None) -> CarriedDecision:
    """The decision the last read from this store made, if it is recent; else nothing decided."""
    moment = time.monotonic() if now is None else now
    with _lock:
        connections, at = _decisions.get((endpoint, bucket), (0, moment))
    return CarriedDecision(connections if moment - at < REMEMBER_SECONDS else 0)


def remember(endpoint: str, bucket: str, decision: CarriedDecision, now: float | None = None) -> None:
    """Keep what a read decided (nothing when it decided nothing)."""
    if decision.connections < 1:
        return
    moment = time.monotonic() if now is None else now
    with _lock:
        _decisions[(endpoint, bucket)] = (decision.connections, moment)


def forget_reads() -> None:
    """A fresh container's memory; for tests that switch stores."""
    with _lock:
        _decisions.clear()
