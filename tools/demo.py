"""`make demo`: one submission through the whole pipeline, on moto's server and a local webhook receiver.

    python -m tools.demo [--payload FILE] [--keep-running]

1. Starts moto's server (embedded S3 + SQS) and a webhook receiver (tools.demo_receiver), both on
   127.0.0.1 on free ports; fake credentials `testing`.
2. Creates the archive bucket (name from events/env.json) like the template's (versioned, encrypted,
   public access blocked) with an S3 -> SQS notification for `s3:ObjectCreated:*`, so the event the
   notify function gets is produced by the emulator.
3. Runs ArchiveSubmissionFunction with events/submission.json (or a proxy event around --payload) through
   `tools.local_invoke.invoke`, the Docker-free runner; reads the S3 event from the queue (skipping
   `s3:TestEvent`); runs NotifyWebhookFunction with it through the same runner, its WEBHOOK_URL pointed at
   the receiver, which verifies the signature with `notify_webhook.signing.verify_signature`.
4. Progress lines go to stderr; stdout gets exactly one JSON line:
   {"archived": {"bucket", "key", "submission_id"},
    "webhook": {"status", "sha256", "signature_valid", "datapack_identifier", "path", "display"}}
   plus "error" when something failed.

Exit status: 0 when archived, delivered (2xx) and the signature verified; 1 when a step failed; 2 for a
bad option or file; 130 on Ctrl-C. Every server it started is stopped, also on Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import hashlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from tools.demo_receiver import Delivery, DemoReceiver
from tools.local_invoke import (
    DEFAULT_TEMPLATE,
    PROJECT_ROOT,
    LocalInvokeError,
    invoke,
    load_env_file,
    read_function,
)

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

ARCHIVE_FUNCTION = "ArchiveSubmissionFunction"
NOTIFY_FUNCTION = "NotifyWebhookFunction"
DEFAULT_EVENT = PROJECT_ROOT / "events" / "submission.json"
DEFAULT_ENV_VARS = PROJECT_ROOT / "events" / "env.json"
DEFAULT_BUCKET = "form-archive-local"
DEFAULT_SECRET = "testing"  # noqa: S105 - the demo's fake secret, as in events/env.json
REGION = "us-east-1"
FAKE_CREDENTIAL = "testing"
QUEUE_WAIT_SECONDS = 20.0
ALLOW_HTTP = "WEBHOOK_ALLOW_HTTP"  # the notify function accepts an http:// WEBHOOK_URL only with this
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# The process environment while the handlers run: the runner passes the shell environment through, and
# boto3 reads endpoints, region and credentials from it. Metrics and tracing are off for the demo.
_RUN_ENVIRONMENT_REMOVED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL_SQS")

Say = Callable[[str], None]


class DemoFailed(Exception):
    """A step of the pipeline did not do what it should; the message is the reason shown to the user."""


@dataclass(frozen=True)
class DemoOptions:
    payload: Path | None = None
    keep_running: bool = False
    event: Path = DEFAULT_EVENT
    env_vars: Path = DEFAULT_ENV_VARS
    template: Path = DEFAULT_TEMPLATE
    receiver_fail_first: int = 0
    receiver_fail_always: bool = False
    receiver_secret: str | None = None  # None: the secret the notify function signs with
    max_attempts: int | None = None  # None: WEBHOOK_MAX_ATTEMPTS from the env-vars file / template
    log_level: str = "ERROR"


@dataclass
class DemoResult:
    archived: dict[str, str] | None = None
    webhook: dict[str, Any] | None = None
    error: str | None = None
    notify_result: Any = None
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.archived is not None and self.webhook is not None

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"archived": self.archived, "webhook": self.webhook}
        if self.error is not None:
            document["error"] = self.error
        return document


@dataclass
class DemoServers:
    """What is running while the session lasts: moto's endpoint, the receiver, the bucket and queue."""

    endpoint: str
    receiver: DemoReceiver
    bucket: str
    queue_url: str = ""

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=FAKE_CREDENTIAL,
            aws_secret_access_key=FAKE_CREDENTIAL,
        )

    def s3(self) -> S3Client:
        client: S3Client = self.client("s3")
        return client

    def sqs(self) -> SQSClient:
        client: SQSClient = self.client("sqs")
        return client


def _shown(path: Path) -> str:
    """A path as the user typed it or relative to the working directory when it is below it."""
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


def _stderr_say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- process environment


