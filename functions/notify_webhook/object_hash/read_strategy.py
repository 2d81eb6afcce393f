"""How many connections read a large body: decided from throughputs measured on this object, not assumed.

Parallel ranged GETs win against a store that caps each connection (S3 as a Lambda function sees it) and
lose against one that reads the whole object for every range (moto's server): a range there costs about
a whole read. So the body starts as one stream; its first bytes give the stream's rate and this CPU's
hashing rate. Only when hashing could absorb several streams is one ranged GET tried beside the stream
(the probe), and the other ranges open only when that probe raised the combined throughput.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

# A probe is worth its request only when hashing could absorb at least this many streams: below that,
# more connections could gain little, and on a store that reads the whole object per range they cost a lot.
PROBE_HEADROOM = 3.0
# The probe must raise the combined throughput (stream + probe, over the probe's time) by this factor.
MIN_PROBE_GAIN = 1.25
# A stream left alone is timed again over each window of this many bytes. When a window's rate falls under
# REVISIT_BELOW x the rate the decision to stay one stream was judged on (a sample inflated by bytes that
# were buffered while the request waited for its first byte, say), the decision is made again with a new
# probe, judged against the stream's rate over the probe's own window.
REVISIT_WINDOW_BYTES = 16 * 1024 * 1024
REVISIT_BELOW = 0.6
MAX_REVISITS = 2  # each costs one ranged GET: about a whole read on a store like moto


@dataclass(frozen=True)
class FirstPart:
    """What the stream's first bytes showed, in bytes per second of wall time, measured on small chunks:
    the stream (the lower of its median chunk and its average) and SHA-256's fastest chunk on this CPU
    (a busy machine only ever slows a chunk down)."""

    stream_bytes_s: float
    hash_bytes_s: float


def worth_probing(first: FirstPart) -> bool:
    """Whether hashing has room for several streams: else one stream is already (nearly) the limit."""
    return first.hash_bytes_s >= PROBE_HEADROOM * first.stream_bytes_s


def worth_revisiting(judged_on: FirstPart, window: FirstPart) -> bool:
    """Whether the stream's last window ran well under the rate the last decision was judged on, and
    hashing has room for several streams at the window's rate."""
    return window.stream_bytes_s < REVISIT_BELOW * judged_on.stream_bytes_s and worth_probing(window)


def probe_paid_off(first: FirstPart, combined_bytes_s: float) -> bool:
    """Whether the stream and one range together moved the bytes clearly faster than the stream alone."""
    return combined_bytes_s >= MIN_PROBE_GAIN * first.stream_bytes_s


def connections_to_open(first: FirstPart, cap: int) -> int:
    """Ranged GETs to keep in flight once the probe paid off: as many streams as hashing can absorb, at
    least two, at most `cap` (`HASH_CONNECTIONS`)."""
    streams_hashing_absorbs = math.floor(first.hash_bytes_s / first.stream_bytes_s)
    return max(2, min(cap, streams_hashing_absorbs))


def choose_connections(first: FirstPart, combined_bytes_s: float | None, cap: int) -> int:
    """1 = finish as one stream; N = open N ranged GETs. `combined_bytes_s` is the probe's measurement,
    None when no probe ran (or it did not finish before the stream reached its range)."""
    if cap < 2 or not worth_probing(first) or combined_bytes_s is None:
        return 1
    if not probe_paid_off(first, combined_bytes_s):
        return 1
    return connections_to_open(first, cap)


class ReadChoice(Protocol):
    """The decisions a body read makes (probe at all; how many connections; probe again later). Kept
    apart from the reading so the reading can be checked with each decision fixed, whatever a loaded
    machine's clocks measured."""

    def worth_probing(self, first: FirstPart) -> bool: ...

    def connections(self, first: FirstPart, combined_bytes_s: float | None, cap: int) -> int: ...

    def revisit(self, judged_on: FirstPart, window: FirstPart) -> bool: ...


@dataclass(frozen=True)
class FromThroughputs:
    """The default `ReadChoice`: the rules above, applied to what this object's reads measured."""

    def worth_probing(self, first: FirstPart) -> bool:
        return worth_probing(first)

    def connections(self, first: FirstPart, combined_bytes_s: float | None, cap: int) -> int:
        return choose_connections(first, combined_bytes_s, cap)

    def revisit(self, judged_on: FirstPart, window: FirstPart) -> bool:
        return worth_revisiting(judged_on, window)
