"""API handler (REST API and HTTP API / Function URL events): `POST /submissions` archives one JSON object."""

from __future__ import annotations

import functools
import os
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from form_archive_contract.api import (
    Counted,
    add_fault_handlers,
    api_entry_point,
    api_resolvers,
    json_response,
    resolve_api_event,
)
from form_archive_contract.api_events import RequestRejected, is_json_content_type
from form_archive_contract.request_body import read_body
from form_archive_contract.s3 import error_code, get_s3_client
from form_archive_contract.settings import ServerMisconfigured

from .gated_write import LookFoundTheKey, put_after_look
from .object_key import (
    BucketPathError,
    build_idempotent_object_key,
    build_object_key,
    idempotent_submission_id,
    new_submission_id,
)
from .settings import ArchiveSettings, load_settings
from .store import (
    KeyLookup,
    KeyState,
    ObjectAlreadyExists,
    StoredSubmission,
    head_holds_body,
    holds_body,
    oldest_version,
    put_submission,
    versions_oldest_first,
)
from .store_knowledge import StoreKnowledge, knowledge, probe_key, refuses_overwrites
from .submission_request import parse_submission

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")

logger = Logger()
# Cold start: the resolver comes from its submodule, because `aws_lambda_powertools.event_handler` imports
# every resolver (AppSync, Bedrock, asyncio...). No X-Ray SDK: Lambda's `Tracing: Active` traces the
# invocation without code in the function (docs/performance.md, "Cold start").
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "FormArchive")
# One set of routes for both API event formats: REST API (payload 1.0) events go to the REST resolver,
# HTTP API and Function URL (payload 2.0) events to the HTTP resolver; `lambda_handler` picks per event.
app = Router()  # type: ignore[no-untyped-call]  # Powertools leaves Router.__init__ unannotated


REJECTED = Counted("SubmissionsRejected", "submission rejected")
FAILED = Counted("SubmissionsFailed", "the submission could not be archived")
faults = add_fault_handlers(app, logger, metrics, "/submissions", rejected=REJECTED, failed=FAILED)


@app.exception_handler(ClientError)
def handle_s3_error(error: ClientError) -> Response[str]:
    return faults.server_fault(502, "S3 rejected the request", s3_error_code=error_code(error))


@app.exception_handler(BotoCoreError)
def handle_s3_unreachable(error: BotoCoreError) -> Response[str]:
    return faults.server_fault(502, "S3 unreachable", error_type=type(error).__name__)


def _idempotency_key() -> str | None:
    value = app.current_event.headers.get("Idempotency-Key")
    if value is None:
        return None
    if not isinstance(value, str) or not _IDEMPOTENCY_KEY.fullmatch(value):
        raise RequestRejected(400, "Idempotency-Key must be 1-255 visible ASCII characters")
    return value


def _replay(
    client: S3Client, bucket: str, key: str, body: bytes, submission_id: str, *, current_decides: bool
) -> Response[str] | None:
    """The answer for an `Idempotency-Key` whose object already exists at `key`: the first request's `201`
    for the same bytes, `409` for other bytes; None when `key` has no version. The oldest version decides,
    also when it was deleted (a delete marker on top) or a racing write landed on top of it (a store that
    ignores `If-None-Match`): the first body wins on every retry, and a 409 writes nothing. With
    `current_decides` (a store known to refuse overwrites, and no delete marker seen) the current object
    is the only version ever written, so no listing is needed."""
    if current_decides:
        same = holds_body(client, bucket, key, body)
    else:
        version = oldest_version(client, bucket, key)
        if version is None:
            return None
        same = holds_body(client, bucket, key, body, version)
    if same is None:
        return None
    return _replayed(bucket, key, submission_id) if same else _conflict()


def _answer_before_writing(
    client: S3Client, bucket: str, key: str, body: bytes, submission_id: str, store: StoreKnowledge
) -> Response[str] | None:
    """On a store not known to refuse overwrites (Ceph RGW 16 in a versioned bucket) the key's versions
    are listed before the write, and the oldest decides; elsewhere the write itself (or the look made
    with it) tells: None."""
    if store.refuses_overwrites:
        return None
    return _replay(client, bucket, key, body, submission_id, current_decides=False)


def _answer_from_look(
    client: S3Client, bucket: str, key: str, body: bytes, submission_id: str, found: KeyLookup
) -> Response[str]:
    """The answer when the look made with the write found the key used: the object it found decides, or,
    under a delete marker, the oldest version."""
    if found.state is KeyState.PRESENT:
        same = head_holds_body(client, bucket, key, body, found.head)
        return _replayed(bucket, key, submission_id) if same else _conflict()
    replayed = _replay(client, bucket, key, body, submission_id, current_decides=False)
    if replayed is None:  # every version went between the look and the listing: write it again
        return faults.reject(409, "a request with this Idempotency-Key is still in progress; retry it")
    return replayed


def _conflict() -> Response[str]:
    return faults.reject(409, "Idempotency-Key was already used with a different body")


def _replayed(bucket: str, key: str, submission_id: str) -> Response[str]:
    metrics.add_metric(name="SubmissionsReplayed", unit=MetricUnit.Count, value=1)
    logger.info("idempotent replay", extra={"key": key, "submission_id": submission_id})
    answer = {"submission_id": submission_id, "bucket": bucket, "key": key}
    return json_response(201, answer, headers={"Idempotent-Replayed": "true"})


