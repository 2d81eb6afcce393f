"""S3 `ObjectCreated` notifications in, one signed webhook per new object out.

The handler reads the event's shape (`event_shapes`), turns each object into a notification or a reason
to skip (`notification.prepare`) and hands notifications to `direct_delivery` (no work queue) or
`handoff` (on the schedule, with a work queue). An SQS batch answers
`batchItemFailures`, so only failed messages come back; any other invocation raises when something was
not delivered, so Lambda retries it and, in the end, parks it on the OnFailure queue.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from form_archive_contract.s3 import error_code, get_s3_client
from form_archive_contract.settings import ServerMisconfigured

from .delivery import new_session
from .direct_delivery import RecordFailed, send
from .event_shapes import (
    Ignored,
    Item,
    Malformed,
    ObjectRef,
    UnsupportedEvent,
    is_sqs_batch,
    items_of,
    sqs_body_items,
)
from .notification import HashInLinks, Skip, prepare
from .object_hash import HashBudget, ObjectTooLargeToHash, delivery_reserve_seconds, forget_reads
from .outcome_log import log_skip, log_uploader_problems
from .settings import NotifySettings, clear_secret_cache, load_settings

if TYPE_CHECKING:
    import requests
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from .continuation.work_settings import WorkSettings
    from .handoff import WorkRoute

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "FormArchive")

_MAX_REASONS_IN_ERROR = 5

__all__ = [
    "NotificationFailed",
    "ObjectTooLargeToHash",
    "ServerMisconfigured",
    "UnsupportedEvent",
    "lambda_handler",
]


class NotificationFailed(Exception):
    """At least one object was not delivered; raised after all were tried. Never carries the secret."""


@functools.cache
def get_session() -> requests.Session:
    """One HTTP session per container keeps connections to the receiver warm between invocations."""
    return new_session()


# ------------------------------------------------------------------------------------------- handler


def handle_event(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Counts for a direct event, `batchItemFailures` for an SQS batch; raises when nothing can be done."""
    try:
        settings = load_settings(os.environ)
    except ServerMisconfigured as error:
        logger.error(  # noqa: TRY400 - the message names the variable
            "function misconfigured", extra={"problem": str(error)}
        )
        raise
    _note_signing(settings)
    if is_sqs_batch(event):
        return _handle_sqs_batch(event, settings, context)
    counts = _handle_items(_items(event), settings, context)
    return {**counts, "failed": 0}


def _handle_sqs_batch(
    event: dict[str, Any], settings: NotifySettings, context: LambdaContext
) -> dict[str, Any]:
    """Each message on its own: a failed or unreadable one is reported back, the others are done."""

    def handle_message(record: SQSRecord) -> None:
        body = record.get("body")
        continuation = _continuation(body)
        if continuation is not None:
            _resume(continuation, record.receipt_handle, settings, context)
            return
        _handle_items(_items(body, sqs_body=True), settings, context)

    # Imported here: the batch utility pulls in asyncio, which the direct route never needs at cold start.
    from aws_lambda_powertools.utilities.batch import (  # noqa: PLC0415
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event, handle_message, processor, context))


def _continuation(body: Any) -> dict[str, Any] | None:
    """The envelope of a work-queue message, or None for anything else (an S3 event, bad JSON)."""
    # The work-queue path is imported when first used: the direct route never loads it at cold start.
    from .continuation.sealing import is_continuation  # noqa: PLC0415

    if not isinstance(body, str) or not body.startswith("{"):
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if is_continuation(document) else None


def _resume(
    document: dict[str, Any], receipt_handle: str, settings: NotifySettings, context: LambdaContext
) -> None:
    """A continuation from the work queue; raises (so the message comes back) only when it must."""
    if settings.work is None:
        logger.error("a continuation arrived but WORK_QUEUE_URL is not set; it stays on its queue")
        raise NotificationFailed("continuation received without WORK_QUEUE_URL")
    from .continued_work import resume  # noqa: PLC0415 - the work-queue path, see _continuation

    outcome = resume(_work_route(settings, settings.work, context), document, receipt_handle)
    logger.debug("continuation handled", extra={"outcome": outcome})


def _items(event: Any, *, sqs_body: bool = False) -> list[Item]:
    try:
        return sqs_body_items(event) if sqs_body else items_of(event)
    except UnsupportedEvent as error:
        _count_unsupported(str(error))
        raise


def _count_unsupported(problem: str) -> None:
    metrics.add_metric(name="UnsupportedEvents", unit=MetricUnit.Count, value=1)
    logger.error("unsupported event", extra={"problem": problem})


def _handle_items(items: list[Item], settings: NotifySettings, context: LambdaContext) -> dict[str, int]:
    """Every item is tried; failures are collected and raised together at the end."""
    if not items:
        logger.info("s3:TestEvent; nothing to do")
    counts: Counter[str] = Counter(delivered=0, skipped=0, ignored=0)  # `postponed`, `parked` when any
    failures: list[str] = []
    for item in items:
        try:
            counts[_handle_item(item, settings, context)] += 1
        except RecordFailed as error:
            metrics.add_metric(name="WebhooksFailed", unit=MetricUnit.Count, value=1)
            failures.append(str(error))
    if failures:
        shown = "; ".join(failures[:_MAX_REASONS_IN_ERROR])
        extra = len(failures) - _MAX_REASONS_IN_ERROR
        more = f" (and {extra} more)" if extra > 0 else ""
        raise NotificationFailed(f"{len(failures)} of {len(items)} record(s) not delivered: {shown}{more}")
    return dict(counts)