@contextlib.contextmanager
def _run_environment(values: Mapping[str, str], removed: tuple[str, ...]) -> Iterator[None]:
    """Set `values` and unset `removed` for the duration; restore everything afterwards."""
    names = {*values, *removed}
    saved = {name: os.environ.get(name) for name in names}
    for name in removed:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def _clear_handler_caches() -> None:
    """The handlers cache their clients per container; a demo in a process that already ran one (tests)
    must not reuse clients bound to an earlier endpoint. Only modules already imported are touched."""
    archive_clients = sys.modules.get("form_archive_contract.s3")
    if archive_clients is not None:
        archive_clients.get_s3_client.cache_clear()
    notify_app = sys.modules.get("notify_webhook.app")
    if notify_app is not None:
        notify_app.clear_caches()


# ---------------------------------------------------------------- inputs


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


def _env_file(options: DemoOptions) -> dict[str, dict[str, Any]]:
    try:
        return load_env_file(options.env_vars)
    except LocalInvokeError as error:
        raise DemoFailed(str(error)) from None


# ---------------------------------------------------------------- servers


def _start_moto() -> tuple[ThreadedMotoServer, str]:
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - moto is a dev dependency, imported late

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines in the demo's output
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def _create_bucket_with_queue(servers: DemoServers, say: Say) -> None:
    """The bucket as the template makes it, plus the S3 -> SQS notification standing in for the trigger."""
    s3, sqs = servers.s3(), servers.sqs()
    bucket = servers.bucket
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    queue_name = f"{bucket}-object-created"
    servers.queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=servers.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "NotifyWebhookFunctionObjectCreated",
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                }
            ]
        },
    )
    say(f"  bucket    s3://{bucket} (versioned, SSE-S3, public access blocked)")
    say(f"  trigger   s3:ObjectCreated:* -> SQS queue {queue_name}")


def _s3_event_for(servers: DemoServers, key: str, say: Say) -> dict[str, Any]:
    """The ObjectCreated event moto sent to the queue for `key`; s3:TestEvent messages are skipped."""
    sqs = servers.sqs()
    deadline = time.monotonic() + QUEUE_WAIT_SECONDS
    while time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=servers.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            sqs.delete_message(QueueUrl=servers.queue_url, ReceiptHandle=message["ReceiptHandle"])
            try:
                body = json.loads(message.get("Body") or "")
            except ValueError:
                continue
            if not isinstance(body, dict):
                continue
            if body.get("Event") == "s3:TestEvent":
                say("  skipped   s3:TestEvent (sent by S3 when the notification was configured)")
                continue
            records = body.get("Records") or []
            keys = [unquote_plus(str(record["s3"]["object"]["key"])) for record in records]
            if key in keys:
                return body
            say(f"  skipped   an event for another object: {keys}")
    raise DemoFailed(
        f"no s3:ObjectCreated event for {key} arrived on the queue within {QUEUE_WAIT_SECONDS:g} s"
    )


# ---------------------------------------------------------------- the pipeline


def _archive(
    event: dict[str, Any], env_file: dict[str, dict[str, Any]], options: DemoOptions, bucket: str
) -> Any:
    overrides = copy.deepcopy(env_file)
    overrides.setdefault("Parameters", {})["POWERTOOLS_LOG_LEVEL"] = options.log_level
    overrides.setdefault(ARCHIVE_FUNCTION, {})["ARCHIVE_BUCKET"] = bucket
    return invoke(ARCHIVE_FUNCTION, event, overrides, template_path=options.template)


def _notify(
    event: dict[str, Any],
    env_file: dict[str, dict[str, Any]],
    options: DemoOptions,
    webhook_url: str,
    secret: str,
) -> Any:
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
    return invoke(NOTIFY_FUNCTION, event, overrides, template_path=options.template)


def _describe_delivery(say: Say) -> Callable[[Delivery], None]:
    def report(delivery: Delivery) -> None:
        verdict = "signature valid" if delivery.signature_valid else "SIGNATURE INVALID"
        answer = {200: "200 OK", 401: "401 (bad signature)", 503: "503 (scripted failure)"}.get(
            delivery.status, str(delivery.status)
        )
        say(f"  receiver  delivery {delivery.number}: {verdict}, answered {answer}")

    return report


