"""One object in, "a notification to send" or "a reason to skip" out: head, filter, hash, the exact body."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from form_archive_contract.metadata import (
    UPLOADED_BY,
    UPLOADER_EMAIL,
    UPLOADER_NAME,
    announced_uploader,
    uploader_problem,
)
from form_archive_contract.s3 import MISSING_CODES, PRECONDITION_FAILED_CODES, error_code

from .continuation.pinned import PinnedObject
from .event_shapes import ObjectRef
from .object_hash import (
    RangedReads,
    count_bytes_hashed,
    recalled,
    remember,
    sha256_hex_from_checksum,
    sha256_of_body,
)
from .object_key_parts import split_key
from .signing import message_id

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef

    from .object_hash import HashBudget, LinkPolicy


class ObjectGone(Exception):
    """The object (or the event's version of it) no longer exists: nothing left to announce."""


class ObjectReplaced(Exception):
    """The key now holds other bytes than the event announced; the newer write brings its own event."""


@dataclass(frozen=True)
class Skip:
    """Why this object is not announced; `warning` when it points at something an operator should see."""

    reason: str
    warning: bool = False
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HashInLinks:
    """The body cannot be hashed in this invocation: it is hashed in links (`hash_phase`) from byte 0."""

    pinned: PinnedObject
    webhook_id: str


@dataclass(frozen=True)
class Notification:
    """Everything delivery needs: the exact bytes to sign and send, and the id receivers deduplicate on."""

    body: bytes = field(repr=False)
    webhook_id: str
    sha256_from_checksum: bool
    # Submitter fields sent as null, each with why: `metadata.ABSENT` or the check the text failed.
    uploader_problems: dict[str, str]
    # What a later attempt needs to rebuild the same body: the object as headed, and its SHA-256.
    pinned: PinnedObject | None = None
    sha256: str = ""


def prepare(
    client: S3Client,
    target: ObjectRef,
    accepted_uploaders: frozenset[str],
    body_token: str | None,
    reads: RangedReads = RangedReads(),  # noqa: B008 - frozen, so one shared default is safe
    budget: HashBudget | None = None,
    links: LinkPolicy | None = None,
) -> Notification | Skip | HashInLinks:
    """Head the object, filter it, hash it and build the body. S3 faults other than "gone" and "replaced"
    propagate as botocore errors. A body that cannot be hashed within `budget` is `HashInLinks` when
    `links` (a work queue) allows it, else raises `ObjectTooLargeToHash` before it is read."""
    try:
        head = head_object(client, target)
    except ObjectGone:
        found = head_object_as_sent(client, target)
        if found is None:
            return Skip("object no longer exists; skipped", warning=True)
        target, head = found
    refused = _not_announced(target, head, accepted_uploaders)
    if refused is not None:
        return refused
    webhook_id = message_id(
        target.bucket, target.key, target.version_id or target.event_etag, target.sequencer
    )
    if links is not None and budget is not None and _needs_links(head, budget, links):
        return HashInLinks(pinned_object(target, head), webhook_id)
    try:
        sha256, from_checksum = object_sha256(client, target, head, reads, budget)
    except (ObjectGone, ObjectReplaced) as error:
        if isinstance(error, ObjectGone):
            return Skip("object disappeared while it was read; skipped", warning=True)
        return Skip("object was replaced while it was read; its own event announces it")
    return _notification(target, head, sha256, body_token, webhook_id, from_checksum=from_checksum)


def _not_announced(
    target: ObjectRef, head: HeadObjectOutputTypeDef, accepted_uploaders: frozenset[str]
) -> Skip | None:
    """Why a headed object is not announced at all: an uploader not accepted, or replaced since the event."""
    uploaded_by = (head.get("Metadata") or {}).get(UPLOADED_BY)
    if uploaded_by not in accepted_uploaders:
        return Skip("uploader not accepted; skipped", details={"uploaded_by": uploaded_by})
    if not target.version_id and target.event_etag and strip_etag(head.get("ETag")) != target.event_etag:
        return Skip("object was replaced since the event; its own event announces it")
    return None


def _notification(
    target: ObjectRef,
    head: HeadObjectOutputTypeDef,
    sha256: str,
    body_token: str | None,
    webhook_id: str,
    *,
    from_checksum: bool,
) -> Notification:
    payload = build_payload(target, head, sha256, body_token)
    return Notification(
        body=encode_body(payload),
        webhook_id=webhook_id,
        sha256_from_checksum=from_checksum,
        uploader_problems=uploader_problems(head),
        pinned=pinned_object(target, head),
        sha256=sha256,
    )


def pinned_object(target: ObjectRef, head: HeadObjectOutputTypeDef) -> PinnedObject:
    """The object as headed: what every later link or attempt reads and announces."""
    return PinnedObject(
        bucket=target.bucket,
        key=target.key,
        version_id=head.get("VersionId") or target.version_id,
        etag=strip_etag(head.get("ETag")),
        size=head.get("ContentLength") or 0,
        sequencer=target.sequencer,
    )


def _needs_links(head: HeadObjectOutputTypeDef, budget: HashBudget, links: LinkPolicy) -> bool:
    """No S3 checksum to reuse, and the body does not fit this invocation (time or HASH_LINK_MAX_BYTES)."""
    if sha256_hex_from_checksum(head) is not None:
        return False
    size = head.get("ContentLength") or 0
    return not links.fits_one_link(size, 0, budget.seconds(), budget.min_mib_s)


def rebuild(
    client: S3Client, pinned: PinnedObject, sha256: str, body_token: str | None, webhook_id: str
) -> Notification | Skip:
    """The notification a later attempt sends: the object headed again (pinned to its version), the body
    rebuilt around the SHA-256 already computed. Gone or replaced since: a reason to skip, as at first."""
    target = ObjectRef(
        bucket=pinned.bucket,
        key=pinned.key,
        version_id=pinned.version_id,
        event_etag=pinned.etag,
        sequencer=pinned.sequencer,
    )
    try:
        head = head_object(client, target)
    except ObjectGone:
        return Skip("object no longer exists; skipped", warning=True)
    if strip_etag(head.get("ETag")) != pinned.etag:
        return Skip("object was replaced since the event; its own event announces it")
    return _notification(target, head, sha256, body_token, webhook_id, from_checksum=False)


def head_object_as_sent(
    client: S3Client, target: ObjectRef
) -> tuple[ObjectRef, HeadObjectOutputTypeDef] | None:
    """The object under one of the key's other spellings, only when it is the event's own version or ETag
    (an event with neither pins nothing, so none is tried): a different object is never announced."""
    if not (target.version_id or target.event_etag):
        return None
    for key in target.other_spellings:
        candidate = replace(target, key=key, other_spellings=())
        try:
            head = head_object(client, candidate)
        except ObjectGone:
            continue
        if target.event_etag and strip_etag(head.get("ETag")) != target.event_etag:
            continue
        return candidate, head
    return None


def strip_etag(etag: str | None) -> str:
    return (etag or "").strip('"')


def head_object(client: S3Client, target: ObjectRef) -> HeadObjectOutputTypeDef:
    """Head with checksums; a 404 becomes `ObjectGone`, other S3 errors propagate."""
    request: dict[str, str] = {"Bucket": target.bucket, "Key": target.key, "ChecksumMode": "ENABLED"}
    if target.version_id:
        request["VersionId"] = target.version_id
    try:
        return client.head_object(**request)  # type: ignore[arg-type]
    except ClientError as error:
        if error_code(error) in MISSING_CODES:
            raise ObjectGone(target.key) from None
        raise


def object_sha256(
    client: S3Client,
    target: ObjectRef,
    head: HeadObjectOutputTypeDef,
    reads: RangedReads = RangedReads(),  # noqa: B008 - frozen, so one shared default is safe
    budget: HashBudget | None = None,
) -> tuple[str, bool]:
    """(hex SHA-256, whether S3's checksum was used). The body read (one stream, or parallel ranges for a
    large object) is pinned to what was headed; it does not start when `budget` says it cannot finish.
    A body read counts its bytes towards `BytesHashed`; a reused checksum counts none."""
    from_checksum = sha256_hex_from_checksum(head)
    if from_checksum is not None:
        return from_checksum, True
    if budget is not None:
        budget.check(head.get("ContentLength") or 0)
    store = (client.meta.endpoint_url, target.bucket) if reads.mode == "auto" else None
    carried = recalled(*store) if store else None  # what a recent read here found (a warm container)
    known = carried.connections if carried else 0
    try:
        digest = sha256_of_body(
            client,
            target.bucket,
            target.key,
            head.get("ContentLength"),
            version_id=head.get("VersionId") or target.version_id,
            etag=head.get("ETag"),
            reads=reads,
            carried=carried,
        )
    except ClientError as error:
        code = error_code(error)
        if code in MISSING_CODES:
            raise ObjectGone(target.key) from None
        if code in PRECONDITION_FAILED_CODES:
            raise ObjectReplaced(target.key) from None
        raise
    if store and carried and carried.connections != known:  # kept from when it was decided, not used
        remember(*store, carried)
    count_bytes_hashed(head.get("ContentLength") or 0)
    return digest, False


def build_payload(
    target: ObjectRef, head: HeadObjectOutputTypeDef, sha256: str, body_token: str | None
) -> dict[str, Any]:
    """Exactly the fields receivers expect; `secret_token` (the body token, never the signing secret) only
    when one is configured. Uploader metadata is decoded from RFC 2047, as S3 returns non-ASCII text, and
    sent only when the decoded text is plain (else null, like absent metadata)."""
    parts = split_key(target.key)
    metadata = head.get("Metadata") or {}
    payload: dict[str, Any] = {
        "datapack_identifier": parts.datapack_identifier,
        "display": parts.display,
        "path": parts.path,
        "content_type": head.get("ContentType"),
        "length": head.get("ContentLength"),
        "etag": target.event_etag or strip_etag(head.get("ETag")),
        "sha256": sha256,
        "submitter_name": announced_uploader(metadata.get(UPLOADER_NAME)),
        "submitter_email": announced_uploader(metadata.get(UPLOADER_EMAIL), email=True),
        "_updated": str(head.get("LastModified")),
    }
    if body_token is not None:
        payload["secret_token"] = body_token
    return payload


def uploader_problems(head: HeadObjectOutputTypeDef) -> dict[str, str]:
    """The submitter fields `build_payload` sends as null, and why (never the values)."""
    metadata = head.get("Metadata") or {}
    found = {
        "submitter_name": uploader_problem(metadata.get(UPLOADER_NAME)),
        "submitter_email": uploader_problem(metadata.get(UPLOADER_EMAIL), email=True),
    }
    return {name: problem for name, problem in found.items() if problem is not None}


def encode_body(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed are the bytes that are sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
