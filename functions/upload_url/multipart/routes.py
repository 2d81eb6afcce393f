"""The multipart routes: `POST /uploads/parts`, `/uploads/complete`, `/uploads/status`, `/uploads/abort`,
and the multipart answer of `POST /uploads` above `MULTIPART_THRESHOLD_BYTES`.

They live in the upload function (one role, one log group, one set of settings; a second function would
duplicate all three for four small routes), on their own Powertools `Router` that the function's
resolvers include. Each route checks the `upload_token` first: a bad token touches nothing in S3.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from form_archive_contract.api import json_response
from form_archive_contract.api_events import RequestRejected
from form_archive_contract.s3 import error_code

from ..presign import get_presigning_client
from ..settings import UploadSettings, load_settings
from ..upload_plan import UploadPlan
from .plan import PartPlan, plan_parts
from .request import (
    MultipartRequest,
    check_part_numbers,
    parse_complete_request,
    parse_parts_request,
    parse_token_request,
    read_json_object,
)
from .settings import load_multipart_settings, load_token_key
from .store import (
    StoreUnavailable,
    abort_upload,
    complete_upload,
    completed_by_this_upload,
    completed_object_exists,
    is_no_such_upload,
    list_held_parts,
    presign_part,
    start_upload,
)
from .token import UploadClaims, issue_token, verify_token

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "FormArchive")
router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves Router.__init__ unannotated

ROUTE_NAMES = ("parts", "complete", "abort")


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@router.exception_handler(StoreUnavailable)
def handle_store_unavailable(error: StoreUnavailable) -> Response[str]:
    metrics.add_metric(name="UploadUrlsFailed", unit=MetricUnit.Count, value=1)
    logger.error("S3 unavailable", extra={"problem": str(error)})
    request_id = str(getattr(router.lambda_context, "aws_request_id", "unknown"))
    return json_response(502, {"error": "S3 could not be reached; try again", "request_id": request_id})


def _routes_base(event: dict[str, Any]) -> str:
    """Where this API's `/uploads` lives, as the client reached it (stage and base path included)."""
    context = event.get("requestContext") or {}
    is_http = event.get("version") == "2.0"
    full_path = str(event.get("rawPath") if is_http else context.get("path") or event.get("path") or "")
    domain = context.get("domainName")
    if domain:
        base = f"https://{domain}{full_path}"
    else:  # a local API: the address the client used
        headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
        host = headers.get("host", "")
        scheme = headers.get("x-forwarded-proto", "http")
        base = f"{scheme}://{host}{event.get('path') or full_path}" if host else str(event.get("path") or "")
    for suffix in ("/uploads/", "/uploads"):
        if base.endswith(suffix):
            return base[: -len(suffix)] + "/uploads"
    return base.rstrip("/") + "/uploads"


def start_multipart(
    settings: UploadSettings, plan: UploadPlan, size: int, event: dict[str, Any]
) -> dict[str, Any]:
    """Start the upload and answer its token (`POST /uploads` above the threshold)."""
    multipart = load_multipart_settings(os.environ)
    secret = load_token_key(os.environ)  # before S3 is touched: no token key, no upload
    parts = plan_parts(size, multipart.part_bytes)
    upload_id = start_upload(
        get_presigning_client(),
        {
            "Bucket": settings.bucket,
            "Key": plan.key,
            "ContentType": plan.params["ContentType"],
            "Metadata": plan.params["Metadata"],
        },
    )
    now = int(time.time())
    claims = UploadClaims(
        bucket=settings.bucket,
        key=plan.key,
        upload_id=upload_id,
        size=size,
        part_size=parts.part_size,
        issued_at=now,
        expires_at=now + multipart.token_expires_seconds,
    )
    metrics.add_metric(name="MultipartUploadsStarted", unit=MetricUnit.Count, value=1)
    logger.info(
        "multipart upload started",
        extra={"key": plan.key, "bytes": size, "part_size": parts.part_size, "parts": parts.part_count},
    )
    base = _routes_base(event)
    return {
        "bucket": settings.bucket,
        "key": plan.key,
        "expires_at": _iso(claims.expires_at),
        "max_bytes": size,
        "upload": {
            "method": "MULTIPART",
            "upload_token": issue_token(secret, claims),
            "part_size": parts.part_size,
            "part_count": parts.part_count,
            **{f"{name}_url": f"{base}/{name}" for name in ROUTE_NAMES},
        },
    }


def uses_multipart(size: int) -> bool:
    return size > load_multipart_settings(os.environ).threshold_bytes


def _request() -> tuple[dict[str, Any], UploadSettings]:
    event = router.current_event
    document = read_json_object(event.body, bool(event.is_base64_encoded))
    return document, load_settings(os.environ)


def _claims(token: Any, settings: UploadSettings) -> tuple[UploadClaims, PartPlan]:
    secret = load_token_key(os.environ)
    claims = verify_token(secret, token, bucket=settings.bucket, now=time.time())
    return claims, plan_parts(claims.size, claims.part_size)