def run_pipeline(options: DemoOptions, servers: DemoServers, say: Say, result: DemoResult) -> None:
    """Archive, read the emulator's event, notify; fills `result` and raises `DemoFailed` on the way."""
    env_file = _env_file(options)
    event, raw = submission_event(options)
    secret = str((env_file.get(NOTIFY_FUNCTION) or {}).get("WEBHOOK_SECRET_TOKEN") or DEFAULT_SECRET)
    _create_bucket_with_queue(servers, say)

    source = _shown(options.payload or options.event)
    say(f"[2/4] {ARCHIVE_FUNCTION} <- POST /submissions with {source} ({len(raw)} bytes)")
    answer = _archive(event, env_file, options, servers.bucket)
    status = answer.get("statusCode") if isinstance(answer, dict) else None
    try:
        body = json.loads(answer.get("body") or "{}") if isinstance(answer, dict) else {}
    except ValueError:
        body = {}
    if status != 201:
        raise DemoFailed(f"the archive function answered {status}: {body.get('error', answer)}")
    result.archived = {"bucket": body["bucket"], "key": body["key"], "submission_id": body["submission_id"]}
    say(f"  archived  {status} s3://{body['bucket']}/{body['key']}")
    say(f"            submission_id {body['submission_id']}")

    say("[3/4] S3 event from the queue (written by the emulator)")
    s3_event = _s3_event_for(servers, body["key"], say)
    record = s3_event["Records"][0]
    obj = record["s3"]["object"]
    say(
        f"  event     {record.get('eventName')} key={obj.get('key')}"
        f" size={obj.get('size')} eTag={obj.get('eTag')}"
    )

    say(f"[4/4] {NOTIFY_FUNCTION} <- that event; webhook {servers.receiver.url}")
    try:
        result.notify_result = _notify(s3_event, env_file, options, servers.receiver.url, secret)
    except Exception as error:  # the function raises so Lambda retries: for the demo that is the reason
        result.deliveries = servers.receiver.deliveries
        _record_webhook(result)
        raise DemoFailed(f"the notify function failed: {type(error).__name__}: {error}") from None
    result.deliveries = servers.receiver.deliveries
    say(f"  result    {json.dumps(result.notify_result)}")
    delivery = _record_webhook(result)
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


def _record_webhook(result: DemoResult) -> Delivery | None:
    """The last delivery the receiver got, as the final JSON line's `webhook` object."""
    if not result.deliveries:
        return None
    delivery = result.deliveries[-1]
    payload = delivery.payload()
    fields = payload if isinstance(payload, dict) else {}
    result.webhook = {
        "status": delivery.status,
        "sha256": fields.get("sha256"),
        "signature_valid": delivery.signature_valid,
        "datapack_identifier": fields.get("datapack_identifier"),
        "path": fields.get("path"),
        "display": fields.get("display"),
    }
    return delivery


@contextlib.contextmanager
def demo_session(
    options: DemoOptions, say: Say = _stderr_say
) -> Iterator[tuple[DemoResult, DemoServers | None]]:
    """Run the demo; while the `with` block lasts the servers stay up (tests read the bucket through
    `servers.endpoint`, `--keep-running` waits there). Everything started is stopped on the way out.
    `servers` is None when the inputs were unusable and nothing was started."""
    result = DemoResult()
    moto_server: ThreadedMotoServer | None = None
    receiver: DemoReceiver | None = None
    try:
        env_file = _env_file(options)
        submission_event(options)  # a missing or unreadable payload stops the demo before any server
    except DemoFailed as error:
        result.error = str(error)
        yield result, None
        return
    secret = str((env_file.get(NOTIFY_FUNCTION) or {}).get("WEBHOOK_SECRET_TOKEN") or DEFAULT_SECRET)
    bucket = str((env_file.get(ARCHIVE_FUNCTION) or {}).get("ARCHIVE_BUCKET") or DEFAULT_BUCKET)
    try:
        moto_server, endpoint = _start_moto()
        receiver = DemoReceiver(
            options.receiver_secret if options.receiver_secret is not None else secret,
            fail_first=options.receiver_fail_first,
            fail_always=options.receiver_fail_always,
            on_delivery=_describe_delivery(say),
        )
        receiver.start()
        servers = DemoServers(endpoint=endpoint, receiver=receiver, bucket=bucket)
        say(f"[1/4] moto server (S3 + SQS) on {endpoint}; webhook receiver on {receiver.url}")
        run_environment = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIAL,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            ALLOW_HTTP: "true",
        }
        with _run_environment(run_environment, _RUN_ENVIRONMENT_REMOVED):
            _clear_handler_caches()
            try:
                run_pipeline(options, servers, say, result)
            except DemoFailed as error:
                result.error = str(error)
            except (LocalInvokeError, ClientError, BotoCoreError) as error:
                result.error = f"{type(error).__name__}: {error}"
            except Exception as error:  # an odd answer or queue message: still one JSON line, exit 1
                result.error = f"unexpected {type(error).__name__}: {error}"
            finally:
                _clear_handler_caches()
        yield result, servers
    finally:
        if receiver is not None:
            receiver.stop()
        if moto_server is not None:
            moto_server.stop()


