"""Parallel ranged hashing: range planning, in-order hashing, per-range retries, pinning, bounded memory."""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, ResponseStreamingError
from botocore.response import StreamingBody

from notify_webhook.event_shapes import ObjectRef
from notify_webhook.notification import ObjectReplaced, object_sha256
from notify_webhook.object_hash.body import sha256_of_body
from notify_webhook.object_hash.ranges import (
    RANGE_ATTEMPTS,
    RangedReads,
    RangeReadError,
    plan_ranges,
    sha256_of_ranges,
)
from notify_webhook.object_hash.stream import MIB

Source = Callable[[int, int], bytes]


class _PartStream:
    """The raw stream under one StreamingBody: hands out the whole range in one `read()`, as urllib3 does
    for a body of known length, or fails when told to."""

    def __init__(self, produce: Callable[[], bytes], fail: BaseException | None) -> None:
        self._produce = produce
        self._fail = fail
        self._done = False

    def read(self, amt: int | None = None) -> bytes:
        if self._fail is not None:
            raise self._fail
        if self._done:
            return b""
        self._done = True
        return self._produce()

    def close(self) -> None:
        self._done = True


class RangeClient:
    """A fake S3 client that answers ranged `get_object` calls from `source(first, last)`.

    `delay(first)` slows a range down; `faults[first]` lists what each attempt at that range raises
    (`None` = answer normally); `whole_object` answers every range with the whole object, as a store that
    ignores Range would.
    """

    def __init__(
        self,
        size: int,
        source: Source,
        *,
        delay: Callable[[int], float] = lambda _first: 0.0,
        faults: dict[int, list[BaseException | None]] | None = None,
        whole_object: bool = False,
    ) -> None:
        self.size = size
        self.source = source
        self.delay = delay
        self.faults = faults or {}
        self.whole_object = whole_object
        self.requests: list[dict[str, Any]] = []
        self.completed: list[int] = []
        self._lock = threading.Lock()

    def get_object(self, **request: Any) -> dict[str, Any]:
        first, last = (int(part) for part in request["Range"].removeprefix("bytes=").split("-"))
        with self._lock:
            self.requests.append(request)
            planned = self.faults.get(first)
            fault = planned.pop(0) if planned else None
        if isinstance(fault, ClientError):
            raise fault
        time.sleep(self.delay(first))
        if self.whole_object:
            first, last = 0, self.size - 1
        length = last - first + 1

        def produce() -> bytes:
            data = self.source(first, last)
            with self._lock:
                self.completed.append(first)
            return data

        raw = _PartStream(produce, fault)
        return {
            "Body": StreamingBody(raw, length),  # type: ignore[arg-type]
            "ContentLength": length,
            "ContentRange": f"bytes {first}-{last}/{self.size}",
        }


def from_bytes(data: bytes) -> Source:
    return lambda first, last: data[first : last + 1]


BLOCK = os.urandom(MIB)


def block_pattern(first: int, last: int) -> bytes:
    """Byte i of the object is BLOCK[i % MIB]; ranges start on a MiB boundary (one allocation each)."""
    assert first % MIB == 0
    length = last - first + 1
    return BLOCK * (length // MIB) + BLOCK[: length % MIB]


def block_pattern_sha256(size: int) -> str:
    digest = hashlib.sha256()
    for first, last in plan_ranges(size, MIB):
        digest.update(block_pattern(first, last))
    return digest.hexdigest()


def streaming_error() -> ResponseStreamingError:
    return ResponseStreamingError(error=ConnectionResetError("peer went away"))


def precondition_failed() -> ClientError:
    return ClientError({"Error": {"Code": "PreconditionFailed", "Message": "no"}}, "GetObject")


def range_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("sha256-range")]