@functools.cache
def _warn_conditional_write_ignored() -> None:
    """Once per container: the store does not refuse what `If-None-Match: *` should refuse."""
    logger.warning(
        "the S3 store accepted a conditional write (If-None-Match: *) over an existing object; "
        "Idempotency-Key conflicts rest on the look-up before each write and the versions listed after "
        "it, and two requests racing within it both get stored as versions"
    )


def _overwritten(client: S3Client, written: StoredSubmission) -> Response[str] | None:
    """In a versioned bucket, check that the conditional write did not land on an existing object (a store
    that ignores `If-None-Match`, after a request that raced past the look-up). If it did, the oldest
    version holds the first answer: it is this write (this request won), the same bytes (a replay), or
    other bytes (a conflict; the version just written stays, as a newer version, above the first one)."""
    listed = versions_oldest_first(client, written)
    if len(listed) <= 1:
        return None
    _warn_conditional_write_ignored()
    oldest_id, oldest_etag = listed[0]
    if oldest_id == written.version_id:
        return None
    if oldest_etag == written.etag:
        return _replayed(written.bucket, written.key, written.submission_id)
    return _conflict()


def _learn_before_keyed_write(client: S3Client, settings: ArchiveSettings, store: StoreKnowledge) -> None:
    """Once per container, before its first keyed write: does the store refuse a conditional overwrite?"""
    if store.refuses_overwrites is None:
        store.refuses_overwrites = refuses_overwrites(client, settings.bucket, probe_key(settings.prefix))


def _archive_keyed(
    client: S3Client,
    settings: ArchiveSettings,
    key: str,
    body: bytes,
    submission_id: str,
    received_at: datetime,
) -> Response[str] | StoredSubmission:
    """A keyed submission: the stored object, or the answer of the request that used the key first. The
    key names the same object on every day, so one look covers its whole life: none in an unversioned
    bucket on a store that refuses overwrites (the conditional write decides); one made with the write
    where a delete marker could hide the first version (S3 accepts a conditional write over one); the
    key's versions listed on a store not known to refuse (Ceph RGW 16 in a versioned bucket)."""
    store = knowledge(client, settings.bucket)
    _learn_before_keyed_write(client, settings, store)
    earlier = _answer_before_writing(client, settings.bucket, key, body, submission_id, store)
    if earlier is not None:
        return earlier
    try:
        if store.refuses_overwrites and store.keeps_versions is not False:
            written = put_after_look(client, settings.bucket, key, body, submission_id, received_at)
        else:
            written = put_submission(client, settings.bucket, key, body, submission_id, received_at)
    except LookFoundTheKey as look:
        return _answer_from_look(client, settings.bucket, key, body, submission_id, look.found)
    except ObjectAlreadyExists:  # a retry wrote the key after the look (or the store holds it)
        current_decides = bool(store.refuses_overwrites and store.keeps_versions is False)
        replayed = _replay(client, settings.bucket, key, body, submission_id, current_decides=current_decides)
        if replayed is None:
            return faults.reject(409, "a request with this Idempotency-Key is still in progress; retry it")
        return replayed
    store.keeps_versions = written.version_id is not None
    if written.version_id is not None and not store.refuses_overwrites:
        overwritten = _overwritten(client, written)
        if overwritten is not None:
            return overwritten
    return written


@app.post("/submissions")
def create_submission() -> Response[str]:
    settings = load_settings(os.environ)
    event = app.current_event
    content_type = event.headers.get("Content-Type")
    if not isinstance(content_type, str | None) or not is_json_content_type(content_type):
        raise RequestRejected(415, "Content-Type must be application/json")
    raw = read_body(event.body, bool(event.is_base64_encoded), settings.max_bytes, what="submission")
    submission = parse_submission(raw)
    idempotency_key = _idempotency_key()
    received_at = datetime.now(UTC)
    submission_id = idempotent_submission_id(idempotency_key) if idempotency_key else new_submission_id()
    try:
        if idempotency_key:
            key = build_idempotent_object_key(settings.prefix, submission_id)
        else:
            key = build_object_key(settings.prefix, received_at, submission_id)
    except BucketPathError as error:
        raise ServerMisconfigured(f"ARCHIVE_PREFIX: {error}") from None
    client = get_s3_client()
    if idempotency_key:
        keyed = _archive_keyed(client, settings, key, submission.body, submission_id, received_at)
        if not isinstance(keyed, StoredSubmission):
            return keyed
    else:
        try:
            written = put_submission(
                client, settings.bucket, key, submission.body, submission_id, received_at
            )
        except ObjectAlreadyExists:
            return faults.server_fault(500, "fresh submission id collided with an existing object", key=key)
        knowledge(client, settings.bucket).keeps_versions = written.version_id is not None
    metrics.add_metric(name="SubmissionsArchived", unit=MetricUnit.Count, value=1)
    logger.info(
        "submission archived",
        extra={
            "key": key,
            "submission_id": submission_id,
            "bytes": len(raw),
            "fields": submission.field_count,
        },
    )
    return json_response(201, {"submission_id": submission_id, "bucket": settings.bucket, "key": key})


# After every route and handler above is registered: the resolvers copy them.
rest_resolver, http_resolver = api_resolvers(app)


@api_entry_point(logger=logger, metrics=metrics)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    resolvers = (rest_resolver, http_resolver)
    return resolve_api_event(event, context, resolvers, logger=logger, fault_body=faults.fault_body)
