"""What an invocation does with work it cannot finish, and with work handed to it.

A delivery on the schedule ends delivered, postponed (a sealed continuation goes to the work queue, due
when the next attempt is) or given up (a record is parked on the failure queue). A continuation taken
from the work queue is opened (a forged or altered one is parked, nothing delivered), hidden again when
it came back before it was due, and otherwise resumed where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from form_archive_contract.s3 import get_s3_client

from .continuation.message import DELIVER_PHASE, HASH_PHASE, MAX_HISTORY, AttemptRecord, Continuation
from .continuation.parking import (
    CANNOT_CONTINUE,
    RECEIVER_GONE,
    REFUSED,
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
from .continuation.sealing import RefusedContinuation, open_sealed, seal
from .continuation.work_queue import hidden_seconds, hide_until_due, send_continuation
from .delivery import Delivered
from .hash_phase import HashImpossible, HashInProgress, from_continuation, hand_off, next_link
from .notification import HashInLinks, Notification, Skip, rebuild
from .object_hash import HashBudget, delivery_reserve_seconds

if TYPE_CHECKING:
    import requests
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from .continuation.work_settings import WorkSettings
    from .settings import NotifySettings

logger = Logger(child=True)
metrics = Metrics()


# One attempt's signed headers for (webhook-id, body): a fresh timestamp and signature each call.
Signer = Callable[[str, bytes], Mapping[str, str]]


class NotYetDue(Exception):
    """A continuation came back before it was due; it was hidden again and stays on the queue."""


def _remaining(context: LambdaContext) -> Callable[[], float]:
    return lambda: context.get_remaining_time_in_millis() / 1000


def deliver_with_schedule(
    session: requests.Session,
    notification: Notification,
    settings: NotifySettings,
    work: WorkSettings,
    context: LambdaContext,
    sign: Signer,
    *,
    first_attempt: int = 1,
    history: tuple[AttemptRecord, ...] = (),
) -> str:
    """`delivered`, `postponed` or `parked`: the attempts due now, then the hand-off."""
    body, webhook_id = notification.body, notification.webhook_id
    plan = ScheduledDelivery(
        url=settings.webhook_url,
        schedule=work.schedule,
        timeout_seconds=settings.timeout_seconds,
        inline_wait_seconds=work.inline_wait_seconds,
    )

    def report_retry(record: AttemptRecord, wait: float) -> None:
        metrics.add_metric(name="WebhookRetries", unit=MetricUnit.Count, value=1)
        logger.warning(
            "webhook attempt failed; retrying",
            extra={
                "key": _key(notification),
                "webhook_id": webhook_id,
                "attempt": record.attempt,
                "reason": record.reason,
                "delay_seconds": round(wait, 3),
            },
        )

    outcome = deliver_on_schedule(
        session,
        plan,
        body,
        lambda: sign(webhook_id, body),
        _remaining(context),
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
    _give_up(notification, outcome, work, context)
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


def _give_up(notification: Notification, outcome: GaveUp, work: WorkSettings, context: LambdaContext) -> None:
    if notification.pinned is None:
        raise ValueError("a notification without its pinned object cannot be parked for replay")
    record = parked_record(
        object_event(notification.pinned),
        RECEIVER_GONE if outcome.receiver_gone else SCHEDULE_EXHAUSTED,
        outcome.reason,
        function_arn=context.invoked_function_arn,
        request_id=context.aws_request_id,
        attempts=outcome.attempts,
        history=outcome.history,
        webhook_id=notification.webhook_id,
    )
    message_id = park(work.failure_queue_url, record)
    metrics.add_metric(name="WebhooksParked", unit=MetricUnit.Count, value=1)
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


def resume(
    document: dict[str, Any],
    receipt_handle: str,
    session: requests.Session,
    settings: NotifySettings,
    work: WorkSettings,
    context: LambdaContext,
    sign: Signer,
) -> str:
    """One message from the work queue: `delivered`, `postponed`, `parked` or `skipped`; `NotYetDue` when
    it came back early (it stays on the queue, hidden until due)."""
    try:
        continuation = open_sealed(document, work.key)
    except RefusedContinuation as error:
        _refuse(document, str(error), work, context)
        return "parked"
    hide = hidden_seconds(continuation.due, time.time())
    if hide > 0:
        hide_until_due(work.work_queue_url, receipt_handle, hide)
        logger.info(
            "continuation not due yet; hidden until due",
            extra={"key": continuation.target.key, "hidden_seconds": hide, "phase": continuation.phase},
        )
        raise NotYetDue(f"due in {hide} s")
    if continuation.phase == HASH_PHASE:
        return hash_link(from_continuation(continuation), session, settings, work, context, sign)
    sha256 = continuation.sha256 or ""
    outcome = rebuild(
        get_s3_client(), continuation.target, sha256, settings.body_token, continuation.webhook_id
    )
    if isinstance(outcome, Skip):
        metrics.add_metric(name="ObjectsSkipped", unit=MetricUnit.Count, value=1)
        log = logger.warning if outcome.warning else logger.info
        log(outcome.reason, extra={"bucket": continuation.target.bucket, "key": continuation.target.key})
        return "skipped"
    return deliver_with_schedule(
        session,
        outcome,
        settings,
        work,
        context,
        sign,
        first_attempt=continuation.attempts + 1,
        history=continuation.history,
    )


def hash_link(
    progress: HashInProgress | HashInLinks,
    session: requests.Session,
    settings: NotifySettings,
    work: WorkSettings,
    context: LambdaContext,
    sign: Signer,
) -> str:
    """One link of a hash in links: `postponed` (the next link is on the work queue), `skipped`, `parked`
    (it cannot go on), or the delivery's outcome once the hash is done."""
    budget = HashBudget(
        remaining_seconds=_remaining(context),
        delivery_reserve_seconds=delivery_reserve_seconds(settings.timeout_seconds),
        min_mib_s=settings.hash_min_mib_s,
    )
    client = get_s3_client()
    outcome = next_link(client, progress, budget, work, settings.hashing, settings.body_token)
    pinned = progress.pinned
    if isinstance(outcome, HashInProgress):
        message_id = hand_off(outcome, work)
        metrics.add_metric(name="HashLinksHandedOn", unit=MetricUnit.Count, value=1)
        logger.info(
            "hash handed on to the next link",
            extra={
                "key": pinned.key,
                "webhook_id": outcome.webhook_id,
                "links": outcome.links,
                "offset": outcome.checkpoint.offset,
                "size": pinned.size,
                "continuation_message_id": message_id,
            },
        )
        return "postponed"
    if isinstance(outcome, Skip):
        metrics.add_metric(name="ObjectsSkipped", unit=MetricUnit.Count, value=1)
        log = logger.warning if outcome.warning else logger.info
        log(outcome.reason, extra={"bucket": pinned.bucket, "key": pinned.key})
        return "skipped"
    if isinstance(outcome, HashImpossible):
        record = parked_record(
            object_event(pinned),
            CANNOT_CONTINUE,
            outcome.reason,
            function_arn=context.invoked_function_arn,
            request_id=context.aws_request_id,
            webhook_id=progress.webhook_id,
        )
        parked_id = park(work.failure_queue_url, record)
        metrics.add_metric(name="HashesParked", unit=MetricUnit.Count, value=1)
        logger.error(
            "hash cannot go on; parked on the failure queue",
            extra={"key": pinned.key, "reason": outcome.reason, "parked_message_id": parked_id},
        )
        return "parked"
    return deliver_with_schedule(session, outcome, settings, work, context, sign)


def _refuse(document: dict[str, Any], reason: str, work: WorkSettings, context: LambdaContext) -> None:
    record = parked_record(
        document,
        REFUSED,
        reason,
        function_arn=context.invoked_function_arn,
        request_id=context.aws_request_id,
    )
    message_id = park(work.failure_queue_url, record)
    metrics.add_metric(name="ContinuationsRefused", unit=MetricUnit.Count, value=1)
    logger.error(
        "continuation refused and parked; nothing delivered",
        extra={"reason": reason, "parked_message_id": message_id},
    )
