"""One webhook POST with retries: what counts as delivered, what is retried, and for how long."""

from __future__ import annotations

import contextlib
import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

RETRYABLE_STATUSES = frozenset({408, 429})
DEFAULT_BACKOFF_CAP_SECONDS = 8.0
# Time kept back from the Lambda deadline so the handler can still log and raise cleanly.
DEFAULT_SAFETY_MARGIN_SECONDS = 1.0
MAX_CONNECT_TIMEOUT_SECONDS = 5.0
_DRAIN_BYTES = 64 * 1024
USER_AGENT = "form-archive-notify-webhook/1"


class DeliveryFailed(Exception):
    """The receiver did not accept the notification. The message holds status codes and error types only:
    never the URL's query, a header or the body (the body may carry the secret)."""

    def __init__(self, reason: str, attempts: int, status: int | None = None) -> None:
        super().__init__(f"{reason} (attempts: {attempts})")
        self.reason = reason
        self.attempts = attempts
        self.status = status


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout_seconds: float = 10.0
    max_attempts: int = 3
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = DEFAULT_BACKOFF_CAP_SECONDS
    safety_margin_seconds: float = DEFAULT_SAFETY_MARGIN_SECONDS


@dataclass(frozen=True)
class Delivered:
    status: int
    attempts: int


@dataclass(frozen=True)
class RetryNotice:
    """Handed to the `on_retry` hook before each pause, for logs and metrics."""

    attempt: int
    reason: str
    delay_seconds: float


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or 500 <= status <= 599


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (delta-seconds or an HTTP date); None when absent or bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():  # `str.isdigit` alone accepts "²", which float() refuses
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def backoff_delay(attempt: int, policy: DeliveryPolicy, jitter: Callable[[], float] = random.random) -> float:
    """Exponential backoff with "equal jitter": half the step is fixed, half random, so retries spread out."""
    step = min(policy.backoff_cap_seconds, policy.backoff_base_seconds * 2.0 ** (attempt - 1))
    return step / 2 + step / 2 * jitter()


def new_session() -> requests.Session:
    """Our own retry loop decides; the adapter never retries on its own and redirects are never followed.
    Its connections report to the running `AttemptDeadline`."""
    import requests  # noqa: PLC0415 - keeps `requests` off the cold-import path until the first delivery

    from .attempt_deadline import DeadlineAdapter  # noqa: PLC0415 - imports requests too

    session = requests.Session()
    adapter = DeadlineAdapter(max_retries=0, pool_connections=4, pool_maxsize=4)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def _close(response: requests.Response) -> None:
    """Never keep or log the answer. A short body with a declared length is read so the connection can
    be reused; any other body is not waited for, so a receiver that stalls after its headers cannot hold
    the function past its deadline."""
    length = response.headers.get("Content-Length", "")
    if length.isascii() and length.isdigit() and int(length) <= _DRAIN_BYTES:
        with contextlib.suppress(Exception):
            response.raw.read(_DRAIN_BYTES)
    response.close()


@dataclass(frozen=True)
class FailedAttempt:
    """A failed but retryable attempt."""

    reason: str
    status: int | None = None
    retry_after: float | None = None


def attempt_once(
    session: requests.Session, url: str, body: bytes, headers: Mapping[str, str], timeout: float, attempt: int
) -> Delivered | FailedAttempt:
    """One POST: `Delivered`, a retryable `FailedAttempt`, or `DeliveryFailed` when retrying cannot help.
    Everything, from connecting to draining the answer, ends by one deadline `timeout` seconds away."""
    import requests  # noqa: PLC0415 - see new_session

    from .attempt_deadline import AttemptDeadline  # noqa: PLC0415 - see new_session

    timeouts = (min(timeout, MAX_CONNECT_TIMEOUT_SECONDS), timeout)
    with AttemptDeadline(timeout) as deadline:
        try:
            response = session.post(
                url, data=body, headers=dict(headers), timeout=timeouts, allow_redirects=False, stream=True
            )
        except requests.RequestException as error:
            if deadline.expired:
                return FailedAttempt(f"timed out (the attempt's deadline of {timeout:g} s passed)")
            if isinstance(error, requests.Timeout):
                return FailedAttempt(f"timed out ({type(error).__name__})")
            if isinstance(error, requests.ConnectionError):
                return FailedAttempt(f"connection failed ({type(error).__name__})")
            raise DeliveryFailed(f"request could not be sent ({type(error).__name__})", attempt) from None
        _close(response)
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if 200 <= status <= 299:
        return Delivered(status=status, attempts=attempt)
    if 300 <= status <= 399:
        raise DeliveryFailed(f"HTTP {status}: redirects are not followed", attempt, status)
    if not is_retryable_status(status):
        raise DeliveryFailed(f"HTTP {status}", attempt, status)
    return FailedAttempt(f"HTTP {status}", status, retry_after)


def deliver(
    session: requests.Session,
    url: str,
    body: bytes,
    build_headers: Callable[[], Mapping[str, str]],
    policy: DeliveryPolicy,
    remaining_seconds: Callable[[], float],
    *,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
    on_retry: Callable[[RetryNotice], None] | None = None,
) -> Delivered:
    """POST `body` until a 2xx; raise `DeliveryFailed` on a 3xx, a non-retryable 4xx, or when attempts or
    the Lambda's remaining time run out. `build_headers` is called per attempt (fresh timestamp)."""
    failure = FailedAttempt("not attempted")
    attempt = 0
    while attempt < policy.max_attempts:
        budget = remaining_seconds() - policy.safety_margin_seconds
        if budget <= 0:
            raise DeliveryFailed(
                f"{failure.reason}; no time left before the deadline", attempt, failure.status
            )
        attempt += 1
        headers = {"Content-Type": "application/json", **build_headers()}
        outcome = attempt_once(session, url, body, headers, min(policy.timeout_seconds, budget), attempt)
        if isinstance(outcome, Delivered):
            return outcome
        failure = outcome
        if attempt >= policy.max_attempts:
            break
        delay = backoff_delay(attempt, policy, jitter)
        if failure.retry_after is not None:
            delay = max(delay, failure.retry_after)
        if not math.isfinite(delay) or delay + policy.safety_margin_seconds >= remaining_seconds():
            raise DeliveryFailed(
                f"{failure.reason}; no time left to retry before the deadline", attempt, failure.status
            )
        if on_retry is not None:
            on_retry(RetryNotice(attempt=attempt, reason=failure.reason, delay_seconds=delay))
        sleep(delay)
    raise DeliveryFailed(f"{failure.reason}; gave up after the last attempt", attempt, failure.status)
