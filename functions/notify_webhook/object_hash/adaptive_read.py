"""One stream first, ranges only when they pay: the read that `body` hands a body or a span to.

The stream's first bytes are read and hashed here, timed (`read_strategy.FirstPart`). When hashing has
room for several streams, one ranged GET (the probe) runs beside the stream; if the two together moved
bytes clearly faster, the stream stops where the probe's range begins and the rest arrives as ranges,
hashed strictly in order. A stream left alone is timed again per window and probed again when it slows
(`read_strategy`). Every request is pinned to the headed version and ETag; ranges are retried on their
own (`ranges`).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from .ranges import RangedReads, RangeReader, RangeReadError, hash_ranges_in_order, plan_ranges
from .read_strategy import (
    MAX_REVISITS,
    FirstPart,
    ReadChoice,
    judged_over_the_window,
    revisit_window_bytes,
)
from .stream import DEFAULT_CHUNK_SIZE, MIB, Digest, OverlappedHasher

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Read and hashed on this thread in timed chunks: several chunks, short against a part. Every byte the
# stream reads alone before ranges open costs a capped store most of what the ranges would give, so the
# sample and the probe are as short as still measure a rate (8 chunks each).
SAMPLE_BYTES = MIB // 2
SAMPLE_CHUNK_BYTES = 64 * 1024
# The probe's range: small, so it answers quickly even from a store that caps each connection.
PROBE_BYTES = MIB // 2
# Stream bytes left before the probe's range: the stream reads them while the probe runs.
PROBE_RUNWAY = 2 * PROBE_BYTES  # twice the probe: the stream must not reach it first
_FASTEST_CLOCK = 1e-6  # seconds; keeps a rate finite when a read or a hash took no measurable time


def never() -> bool:
    return False


@dataclass(frozen=True)
class Span:
    """Bytes `start` to `end - 1` of an object of `size` bytes: what one link of a hash reads."""

    start: int
    end: int
    size: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= self.size:
            raise ValueError("a span needs 0 <= start < end <= size")


def until(spans: Iterator[tuple[int, int]], should_stop: Callable[[], bool]) -> Iterator[tuple[int, int]]:
    """The ranges up to the first moment `should_stop()` is true (asked before each range is started)."""
    for item in spans:
        if should_stop():
            return
        yield item


class OneStream:
    """A `ReadChoice` for a span too small or a mode that never opens ranges: the stream reads it all."""

    def worth_probing(self, first: FirstPart) -> bool:
        return False

    def connections(self, first: FirstPart, combined_bytes_s: float | None, cap: int) -> int:
        return 1

    def revisit(self, judged_on: FirstPart, window: FirstPart) -> bool:
        return False

    def longest_probe_wait(self, window_stream_bytes_s: float, probe_bytes: int) -> float | None:
        return None


class AdaptiveRead:
    def __init__(
        self,
        client: S3Client,
        request: dict[str, str],
        size: int,
        reads: RangedReads,
        choice: ReadChoice,
        digest: Digest,
        span: Span | None = None,
        should_stop: Callable[[], bool] = never,
    ) -> None:
        self.client = client
        self.choice = choice
        self.request = request
        self.size = size
        self.reads = reads
        self.digest = digest
        self.span = span or Span(0, size, size)
        self.end = self.span.end
        self.position = self.span.start  # where the stream has read to
        self.connections = 1  # what the strategy chose; 1 until a probe paid off
        self.judged_on: FirstPart | None = None  # what the last probe was judged against
        self.decided = False  # whether a probe decided `connections` (else it is 1 by default)
        self.should_stop = should_stop
        self.stopped_early = False

    def _stream_request(self) -> dict[str, str]:
        if self.span.start == 0 and self.end == self.size:
            return self.request
        return {**self.request, "Range": f"bytes={self.span.start}-{self.end - 1}"}

    def run(self) -> None:
        reader = RangeReader.open(self.client, self.request, self.size)
        response = self.client.get_object(**self._stream_request())  # type: ignore[arg-type]
        body = response["Body"]
        pool = ThreadPoolExecutor(max_workers=self.reads.connections, thread_name_prefix="sha256-range")
        try:
            first = self._sample(body)
            probe_span = self._probe_span() if self.choice.worth_probing(first) else None
            probe_answered: list[float] = []
            probe = pool.submit(reader.fetch, *probe_span, probe_answered) if probe_span else None
            started: list[Future[bytes]] = []
            ranges: Iterator[tuple[int, int]] = iter(())
            with OverlappedHasher(self.digest) as hasher:
                stop = self._stream_while_probing(body, hasher, first, probe, probe_span, probe_answered)
                if self.connections == 1:
                    judged_on = self.judged_on or first
                    probe, probe_span, stop = self._stream_revisiting(body, hasher, judged_on, pool, reader)
                if self.connections > 1 and probe is not None and probe_span is not None:
                    # The ranges start now, while the stream reads on up to the probe's range.
                    ranges = iter(plan_ranges(self.end, self.reads.part_bytes, start=probe_span[1] + 1))
                    spans = islice(ranges, self.connections)
                    started = [probe, *(pool.submit(reader.fetch, *span) for span in spans)]
                self._stream(body, hasher, stop)
            if self.stopped_early:  # time is up: what the stream read is hashed; no range is waited for
                return
            self._check_stream(stop)
            if started:
                body.close()  # the rest comes as ranges; this connection is dropped, not pooled
                probe = None  # the list below is the one reference left to each started part
                ranges = until(ranges, self.should_stop)
                hash_ranges_in_order(pool, reader, ranges, self.connections, self.digest, started=started)
        except BaseException:
            reader.stop.set()
            raise
        finally:
            if self.stopped_early:
                reader.stop.set()
            body.close()
            pool.shutdown(wait=True, cancel_futures=True)

    def _sample(self, body: Any) -> FirstPart:
        """The first bytes, read and hashed on this thread in small timed chunks (`FirstPart`)."""
        stream_rates: list[float] = []
        hash_bytes_s = hashing_seconds = 0.0
        sampled_from = time.perf_counter()
        end = min(self.span.start + SAMPLE_BYTES, self.end)
        while self.position < end:
            started = time.perf_counter()
            chunk = body.read(min(SAMPLE_CHUNK_BYTES, end - self.position))
            read_at = time.perf_counter()
            if not chunk:
                break
            self.digest.update(chunk)
            hashed_at = time.perf_counter()
            stream_rates.append(len(chunk) / max(read_at - started, _FASTEST_CLOCK))
            hash_bytes_s = max(hash_bytes_s, len(chunk) / max(hashed_at - read_at, _FASTEST_CLOCK))
            hashing_seconds += hashed_at - read_at
            self.position += len(chunk)
        # The median chunk is blind to a pause (bytes buffered while this thread waited for a core come
        # back at once); the average is blind to nothing but counts a pause against the store. The lower
        # of the two errs towards a probe, the cheap mistake: a missed probe costs a capped store most of
        # its throughput, a needless one costs one ranged GET.
        reading_seconds = time.perf_counter() - sampled_from - hashing_seconds  # pauses included
        average = (self.position - self.span.start) / max(reading_seconds, _FASTEST_CLOCK)
        stream_bytes_s = min(statistics.median(stream_rates or [0.0]), average)
        return FirstPart(stream_bytes_s=stream_bytes_s, hash_bytes_s=hash_bytes_s)

    def _probe_span(self) -> tuple[int, int] | None:
        """The range a probe fetches: at a part boundary at least `PROBE_RUNWAY` ahead, so the stream has
        bytes to read while the probe runs and can stop exactly where the probe's range begins."""
        part = self.reads.part_bytes
        first = -(-(self.position + PROBE_RUNWAY) // part) * part  # rounded up to a part boundary
        if first >= self.end:
            return None
        return first, min(first + PROBE_BYTES, self.end) - 1

    def _stream_while_probing(
        self,
        body: Any,
        hasher: OverlappedHasher,
        first: FirstPart,
        probe: Future[bytes] | None,
        probe_span: tuple[int, int] | None,
        probe_answered: list[float],
    ) -> int:
        """Read on until the probe is back, waiting for it if the stream reaches its range first (a late
        probe on a busy machine must not leave a capped store to one stream) for as long as it could
        still pay off; choose the connections; answer where the stream stops. The probe is judged
        against the stream's rate over the same window, not the sample's: a start-up burst inflates the
        sample. The combined rate is the stream's while both ran plus the probe's from its first byte: a
        first byte's wait is paid once per range, hidden behind the other connections, while a
        connection's rate is what every part gets."""
        if probe is None or probe_span is None:
            return self.end
        started, streamed_from = time.perf_counter(), self.position
        finished: list[tuple[float, int]] = []  # when the probe answered, and where the stream was then
        recorded = threading.Event()  # a future is done() a moment before its callbacks have run

        def record(_done: Future[bytes]) -> None:
            finished.append((time.perf_counter(), self.position))
            recorded.set()

        probe.add_done_callback(record)
        while not recorded.is_set() and self.position < probe_span[0]:
            if not self._read_into(body, hasher, probe_span[0], SAMPLE_CHUNK_BYTES):
                break  # the stream ended early: reported once the stream is done
        reached_at = time.perf_counter()
        if not recorded.is_set():  # the stream is at the probe's range: wait while the probe could pay
            reached_rate = (self.position - streamed_from) / max(reached_at - started, _FASTEST_CLOCK)
            longest = self.choice.longest_probe_wait(reached_rate, probe_span[1] - probe_span[0] + 1)
            recorded.wait(None if longest is None else max(0.0, started + longest - reached_at))
        combined: float | None = None  # stays None for a probe still running that can no longer pay
        if finished and probe.exception() is None and probe_answered:
            done_at, position = finished[0]
            stream_until = min(done_at, reached_at)
            stream_rate = (position - streamed_from) / max(stream_until - started, _FASTEST_CLOCK)
            # A probe later than the stream counts its first byte's wait too: a store that reads the
            # whole object for a range (moto) answers late, then fast, and that is no added throughput.
            probe_from = started if position >= probe_span[0] else probe_answered[-1]
            probe_rate = (probe_span[1] - probe_span[0] + 1) / max(done_at - probe_from, _FASTEST_CLOCK)
            first, combined = judged_over_the_window(first, stream_rate, probe_rate)
        elif finished:
            probe.result()  # a range that failed after its retries fails the hash, as any range does
        self.judged_on = first
        self.connections = self.choice.connections(first, combined, self.reads.connections)
        self.decided = combined is not None
        return probe_span[0] if self.connections > 1 else self.end

    def _stream_revisiting(
        self,
        body: Any,
        hasher: OverlappedHasher,
        judged_on: FirstPart,
        pool: ThreadPoolExecutor,
        reader: RangeReader,
    ) -> tuple[Future[bytes] | None, tuple[int, int] | None, int]:
        """Stream on alone one window at a time; when the choice says a window ran well under the rate
        the last decision was judged on, probe again, judged against the stream over the probe's own
        window. Answers the probe and its range when ranges now pay, and where the stream stops."""
        revisits = windows = 0
        while self.position < self.end and not self.stopped_early:
            window_from, started = self.position, time.perf_counter()
            self._stream(body, hasher, min(self.position + revisit_window_bytes(windows), self.end))
            windows += 1
            if self.stopped_early or self.position == window_from or self.position >= self.end:
                break
            rate = (self.position - window_from) / max(time.perf_counter() - started, _FASTEST_CLOCK)
            window = FirstPart(rate, judged_on.hash_bytes_s)
            if revisits >= MAX_REVISITS or self.reads.connections < 2:
                continue
            probe_span = self._probe_span() if self.choice.revisit(judged_on, window) else None
            if probe_span is None:
                continue
            revisits += 1
            answered: list[float] = []
            probe = pool.submit(reader.fetch, *probe_span, answered)
            stop = self._stream_while_probing(body, hasher, window, probe, probe_span, answered)
            if self.connections > 1:
                return probe, probe_span, stop
            judged_on = self.judged_on or window
        return None, None, self.end

    def _check_stream(self, stop: int) -> None:
        if self.position != stop:
            raise RangeReadError(f"the stream ended after {self.position} of {stop} bytes")

    def _stream(self, body: Any, hasher: OverlappedHasher, stop: int) -> None:
        while self.position < stop:
            if self.should_stop():
                self.stopped_early = True
                return
            if not self._read_into(body, hasher, stop):
                return

    def _read_into(
        self, body: Any, hasher: OverlappedHasher, stop: int, chunk_bytes: int = DEFAULT_CHUNK_SIZE
    ) -> bool:
        chunk = body.read(min(chunk_bytes, stop - self.position))
        if not chunk:
            return False
        hasher.put(chunk)
        self.position += len(chunk)
        return True
