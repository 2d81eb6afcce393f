"""The time budget: a hash that cannot finish before the deadline at HASH_MIN_MIB_S is refused up front."""

from __future__ import annotations

import pytest

from form_archive_contract.settings import ServerMisconfigured
from notify_webhook.object_hash.budget import (
    DEFAULT_HASH_MIN_MIB_S,
    HashBudget,
    ObjectTooLargeToHash,
    delivery_reserve_seconds,
)
from notify_webhook.settings import load_settings
from tools.project import function_ids

MIB = 1024 * 1024
GIB = 1024 * MIB
BASE = {"WEBHOOK_URL": "https://hooks.example.test/archive", "WEBHOOK_SECRET_TOKEN": "testing"}


def budget(remaining: float, reserve: float = 30.0, rate: float = 30.0) -> HashBudget:
    return HashBudget(remaining_seconds=lambda: remaining, delivery_reserve_seconds=reserve, min_mib_s=rate)


def test_an_object_that_fits_the_budget_passes() -> None:
    budget(remaining=130).check(3000 * MIB)  # 100 s of hashing, 100 s left after a reserve of 30
    budget(remaining=30).check(0)  # nothing to read needs no time


def test_an_object_one_byte_too_large_is_refused_naming_size_budget_and_rate() -> None:
    with pytest.raises(ObjectTooLargeToHash) as raised:
        budget(remaining=130).check(3000 * MIB + 1)
    error = raised.value
    assert (error.size, error.budget_seconds, error.min_mib_s) == (3000 * MIB + 1, 100.0, 30.0)
    message = str(error)
    assert f"{3000 * MIB + 1} bytes" in message and "3,000 MiB" in message
    assert "at 30 MiB/s (HASH_MIN_MIB_S)" in message and "has 100 s" in message


def test_the_remaining_time_is_read_when_checked_not_when_built() -> None:
    left = [300.0]
    late = HashBudget(remaining_seconds=lambda: left[0], delivery_reserve_seconds=30, min_mib_s=30)
    late.check(GIB)
    left[0] = 40.0  # earlier records of the same event used the time up
    with pytest.raises(ObjectTooLargeToHash, match="has 10 s"):
        late.check(GIB)


def test_a_deadline_already_past_reports_no_negative_budget() -> None:
    with pytest.raises(ObjectTooLargeToHash, match="has 0 s"):
        budget(remaining=5).check(MIB)


def test_the_reserve_is_one_delivery_attempt_at_its_full_timeout() -> None:
    assert delivery_reserve_seconds(10) == 10


def test_the_rate_is_read_from_hash_min_mib_s() -> None:
    assert load_settings(BASE).hash_min_mib_s == DEFAULT_HASH_MIN_MIB_S == 30
    assert load_settings({**BASE, "HASH_MIN_MIB_S": " 12.5 "}).hash_min_mib_s == 12.5


@pytest.mark.parametrize("value", ["fast", "0", "-3", "nan", "inf"])
def test_a_bad_rate_is_a_configuration_error_naming_the_variable(value: str) -> None:
    with pytest.raises(ServerMisconfigured, match=r"^HASH_MIN_MIB_S must be"):
        load_settings({**BASE, "HASH_MIN_MIB_S": value})


def test_the_template_timeout_hashes_the_largest_promised_object_in_its_budget() -> None:
    """The largest object docs/performance.md promises a SHA-256 for (25 GiB; uploads go to 5 TiB, so the
    promise is the notify function's, not MaxUploadBytes') fits in the template's Timeout at its
    HASH_MIN_MIB_S, with every delivery attempt."""
    from tools.project import PROJECT_ROOT  # noqa: PLC0415
    from tools.sam_template import load_template  # noqa: PLC0415

    template = load_template(PROJECT_ROOT / "template.yaml")
    promised_gib = 25
    assert f"SHA-256 announcement for objects up to {promised_gib} GiB" in (
        PROJECT_ROOT / "docs" / "performance.md"
    ).read_text(encoding="utf-8")
    largest = promised_gib * 1024**3
    notify = template["Resources"][function_ids().notify]["Properties"]
    variables = notify["Environment"]["Variables"]
    attempt = float(variables["WEBHOOK_TIMEOUT_SECONDS"])
    rate = float(variables["HASH_MIN_MIB_S"])
    # Every delivery attempt still fits after the hash (the budget itself reserves one), and 10 s remain
    # for the start, the head and the backoff between attempts.
    room = attempt * (int(variables["WEBHOOK_MAX_ATTEMPTS"]) - 1) + 10
    HashBudget(lambda: notify["Timeout"] - room, delivery_reserve_seconds(attempt), rate).check(largest)
