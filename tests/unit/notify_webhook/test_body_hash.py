"""One stream first, ranges only when a probe shows they add throughput: against simulated stores.

The fake store paces bytes per connection, as S3 seen from Lambda does (or not at all, as moto on
loopback), and can make every range slow, as a store that reads the whole object per range. The tests
check what was requested and that the digest is right; never how long it took. The two decisions (probe
or not; how many connections) are fixed by a `Decided` choice where a test is about what follows from
them: measured rates depend on how busy the machine is, so they are checked with simulated throughputs
in test_read_strategy.py. With the measured default, only what holds in any timing is asserted.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.response import StreamingBody

from notify_webhook.object_hash.adaptive_read import PROBE_RUNWAY, SAMPLE_BYTES
from notify_webhook.object_hash.body import PROBE_BYTES, Span, hash_span, sha256_of_body
from notify_webhook.object_hash.ranges import RangedReads, plan_ranges
from notify_webhook.object_hash.read_strategy import (
    FIRST_REVISIT_WINDOW_BYTES,
    MAX_REVISITS,
    REVISIT_WINDOW_BYTES,
    CarriedDecision,
    FirstPart,
    FromThroughputs,
    ReadChoice,
    probe_paid_off,
)

MIB = 1024 * 1024


class _PacedStream:
    """A body that hands out at most `amt` bytes per read, at `rate` bytes/s (None: at once), its first
    `burst` bytes at once (bytes a proxy buffered while the request waited for its first byte)."""

    def __init__(self, data: memoryview, rate: float | None, burst: int = 0) -> None:
        self._data = data
        self._rate = rate
        self._burst = burst
        self.closed_at: int | None = None
        self._offset = 0

    def read(self, amt: int | None = None) -> bytes:
        end = len(self._data) if amt is None else min(len(self._data), self._offset + amt)
        chunk = bytes(self._data[self._offset : end])
        paced = end - max(self._offset, min(end, self._burst))
        if self._rate and paced > 0:
            time.sleep(paced / self._rate)
        self._offset = end
        return chunk

    def close(self) -> None:
        if self.closed_at is None:
            self.closed_at = self._offset


class _StreamThenRest(_PacedStream):
    """A stream that sets `reached` once it has handed out its first `mark` bytes."""

    def __init__(
        self, data: memoryview, mark: int, rate: float | None, reached: threading.Event, burst: int = 0
    ) -> None:
        super().__init__(data, rate, burst)
        self._mark = mark
        self._mark_reached = reached
        self._read_so_far = 0

    def read(self, amt: int | None = None) -> bytes:
        chunk = super().read(amt)
        self._read_so_far += len(chunk)
        if self._read_so_far >= self._mark:
            self._mark_reached.set()
        return chunk


class PacedStore:
    """`get_object` without Range streams the whole object; with Range, that range after `range_delay`."""

    def __init__(
        self,
        data: bytes,
        *,
        rate: float | None,
        range_delay: float = 0.0,
        ranges_after: int | None = None,
        burst: int = 0,
    ) -> None:
        self.data = data
        self.rate = rate
        self.burst = burst  # every answer's first bytes come at once
        self.range_delay = range_delay
        # Ranges answer only once the stream has read this many bytes (a probe later than the stream).
        self.ranges_after = ranges_after
        self._stream_reached = threading.Event()
        self.requests: list[dict[str, Any]] = []
        self.streams: list[_PacedStream] = []
        self._lock = threading.Lock()

    def get_object(self, **request: Any) -> dict[str, Any]:
        with self._lock:
            self.requests.append(request)
        if "Range" not in request:
            view = memoryview(self.data)
            if self.ranges_after is None:
                stream = _PacedStream(view, self.rate, self.burst)
            else:
                stream = _StreamThenRest(view, self.ranges_after, self.rate, self._stream_reached, self.burst)
            self.streams.append(stream)
            return {"Body": StreamingBody(stream, len(self.data)), "ContentLength": len(self.data)}  # type: ignore[arg-type]
        first, last = (int(part) for part in request["Range"].removeprefix("bytes=").split("-"))
        time.sleep(self.range_delay)
        if self.ranges_after is not None:
            assert self._stream_reached.wait(timeout=30), "the stream never reached the probe's range"
        length = last - first + 1
        part = _PacedStream(memoryview(self.data)[first : last + 1], self.rate, self.burst)
        return {
            "Body": StreamingBody(part, length),  # type: ignore[arg-type]
            "ContentLength": length,
            "ContentRange": f"bytes {first}-{last}/{len(self.data)}",
        }

    def ranges(self) -> list[str]:
        return [request["Range"] for request in self.requests if "Range" in request]


@dataclass
class Decided:
    """A `ReadChoice` with both decisions fixed; records what the read measured and passed to it."""

    probe: bool
    connections_after_probe: int = 1
    probe_wait: float | None = None  # seconds the stream waits at the probe's range; None: until it answers
    seen: list[tuple[FirstPart, float | None]] = field(default_factory=list)

    def worth_probing(self, first: FirstPart) -> bool:
        self.seen.append((first, None))
        return self.probe

    def connections(self, first: FirstPart, combined_bytes_s: float | None, cap: int) -> int:
        self.seen.append((first, combined_bytes_s))
        return min(cap, self.connections_after_probe)

    def revisit(self, judged_on: FirstPart, window: FirstPart) -> bool:
        return False

    def longest_probe_wait(self, window_stream_bytes_s: float, probe_bytes: int) -> float | None:
        return self.probe_wait


@dataclass
class RevisitedOnce(Decided):
    """No probe at first (the sample fooled the read); the first window's revisit probes, and that probe
    pays with `connections_after_probe`."""

    revisits: int = 0

    def connections(self, first: FirstPart, combined_bytes_s: float | None, cap: int) -> int:
        self.seen.append((first, combined_bytes_s))
        return min(cap, self.connections_after_probe) if self.revisits else 1

    def revisit(self, judged_on: FirstPart, window: FirstPart) -> bool:
        self.revisits += 1
        return True


def first_probe_at(after: int, part: int) -> int:
    """Where a probe's range begins when the stream is at `after`: the first part boundary at least
    PROBE_RUNWAY ahead."""
    return -(-(after + PROBE_RUNWAY) // part) * part


def hash_with(
    store: PacedStore, reads: RangedReads, choice: ReadChoice, carried: CarriedDecision | None = None
) -> str:
    return sha256_of_body(
        store,  # type: ignore[arg-type]
        "b",
        "k",
        len(store.data),
        version_id="v-1",
        etag='"e"',
        reads=reads,
        choice=choice,
        carried=carried,
    )


def assert_pinned(store: PacedStore) -> None:
    for request in store.requests:  # every request pinned to what was headed
        assert (request["VersionId"], request["IfMatch"]) == ("v-1", '"e"')


def test_once_ranges_pay_the_stream_stops_where_they_begin() -> None:
    data = os.urandom(24 * MIB)
    store = PacedStore(data, rate=16 * MIB)  # every connection, the stream's too, at 16 MiB/s
    choice = Decided(probe=True, connections_after_probe=4)
    digest = hash_with(store, RangedReads(connections=4, part_bytes=4 * MIB), choice)
    assert digest == hashlib.sha256(data).hexdigest()
    probe_first = first_probe_at(SAMPLE_BYTES, 4 * MIB)  # past the sample
    ranges = store.ranges()
    assert ranges[0] == f"bytes={probe_first}-{probe_first + PROBE_BYTES - 1}"
    assert len(ranges) == 1 + len(plan_ranges(len(data), 4 * MIB, probe_first + PROBE_BYTES))
    [stream] = store.streams
    assert stream.closed_at == probe_first  # the stream stopped where the ranges begin
    assert_pinned(store)
    [(sampled, _), (probed, combined)] = choice.seen  # both decisions saw the first part's measured rates
    assert sampled.stream_bytes_s > 0 and sampled.hash_bytes_s > 0
    # judged against the stream's rate while the probe ran, beside the sample's hashing rate
    assert probed.hash_bytes_s == sampled.hash_bytes_s
    assert combined is not None and combined > probed.stream_bytes_s > 0


def test_a_probe_is_judged_against_the_stream_over_its_own_window_not_a_start_up_burst() -> None:
    """Issue 32, part 1: the sample (all of it a burst buffered while the stream waited for its first
    byte) must not be what the probe is judged against: the stream's rate while the probe ran is.
    The paced store's sleeps make 16 MiB/s an upper bound of every rate measured after the burst."""
    data = os.urandom(24 * MIB)
    rate = 16 * MIB
    store = PacedStore(data, rate=rate, burst=SAMPLE_BYTES)
    choice = Decided(probe=True, connections_after_probe=4)
    digest = hash_with(store, RangedReads(connections=4, part_bytes=4 * MIB), choice)
    assert digest == hashlib.sha256(data).hexdigest()
    [_, (probed, combined)] = choice.seen
    assert probed.stream_bytes_s <= rate  # the window's rate, whatever the burst made the sample say
    assert combined is not None and combined > probed.stream_bytes_s


