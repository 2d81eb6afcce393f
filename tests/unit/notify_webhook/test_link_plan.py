"""Link planning: how far a link goes, when one invocation is enough, the per-object cap, the impossible."""

from __future__ import annotations

import math

import pytest

from notify_webhook.continuation.work_settings import WorkSettingsError, link_policy
from notify_webhook.object_hash.link_plan import (
    MIB,
    LinkCapReached,
    LinkPolicy,
    NoLinkCanFinish,
    check_possible,
)

GIB = 1024 * MIB
TIB = 1024 * GIB


def test_a_link_stops_at_max_link_bytes_or_the_end() -> None:
    policy = LinkPolicy(max_link_bytes=64 * MIB)
    assert policy.link_end(0, 256 * MIB) == 64 * MIB
    assert policy.link_end(200 * MIB, 256 * MIB) == 256 * MIB
    assert LinkPolicy().link_end(5, 256 * MIB) == 256 * MIB


def test_one_invocation_is_enough_only_within_the_bytes_and_the_time() -> None:
    assert LinkPolicy().fits_one_link(300 * MIB, 0, hash_seconds=10, min_mib_s=30)
    assert not LinkPolicy().fits_one_link(301 * MIB, 0, hash_seconds=10, min_mib_s=30)
    assert LinkPolicy().fits_one_link(301 * MIB, 2 * MIB, hash_seconds=10, min_mib_s=30)
    assert not LinkPolicy(max_link_bytes=64 * MIB).fits_one_link(65 * MIB, 0, hash_seconds=800, min_mib_s=30)


def test_the_floor_is_the_time_at_the_assumed_rate_less_the_handoff() -> None:
    policy = LinkPolicy(handoff_seconds=10)
    assert policy.floor_bytes(hash_seconds=110, min_mib_s=30) == 3000 * MIB
    assert LinkPolicy(max_link_bytes=MIB, handoff_seconds=10).floor_bytes(110, 30) == MIB
    assert policy.floor_bytes(hash_seconds=5, min_mib_s=30) == 0


@pytest.mark.parametrize("size", [100 * GIB, TIB, 5 * TIB])
def test_the_cap_is_twice_the_links_at_the_floor_rate_plus_two(size: int) -> None:
    # The template's 900 s function after one 30 s delivery reserve: 870 s to hash, 860 s per link.
    cap = LinkPolicy().cap(size, hash_seconds=870, min_mib_s=30)
    assert cap == 2 * math.ceil(size / (860 * 30 * MIB)) + 2


def test_a_small_link_budget_forces_links_and_the_cap_follows() -> None:
    policy = LinkPolicy(max_link_bytes=48 * MIB)
    assert policy.cap(256 * MIB, hash_seconds=870, min_mib_s=30) == 2 * 6 + 2


def test_a_link_without_time_to_hash_can_never_finish_and_says_why() -> None:
    with pytest.raises(NoLinkCanFinish, match=r"a link has 8\.0 s to hash and keeps 10 s for the hand-off"):
        LinkPolicy(handoff_seconds=10).cap(GIB, hash_seconds=8, min_mib_s=30)
    with pytest.raises(NoLinkCanFinish, match="2\\*\\*61-1 bytes"):
        check_possible(2**61, floor_bytes=GIB, hash_seconds=800, handoff_seconds=10)


def test_the_cap_reason_names_the_links_the_cap_and_the_rate() -> None:
    reason = str(LinkCapReached(size=5 * TIB, links=418, cap=417, min_mib_s=30))
    assert "took 418 links, more than its cap of 417" in reason
    assert "30 MiB/s, HASH_MIN_MIB_S" in reason


@pytest.mark.parametrize(("field", "value"), [("max_link_bytes", 0), ("handoff_seconds", -1.0)])
def test_a_policy_out_of_range_is_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        LinkPolicy(**{field: value})  # type: ignore[arg-type]


def test_hash_link_max_bytes_is_read_from_the_environment() -> None:
    assert link_policy({}) == LinkPolicy()
    assert link_policy({"HASH_LINK_MAX_BYTES": " 62914567 "}) == LinkPolicy(max_link_bytes=62914567)


@pytest.mark.parametrize("raw", ["abc", "1.5", "0", "-3"])
def test_a_wrong_hash_link_max_bytes_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(WorkSettingsError, match="HASH_LINK_MAX_BYTES"):
        link_policy({"HASH_LINK_MAX_BYTES": raw})