# --- planning ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "part", "expected"),
    [
        (0, 4, []),
        (1, 4, [(0, 0)]),
        (4, 4, [(0, 3)]),
        (5, 4, [(0, 3), (4, 4)]),
        (12, 4, [(0, 3), (4, 7), (8, 11)]),
        (13, 4, [(0, 3), (4, 7), (8, 11), (12, 12)]),
    ],
)
def test_plan_ranges(size: int, part: int, expected: list[tuple[int, int]]) -> None:
    assert plan_ranges(size, part) == expected


@pytest.mark.parametrize("size", [1, 2 * MIB - 1, 2 * MIB, 2 * MIB + 1, 17 * MIB + 3])
def test_planned_ranges_cover_every_byte_once_in_order(size: int) -> None:
    ranges = plan_ranges(size, 2 * MIB)
    assert ranges[0][0] == 0 and ranges[-1][1] == size - 1
    assert all(following[0] == previous[1] + 1 for previous, following in itertools.pairwise(ranges))
    assert all(last - first + 1 <= 2 * MIB for first, last in ranges)


@pytest.mark.parametrize(("size", "part"), [(-1, 4), (4, 0)])
def test_plan_ranges_rejects_nonsense(size: int, part: int) -> None:
    with pytest.raises(ValueError, match="size"):
        plan_ranges(size, part)


@pytest.mark.parametrize(
    ("size", "connections", "expected"),
    [(None, 8, False), (0, 8, False), (5 * MIB, 8, False), (5 * MIB + 1, 8, True), (64 * MIB, 1, False)],
)
def test_ranges_from_two_parts_on_with_more_than_one_connection(
    size: int | None, connections: int, expected: bool
) -> None:
    assert RangedReads(connections=connections, part_bytes=5 * MIB).applies_to(size) is expected