def test_the_stream_does_not_wait_for_a_probe_that_can_no_longer_pay() -> None:
    """A store that reads the whole object for a range (moto) answers the probe late: once the stream is
    at the probe's range and the probe could no longer pay off (`longest_probe_wait`), the stream reads
    on alone. Here the probe answers only after the stream has read everything: waiting would hang."""
    data = os.urandom(16 * MIB)
    store = PacedStore(data, rate=None, ranges_after=len(data))
    choice = Decided(probe=True, probe_wait=0.0)
    digest = hash_with(store, RangedReads(connections=4, part_bytes=4 * MIB), choice)
    assert digest == hashlib.sha256(data).hexdigest()
    [_, (_, combined)] = choice.seen
    assert combined is None  # no measurement: the probe had not answered
    assert len(store.ranges()) == 1  # the probe only, its answer never used
    [stream] = store.streams
    assert stream.closed_at == len(data)
    assert_pinned(store)


def test_without_a_probe_the_stream_is_read_to_the_end() -> None:
    data = os.urandom(24 * MIB)
    store = PacedStore(data, rate=None, range_delay=5.0)  # moto-like: one stream as fast as memory
    choice = Decided(probe=False)
    digest = hash_with(store, RangedReads(connections=8, part_bytes=4 * MIB), choice)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.ranges() == []
    assert len(store.requests) == 1
    assert len(choice.seen) == 1  # asked whether to probe, and nothing more


