"""The upload flow: `POST /uploads`, the presigned PUT, the S3 event, the signed announcement.

Runs after the submission flow on the same servers (see `run_both`, the demo's default flow):

1. UploadUrlFunction gets a REST proxy `POST /uploads` for a generated file (with its SHA-256 and a
   non-ASCII uploader name), through the Docker-free runner;
2. the file is PUT to moto's S3 with exactly the answer's URL and headers (a real HTTP request);
3. the S3 event moto wrote to the queue runs NotifyWebhookFunction, which announces the upload to the
   receiver; the receiver verifies the signature.

Checked: the stored bytes, S3's full-object SHA-256 checksum (the one the notify function reads instead
of the body), the metadata, and the announcement's fields. The JSON line gets an `uploaded` object.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import requests

from form_archive_contract.metadata import decode_metadata_value
from tools.demo.model import DemoFailed, DemoOptions, DemoResult, Say
from tools.demo.servers import DemoServers, s3_event_for
from tools.demo.steps import created_body, notify, read_env_vars, signing_secret
from tools.local_invoke import invoke
from tools.project import function_ids
from tools.receiver import Delivery
from tools.rest_event import json_post_event

UPLOAD_FUNCTION = function_ids().upload
DATAPACK = "demo-datapack"
FOLDER = "/field-notes/2026"
FILENAME = "Messwerte März.csv"
UPLOADER_NAME = "Zoë Ærø"
UPLOADER_EMAIL = "zoe@example.org"
CONTENT_TYPE = "text/csv"


def demo_file() -> bytes:
    """A small, reproducible CSV: the same bytes (and SHA-256) on every run."""
    rows = ["station,day,temperature_c,note"]
    rows += [f"S{n % 7},2026-03-{n % 28 + 1:02d},{(n * 37) % 300 / 10:.1f},Messung {n}" for n in range(400)]
    return ("\n".join(rows) + "\n").encode("utf-8")


def upload_event(content: bytes) -> dict[str, Any]:
    """The REST proxy event API Gateway sends for `POST /uploads`."""
    body = {
        "datapack_identifier": DATAPACK,
        "path": FOLDER,
        "filename": FILENAME,
        "content_type": CONTENT_TYPE,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "uploader_name": UPLOADER_NAME,
        "uploader_email": UPLOADER_EMAIL,
    }
    return json_post_event("/uploads", body, stage="demo", request_id="demo-upload")


def ask_for_upload(
    content: bytes, env_vars: dict[str, dict[str, Any]], options: DemoOptions, bucket: str
) -> Any:
    overrides = copy.deepcopy(env_vars)
    overrides.setdefault("Parameters", {})["POWERTOOLS_LOG_LEVEL"] = options.log_level
    overrides.setdefault(UPLOAD_FUNCTION, {})["ARCHIVE_BUCKET"] = bucket
    return invoke(UPLOAD_FUNCTION, upload_event(content), overrides, template_path=options.template)


def put_file(upload: dict[str, Any], content: bytes) -> requests.Response:
    """Exactly what the answer says; `Content-Length` comes from the body, as any HTTP client sets it."""
    headers = {name: value for name, value in upload["headers"].items() if name.lower() != "content-length"}
    return requests.request(upload["method"], upload["url"], data=content, headers=headers, timeout=30)


def run_upload(options: DemoOptions, servers: DemoServers, say: Say, result: DemoResult) -> None:
    """Fills `result.uploaded`; raises `DemoFailed` with the reason when a step fails."""
    env_vars = read_env_vars(options)
    content = demo_file()
    digest = hashlib.sha256(content).hexdigest()
    say(f"[upload 1/3] {UPLOAD_FUNCTION} <- POST /uploads for {FILENAME!r} ({len(content)} bytes, sha256)")
    answer = ask_for_upload(content, env_vars, options, servers.bucket)
    body = created_body(answer, "upload")
    key, upload = body["key"], body["upload"]
    say(f"  answer    201 {upload['method']} s3://{body['bucket']}/{key}, expires {body['expires_at']}")
    say(f"            signed headers: {', '.join(upload['headers'])}")

    say("[upload 2/3] the file, PUT with the presigned URL and exactly those headers")
    response = put_file(upload, content)
    if response.status_code != 200:
        raise DemoFailed(f"S3 refused the presigned PUT: {response.status_code} {response.text[:200]}")
    head = servers.s3().head_object(Bucket=body["bucket"], Key=key, ChecksumMode="ENABLED")
    checksum = head.get("ChecksumSHA256")
    stored_digest = base64.b64decode(checksum).hex() if checksum else None
    size, kind = head["ContentLength"], head["ContentType"]
    say(f"  stored    {size} bytes, {kind}, S3 sha256 checksum {stored_digest}")
    say(f"            metadata {json.dumps(head['Metadata'], ensure_ascii=False)}")

    say(f"[upload 3/3] S3 event from the queue -> NotifyWebhookFunction; webhook {servers.receiver.url}")
    s3_event = s3_event_for(servers, key, say)
    already = len(servers.receiver.deliveries)
    try:
        notified = notify(s3_event, env_vars, options, servers.receiver.url, signing_secret(env_vars))
    except Exception as error:  # raised so Lambda would retry: for the demo, the reason
        raise DemoFailed(
            f"the notify function failed on the upload: {type(error).__name__}: {error}"
        ) from None
    deliveries = servers.receiver.deliveries[already:]
    delivery = deliveries[-1] if deliveries else None
    payload = (delivery.payload() if delivery is not None else None) or {}
    result.uploaded = {
        "bucket": body["bucket"],
        "key": key,
        "size": len(content),
        "sha256": digest,
        "webhook": upload_webhook(delivery),
    }
    if delivery is None or not isinstance(notified, dict) or notified.get("delivered") != 1:
        raise DemoFailed(f"the upload was not announced (notify result: {notified})")
    for name in (
        "datapack_identifier",
        "path",
        "display",
        "content_type",
        "length",
        "sha256",
        "submitter_name",
    ):
        say(f"    {name:<20} {payload.get(name)}")
    problems = [
        f"{what} is {got!r}, expected {expected!r}"
        for what, got, expected in (
            (
                "the stored object",
                servers.s3().get_object(Bucket=body["bucket"], Key=key)["Body"].read(),
                content,
            ),
            ("S3's checksum", stored_digest, digest),
            ("uploaded-by", head["Metadata"].get("uploaded-by"), "presigned-url"),
            ("the announced sha256", payload.get("sha256"), digest),
            ("the announced datapack_identifier", payload.get("datapack_identifier"), DATAPACK),
            ("the announced path", payload.get("path"), FOLDER),
            ("the announced display", payload.get("display"), FILENAME),
            ("the announced submitter", decode_metadata_value(payload.get("submitter_name")), UPLOADER_NAME),
        )
        if got != expected
    ]
    if problems:
        raise DemoFailed(
            "; ".join(problem if len(problem) < 300 else problem[:300] + "..." for problem in problems)
        )
    if not delivery.signature_valid:
        raise DemoFailed("the receiver could not verify the upload's webhook signature")
    if not 200 <= delivery.status < 300:
        raise DemoFailed(f"the receiver answered {delivery.status} to the upload's announcement")
    say("  checked   bytes, S3 checksum = SHA-256 of the file = announced sha256; metadata; signature")


def upload_webhook(delivery: Delivery | None) -> dict[str, Any]:
    """An upload's delivery as the `uploaded` object's `webhook` (None values when there was none)."""
    payload = (delivery.payload() if delivery is not None else None) or {}
    return {
        "status": delivery.status if delivery is not None else None,
        "signature_valid": delivery.signature_valid if delivery is not None else None,
        "sha256": payload.get("sha256"),
        "submitter_name": decode_metadata_value(payload.get("submitter_name")),
    }