def _parts_request(
    parse: Callable[[dict[str, Any]], MultipartRequest], *, every: bool
) -> tuple[MultipartRequest, UploadSettings, UploadClaims, PartPlan]:
    """The request parsed, its token verified, its part numbers checked against the token's plan."""
    document, settings = _request()
    request = parse(document)
    claims, plan = _claims(request.upload_token, settings)
    check_part_numbers(request.parts, plan.part_count, every=every)
    return request, settings, claims, plan


@router.post("/uploads/parts")
def presign_parts() -> Response[str]:
    request, settings, claims, plan = _parts_request(parse_parts_request, every=False)
    expires = max(1, min(settings.expires_seconds, claims.expires_at - int(time.time())))
    client = get_presigning_client()
    parts = [presign_part(client, claims, plan, part, expires) for part in request.parts]
    metrics.add_metric(name="UploadPartUrlsIssued", unit=MetricUnit.Count, value=len(parts))
    return json_response(200, {"parts": parts})


@router.post("/uploads/status")
def upload_status() -> Response[str]:
    document, settings = _request()
    claims, plan = _claims(parse_token_request(document).upload_token, settings)
    held = list_held_parts(get_presigning_client(), claims)
    if held is None:
        raise RequestRejected(409, "upload_token: the upload is no longer open (completed or aborted)")
    return json_response(
        200,
        {
            "part_size": plan.part_size,
            "part_count": plan.part_count,
            "parts": [
                {"part_number": p.part_number, "size": p.size, "etag": p.etag, "sha256": p.sha256}
                for p in held
            ],
        },
    )


def _check_against_held(request_parts: tuple[Any, ...], held: list[Any], plan: PartPlan) -> None:
    """Every listed part is in S3, with the ETag and size it must have; the sizes add up."""
    by_number = {part.part_number: part for part in held}
    for part in request_parts:
        stored = by_number.get(part.part_number)
        if stored is None:
            raise RequestRejected(409, f"parts: part {part.part_number} was not uploaded")
        if stored.etag != part.etag:
            raise RequestRejected(409, f"parts: part {part.part_number}'s etag is not the one S3 holds")
        if stored.sha256 is not None and stored.sha256 != part.sha256:
            raise RequestRejected(409, f"parts: part {part.part_number}'s sha256 differs from S3's")
        if stored.size != plan.part_bytes(part.part_number):
            raise RequestRejected(
                409,
                f"size: part {part.part_number} holds {stored.size} bytes, "
                f"not {plan.part_bytes(part.part_number)}; the parts must add up to {plan.size}",
            )


@router.post("/uploads/complete")
def complete() -> Response[str]:
    request, _, claims, plan = _parts_request(parse_complete_request, every=True)
    client = get_presigning_client()
    answer = {"bucket": claims.bucket, "key": claims.key, "size": claims.size}
    held = list_held_parts(client, claims)
    if held is None:
        if completed_by_this_upload(client, claims, [part.etag for part in request.parts]):
            logger.info("multipart upload already completed", extra={"key": claims.key})
            return json_response(200, answer)
        raise RequestRejected(409, "upload_token: the upload was aborted or has expired")
    _check_against_held(request.parts, held, plan)
    try:
        complete_upload(client, claims, request.parts)
    except ClientError as error:
        code = error_code(error)
        logger.info("S3 refused to complete", extra={"key": claims.key, "code": code})
        raise RequestRejected(409, f"parts: S3 refused to complete the upload ({code})") from None
    metrics.add_metric(name="MultipartUploadsCompleted", unit=MetricUnit.Count, value=1)
    logger.info("multipart upload completed", extra={"key": claims.key, "bytes": claims.size})
    return json_response(200, answer)


NO_LONGER_OPEN_BUT_STORED = (
    "upload_token: the upload is no longer open (completed, aborted or expired); a file of its size was "
    "stored under its key since it began"
)


@router.post("/uploads/abort")
def abort() -> Response[str]:
    document, settings = _request()
    claims, plan = _claims(parse_token_request(document).upload_token, settings)
    client = get_presigning_client()
    held = list_held_parts(client, claims)
    if held is None:  # which upload made a matching version cannot be told without its parts' ETags
        if completed_object_exists(client, claims, plan.part_count):
            raise RequestRejected(409, NO_LONGER_OPEN_BUT_STORED)
        return json_response(200, {"aborted": True})  # aborted before, or expired: nothing left
    try:
        abort_upload(client, claims)
    except ClientError as error:
        if not is_no_such_upload(error):
            raise
        # Gone between the listing and the abort: a `complete` of exactly the parts listed won the race.
        if completed_by_this_upload(client, claims, [part.etag for part in held]):
            logger.info("abort lost the race to complete", extra={"key": claims.key})
            raise RequestRejected(409, "upload_token: the upload is already completed") from None
    metrics.add_metric(name="MultipartUploadsAborted", unit=MetricUnit.Count, value=1)
    logger.info("multipart upload aborted", extra={"key": claims.key})
    return json_response(200, {"aborted": True})
