"""The hash phase across invocations: a hash one invocation cannot finish goes on in links on the work queue.

The first link starts from an S3 event (`notification.prepare`); each later one from a continuation that
carries the checkpoint. A link hashes as far as its time allows and hands the next one a sealed
continuation (phase `hash`, the checkpoint, the links so far); the link that reaches the end builds the
notification and delivery goes on as for any object. The object is headed again at every link: gone or
replaced since is a reason to skip, as at the first; a hash no number of links can finish, or one that
hit its link cap, is parked with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from form_archive_contract.s3 import MISSING_CODES, PRECONDITION_FAILED_CODES, error_code

from .continuation.message import HASH_PHASE, Continuation
from .continuation.pinned import PinnedObject
from .continuation.sealing import seal
from .continuation.work_queue import send_continuation
from .notification import HashInLinks, Notification, Skip, rebuild
from .object_hash import (
    CarriedDecision,
    HashCheckpoint,
    LinkCapReached,
    ObjectTooLargeToHash,
    hash_until,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from .continuation.work_settings import WorkSettings
    from .object_hash import HashBudget, RangedReads


@dataclass(frozen=True)
class HashInProgress:
    """A hash handed on: `links` links are done, the next starts from `checkpoint`."""

    pinned: PinnedObject
    webhook_id: str
    checkpoint: HashCheckpoint
    links: int
    read_connections: int = 0  # what the links so far found about reading the store (`CarriedDecision`)


@dataclass(frozen=True)
class HashImpossible:
    """A hash that must not go on (link cap reached, or no number of links can finish): park it."""

    reason: str


def hand_off(progress: HashInProgress, work: WorkSettings) -> str:
    """Send the next link to the work queue, due at once; its `MessageId`."""
    continuation = Continuation(
        target=progress.pinned,
        phase=HASH_PHASE,
        webhook_id=progress.webhook_id,
        due=round(time.time(), 3),
        checkpoint=progress.checkpoint,
        links=progress.links,
        read_connections=progress.read_connections,
    )
    return send_continuation(work.work_queue_url, seal(continuation, work.key), 0.0)


def next_link(
    client: S3Client,
    progress: HashInProgress | HashInLinks,
    budget: HashBudget,
    work: WorkSettings,
    reads: RangedReads,
    body_token: str | None,
) -> Notification | Skip | HashInProgress | HashImpossible:
    """One link on from `progress` (byte 0 for `HashInLinks`): the notification once the hash is done,
    the next link's progress, a reason to skip (gone or replaced), or why the hash cannot go on."""
    pinned = progress.pinned
    checkpoint = progress.checkpoint if isinstance(progress, HashInProgress) else None
    link = (progress.links if isinstance(progress, HashInProgress) else 0) + 1
    carried = CarriedDecision(progress.read_connections if isinstance(progress, HashInProgress) else 0)
    try:
        answer = hash_until(
            client, pinned, checkpoint, budget, work.links, link=link, reads=reads, carried=carried
        )
    except (LinkCapReached, ObjectTooLargeToHash) as error:
        return HashImpossible(str(error))
    except ClientError as error:
        code = error_code(error)
        if code in MISSING_CODES:
            return Skip("object disappeared between hash links; skipped", warning=True)
        if code in PRECONDITION_FAILED_CODES:
            return Skip("object was replaced between hash links; its own event announces it")
        raise
    if isinstance(answer, HashCheckpoint):
        return HashInProgress(pinned, progress.webhook_id, answer, link, carried.connections)
    return rebuild(client, pinned, answer, body_token, progress.webhook_id)


def from_continuation(continuation: Continuation) -> HashInProgress:
    """The progress a hash-phase continuation carries (`from_document` made sure it has a checkpoint)."""
    if continuation.checkpoint is None:
        raise ValueError("a hash-phase continuation without a checkpoint")
    return HashInProgress(
        continuation.target,
        continuation.webhook_id,
        continuation.checkpoint,
        continuation.links,
        continuation.read_connections,
    )
