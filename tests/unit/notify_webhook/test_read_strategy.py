"""The strategy that chooses how many connections read a body, from simulated throughputs (MiB/s).

The figures are the ones the benchmarks see: moto's server (one stream ~650 MiB/s, a range costs about a
whole read), S3 as a Lambda function sees it (32 MiB/s per connection), hashlib ~1,300 MiB/s per core.
"""

from __future__ import annotations

import pytest

from notify_webhook.object_hash.read_strategy import (
    FIRST_REVISIT_WINDOW_BYTES,
    MIN_PROBE_GAIN,
    PROBE_HEADROOM,
    REVISIT_WINDOW_BYTES,
    FirstPart,
    FromThroughputs,
    choose_connections,
    connections_to_open,
    judged_over_the_window,
    probe_deadline_s,
    probe_paid_off,
    revisit_window_bytes,
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


def test_a_stream_that_moved_nothing_while_the_probe_ran_opens_every_connection() -> None:
    """CI, stop 35: on a busy machine the probe of a three-part object answered before the stream read its
    first chunk of the window; the stream's rate over the window was 0 and choosing raised
    ZeroDivisionError (the delivery failed). A stream that stalled while a range arrived: ranges pay."""
    judged, combined = judged_over_the_window(first(650, 1700), 0.0, 40 * MIB)
    assert connections_to_open(judged, 12) == 12
    assert choose_connections(judged, combined, 12) == 12
    assert choose_connections(judged, combined, 1) == 1


def test_a_revisit_needs_a_window_well_under_the_judged_rate_and_room_to_hash() -> None:
    judged_on = first(120, 600)  # a sample inflated by a start-up burst
    assert worth_revisiting(judged_on, first(32, 600))  # the steady rate, well under it
    assert not worth_revisiting(judged_on, first(100, 600))  # within the noise
    assert not worth_revisiting(judged_on, first(32, 64))  # hashing is the limit at that rate


def test_a_burst_sample_does_not_decide_what_a_probe_is_judged_against() -> None:
    """Issue 32, part 1: a capped store's sample inflated by a start-up burst (900 MiB/s); the stream ran
    at 32 MiB/s while the probe (2 MiB, itself a burst) ran. Judged against the sample the probe lost;
    judged against the stream over the same window it pays, and every connection opens."""
    sample = first(900, 1700)
    judged, combined = judged_over_the_window(sample, 32 * MIB, 300 * MIB)
    assert judged == first(32, 1700) and combined == 332 * MIB
    assert not probe_paid_off(sample, combined)  # what the sample would have said
    assert choose_connections(judged, combined, 12) == 12
    # moto: the stream at 650 MiB/s over the window, the probe (a whole read) at 40 MiB/s from its start
    judged, combined = judged_over_the_window(first(650, 1700), 650 * MIB, 40 * MIB)
    assert choose_connections(judged, combined, 12) == 1


def test_a_probe_past_its_deadline_could_not_have_paid() -> None:
    """Waiting at the probe's range is bounded where the probe's rate from its start stops adding the gain."""
    stream = 64 * MIB
    deadline = probe_deadline_s(stream, 2 * MIB)
    assert deadline == pytest.approx(2 / (64 * (MIN_PROBE_GAIN - 1)))
    window = first(64, 1700)
    assert probe_paid_off(window, stream + 2 * MIB / (deadline * 0.99))
    assert not probe_paid_off(window, stream + 2 * MIB / (deadline * 1.01))
    assert FromThroughputs().longest_probe_wait(stream, 2 * MIB) == deadline


def test_the_stream_looks_at_its_rate_soon_then_over_longer_windows() -> None:
    windows = [revisit_window_bytes(index) for index in range(6)]
    assert windows[0] == FIRST_REVISIT_WINDOW_BYTES == 2 * MIB  # a start-up burst is over by then
    assert windows == sorted(windows) and windows[-1] == REVISIT_WINDOW_BYTES
    assert revisit_window_bytes(1000) == REVISIT_WINDOW_BYTES
