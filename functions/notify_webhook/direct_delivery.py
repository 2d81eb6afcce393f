"""One notification delivered within this invocation alone: quick retries, then delivered or `RecordFailed`.

This is the route without a work queue (`WORK_QUEUE_URL` unset); with one, `handoff` delivers on the
schedule instead. The outcome is logged here with its metric; the reason never carries the secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from .delivery import DeliveryFailed, DeliveryPolicy, RetryNotice, deliver
from .outcome_log import log_retry

if TYPE_CHECKING:
    import requests

    from .event_shapes import ObjectRef
    from .notification import Notification
    from .settings import NotifySettings

logger = Logger(child=True)
metrics = Metrics()


class RecordFailed(Exception):
    """One object could not be announced; the message is safe to log (codes and type names only)."""


def send(
    session: requests.Session,
    target: ObjectRef,
    notification: Notification,
    settings: NotifySettings,
    sign: Callable[[str, bytes], Mapping[str, str]],
    remaining_seconds: Callable[[], float],
) -> None:
    """Sign and POST with retries (`delivery`); log the outcome, `RecordFailed` when it was not delivered."""
    body, webhook_id = notification.body, notification.webhook_id

    def report_retry(notice: RetryNotice) -> None:
        log_retry(target.key, webhook_id, notice.attempt, notice.reason, notice.delay_seconds)

    try:
        result = deliver(
            session,
            settings.webhook_url,
            body,
            lambda: sign(webhook_id, body),
            DeliveryPolicy(
                timeout_seconds=settings.timeout_seconds,
                max_attempts=settings.max_attempts,
                backoff_base_seconds=settings.backoff_base_seconds,
            ),
            remaining_seconds,
            on_retry=report_retry,
        )
    except DeliveryFailed as error:
        logger.error(  # noqa: TRY400 - no traceback: the reason says it all, and stays secret-free
            "webhook delivery failed",
            extra={
                "key": target.key,
                "webhook_id": webhook_id,
                "reason": error.reason,
                "attempts": error.attempts,
            },
        )
        raise RecordFailed(f"webhook delivery failed: {error}") from None
    metrics.add_metric(name="WebhooksDelivered", unit=MetricUnit.Count, value=1)
    logger.info(
        "webhook delivered",
        extra={
            "bucket": target.bucket,
            "key": target.key,
            "webhook_id": webhook_id,
            "status": result.status,
            "attempts": result.attempts,
            "sha256_from_checksum": notification.sha256_from_checksum,
            "webhook_host": urlsplit(settings.webhook_url).hostname,
        },
    )
