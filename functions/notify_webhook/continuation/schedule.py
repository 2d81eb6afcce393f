"""When each delivery attempt is due: a published, day-long schedule with jitter, not a fixed backoff.

`WEBHOOK_RETRY_SCHEDULE` lists the seconds to wait before each attempt after the first (the first is
immediate); the default is the schedule webhook senders publish (5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
10 h: eight attempts over about 27.6 hours). Each wait is jittered by ±10 % so that many retries after
one outage spread out. A receiver's `Retry-After` stretches a wait, but never beyond the schedule's
longest step. After the last attempt the work is parked.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DEFAULT_SCHEDULE_TEXT = "5,300,1800,7200,18000,36000,36000"
JITTER_FRACTION = 0.1
MAX_ATTEMPTS = 30
# One step at most two SQS visibility maxima (12 h each); a message is hidden again when it comes back early.
MAX_STEP_SECONDS = 86_400.0


class InvalidSchedule(ValueError):
    """The schedule's text is wrong; the message says how."""


@dataclass(frozen=True)
class RetrySchedule:
    """`steps[k - 1]` seconds before attempt `k + 1`; attempt 1 is immediate, so `attempts` is one more
    than the steps."""

    steps: tuple[float, ...]

    @property
    def attempts(self) -> int:
        return len(self.steps) + 1

    @property
    def longest_wait(self) -> float:
        return max(self.steps)

    def exhausted(self, attempts_made: int) -> bool:
        return attempts_made >= self.attempts

    def wait_before(
        self, attempt: int, retry_after: float | None = None, jitter: Callable[[], float] = random.random
    ) -> float:
        """Seconds to wait before `attempt` (2 or later): the schedule's step ±10 %, stretched by
        `Retry-After` up to the longest step."""
        if attempt <= 1:
            return 0.0
        step = self.steps[min(attempt, self.attempts) - 2]
        wait = step * (1 - JITTER_FRACTION + 2 * JITTER_FRACTION * jitter())
        if retry_after is not None and math.isfinite(retry_after):
            wait = max(wait, min(retry_after, self.longest_wait))
        return max(0.0, wait)


def parse_schedule(text: str) -> RetrySchedule:
    """`"5,300"` → three attempts (at once, after 5 s, after 300 s more); `InvalidSchedule` names what
    is wrong."""
    try:
        steps = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise InvalidSchedule("must be a comma-separated list of seconds") from None
    return schedule_of(steps)


def schedule_of(steps: Sequence[float]) -> RetrySchedule:
    if not 1 <= len(steps) <= MAX_ATTEMPTS - 1:
        raise InvalidSchedule(f"must list between 1 and {MAX_ATTEMPTS - 1} waits (attempts after the first)")
    if any(not math.isfinite(step) or not 0 <= step <= MAX_STEP_SECONDS for step in steps):
        raise InvalidSchedule(f"every wait must be between 0 and {MAX_STEP_SECONDS:.0f} seconds")
    return RetrySchedule(tuple(steps))


DEFAULT_SCHEDULE = parse_schedule(DEFAULT_SCHEDULE_TEXT)