# ---------------------------------------------------------------- command line


def _curl_commands(result: DemoResult, servers: DemoServers) -> list[str]:
    sigv4 = f"--aws-sigv4 aws:amz:{REGION}:s3 --user {FAKE_CREDENTIAL}:{FAKE_CREDENTIAL}"
    lines = [
        "# list the archive bucket (moto's S3 endpoint):",
        f"curl -s '{servers.endpoint}/{servers.bucket}?list-type=2'",
    ]
    if result.archived:
        lines += [
            "# read the archived object (moto wants a signed request for objects; fake credentials):",
            f"curl -s {sigv4} '{servers.endpoint}/{servers.bucket}/{result.archived['key']}'",
        ]
    lines += [
        "# what the webhook receiver got (the last delivery, and all of them):",
        f"curl -s {servers.receiver.base_url}/deliveries/last",
        f"curl -s {servers.receiver.base_url}/deliveries",
    ]
    return lines


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None) -> DemoOptions:
    parser = argparse.ArgumentParser(
        prog="python -m tools.demo",
        description="Archive one submission and deliver its signed webhook, on moto's server and a local "
        "receiver (127.0.0.1 only, fake credentials). Progress on stderr, one JSON line on stdout.",
    )
    parser.add_argument(
        "--payload", type=Path, help="a JSON file to archive (default: events/submission.json's body)"
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="keep the servers up and print curl commands, until Ctrl-C",
    )
    parser.add_argument(
        "--event", type=Path, default=DEFAULT_EVENT, help="API Gateway proxy event to start from"
    )
    parser.add_argument(
        "--env-vars", type=Path, default=DEFAULT_ENV_VARS, help="env-vars file (SAM CLI format)"
    )
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="SAM template")
    parser.add_argument(
        "--receiver-fail-first",
        type=int,
        default=0,
        metavar="N",
        help="the receiver answers 503 to N deliveries",
    )
    parser.add_argument(
        "--receiver-fail-always", action="store_true", help="the receiver answers 503 to every one"
    )
    parser.add_argument(
        "--receiver-secret",
        help="verify with this secret instead of the notify function's (shows a bad signature)",
    )
    parser.add_argument(
        "--max-attempts", type=int, metavar="N", help="WEBHOOK_MAX_ATTEMPTS for the notify function"
    )
    parser.add_argument(
        "--log-level",
        default="ERROR",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the functions' POWERTOOLS_LOG_LEVEL (their JSON log lines go to stderr)",
    )
    args = parser.parse_args(argv)
    if args.receiver_fail_first < 0:
        parser.error("--receiver-fail-first must be 0 or more")
    return DemoOptions(
        payload=args.payload,
        keep_running=args.keep_running,
        event=args.event,
        env_vars=args.env_vars,
        template=args.template.resolve(),
        receiver_fail_first=args.receiver_fail_first,
        receiver_fail_always=args.receiver_fail_always,
        receiver_secret=args.receiver_secret,
        max_attempts=args.max_attempts,
        log_level=args.log_level,
    )


def _emit(document: Mapping[str, Any], stdout: TextIO) -> None:
    stdout.write(json.dumps(document) + "\n")
    stdout.flush()


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    stdout = sys.stdout
    say = _stderr_say
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous_sigterm = signal.getsignal(signal.SIGTERM)
    if on_main_thread:  # `kill` stops the servers the same way Ctrl-C does
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        # Anything the handlers print (Powertools logs bind to stdout at import) goes to stderr, so
        # stdout carries the one JSON line only.
        with contextlib.redirect_stdout(sys.stderr), demo_session(options, say) as (result, servers):
            if result.ok:
                say("OK: archived, delivered, signature verified")
            else:
                say(f"FAILED: {result.error}")
            _emit(result.document(), stdout)
            if options.keep_running and servers is not None:
                say("")
                say("Servers are up (Ctrl-C stops them). Try:")
                for line in _curl_commands(result, servers):
                    say(f"  {line}")
                while True:
                    time.sleep(3600)
    except KeyboardInterrupt:
        say("interrupted; every server the demo started is stopped")
        return EXIT_INTERRUPTED
    finally:
        if on_main_thread and previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
    if result.ok:
        return EXIT_OK
    return EXIT_USAGE if servers is None else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