@pytest.mark.parametrize(
    ("connections", "part_bytes", "match"),
    [(0, 8 * MIB, "connections"), (8, MIB - 1, "part_bytes"), (8, 64 * MIB + 1, "part_bytes")],
)
def test_reads_settings_are_checked(connections: int, part_bytes: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RangedReads(connections=connections, part_bytes=part_bytes)


# --- hashing ----------------------------------------------------------------------------------------


def test_out_of_order_completion_still_hashes_in_order() -> None:
    data = os.urandom(8 * MIB + 12345)
    # The first range answers only once another one has: the hash must still follow the byte order.
    # (An event, not staggered sleeps: on a loaded machine a thread may start late by any amount.)
    another_answered = threading.Event()

    def hold_the_first(first: int) -> float:
        if first == 0:
            another_answered.wait(timeout=30)
        return 0.0

    def source(first: int, last: int) -> bytes:
        if first != 0:
            another_answered.set()
        return data[first : last + 1]

    client = RangeClient(len(data), source, delay=hold_the_first)
    digest = sha256_of_ranges(
        client,  # type: ignore[arg-type]
        "b",
        "k",
        len(data),
        reads=RangedReads(connections=4, part_bytes=MIB),
    )
    assert digest == hashlib.sha256(data).hexdigest()
    assert client.completed != sorted(client.completed), "the fake should have answered out of order"
    assert sorted(client.completed) == [first for first, _ in plan_ranges(len(data), MIB)]


def test_every_range_is_pinned_to_the_headed_version_and_etag() -> None:
    data = os.urandom(5 * MIB + 1)
    client = RangeClient(len(data), from_bytes(data))
    sha256_of_ranges(
        client,  # type: ignore[arg-type]
        "bucket",
        "a/key.bin",
        len(data),
        version_id="v-7",
        etag='"abc-2"',
        reads=RangedReads(connections=3, part_bytes=MIB),
    )
    assert len(client.requests) == 6
    for request in client.requests:
        assert request.pop("Range").startswith("bytes=")
        assert request == {"Bucket": "bucket", "Key": "a/key.bin", "VersionId": "v-7", "IfMatch": '"abc-2"'}


def test_a_range_that_fails_once_is_retried_on_its_own() -> None:
    data = os.urandom(6 * MIB)
    client = RangeClient(len(data), from_bytes(data), faults={2 * MIB: [streaming_error()]})
    digest = sha256_of_ranges(
        client,  # type: ignore[arg-type]
        "b",
        "k",
        len(data),
        reads=RangedReads(connections=3, part_bytes=MIB),
    )
    assert digest == hashlib.sha256(data).hexdigest()
    asked = [request["Range"] for request in client.requests]
    assert asked.count(f"bytes={2 * MIB}-{3 * MIB - 1}") == 2
    assert len(asked) == 7  # six ranges, one of them twice


def test_a_range_that_keeps_failing_fails_the_hash_and_returns_nothing() -> None:
    data = os.urandom(6 * MIB)
    client = RangeClient(
        len(data), from_bytes(data), faults={3 * MIB: [streaming_error() for _ in range(RANGE_ATTEMPTS)]}
    )
    result: list[str] = []
    with pytest.raises(ResponseStreamingError):
        result.append(
            sha256_of_ranges(
                client,  # type: ignore[arg-type]
                "b",
                "k",
                len(data),
                reads=RangedReads(connections=2, part_bytes=MIB),
            )
        )
    assert result == []
    asked = [request["Range"] for request in client.requests]
    assert asked.count(f"bytes={3 * MIB}-{4 * MIB - 1}") == RANGE_ATTEMPTS
    assert range_threads() == []  # the pool is gone: nothing keeps reading after the failure


def test_an_s3_error_is_not_retried_and_a_replaced_object_is_reported() -> None:
    data = os.urandom(4 * MIB)
    client = RangeClient(len(data), from_bytes(data), faults={MIB: [precondition_failed()]})
    target = ObjectRef("b", "k", "v-1", "etag", "")
    head: Any = {"ContentLength": len(data), "ETag": '"etag"', "VersionId": "v-1"}
    with pytest.raises(ObjectReplaced):
        object_sha256(client, target, head, RangedReads(connections=2, part_bytes=MIB, mode="always"))  # type: ignore[arg-type]
    asked = [request["Range"] for request in client.requests]
    assert asked.count(f"bytes={MIB}-{2 * MIB - 1}") == 1


def test_a_store_that_ignores_range_is_refused_without_reading_the_object() -> None:
    data = os.urandom(3 * MIB)
    client = RangeClient(len(data), from_bytes(data), whole_object=True)
    with pytest.raises(RangeReadError, match="asked for bytes 0-1048575"):
        sha256_of_ranges(client, "b", "k", len(data), reads=RangedReads(connections=2, part_bytes=MIB))  # type: ignore[arg-type]
    assert client.completed == []


def test_small_objects_and_one_connection_keep_the_single_stream() -> None:
    data = os.urandom(2 * MIB)
    single = RangeClient(len(data), from_bytes(data))
    single.get_object = lambda **request: {  # type: ignore[method-assign]
        "Body": StreamingBody(_PartStream(lambda: data, None), len(data))  # type: ignore[arg-type]
    }
    for reads in (RangedReads(part_bytes=2 * MIB), RangedReads(connections=1, part_bytes=MIB)):
        assert sha256_of_body(single, "b", "k", len(data), reads=reads) == hashlib.sha256(data).hexdigest()  # type: ignore[arg-type]


def test_memory_stays_within_connections_plus_two_parts() -> None:
    """The first range is the slowest, so every other part in flight has to wait for it."""
    connections, part, size = 4, 2 * MIB, 48 * MIB
    expected = block_pattern_sha256(size)
    client = RangeClient(size, block_pattern, delay=lambda first: 0.3 if first == 0 else 0.01)
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = sha256_of_ranges(
            client,  # type: ignore[arg-type]
            "b",
            "k",
            size,
            reads=RangedReads(connections=connections, part_bytes=part),
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest == expected
    growth = peak - baseline
    # The bound is on part buffers; futures, frames and the threads' bookkeeping add a few KiB beside them.
    assert growth <= (connections + 2) * part + 256 * 1024, f"peak growth {growth / MIB:.2f} MiB"
    assert growth >= (connections + 1) * part  # the waiting parts were really held: the bound is not vacuous
