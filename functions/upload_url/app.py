"""`POST /uploads`: validate the request and answer a presigned S3 PUT for exactly that file.

Answers API Gateway REST API events and HTTP API / Function URL (payload 2.0) events alike: one set of
routes (a Powertools `Router`) included in both resolvers, chosen per event.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError

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

from .multipart.routes import router as multipart_router
from .multipart.routes import start_multipart, uses_multipart
from .presign import get_presigning_client, presign_put
from .settings import load_settings
from .upload_plan import build_upload_plan
from .upload_request import MAX_REQUEST_BYTES, parse_upload_request

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "FormArchive")
app = Router()  # type: ignore[no-untyped-call]  # Powertools leaves Router.__init__ unannotated


REJECTED = Counted("UploadRequestsRejected", "upload request rejected")
FAILED = Counted("UploadUrlsFailed", "the upload could not be prepared")
faults = add_fault_handlers(app, logger, metrics, "/uploads", rejected=REJECTED, failed=FAILED)


@app.exception_handler(BotoCoreError)
def handle_presign_failure(error: BotoCoreError) -> Response[str]:
    """Presigning makes no request; this is e.g. missing credentials or an unknown region."""
    return faults.server_fault(500, "cannot presign", error_type=type(error).__name__)


@app.post("/uploads")
def create_upload() -> Response[str]:
    settings = load_settings(os.environ)
    event = app.current_event
    content_type = event.headers.get("Content-Type")  # case-insensitive in both formats
    if not is_json_content_type(content_type):
        raise RequestRejected(415, "Content-Type must be application/json")
    raw = read_body(event.body, bool(event.is_base64_encoded), MAX_REQUEST_BYTES)
    request = parse_upload_request(
        raw, max_upload_bytes=settings.max_upload_bytes, reserved_identifier=settings.reserved_identifier
    )
    plan = build_upload_plan(settings.bucket, request)
    if uses_multipart(request.size):
        return json_response(201, start_multipart(settings, plan, request.size, event.raw_event))
    issued_at = datetime.now(UTC)
    url = presign_put(get_presigning_client(), plan, settings.expires_seconds)
    expires_at = issued_at + timedelta(seconds=settings.expires_seconds)
    metrics.add_metric(name="UploadUrlsIssued", unit=MetricUnit.Count, value=1)
    logger.info(
        "upload URL issued", extra={"key": plan.key, "bytes": request.size, "sha256": bool(request.sha256)}
    )
    answer = {
        "bucket": settings.bucket,
        "key": plan.key,
        "expires_at": expires_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "max_bytes": request.size,
        "upload": {"method": "PUT", "url": url, "headers": plan.headers},
    }
    return json_response(201, answer)


# After every route and handler above is registered: the resolvers copy them.
rest_resolver, http_resolver = api_resolvers(app)
for resolver in (rest_resolver, http_resolver):
    resolver.include_router(multipart_router)


@api_entry_point(logger=logger, metrics=metrics)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    resolvers = (rest_resolver, http_resolver)
    return resolve_api_event(event, context, resolvers, logger=logger, fault_body=faults.fault_body)
