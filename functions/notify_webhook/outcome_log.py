"""The log lines and metrics of one object's outcome (skipped, retried, uploader problems), written once.

The direct route (`app`) and the scheduled route (`handoff`) both report these; one module keeps their
wording and their metric names the same. Lines name keys, fields and reasons, never values or bodies.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from form_archive_contract.metadata import ABSENT

from .notification import Notification, Skip

logger = Logger(child=True)
metrics = Metrics()


def log_skip(skip: Skip, bucket: str, key: str) -> str:
    """Count and log why an object is not announced; returns the outcome word `skipped`."""
    metrics.add_metric(name="ObjectsSkipped", unit=MetricUnit.Count, value=1)
    log = logger.warning if skip.warning else logger.info
    log(skip.reason, extra={"bucket": bucket, "key": key, **skip.details})
    return "skipped"


def log_retry(key: str | None, webhook_id: str, attempt: int, reason: str, delay_seconds: float) -> None:
    """One failed attempt that will be tried again after `delay_seconds`."""
    metrics.add_metric(name="WebhookRetries", unit=MetricUnit.Count, value=1)
    logger.warning(
        "webhook attempt failed; retrying",
        extra={
            "key": key,
            "webhook_id": webhook_id,
            "attempt": attempt,
            "reason": reason,
            "delay_seconds": round(delay_seconds, 3),
        },
    )


def log_uploader_problems(key: str, notification: Notification) -> None:
    """One warning for absent uploader metadata, one for text refused by a check, each naming the fields
    (and the check), never the values."""
    problems = notification.uploader_problems
    absent = [name for name, problem in problems.items() if problem == ABSENT]
    refused = {name: problem for name, problem in problems.items() if problem != ABSENT}
    if absent:
        logger.warning("object has no uploader metadata; sending null", extra={"key": key, "fields": absent})
    if refused:
        logger.warning(
            "uploader metadata refused by the checks ("
            + "; ".join(sorted(set(refused.values())))
            + "); sending null",
            extra={"key": key, "fields": sorted(refused), "problems": refused},
        )
