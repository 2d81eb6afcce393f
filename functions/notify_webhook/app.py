"""S3 `ObjectCreated` handler: announce each new archive object to the webhook, signed and retried."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.s3_event import S3Event, S3EventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from form_archive_contract.metadata import UPLOADED_BY
from form_archive_contract.s3 import error_code, get_s3_client

from .delivery import DeliveryFailed, DeliveryPolicy, RetryNotice, deliver, new_session
from .notification import (
    ObjectGone,
    ObjectReplaced,
    S3Object,
    build_payload,
    encode_body,
    head_object,
    object_sha256,
    strip_etag,
)
from .object_key_parts import decode_event_key
from .settings import ConfigurationError, NotifySettings, clear_secret_cache, load_settings
from .signing import message_id, signature_headers

if TYPE_CHECKING:
    import requests

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "FormArchive")

_MAX_REASONS_IN_ERROR = 5

__all__ = ["ConfigurationError", "NotificationFailed", "lambda_handler"]


class NotificationFailed(Exception):
    """At least one record was not delivered; raised after all records were tried, so Lambda retries
    the event and, in the end, parks it on the OnFailure queue. Never carries the secret."""


class RecordFailed(Exception):
    """One record could not be announced; the message is safe to log (codes and type names only)."""


@dataclass(frozen=True)
class Tally:
    delivered: int = 0
    skipped: int = 0
    ignored: int = 0


@functools.cache
def get_session() -> requests.Session:
    """One HTTP session per container keeps connections to the receiver warm between invocations."""
    return new_session()


def _target(record: S3EventRecord) -> S3Object:
    """The record's object; `ValueError` (or a lookup error) when a field is missing or of the wrong type."""
    s3 = record.s3
    obj = s3.get_object
    bucket, raw_key, version_id, etag = s3.bucket.name, obj["key"], obj.version_id, obj.etag
    if not (isinstance(bucket, str) and bucket and isinstance(raw_key, str) and raw_key):
        raise ValueError("bucket name and key must be non-empty strings")
    if not isinstance(version_id, str | None) or not isinstance(etag, str):
        raise TypeError("versionId and eTag must be strings")
    return S3Object(
        bucket=bucket,
        key=decode_event_key(raw_key),
        version_id=version_id or None,
        event_etag=etag,
        sequencer=str(obj.get("sequencer") or ""),
    )


def _skip(message: str, target: S3Object, *, warning: bool = False, **extra: Any) -> str:
    metrics.add_metric(name="ObjectsSkipped", unit=MetricUnit.Count, value=1)
    log = logger.warning if warning else logger.info
    log(message, extra={"bucket": target.bucket, "key": target.key, **extra})
    return "skipped"


def _on_retry(target: S3Object, webhook_id: str) -> Callable[[RetryNotice], None]:
    def report(notice: RetryNotice) -> None:
        metrics.add_metric(name="WebhookRetries", unit=MetricUnit.Count, value=1)
        logger.warning(
            "webhook attempt failed; retrying",
            extra={
                "key": target.key,
                "webhook_id": webhook_id,
                "attempt": notice.attempt,
                "reason": notice.reason,
                "delay_seconds": round(notice.delay_seconds, 3),
            },
        )

    return report


def _announce(target: S3Object, settings: NotifySettings, context: LambdaContext) -> str:
    """Head, filter, hash, sign and deliver one object; "delivered" or "skipped", else `RecordFailed`."""
    client = get_s3_client()
    try:
        head = head_object(client, target)
    except ObjectGone:
        return _skip("object no longer exists; skipped", target, warning=True)
    uploaded_by = (head.get("Metadata") or {}).get(UPLOADED_BY)
    if uploaded_by not in settings.accepted_uploaders:
        return _skip("uploader not accepted; skipped", target, uploaded_by=uploaded_by)
    if not target.version_id and target.event_etag and strip_etag(head.get("ETag")) != target.event_etag:
        return _skip("object was replaced since the event; its own event announces it", target)
    try:
        sha256, from_checksum = object_sha256(client, target, head, settings.hashing)
    except ObjectGone:
        return _skip("object disappeared while it was read; skipped", target, warning=True)
    except ObjectReplaced:
        return _skip("object was replaced while it was read; its own event announces it", target)
    payload = build_payload(target, head, sha256, settings.secret if settings.secret_in_body else None)
    missing = [name for name in ("submitter_name", "submitter_email") if payload[name] is None]
    if missing:
        logger.warning(
            "object has no uploader metadata; sending null", extra={"key": target.key, "fields": missing}
        )
    body = encode_body(payload)
    webhook_id = message_id(
        target.bucket, target.key, target.version_id or target.event_etag, target.sequencer
    )
    policy = DeliveryPolicy(
        timeout_seconds=settings.timeout_seconds,
        max_attempts=settings.max_attempts,
        backoff_base_seconds=settings.backoff_base_seconds,
    )
    try:
        result = deliver(
            get_session(),
            settings.webhook_url,
            body,
            lambda: signature_headers(settings.secret, webhook_id, body),
            policy,
            lambda: context.get_remaining_time_in_millis() / 1000,
            on_retry=_on_retry(target, webhook_id),
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
            "sha256_from_checksum": from_checksum,
            "webhook_host": urlsplit(settings.webhook_url).hostname,
        },
    )
    return "delivered"