def _handle_item(item: Item, settings: NotifySettings, context: LambdaContext) -> str:
    if isinstance(item, Ignored):
        logger.info("not an ObjectCreated notification; ignored", extra={"event_name": item.event_name})
        return "ignored"
    if isinstance(item, Malformed):
        raise RecordFailed(f"malformed S3 record ({item.reason})")
    try:
        return _announce(item, settings, context)
    except RecordFailed as error:
        raise RecordFailed(f"{item.key}: {error}") from None
    except ObjectTooLargeToHash as error:
        logger.error(  # noqa: TRY400 - the message says it all
            "object too large to hash before the deadline",
            extra={
                "key": item.key,
                "size": error.size,
                "budget_seconds": round(error.budget_seconds, 1),
                "hash_min_mib_s": error.min_mib_s,
            },
        )
        raise RecordFailed(f"{item.key}: {error}") from None
    except ClientError as error:
        logger.error(  # noqa: TRY400 - the error code is enough
            "S3 rejected a request", extra={"key": item.key, "s3_error_code": error_code(error)}
        )
        raise RecordFailed(f"{item.key}: S3 error {error_code(error)}") from None
    except BotoCoreError as error:
        logger.error(  # noqa: TRY400 - the error type is enough
            "S3 unreachable", extra={"key": item.key, "error_type": type(error).__name__}
        )
        raise RecordFailed(f"{item.key}: S3 unreachable ({type(error).__name__})") from None
    except Exception as error:  # one odd record must not stop the others; the type name is safe to show
        logger.error(  # noqa: TRY400 - a traceback could quote the body, which may carry the body token
            "unexpected failure", extra={"key": item.key, "error_type": type(error).__name__}
        )
        raise RecordFailed(f"{item.key}: unexpected failure ({type(error).__name__})") from None


# ------------------------------------------------------------------------------------- one object


def _announce(target: ObjectRef, settings: NotifySettings, context: LambdaContext) -> str:
    """ "delivered" or "skipped", else `RecordFailed`."""
    budget = HashBudget(
        remaining_seconds=lambda: context.get_remaining_time_in_millis() / 1000,
        delivery_reserve_seconds=delivery_reserve_seconds(settings.timeout_seconds),
        min_mib_s=settings.hash_min_mib_s,
    )
    links = settings.work.links if settings.work is not None else None
    outcome = prepare(
        get_s3_client(),
        target,
        settings.accepted_uploaders,
        settings.body_token,
        settings.hashing,
        budget,
        links,
    )
    if isinstance(outcome, Skip):
        return log_skip(outcome, target.bucket, target.key)
    if isinstance(outcome, HashInLinks) and settings.work is not None:
        from .continued_work import hash_link  # noqa: PLC0415 - the work-queue path, see _continuation

        return hash_link(_work_route(settings, settings.work, context), outcome)
    if isinstance(outcome, HashInLinks):  # pragma: no cover - prepare is given links only with a work queue
        raise RecordFailed("a hash in links needs WORK_QUEUE_URL")
    log_uploader_problems(target.key, outcome)
    if settings.work is not None:
        from .handoff import deliver_with_schedule  # noqa: PLC0415 - the work-queue path, see _continuation

        return deliver_with_schedule(_work_route(settings, settings.work, context), outcome)
    sign = functools.partial(_signed_headers, settings)
    remaining = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731 - one line reads best
    send(get_session(), target, outcome, settings, sign, remaining)
    return "delivered"


def _work_route(settings: NotifySettings, work: WorkSettings, context: LambdaContext) -> WorkRoute:
    from .handoff import WorkRoute  # noqa: PLC0415 - the work-queue path, see _continuation

    return WorkRoute(get_session(), settings, work, context, functools.partial(_signed_headers, settings))


def _signed_headers(settings: NotifySettings, webhook_id: str, body: bytes) -> dict[str, str]:
    """One attempt's headers, signed with the current secret (and the previous during an overlap)."""
    return settings.signing_secrets().headers(webhook_id, body, time.time())


@functools.cache
def _note_signing_once(note: str) -> None:
    logger.warning("webhook signing", extra={"problem": note})


def _note_signing(settings: NotifySettings) -> None:
    """Why a previous secret is not used (none yet, or malformed): once per container, never a value."""
    note = settings.signing_secrets().note
    if note is not None:
        _note_signing_once(note)


# ------------------------------------------------------------------------------------------ wiring


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Counts (or `batchItemFailures`) out, or `NotificationFailed` / `UnsupportedEvent` /
    `ServerMisconfigured`, so Lambda retries. Traces come from Lambda (`Tracing: Active`), no SDK here."""
    return handle_event(event, context)


def clear_caches() -> None:
    """Drop the per-container clients (S3, HTTP session, SSM parameters); for tests that switch endpoints."""
    from .continuation.work_queue import get_sqs_client  # noqa: PLC0415 - the work-queue path

    get_s3_client.cache_clear()
    get_sqs_client.cache_clear()
    if get_session.cache_info().currsize:
        get_session().close()
    get_session.cache_clear()
    clear_secret_cache()
    forget_reads()