def test_a_probe_that_did_not_pay_leaves_the_one_stream() -> None:
    data = os.urandom(12 * MIB)
    store = PacedStore(data, rate=64 * MIB, range_delay=0.2)
    digest = hash_with(store, RangedReads(connections=8, part_bytes=4 * MIB), Decided(probe=True))
    assert digest == hashlib.sha256(data).hexdigest()
    assert len(store.ranges()) == 1  # the probe only
    [stream] = store.streams
    assert stream.closed_at == len(data)
    assert_pinned(store)


def test_a_probe_later_than_the_stream_is_waited_for_and_measured() -> None:
    """Regression: a probe that answered after the stream reached its range gave no measurement, so a
    capped store was left to one stream whenever a busy machine started the probe's thread late."""
    data = os.urandom(24 * MIB)
    probe_first = first_probe_at(SAMPLE_BYTES, 4 * MIB)  # as in the test above
    store = PacedStore(data, rate=64 * MIB, ranges_after=probe_first)
    choice = Decided(probe=True, connections_after_probe=4)
    digest = hash_with(store, RangedReads(connections=4, part_bytes=4 * MIB), choice)
    assert digest == hashlib.sha256(data).hexdigest()
    [_, (_, combined)] = choice.seen
    assert combined is not None and combined > 0  # measured, although the stream had to wait
    [stream] = store.streams
    assert stream.closed_at == probe_first
    assert_pinned(store)


def test_a_late_probe_from_a_store_that_reads_the_whole_object_is_no_gain() -> None:
    """Regression: a late probe's rate was counted from its first byte, so a store that reads the whole
    object before answering a range (moto) looked like added throughput and got ranges (0.6x)."""
    data = os.urandom(24 * MIB)
    store = PacedStore(
        data, rate=200 * MIB, range_delay=2.0, ranges_after=first_probe_at(SAMPLE_BYTES, 4 * MIB)
    )
    choice = Decided(probe=True, connections_after_probe=4)
    assert hash_with(store, RangedReads(connections=4, part_bytes=4 * MIB), choice) == (
        hashlib.sha256(data).hexdigest()
    )
    [_, (judged_against, combined)] = choice.seen
    assert combined is not None
    assert not probe_paid_off(judged_against, combined)  # what FromThroughputs would decide from it


