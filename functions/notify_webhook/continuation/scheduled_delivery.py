"""Delivery on the schedule: the attempts due within seconds run here, a later one is handed back.

One invocation makes attempts while the next one is due sooner than `inline_wait_seconds` and fits in
the time left; otherwise it answers `Postponed` with the wait, and the caller hands a continuation to
the work queue. `410 Gone` ends the schedule at once (the receiver says it will never take this); the
schedule's last failed attempt ends it too. Any other failure (a 5xx, a timeout, a refused connection,
a 4xx, a redirect) is tried again on the schedule: a receiver that is misconfigured for an hour is fixed
within the day the schedule lasts.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..delivery import DEFAULT_SAFETY_MARGIN_SECONDS, Delivered, DeliveryFailed, FailedAttempt, attempt_once
from .message import AttemptRecord, short_reason
from .schedule import RetrySchedule

if TYPE_CHECKING:
    import requests

GONE = 410
# Waits shorter than this run inside the invocation (the default schedule's 0 and 5 s).
DEFAULT_INLINE_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Postponed:
    """The next attempt (`attempt`) is due in `wait_seconds`: hand the rest to the work queue."""

    attempt: int
    wait_seconds: float
    history: tuple[AttemptRecord, ...]


@dataclass(frozen=True)
class GaveUp:
    """No attempt can succeed any more: park the work with `reason` and the history."""

    reason: str
    attempts: int
    history: tuple[AttemptRecord, ...]
    receiver_gone: bool = False


@dataclass(frozen=True)
class ScheduledDelivery:
    """Where and how to send, and the schedule; the clock, pause and jitter are injectable for tests."""

    url: str
    schedule: RetrySchedule
    timeout_seconds: float
    inline_wait_seconds: float = DEFAULT_INLINE_WAIT_SECONDS
    safety_margin_seconds: float = DEFAULT_SAFETY_MARGIN_SECONDS
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random


def deliver_on_schedule(
    session: requests.Session,
    plan: ScheduledDelivery,
    body: bytes,
    build_headers: Callable[[], Mapping[str, str]],
    remaining_seconds: Callable[[], float],
    *,
    first_attempt: int = 1,
    history: tuple[AttemptRecord, ...] = (),
    on_retry: Callable[[AttemptRecord, float], None] | None = None,
) -> Delivered | Postponed | GaveUp:
    """Attempts from `first_attempt` on; `build_headers` is called per attempt (fresh timestamp and
    signature, the same `webhook-id`)."""
    attempt = first_attempt
    while True:
        budget = remaining_seconds() - plan.safety_margin_seconds
        if budget <= 0:
            return Postponed(attempt, 0.0, history)
        headers = {"Content-Type": "application/json", **build_headers()}
        try:
            outcome = attempt_once(
                session, plan.url, body, headers, min(plan.timeout_seconds, budget), attempt
            )
        except DeliveryFailed as error:
            outcome = FailedAttempt(error.reason, error.status)
        if isinstance(outcome, Delivered):
            return outcome
        reason = short_reason(outcome.reason)
        record = AttemptRecord(attempt=attempt, at=round(plan.clock(), 3), reason=reason)
        history = (*history, record)
        if outcome.status == GONE:
            reason = f"HTTP 410 Gone: the receiver refuses this webhook (attempt {attempt})"
            return GaveUp(reason, attempt, history, receiver_gone=True)
        if plan.schedule.exhausted(attempt):
            return GaveUp(f"schedule exhausted after {attempt} attempts; last: {reason}", attempt, history)
        wait = plan.schedule.wait_before(attempt + 1, outcome.retry_after, plan.jitter)
        fits = wait + plan.timeout_seconds + plan.safety_margin_seconds <= remaining_seconds()
        if wait >= plan.inline_wait_seconds or not fits:
            return Postponed(attempt + 1, wait, history)
        if on_retry is not None:
            on_retry(record, wait)
        plan.sleep(wait)
        attempt += 1
