"""The default flow: archive a submission, take the S3 event the emulator wrote, notify the receiver.

Each step runs a function through the Docker-free runner (`tools.local_invoke.invoke`) with the
env-vars file's values, the bucket and the receiver patched in.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

from tools.demo.model import (
    ALLOW_HTTP,
    ARCHIVE_FUNCTION,
    DEFAULT_SECRET,
    NOTIFY_FUNCTION,
    DemoFailed,
    DemoOptions,
    DemoResult,
    Say,
)
from tools.demo.output import shown
from tools.demo.servers import DemoServers, create_bucket_with_queue, s3_event_for
from tools.local_invoke import LocalInvokeError, invoke, load_env_file, read_function
from tools.receiver import Delivery


def submission_event(options: DemoOptions) -> tuple[dict[str, Any], bytes]:
    """The API Gateway proxy event to archive and the exact body bytes it carries."""
    try:
        event = json.loads(options.event.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DemoFailed(f"cannot read the event {options.event}: {error}") from None
    if not isinstance(event, dict):
        raise DemoFailed(f"{options.event} is not an API Gateway proxy event")
    if options.payload is None:
        body = event.get("body") or ""
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode("utf-8")
        return event, raw
    try:
        raw = options.payload.read_bytes()
    except OSError as error:
        raise DemoFailed(f"cannot read the payload {options.payload}: {error.strerror}") from None
    event = copy.deepcopy(event)
    try:  # text bodies reach the function as text, as API Gateway passes JSON; anything else as base64
        event["body"], event["isBase64Encoded"] = raw.decode("utf-8"), False
    except UnicodeDecodeError:
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode("ascii"), True
    return event, raw


def read_env_vars(options: DemoOptions) -> dict[str, dict[str, Any]]:
    try:
        return load_env_file(options.env_vars)
    except LocalInvokeError as error:
        raise DemoFailed(str(error)) from None


def signing_secret(env_vars: dict[str, dict[str, Any]]) -> str:
    """The secret the notify function signs with: the env-vars file's, else the demo's fake one."""
    return str((env_vars.get(NOTIFY_FUNCTION) or {}).get("WEBHOOK_SECRET_TOKEN") or DEFAULT_SECRET)


def archive(
    event: dict[str, Any], env_file: dict[str, dict[str, Any]], options: DemoOptions, bucket: str
) -> Any:
    overrides = copy.deepcopy(env_file)
    overrides.setdefault("Parameters", {})["POWERTOOLS_LOG_LEVEL"] = options.log_level
    overrides.setdefault(ARCHIVE_FUNCTION, {})["ARCHIVE_BUCKET"] = bucket
    return invoke(ARCHIVE_FUNCTION, event, overrides, template_path=options.template)


def notify(
    event: dict[str, Any],
    env_file: dict[str, dict[str, Any]],
    options: DemoOptions,
    webhook_url: str,
    secret: str,
) -> Any:
    overrides = notify_overrides(env_file, options, webhook_url, secret)
    return invoke(NOTIFY_FUNCTION, event, overrides, template_path=options.template)


def notify_overrides(
    env_file: dict[str, dict[str, Any]], options: DemoOptions, webhook_url: str, secret: str
) -> dict[str, dict[str, Any]]:
    """The env-vars file with the receiver, its secret and the demo's options patched in."""
    overrides = copy.deepcopy(env_file)
    overrides.setdefault("Parameters", {})["POWERTOOLS_LOG_LEVEL"] = options.log_level
    notify = overrides.setdefault(NOTIFY_FUNCTION, {})
    notify.update(
        {"WEBHOOK_URL": webhook_url, "WEBHOOK_SECRET_TOKEN": secret, "WEBHOOK_SECRET_PARAMETER": ""}
    )
    if options.max_attempts is not None:
        notify["WEBHOOK_MAX_ATTEMPTS"] = str(options.max_attempts)
    # The receiver is plain http on loopback. The run environment allows it; when the template declares
    # the variable, an env-vars value would win over the shell, so it is overridden here too.
    declared = read_function(NOTIFY_FUNCTION, template_path=options.template).environment
    if ALLOW_HTTP in declared:
        notify[ALLOW_HTTP] = "true"
    return overrides


def created_body(answer: Any, function: str) -> dict[str, Any]:
    """The JSON body of a function's `201` answer; any other answer raises `DemoFailed` with its error."""
    status = answer.get("statusCode") if isinstance(answer, dict) else None
    try:
        body = json.loads(answer.get("body") or "{}") if isinstance(answer, dict) else {}
    except ValueError:
        body = {}
    if status != 201:
        raise DemoFailed(f"the {function} function answered {status}: {body.get('error', answer)}")
    return body


