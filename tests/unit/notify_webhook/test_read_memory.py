"""A container remembers per store what reading it decided, for a while: the next body starts that way."""

from __future__ import annotations

import pytest

from notify_webhook.object_hash import CarriedDecision, forget_reads, recalled, remember
from notify_webhook.object_hash.read_memory import REMEMBER_SECONDS

STORE = ("http://127.0.0.1:9000", "archive")


@pytest.fixture(autouse=True)
def fresh_container() -> None:
    forget_reads()


def test_a_store_read_before_is_read_as_it_ended_then_forgotten_after_a_while() -> None:
    assert recalled(*STORE, now=0.0) == CarriedDecision(0)  # nothing known yet
    remember(*STORE, CarriedDecision(16), now=100.0)
    assert recalled(*STORE, now=100.0 + REMEMBER_SECONDS - 1) == CarriedDecision(16)
    assert recalled(*STORE, now=100.0 + REMEMBER_SECONDS) == CarriedDecision(0)  # made afresh


def test_each_store_has_its_own_memory_and_an_undecided_read_changes_nothing() -> None:
    remember(*STORE, CarriedDecision(16), now=0.0)
    remember("http://127.0.0.1:9000", "other", CarriedDecision(1), now=0.0)
    remember(*STORE, CarriedDecision(0), now=1.0)  # a read that decided nothing (no probe ran)
    assert recalled(*STORE, now=2.0) == CarriedDecision(16)
    assert recalled("http://127.0.0.1:9000", "other", now=2.0) == CarriedDecision(1)
    assert recalled("http://127.0.0.1:9001", "archive", now=2.0) == CarriedDecision(0)
    forget_reads()
    assert recalled(*STORE, now=2.0) == CarriedDecision(0)
