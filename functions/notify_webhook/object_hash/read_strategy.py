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
# A stream left alone is timed again over windows that start at FIRST_REVISIT_WINDOW_BYTES and double up
# to REVISIT_WINDOW_BYTES. When a window's rate falls under REVISIT_BELOW x the rate the decision to stay
# one stream was judged on (a sample inflated by bytes that were buffered while the request waited for its
# first byte, say), the decision is made again with a new probe, judged against the stream's rate over the
# probe's own window. The first window is short: a start-up burst is over after it, and every second the
# stream reads alone behind a capped store costs most of the throughput ranges would give.
FIRST_REVISIT_WINDOW_BYTES = 2 * 1024 * 1024
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


def revisit_window_bytes(index: int) -> int:
    """How many bytes the stream reads alone before its `index`-th (0, 1, ...) look at its own rate."""
    return min(REVISIT_WINDOW_BYTES, FIRST_REVISIT_WINDOW_BYTES << min(index, 8))


def judged_over_the_window(
    first: FirstPart, stream_bytes_s: float, probe_bytes_s: float
) -> tuple[FirstPart, float]:
    """What a probe is judged on: the stream's rate while the probe ran (not the sample, which a start-up
    burst inflates and a busy machine deflates) and the combined rate of the stream and the probe."""
    return FirstPart(stream_bytes_s, first.hash_bytes_s), stream_bytes_s + probe_bytes_s


def probe_deadline_s(window_stream_bytes_s: float, probe_bytes: int) -> float:
    """Seconds from a probe's start after which it can no longer pay off, once the stream has reached the
    probe's range and waits: its rate counted from the start, it adds less than (MIN_PROBE_GAIN - 1) x the
    stream's. Waiting longer (for a store that reads the whole object per range) only loses time."""
    return probe_bytes / ((MIN_PROBE_GAIN - 1) * max(window_stream_bytes_s, 1.0))


def probe_paid_off(first: FirstPart, combined_bytes_s: float) -> bool:
    """Whether the stream and one range together moved the bytes clearly faster than the stream alone."""
    return combined_bytes_s >= MIN_PROBE_GAIN * first.stream_bytes_s


def connections_to_open(first: FirstPart, cap: int) -> int:
    """Ranged GETs to keep in flight once the probe paid off: as many streams as hashing can absorb, at
    least two, at most `cap` (`HASH_CONNECTIONS`). A stream that moved nothing while the probe ran (its
    thread waited for a core on a busy machine, or the store stalled it) leaves hashing room for all."""
    if first.stream_bytes_s <= 0:
        return max(2, cap)
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

    def longest_probe_wait(self, window_stream_bytes_s: float, probe_bytes: int) -> float | None:
        """Seconds from a probe's start the stream waits at the probe's range; None: until it answers."""


@dataclass
class CarriedDecision:
    """What one link of a hash found about the store, for the next (carried in its continuation):
    `connections` > 1 when ranges paid (the next link opens that many at once, without a new sample or
    probe), 1 when one stream was kept, 0 when nothing was decided. In: the previous link's; out: this
    link's."""

    connections: int = 0


@dataclass(frozen=True)
class FromThroughputs:
    """The default `ReadChoice`: the rules above, applied to what this object's reads measured."""

    def worth_probing(self, first: FirstPart) -> bool:
        return worth_probing(first)

    def connections(self, first: FirstPart, combined_bytes_s: float | None, cap: int) -> int:
        return choose_connections(first, combined_bytes_s, cap)

    def revisit(self, judged_on: FirstPart, window: FirstPart) -> bool:
        return worth_revisiting(judged_on, window)

    def longest_probe_wait(self, window_stream_bytes_s: float, probe_bytes: int) -> float | None:
        return probe_deadline_s(window_stream_bytes_s, probe_bytes)