def _handle_record(record: S3EventRecord, settings: NotifySettings, context: LambdaContext) -> str:
    """Turn every per-record fault into `RecordFailed` with a message that is safe to show."""
    if not isinstance(record.raw_event, dict):
        raise RecordFailed("malformed S3 record")
    event_name = str(record.get("eventName") or "")
    if not event_name.startswith("ObjectCreated:"):
        logger.info("not an ObjectCreated record; ignored", extra={"event_name": event_name})
        return "ignored"
    try:
        target = _target(record)
    except (KeyError, TypeError, AttributeError, ValueError):
        raise RecordFailed("malformed S3 record") from None
    try:
        return _announce(target, settings, context)
    except RecordFailed as error:
        raise RecordFailed(f"{target.key}: {error}") from None
    except ClientError as error:
        logger.error(  # noqa: TRY400 - the error code is enough
            "S3 rejected a request", extra={"key": target.key, "s3_error_code": error_code(error)}
        )
        raise RecordFailed(f"{target.key}: S3 error {error_code(error)}") from None
    except BotoCoreError as error:
        logger.error(  # noqa: TRY400 - the error type is enough
            "S3 unreachable", extra={"key": target.key, "error_type": type(error).__name__}
        )
        raise RecordFailed(f"{target.key}: S3 unreachable ({type(error).__name__})") from None
    except Exception as error:  # one odd record must not stop the others; the type name is safe to show
        logger.error(  # noqa: TRY400 - a traceback could quote the body, which may carry the secret
            "unexpected failure", extra={"key": target.key, "error_type": type(error).__name__}
        )
        raise RecordFailed(f"{target.key}: unexpected failure ({type(error).__name__})") from None


def handle_event(event: Any, context: LambdaContext) -> dict[str, int]:
    """Every record is tried; failures are collected and raised together at the end."""
    try:
        settings = load_settings(os.environ)
    except ConfigurationError as error:
        logger.error(  # noqa: TRY400 - the message names the variable
            "function misconfigured", extra={"problem": str(error)}
        )
        raise
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        test_event = event.get("Event", "") if isinstance(event, dict) else type(event).__name__
        logger.info("no S3 records (e.g. s3:TestEvent); nothing to do", extra={"event": str(test_event)})
        return {"delivered": 0, "skipped": 0, "ignored": 0, "failed": 0}
    counts = {"delivered": 0, "skipped": 0, "ignored": 0}
    failures: list[str] = []
    for record in S3Event(event).records:
        try:
            counts[_handle_record(record, settings, context)] += 1
        except RecordFailed as error:
            metrics.add_metric(name="WebhooksFailed", unit=MetricUnit.Count, value=1)
            failures.append(str(error))
    if failures:
        shown = "; ".join(failures[:_MAX_REASONS_IN_ERROR])
        more = (
            f" (and {len(failures) - _MAX_REASONS_IN_ERROR} more)"
            if len(failures) > _MAX_REASONS_IN_ERROR
            else ""
        )
        raise NotificationFailed(f"{len(failures)} of {len(records)} record(s) not delivered: {shown}{more}")
    return {**counts, "failed": 0}


@functools.cache
def get_tracer() -> Tracer:
    """Built on the first invocation, not at import: creating a Tracer imports and patches the X-Ray SDK
    (about as long as importing boto3), which would double the module's import time."""
    return Tracer()


@functools.cache
def _traced_handler() -> Callable[[dict[str, Any], LambdaContext], dict[str, int]]:
    traced: Callable[[dict[str, Any], LambdaContext], dict[str, int]] = get_tracer().capture_lambda_handler(
        handle_event
    )
    return traced


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """S3 event in; counts out, or `NotificationFailed` / `ConfigurationError` so Lambda retries."""
    return _traced_handler()(event, context)


def clear_caches() -> None:
    """Drop the per-container clients (S3, HTTP session, SSM parameters); for tests that switch endpoints."""
    get_s3_client.cache_clear()
    if get_session.cache_info().currsize:
        get_session().close()
    get_session.cache_clear()
    clear_secret_cache()
