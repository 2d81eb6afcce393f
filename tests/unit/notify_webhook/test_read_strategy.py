"""The strategy that chooses how many connections read a body, from simulated throughputs (MiB/s).

The figures are the ones the benchmarks see: moto's server (one stream ~650 MiB/s, a range costs about a
whole read), S3 as a Lambda function sees it (32 MiB/s per connection), hashlib ~1,300 MiB/s per core.
"""

from __future__ import annotations

import pytest

from notify_webhook.object_hash.read_strategy import (
    MIN_PROBE_GAIN,
    PROBE_HEADROOM,
    FirstPart,
    choose_connections,
    connections_to_open,
    probe_paid_off,
    worth_probing,
    worth_revisiting,
)

MIB = 1024 * 1024


def first(stream_mib_s: float, hash_mib_s: float) -> FirstPart:
    return FirstPart(stream_bytes_s=stream_mib_s * MIB, hash_bytes_s=hash_mib_s * MIB)


@pytest.mark.parametrize(
    ("stream", "hash_", "combined", "cap", "expected"),
    [
        # moto's server on loopback: one stream is half of what hashing takes; no probe, one stream.
        (650, 1300, None, 8, 1),
        # a per-connection-limited S3: the probe adds its own 32 MiB/s; every connection opens.
        (32, 1300, 52, 8, 8),
        # the same store with HASH_CONNECTIONS=4, or =1 (one stream whatever the figures say).
        (32, 1300, 52, 4, 4),
        (32, 1300, 52, 1, 1),
        # a slow CPU (Lambda at 128 MB): hashing absorbs five streams, so five connections, not eight.
        (80, 400, 130, 8, 5),
        # hashing absorbs exactly three streams: worth a probe; the probe paid off.
        (100, 300, 200, 8, 3),
        # a store where a range costs a whole read: the stream slowed down while the probe ran.
        (200, 1300, 150, 8, 1),
        # the probe added something, but less than the gain asked for.
        (32, 1300, 38, 8, 1),
        # the stream reached the probe's range before the probe answered (no measurement).
        (32, 1300, None, 8, 1),
    ],
)
def test_connections_chosen_from_the_first_part_and_the_probe(
    stream: float, hash_: float, combined: float | None, cap: int, expected: int
) -> None:
    measured = None if combined is None else combined * MIB
    assert choose_connections(first(stream, hash_), measured, cap) == expected


def test_a_probe_is_worth_it_only_with_room_for_several_streams() -> None:
    assert worth_probing(first(100, PROBE_HEADROOM * 100))
    assert not worth_probing(first(100, PROBE_HEADROOM * 100 - 1))


def test_the_probe_must_raise_the_combined_rate_by_the_gain() -> None:
    assert probe_paid_off(first(40, 1300), MIN_PROBE_GAIN * 40 * MIB)
    assert not probe_paid_off(first(40, 1300), MIN_PROBE_GAIN * 40 * MIB - 1)


@pytest.mark.parametrize(
    ("hash_", "cap", "expected"), [(1300, 8, 8), (1300, 16, 16), (90, 8, 2), (250, 8, 7)]
)
def test_connections_stay_between_two_and_the_cap(hash_: float, cap: int, expected: int) -> None:
    assert connections_to_open(first(35, hash_), cap) == expected


def test_a_revisit_needs_a_window_well_under_the_judged_rate_and_room_to_hash() -> None:
    judged_on = first(120, 600)  # a sample inflated by a start-up burst
    assert worth_revisiting(judged_on, first(32, 600))  # the steady rate, well under it
    assert not worth_revisiting(judged_on, first(100, 600))  # within the noise
    assert not worth_revisiting(judged_on, first(32, 64))  # hashing is the limit at that rate
