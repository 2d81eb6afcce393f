"""Work taken from the work queue: a continuation opened, hidden again when early, resumed where it stopped.

A forged or altered continuation is parked (nothing delivered); one that came back before it was due is
hidden until due; a hash in links goes on with its next link; a delivery goes on with its next attempt
on the schedule (`handoff`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from form_archive_contract.s3 import get_s3_client

from .continuation.message import HASH_PHASE
from .continuation.parking import CANNOT_CONTINUE, REFUSED, object_event
from .continuation.sealing import RefusedContinuation, open_sealed
from .continuation.work_queue import hidden_seconds, hide_until_due
from .handoff import WorkRoute, deliver_with_schedule, park_and_count
from .hash_phase import HashImpossible, HashInProgress, from_continuation, hand_off, next_link
from .notification import HashInLinks, Skip, rebuild
from .object_hash import HashBudget, delivery_reserve_seconds
from .outcome_log import log_skip

if TYPE_CHECKING:
    pass

logger = Logger(child=True)
metrics = Metrics()


class NotYetDue(Exception):
    """A continuation came back before it was due; it was hidden again and stays on the queue."""


def resume(route: WorkRoute, document: dict[str, Any], receipt_handle: str) -> str:
    """One message from the work queue: `delivered`, `postponed`, `parked` or `skipped`; `NotYetDue` when
    it came back early (it stays on the queue, hidden until due)."""
    work = route.work
    try:
        continuation = open_sealed(document, work.key)
    except RefusedContinuation as error:
        _refuse(route, document, str(error))
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
        return hash_link(route, from_continuation(continuation))
    sha256 = continuation.sha256 or ""
    outcome = rebuild(
        get_s3_client(), continuation.target, sha256, route.settings.body_token, continuation.webhook_id
    )
    if isinstance(outcome, Skip):
        return log_skip(outcome, continuation.target.bucket, continuation.target.key)
    return deliver_with_schedule(
        route,
        outcome,
        first_attempt=continuation.attempts + 1,
        history=continuation.history,
    )


def hash_link(route: WorkRoute, progress: HashInProgress | HashInLinks) -> str:
    """One link of a hash in links: `postponed` (the next link is on the work queue), `skipped`, `parked`
    (it cannot go on), or the delivery's outcome once the hash is done."""
    settings, work = route.settings, route.work
    budget = HashBudget(
        remaining_seconds=route.remaining_seconds,
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
        return log_skip(outcome, pinned.bucket, pinned.key)
    if isinstance(outcome, HashImpossible):
        parked_id = park_and_count(
            route,
            object_event(pinned),
            CANNOT_CONTINUE,
            outcome.reason,
            "HashesParked",
            webhook_id=progress.webhook_id,
        )
        logger.error(
            "hash cannot go on; parked on the failure queue",
            extra={"key": pinned.key, "reason": outcome.reason, "parked_message_id": parked_id},
        )
        return "parked"
    return deliver_with_schedule(route, outcome)


def _refuse(route: WorkRoute, document: dict[str, Any], reason: str) -> None:
    message_id = park_and_count(route, document, REFUSED, reason, "ContinuationsRefused")
    logger.error(
        "continuation refused and parked; nothing delivered",
        extra={"reason": reason, "parked_message_id": message_id},
    )
