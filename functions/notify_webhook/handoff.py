"""A delivery on the schedule, and what an invocation does with the delivery it cannot finish.

It ends delivered, postponed (a sealed continuation goes to the work queue, due when the next attempt
is) or given up (a record is parked on the failure queue). Work taken back from the work queue is
`continued_work`'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from .continuation.message import DELIVER_PHASE, MAX_HISTORY, AttemptRecord, Continuation
from .continuation.parking import (
    RECEIVER_GONE,
    SCHEDULE_EXHAUSTED,
    object_event,
    park,
    parked_record,
)
from .continuation.scheduled_delivery import (
    GaveUp,
    Postponed,
    ScheduledDelivery,
    deliver_on_schedule,
)
from .continuation.sealing import seal
from .continuation.work_queue import send_continuation
from .delivery import Delivered
from .notification import Notification
from .outcome_log import log_retry

if TYPE_CHECKING:
    import requests
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from .continuation.work_settings import WorkSettings
    from .settings import NotifySettings

logger = Logger(child=True)
metrics = Metrics()


# One attempt's signed headers for (webhook-id, body): a fresh timestamp and signature each call.
Signer = Callable[[str, bytes], Mapping[str, str]]


@dataclass(frozen=True)
class WorkRoute:
    """What the scheduled route takes from one invocation: the HTTP session, the settings (with their
    work-queue part), the Lambda context and the signer."""

    session: requests.Session
    settings: NotifySettings
    work: WorkSettings
    context: LambdaContext
    sign: Signer

    def remaining_seconds(self) -> float:
        return self.context.get_remaining_time_in_millis() / 1000


def deliver_with_schedule(
    route: WorkRoute,
    notification: Notification,
    *,
    first_attempt: int = 1,
    history: tuple[AttemptRecord, ...] = (),
) -> str:
    """`delivered`, `postponed` or `parked`: the attempts due now, then the hand-off."""
    settings, work, sign = route.settings, route.work, route.sign
    body, webhook_id = notification.body, notification.webhook_id
    plan = ScheduledDelivery(
        url=settings.webhook_url,
        schedule=work.schedule,
        timeout_seconds=settings.timeout_seconds,
        inline_wait_seconds=work.inline_wait_seconds,
    )

    def report_retry(record: AttemptRecord, wait: float) -> None:
        log_retry(_key(notification), webhook_id, record.attempt, record.reason, wait)

    outcome = deliver_on_schedule(
        route.session,
        plan,
        body,
        lambda: sign(webhook_id, body),
        route.remaining_seconds,
        first_attempt=first_attempt,
        history=history,
        on_retry=report_retry,
    )
    if isinstance(outcome, Delivered):
        metrics.add_metric(name="WebhooksDelivered", unit=MetricUnit.Count, value=1)
        logger.info(
            "webhook delivered",
            extra={
                "key": _key(notification),
                "webhook_id": webhook_id,
                "status": outcome.status,
                "attempt": outcome.attempts,
                "sha256_from_checksum": notification.sha256_from_checksum,
                "webhook_host": urlsplit(settings.webhook_url).hostname,
            },
        )
        return "delivered"
    if isinstance(outcome, Postponed):
        _postpone(notification, outcome, work)
        return "postponed"
    _give_up(route, notification, outcome)
    return "parked"


def _key(notification: Notification) -> str | None:
    return notification.pinned.key if notification.pinned else None


def _postpone(notification: Notification, outcome: Postponed, work: WorkSettings) -> None:
    if notification.pinned is None:  # every prepared notification is pinned
        raise ValueError("a notification without its pinned object cannot be continued")
    last = outcome.history[-1].reason if outcome.history else None
    continuation = Continuation(
        target=notification.pinned,
        phase=DELIVER_PHASE,
        webhook_id=notification.webhook_id,
        due=round(time.time() + outcome.wait_seconds, 3),
        attempts=outcome.attempt - 1,
        sha256=notification.sha256,
        last_failure=last,
        history=outcome.history[-MAX_HISTORY:],
    )
    message_id = send_continuation(work.work_queue_url, seal(continuation, work.key), outcome.wait_seconds)
    metrics.add_metric(name="WebhooksPostponed", unit=MetricUnit.Count, value=1)
    logger.warning(
        "webhook delivery postponed to the work queue",
        extra={
            "key": notification.pinned.key,
            "webhook_id": notification.webhook_id,
            "next_attempt": outcome.attempt,
            "wait_seconds": round(outcome.wait_seconds, 1),
            "last_reason": last,
            "continuation_message_id": message_id,
        },
    )


def _give_up(route: WorkRoute, notification: Notification, outcome: GaveUp) -> None:
    if notification.pinned is None:
        raise ValueError("a notification without its pinned object cannot be parked for replay")
    message_id = park_and_count(
        route,
        object_event(notification.pinned),
        RECEIVER_GONE if outcome.receiver_gone else SCHEDULE_EXHAUSTED,
        outcome.reason,
        "WebhooksParked",
        attempts=outcome.attempts,
        history=outcome.history,
        webhook_id=notification.webhook_id,
    )
    logger.error(
        "webhook delivery parked on the failure queue",
        extra={
            "key": notification.pinned.key,
            "webhook_id": notification.webhook_id,
            "reason": outcome.reason,
            "attempts": outcome.attempts,
            "parked_message_id": message_id,
        },
    )


def park_and_count(
    route: WorkRoute,
    payload: Any,
    error_type: str,
    reason: str,
    metric: str,
    *,
    attempts: int = 0,
    history: tuple[AttemptRecord, ...] = (),
    webhook_id: str | None = None,
) -> str:
    """Park a record on the failure queue and count it under `metric`; returns the message id."""
    record = parked_record(
        payload,
        error_type,
        reason,
        function_arn=route.context.invoked_function_arn,
        request_id=route.context.aws_request_id,
        attempts=attempts,
        history=history,
        webhook_id=webhook_id,
    )
    message_id = park(route.work.failure_queue_url, record)
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return message_id