@pytest.mark.parametrize(
    ("rate", "range_delay"),
    [(16 * MIB, 0.0), (None, 0.5), (64 * MIB, 1.5)],
    ids=["capped-connections", "fast-stream-slow-ranges", "probe-slower-than-the-stream"],
)
def test_the_measured_default_hashes_right_in_any_timing(rate: float | None, range_delay: float) -> None:
    """With the default choice the decisions depend on the machine's load: only what holds in any
    timing is checked: the digest, the pins, one stream first (closed by the end)."""
    data = os.urandom(20 * MIB + 1234)
    store = PacedStore(data, rate=rate, range_delay=range_delay)
    digest = hash_with(store, RangedReads(connections=4, part_bytes=4 * MIB), FromThroughputs())
    assert digest == hashlib.sha256(data).hexdigest()
    assert_pinned(store)
    assert "Range" not in store.requests[0]
    [stream] = store.streams
    assert stream.closed_at is not None


def test_never_and_one_connection_read_one_stream() -> None:
    data = os.urandom(12 * MIB)
    for reads in (RangedReads(mode="never", part_bytes=MIB), RangedReads(connections=1, part_bytes=MIB)):
        store = PacedStore(data, rate=16 * MIB)
        assert hash_with(store, reads, Decided(probe=True, connections_after_probe=8)) == (
            hashlib.sha256(data).hexdigest()
        )
        assert store.ranges() == []


def test_always_opens_ranges_without_a_stream() -> None:
    data = os.urandom(6 * MIB)
    store = PacedStore(data, rate=None)
    reads = RangedReads(connections=3, part_bytes=MIB, mode="always")
    digest = hash_with(store, reads, Decided(probe=False))
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.streams == [] and len(store.ranges()) == 6


def test_memory_stays_within_connections_plus_two_parts_after_the_switch() -> None:
    """Regression: the ranges started beside the stream were kept referenced after they were hashed."""
    connections, part = 4, 2 * MIB
    data = os.urandom(48 * MIB)
    store = PacedStore(data, rate=16 * MIB)
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        reads = RangedReads(connections=connections, part_bytes=part)
        digest = hash_with(store, reads, Decided(probe=True, connections_after_probe=connections))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest == hashlib.sha256(data).hexdigest()
    assert len(store.ranges()) > 1  # the ranges did open
    # Parts in flight or waiting and the one being hashed; the probe; the stream's queued chunks.
    bound = (connections + 2) * part + PROBE_BYTES + 4 * MIB
    assert peak - baseline <= bound, f"peak growth {(peak - baseline) / MIB:.1f} MiB"


def test_a_stream_left_alone_is_probed_again_and_ranges_take_over() -> None:
    """Issue 32, part 1: the first decision kept one stream; a later window's revisit probes again, and
    when that probe pays the rest arrives as ranges (the stream stops at the probe's range)."""
    data = os.urandom(REVISIT_WINDOW_BYTES + 24 * MIB)
    store = PacedStore(data, rate=None, range_delay=0.0)
    choice = RevisitedOnce(probe=False, connections_after_probe=4)
    digest = hash_with(store, RangedReads(connections=8, part_bytes=4 * MIB), choice)
    assert digest == hashlib.sha256(data).hexdigest()
    assert choice.revisits == 1
    # The first look comes after a short window past the sample; the probe's range is the first part
    # boundary PROBE_RUNWAY past it.
    probe_first = first_probe_at(SAMPLE_BYTES + FIRST_REVISIT_WINDOW_BYTES, 4 * MIB)
    assert store.ranges()[0] == f"bytes={probe_first}-{probe_first + PROBE_BYTES - 1}"
    assert len(store.ranges()) > 1  # the new probe and the ranges after it
    [stream] = store.streams
    assert stream.closed_at is not None and stream.closed_at < len(data)
    assert_pinned(store)