def archive_submission(
    options: DemoOptions, servers: DemoServers, say: Say, result: DemoResult, step: str
) -> dict[str, Any]:
    """The demo's submission archived into a fresh bucket (step `step`, as `2/6`): the archive function's
    `201` body, with `result.archived` filled; `DemoFailed` on any other answer."""
    env_vars = read_env_vars(options)
    event, raw = submission_event(options)
    create_bucket_with_queue(servers, say)
    say(f"[{step}] {ARCHIVE_FUNCTION} <- POST /submissions ({len(raw)} bytes)")
    body = created_body(archive(event, env_vars, options, servers.bucket), "archive")
    result.archived = {"bucket": body["bucket"], "key": body["key"], "submission_id": body["submission_id"]}
    say(f"  archived  201 s3://{body['bucket']}/{body['key']}")
    return body


def run_pipeline(options: DemoOptions, servers: DemoServers, say: Say, result: DemoResult) -> None:
    """Archive, read the emulator's event, notify; fills `result` and raises `DemoFailed` on the way."""
    env_vars = read_env_vars(options)
    event, raw = submission_event(options)
    secret = signing_secret(env_vars)
    create_bucket_with_queue(servers, say)

    source = shown(options.payload or options.event)
    say(f"[2/4] {ARCHIVE_FUNCTION} <- POST /submissions with {source} ({len(raw)} bytes)")
    answer = archive(event, env_vars, options, servers.bucket)
    body = created_body(answer, "archive")
    result.archived = {"bucket": body["bucket"], "key": body["key"], "submission_id": body["submission_id"]}
    say(f"  archived  201 s3://{body['bucket']}/{body['key']}")
    say(f"            submission_id {body['submission_id']}")

    say("[3/4] S3 event from the queue (written by the emulator)")
    s3_event = s3_event_for(servers, body["key"], say)
    record = s3_event["Records"][0]
    obj = record["s3"]["object"]
    say(
        f"  event     {record.get('eventName')} key={obj.get('key')}"
        f" size={obj.get('size')} eTag={obj.get('eTag')}"
    )

    say(f"[4/4] {NOTIFY_FUNCTION} <- that event; webhook {servers.receiver.url}")
    try:
        result.notify_result = notify(s3_event, env_vars, options, servers.receiver.url, secret)
    except Exception as error:  # the function raises so Lambda retries: for the demo that is the reason
        result.deliveries = servers.receiver.deliveries
        record_webhook(result)
        raise DemoFailed(f"the notify function failed: {type(error).__name__}: {error}") from None
    result.deliveries = servers.receiver.deliveries
    say(f"  result    {json.dumps(result.notify_result)}")
    delivery = record_webhook(result)
    if (
        delivery is None
        or not isinstance(result.notify_result, dict)
        or result.notify_result.get("delivered") != 1
    ):
        raise DemoFailed(f"the webhook was not delivered (notify result: {result.notify_result})")

    stored = servers.s3().get_object(Bucket=body["bucket"], Key=body["key"])["Body"].read()
    stored_sha256 = hashlib.sha256(stored).hexdigest()
    payload = delivery.payload() or {}
    say("  webhook payload:")
    for name in ("datapack_identifier", "path", "display", "content_type", "length", "etag", "sha256"):
        say(f"    {name:<20} {payload.get(name)}")
    say(f"    {'secret_token':<20} {'(present, masked)' if 'secret_token' in payload else '(not sent)'}")
    if stored != raw:
        raise DemoFailed("the archived object's bytes differ from the submitted body")
    if payload.get("sha256") != stored_sha256:
        raise DemoFailed(
            f"webhook sha256 {payload.get('sha256')} != SHA-256 of the archived bytes {stored_sha256}"
        )
    say("  checked   sha256 = SHA-256 of the archived object's bytes = SHA-256 of the submitted body")
    if not delivery.signature_valid:
        raise DemoFailed("the receiver could not verify the webhook signature")
    if not 200 <= delivery.status < 300:
        raise DemoFailed(f"the receiver answered {delivery.status}")


def record_webhook(result: DemoResult) -> Delivery | None:
    """The last delivery the receiver got, as the final JSON line's `webhook` object."""
    if not result.deliveries:
        return None
    delivery = result.deliveries[-1]
    result.webhook = webhook_summary(delivery)
    return delivery


def webhook_summary(delivery: Delivery) -> dict[str, Any]:
    """A submission's delivery as the final JSON line's `webhook` object."""
    payload = delivery.payload()
    fields = payload if isinstance(payload, dict) else {}
    return {
        "status": delivery.status,
        "sha256": fields.get("sha256"),
        "signature_valid": delivery.signature_valid,
        "datapack_identifier": fields.get("datapack_identifier"),
        "path": fields.get("path"),
        "display": fields.get("display"),
    }
