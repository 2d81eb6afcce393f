"""One link of a hash that outlives one invocation: hash from a checkpoint as far as the time allows.

A link resumes the SHA-256 state at the checkpoint's offset, reads on with ranged reads pinned to the
version and ETag that were headed (a replaced object fails the read, as in one invocation), and stops
when the time left (less the hand-off margin) or `HASH_LINK_MAX_BYTES` says so. It answers the digest
when it reached the end, else the checkpoint the next link starts from; the digest is always exactly
`hashlib.sha256` of the whole object, since every byte goes through one state exactly once in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .body import Span, hash_span
from .budget import HashBudget, ObjectTooLargeToHash
from .hashed_bytes import count_bytes_hashed
from .link_plan import LinkCapReached, LinkPolicy, NoLinkCanFinish
from .ranges import RangedReads, pinned_request
from .read_strategy import CarriedDecision, FromThroughputs, ReadChoice
from .sha256_state import HashCheckpoint, ResumableSha256

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class PinnedBody(Protocol):
    """The object as it was headed at the first link; every link reads exactly those bytes."""

    @property
    def bucket(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def version_id(self) -> str | None: ...

    @property
    def etag(self) -> str: ...

    @property
    def size(self) -> int: ...


class CheckpointBeyondObject(ValueError):
    """A checkpoint whose offset is past the object's end: nothing to resume (the message is refused)."""


def hash_until(
    client: S3Client,
    obj: PinnedBody,
    checkpoint: HashCheckpoint | None,
    budget: HashBudget,
    policy: LinkPolicy,
    *,
    link: int = 1,
    reads: RangedReads = RangedReads(),  # noqa: B008 - frozen, so one shared default is safe
    choice: ReadChoice = FromThroughputs(),  # noqa: B008 - frozen, as above
    carried: CarriedDecision | None = None,
) -> str | HashCheckpoint:
    """Link number `link` of `obj`'s hash: the lowercase hex SHA-256 once the end is reached, else the
    checkpoint to hand to link `link + 1`. `carried` is the read decision the previous link handed on
    (ranges at once when they paid there), updated with this link's for the next.

    Raises `LinkCapReached` when `link` is past the object's cap (`LinkPolicy.cap`),
    `ObjectTooLargeToHash` (caused by `NoLinkCanFinish`) when no number of links can finish it,
    `CheckpointBeyondObject` for an offset past the end, and botocore's errors on S3 faults (a replaced
    object: `PreconditionFailed`; a deleted one: `NoSuchKey` / `NoSuchVersion`).
    """
    start = 0 if checkpoint is None else checkpoint.offset
    if start > obj.size:
        raise CheckpointBeyondObject(f"checkpoint offset {start} is beyond the object's size {obj.size}")
    hash_seconds = budget.seconds()
    if start < obj.size and not policy.fits_one_link(obj.size, start, hash_seconds, budget.min_mib_s):
        try:
            cap = policy.cap(obj.size, hash_seconds, budget.min_mib_s)
        except NoLinkCanFinish as error:
            raise ObjectTooLargeToHash(obj.size, hash_seconds, budget.min_mib_s, why=str(error)) from error
        if link > cap:
            raise LinkCapReached(obj.size, link, cap, budget.min_mib_s)
    state = ResumableSha256(checkpoint)
    end = policy.link_end(start, obj.size)
    if start < end:

        def time_is_up() -> bool:
            return policy.link_seconds(budget.seconds()) <= 0

        request = pinned_request(obj.bucket, obj.key, obj.version_id, obj.etag)
        span = Span(start, end, obj.size)
        hash_span(
            client, request, span, state, reads=reads, choice=choice, should_stop=time_is_up, carried=carried
        )
        count_bytes_hashed(state.offset - start)
    if state.offset == obj.size:
        return state.hexdigest()
    return state.checkpoint()