def test_a_revisit_that_does_not_pay_leaves_the_one_stream_and_is_bounded() -> None:
    data = os.urandom(4 * REVISIT_WINDOW_BYTES + 3 * MIB)
    store = PacedStore(data, rate=None, range_delay=0.0)
    choice = RevisitedOnce(probe=False, connections_after_probe=1)
    digest = hash_with(store, RangedReads(connections=8, part_bytes=4 * MIB), choice)
    assert digest == hashlib.sha256(data).hexdigest()
    assert len(store.ranges()) == MAX_REVISITS  # one probe per revisit, no more
    [stream] = store.streams
    assert stream.closed_at == len(data)


def hash_span_with(
    store: PacedStore, reads: RangedReads, choice: ReadChoice, carried: CarriedDecision
) -> str:
    """One link's read of the whole object (as `links.hash_until` calls it), carrying the read decision."""
    digest = hashlib.sha256()
    request = {"Bucket": "b", "Key": "k", "VersionId": "v-1", "IfMatch": '"e"'}
    size = len(store.data)
    hash_span(store, request, Span(0, size, size), digest, reads=reads, choice=choice, carried=carried)  # type: ignore[arg-type]
    return digest.hexdigest()


def test_a_link_told_that_ranges_pay_opens_them_at_once() -> None:
    """Links: the previous link found ranges pay (carried in the continuation): no sample, no probe."""
    data = os.urandom(24 * MIB)
    store = PacedStore(data, rate=None)
    carried = CarriedDecision(connections=4)
    choice = Decided(probe=True, connections_after_probe=1)  # would keep one stream if it were asked
    digest = hash_span_with(store, RangedReads(connections=8, part_bytes=4 * MIB), choice, carried)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.streams == [] and choice.seen == []
    assert len(store.ranges()) == len(plan_ranges(len(data), 4 * MIB))
    assert carried.connections == 4
    assert_pinned(store)


@pytest.mark.parametrize(
    ("choice", "handed_on"),
    [
        (Decided(probe=True, connections_after_probe=4), 4),  # ranges paid: the next link opens 4
        (Decided(probe=True, connections_after_probe=1), 1),  # the probe did not pay: one stream
        (Decided(probe=False), 0),  # nothing was measured: the next link decides afresh
    ],
    ids=["ranges", "one-stream", "undecided"],
)
def test_a_link_hands_on_what_its_read_decided(choice: Decided, handed_on: int) -> None:
    data = os.urandom(24 * MIB)
    store = PacedStore(data, rate=16 * MIB)
    carried = CarriedDecision()
    digest = hash_span_with(store, RangedReads(connections=4, part_bytes=4 * MIB), choice, carried)
    assert digest == hashlib.sha256(data).hexdigest()
    assert carried.connections == handed_on


def test_a_carried_decision_does_not_override_never() -> None:
    data = os.urandom(12 * MIB)
    store = PacedStore(data, rate=None)
    reads = RangedReads(connections=4, part_bytes=4 * MIB, mode="never")
    carried = CarriedDecision(connections=4)
    assert hash_span_with(store, reads, Decided(probe=False), carried) == hashlib.sha256(data).hexdigest()
    assert store.ranges() == []


def test_a_body_from_a_store_where_ranges_paid_opens_them_at_once() -> None:
    """`read_memory`: a warm container's next object from the same store: no stream, no sample, no probe."""
    data = os.urandom(24 * MIB)
    store = PacedStore(data, rate=None)
    carried = CarriedDecision(connections=4)
    choice = Decided(probe=True, connections_after_probe=1)
    reads = RangedReads(connections=8, part_bytes=4 * MIB)
    digest = hash_with(store, reads, choice, carried)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.streams == [] and choice.seen == []
    assert len(store.ranges()) == len(plan_ranges(len(data), 4 * MIB))
    assert_pinned(store)


def test_a_body_read_tells_the_container_what_it_decided() -> None:
    data = os.urandom(24 * MIB)
    store = PacedStore(data, rate=16 * MIB)
    carried = CarriedDecision()
    choice = Decided(probe=True, connections_after_probe=4)
    reads = RangedReads(connections=4, part_bytes=4 * MIB)
    digest = hash_with(store, reads, choice, carried)
    assert digest == hashlib.sha256(data).hexdigest()
    assert carried.connections == 4
