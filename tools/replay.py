"""`make replay`: see the notifications parked on the failure queue, and replay them.

    python -m tools.replay list   [--stack-name form-archive | --local] [--max N]
    python -m tools.replay replay [--stack-name form-archive | --local] [--max N] [--dry-run]

A notification that still fails after Lambda's retries reaches the failure queue as the record Lambda
writes to an OnFailure destination: `requestContext` (condition, approximateInvokeCount),
`requestPayload` (the original S3 event), `responsePayload` (the error). `list` shows each parked
message: object key(s), the error Lambda recorded, attempts and age. `replay` invokes the notify
function with each message body (the function takes the record and handles the event inside) and
deletes a message only after its invocation succeeded, with the receipt handle of that very receive.

Where things are:
- deployed (default): the queue URL and the function ARN come from the stack's outputs
  (`NotifyFailureQueueUrl`, `NotifyWebhookFunctionArn`, CloudFormation `DescribeStacks`); the function
  is called with Lambda `Invoke` (RequestResponse). `--queue` and `--function` override either.
- `--local`: the queue is on the embedded SQS named by `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_SQS` (e.g.
  moto's server), and the function runs in this process through the Docker-free runner
  (`tools.local_invoke`), with the template's environment and `--env-vars` (events/env.json), so its
  S3 and webhook are the local ones that file and the environment name.

Messages that are looked at but not deleted (a failure, something that is not an OnFailure record,
everything in `list` or `--dry-run`) stay on the queue and are made visible again at the end of the run
(ChangeMessageVisibility 0), so that a later run sees them at once.

Progress goes to stderr (a tqdm bar and one line per message); stdout gets exactly one JSON line, the
summary. Exit status: 0 done (for `replay`: every message replayed); 1 some message was left on the queue
(failed again, or not an OnFailure record); 2 a bad option; 3 the stack, queue or function could not be
reached (nothing is deleted after that); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import unquote_plus

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from tqdm import tqdm

from tools.local_invoke import DEFAULT_TEMPLATE, PROJECT_ROOT, LocalInvokeError, invoke, load_env_file

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef, MessageTypeDef

QUEUE_OUTPUT = "NotifyFailureQueueUrl"
FUNCTION_OUTPUT = "NotifyWebhookFunctionArn"
NOTIFY_FUNCTION = "NotifyWebhookFunction"
DEFAULT_STACK = "form-archive"
DEFAULT_LOCAL_QUEUE = "form-archive-local-notify-failures"
DEFAULT_ENV_VARS = PROJECT_ROOT / "events" / "env.json"
EXIT_OK, EXIT_LEFT, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

# A replayed message stays hidden while its invocation runs: longer than Lambda's 15-minute maximum.
REPLAY_VISIBILITY_SECONDS = 900
# `list` and `--dry-run` only read: long enough to page through the queue once.
LOOK_VISIBILITY_SECONDS = 120
SQS_BATCH = 10
MAX_REASON_CHARS = 500


class ReplayError(Exception):
    """The stack, queue or function cannot be used; the message says which and why. Nothing more is
    invoked or deleted once it is raised."""


class NotARecord(ValueError):
    """A message body that is not a Lambda OnFailure invocation record; the message says what is wrong."""


# ------------------------------------------------------------------ the record (pure)


@dataclass(frozen=True)
class ParkedRecord:
    """What `list` shows of one OnFailure record."""

    keys: tuple[str, ...]
    reason: str
    attempts: int | None
    condition: str
    timestamp: str | None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def _error_text(payload: Any) -> str:
    """`errorType: errorMessage` of a Lambda error object, or the payload itself when it is text."""
    if isinstance(payload, dict):
        error_type = payload.get("errorType")
        message = payload.get("errorMessage")
        parts = [str(part) for part in (error_type, message) if part not in (None, "")]
        return _short(": ".join(parts))
    if isinstance(payload, str):
        return _short(payload)
    return ""


def _s3_record_key(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    s3 = record.get("s3")
    obj = s3.get("object") if isinstance(s3, dict) else None
    key = obj.get("key") if isinstance(obj, dict) else None
    if not isinstance(key, str):
        return None
    # S3 URL-encodes keys in its notifications; other S3 implementations (Ceph RGW) do not.
    return unquote_plus(key) if record.get("eventSource") == "aws:s3" else key


def object_keys(event: Any, *, _depth: int = 0) -> tuple[str, ...]:
    """The object keys an event announces: S3 notifications (also inside SQS or SNS envelopes, or another
    OnFailure record) and EventBridge `Object Created` events. Empty when there are none (`s3:TestEvent`)."""
    if _depth > 3 or not isinstance(event, dict):
        return ()
    if "requestContext" in event and "requestPayload" in event:  # a record of a record (async re-invoke)
        return object_keys(event["requestPayload"], _depth=_depth + 1)
    detail = event.get("detail")
    if event.get("source") == "aws.s3" and isinstance(detail, dict):
        obj = detail.get("object")
        key = obj.get("key") if isinstance(obj, dict) else None
        return (key,) if isinstance(key, str) else ()
    records = event.get("Records")
    if not isinstance(records, list):
        return ()
    keys: list[str] = []
    for record in records:
        key = _s3_record_key(record)
        if key is not None:
            keys.append(key)
            continue
        if not isinstance(record, dict):
            continue
        sns = record.get("Sns")
        inner = sns.get("Message") if isinstance(sns, dict) else record.get("body")
        if isinstance(inner, str):
            with contextlib.suppress(ValueError):
                keys.extend(object_keys(json.loads(inner), _depth=_depth + 1))
    return tuple(keys)


def parse_record(body: str) -> ParkedRecord:
    """The OnFailure record in a message body; `NotARecord` for anything else."""
    try:
        document = json.loads(body)
    except ValueError:
        raise NotARecord("body is not JSON") from None
    if not isinstance(document, dict):
        raise NotARecord("body is not a JSON object")
    context = document.get("requestContext")
    if not isinstance(context, dict) or "requestPayload" not in document:
        raise NotARecord("no requestContext and requestPayload: not a Lambda OnFailure record")
    condition = context.get("condition")
    if not isinstance(condition, str) or not condition:
        raise NotARecord("requestContext has no condition")
    if condition == "Success":
        raise NotARecord("an OnSuccess record: that invocation succeeded")
    attempts = context.get("approximateInvokeCount")
    reason = _error_text(document.get("responsePayload")) or condition
    timestamp = document.get("timestamp")
    return ParkedRecord(
        keys=object_keys(document["requestPayload"]),
        reason=reason,
        attempts=attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else None,
        condition=condition,
        timestamp=timestamp if isinstance(timestamp, str) else None,
    )


def failure_record(
    event: Any,
    error: BaseException,
    *,
    function_arn: str,
    attempts: int = 3,
    request_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The record Lambda sends to an OnFailure destination when `event` failed every attempt with `error`
    (its documented shape: AWS Lambda developer guide, "Capturing records of Lambda asynchronous
    invocations"). For the demo and the tests, which park events as Lambda would."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "version": "1.0",
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        "requestContext": {
            "requestId": request_id or str(uuid.uuid4()),
            "functionArn": f"{function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": str(error), "errorType": type(error).__name__},
    }


# ------------------------------------------------------------------ invoking the function


@dataclass(frozen=True)
class Invocation:
    ok: bool
    reason: str = ""
    result: Any = None


Invoker = Callable[[str], Invocation]


def lambda_invoker(client: LambdaClient, function: str) -> Invoker:
    """Lambda `Invoke` (RequestResponse) of the deployed function with the message body as payload."""

    def call(body: str) -> Invocation:
        try:
            answer = client.invoke(
                FunctionName=function, InvocationType="RequestResponse", Payload=body.encode("utf-8")
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            raise ReplayError(f"function {function} cannot be invoked: {code}: {error}") from None
        except BotoCoreError as error:
            raise ReplayError(f"function {function} cannot be reached: {error}") from None
        raw = answer["Payload"].read() if "Payload" in answer else b""
        try:
            payload: Any = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode("utf-8", "replace")
        if answer.get("FunctionError"):
            reason = _error_text(payload) or f"function error ({answer['FunctionError']})"
            return Invocation(ok=False, reason=reason, result=payload)
        return Invocation(ok=True, result=payload)

    return call


def local_invoker(
    env_overrides: Mapping[str, Mapping[str, Any]],
    *,
    log_level: str = "WARNING",
    template_path: Path | None = None,
) -> Invoker:
    """The notify function in this process through the Docker-free runner; its output goes to stderr."""
    overrides: dict[str, dict[str, Any]] = {name: dict(values) for name, values in env_overrides.items()}
    overrides.setdefault("Parameters", {})["POWERTOOLS_LOG_LEVEL"] = log_level
    overrides.setdefault(NOTIFY_FUNCTION, {})["POWERTOOLS_LOG_LEVEL"] = log_level
    template = template_path or DEFAULT_TEMPLATE

    def call(body: str) -> Invocation:
        event = json.loads(body)
        try:
            with contextlib.redirect_stdout(sys.stderr):
                result = invoke(NOTIFY_FUNCTION, event, overrides, template_path=template)
        except LocalInvokeError as error:
            raise ReplayError(f"local function {NOTIFY_FUNCTION} cannot run: {error}") from None
        except Exception as error:  # reported the way Lambda reports a function error
            error_object = {"errorType": type(error).__name__, "errorMessage": str(error)}
            return Invocation(ok=False, reason=_error_text(error_object))
        return Invocation(ok=True, result=result)

    return call


# ------------------------------------------------------------------ the queue


@dataclass
class Parked:
    """One received message, with the receipt handle of this receive."""

    message_id: str
    receipt_handle: str
    body: str
    sent_at: float | None  # epoch seconds

    def age_seconds(self, now: float) -> int | None:
        return None if self.sent_at is None else max(0, int(now - self.sent_at))


def _parked(message: MessageTypeDef) -> Parked:
    sent = (message.get("Attributes") or {}).get("SentTimestamp")
    return Parked(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        body=message.get("Body", ""),
        sent_at=int(sent) / 1000 if sent and sent.isdigit() else None,
    )


def _sqs_problem(error: Exception) -> str:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "ClientError")
        return f"{code}: {error.response.get('Error', {}).get('Message', '')}".rstrip(": ")
    return str(error) or type(error).__name__


class FailureQueue:
    """The failure queue through SQS: receive, delete one message, make messages visible again."""

    def __init__(self, client: SQSClient, url: str) -> None:
        self.client = client
        self.url = url

    def approximate_count(self) -> int:
        """Visible messages; also proves the queue can be reached (`ReplayError` otherwise)."""
        try:
            attributes = self.client.get_queue_attributes(
                QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
        except (ClientError, BotoCoreError) as error:
            raise ReplayError(f"queue {self.url} cannot be reached: {_sqs_problem(error)}") from None
        return int(attributes.get("ApproximateNumberOfMessages", "0"))

    def receive(self, count: int, visibility_seconds: int, wait_seconds: int) -> list[Parked]:
        try:
            answer = self.client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=max(1, min(SQS_BATCH, count)),
                VisibilityTimeout=visibility_seconds,
                WaitTimeSeconds=wait_seconds,
                MessageSystemAttributeNames=["SentTimestamp"],
            )
        except (ClientError, BotoCoreError) as error:
            raise ReplayError(f"queue {self.url} cannot be read: {_sqs_problem(error)}") from None
        return [_parked(message) for message in answer.get("Messages", [])]

    def delete(self, message: Parked) -> str | None:
        """None when deleted, else why not (the message then reappears after its visibility timeout)."""
        try:
            self.client.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt_handle)
        except (ClientError, BotoCoreError) as error:
            return _sqs_problem(error)
        return None

    def release(self, messages: Sequence[Parked]) -> list[str]:
        """Make messages visible again now; returns the ids it could not release (they reappear later)."""
        failed: list[str] = []
        for start in range(0, len(messages), SQS_BATCH):
            batch = messages[start : start + SQS_BATCH]
            entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
                {"Id": str(index), "ReceiptHandle": item.receipt_handle, "VisibilityTimeout": 0}
                for index, item in enumerate(batch)
            ]
            try:
                answer = self.client.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)
            except (ClientError, BotoCoreError):
                failed.extend(item.message_id for item in batch)
                continue
            failed.extend(batch[int(entry["Id"])].message_id for entry in answer.get("Failed", []))
        return failed


def scan(
    queue: FailureQueue, limit: int | None, visibility_seconds: int, wait_seconds: int, batch: int
) -> Iterator[Parked]:
    """Each message once, up to `limit`: receive, yield the new ones, until a receive brings nothing new.

    A message seen twice in a run (its visibility timeout ran out while the run went on) is not handled
    again; its newest receipt handle is kept so that it can still be released."""
    seen: dict[str, Parked] = {}
    while limit is None or len(seen) < limit:
        wanted = batch if limit is None else min(batch, limit - len(seen))
        fresh = []
        for message in queue.receive(wanted, visibility_seconds, wait_seconds):
            if message.message_id in seen:
                seen[message.message_id].receipt_handle = message.receipt_handle
            else:
                seen[message.message_id] = message
                fresh.append(message)
        if not fresh:
            return
        yield from fresh


# ------------------------------------------------------------------ list and replay


@dataclass
class Summary:
    command: str
    queue_url: str
    function: str | None
    dry_run: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    unreleased: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for item in self.messages if item["outcome"] == outcome)

    @property
    def left(self) -> int:
        return sum(1 for item in self.messages if item["outcome"] != "replayed")

    def document(self) -> dict[str, Any]:
        counts = {
            "seen": len(self.messages),
            "replayed": self.count("replayed"),
            "failed": self.count("failed"),
            "not_records": self.count("not-a-record"),
            "left_on_queue": self.left,
        }
        if self.dry_run:
            counts["would_replay"] = self.count("would-replay")
        document: dict[str, Any] = {
            "command": self.command,
            "dry_run": self.dry_run,
            "queue_url": self.queue_url,
            "function": self.function,
            "counts": counts,
            "messages": self.messages,
        }
        if self.unreleased:
            document["not_made_visible"] = self.unreleased
        if self.error:
            document["error"] = self.error
        return document

    def exit_code(self) -> int:
        if self.error:
            return EXIT_UNREACHABLE
        if self.command == "replay" and not self.dry_run and self.left:
            return EXIT_LEFT
        return EXIT_OK


def _entry(message: Parked, now: float) -> tuple[dict[str, Any], ParkedRecord | None]:
    entry: dict[str, Any] = {"message_id": message.message_id, "age_seconds": message.age_seconds(now)}
    try:
        record = parse_record(message.body)
    except NotARecord as problem:
        entry.update(outcome="not-a-record", reason=str(problem))
        return entry, None
    entry.update(keys=list(record.keys), attempts=record.attempts, reason=record.reason)
    return entry, record


def _describe(entry: Mapping[str, Any]) -> str:
    keys = ", ".join(entry.get("keys") or []) or "(no object key)"
    age = entry.get("age_seconds")
    age_text = "?" if age is None else _age(int(age))
    attempts = entry.get("attempts")
    parts = [f"{entry['outcome']:<12}", keys, f"age {age_text}"]
    if attempts is not None:
        parts.append(f"attempts {attempts}")
    if entry.get("previous_reason"):
        parts.append(f"reason: {entry.get('reason')} (parked with: {entry['previous_reason']})")
    elif entry.get("reason") and entry["outcome"] not in {"replayed"}:
        parts.append(f"reason: {entry['reason']}")
    return "  ".join(parts)


def _age(seconds: int) -> str:
    if seconds >= 86400:
        return f"{seconds // 86400}d{seconds % 86400 // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60}s"
    return f"{seconds}s"


@dataclass(frozen=True)
class RunOptions:
    limit: int | None = None
    dry_run: bool = False
    wait_seconds: int = 1
    progress: bool = True


def run(
    command: str,
    queue: FailureQueue,
    invoker: Invoker | None,
    options: RunOptions,
    *,
    function: str | None = None,
    stderr: TextIO | None = None,
    report: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> Summary:
    """`list` (invoker unused) or `replay`. Never raises `ReplayError`: it ends up in `summary.error`.
    One line per message goes to `report`, by default above the progress bar on `stderr`."""
    stderr = stderr or sys.stderr
    replaying = command == "replay" and not options.dry_run
    summary = Summary(command=command, queue_url=queue.url, function=function, dry_run=options.dry_run)
    held: list[Parked] = []  # received and not deleted: made visible again at the end
    try:
        total = queue.approximate_count()
        if options.limit is not None:
            total = min(total, options.limit)
        visibility = REPLAY_VISIBILITY_SECONDS if replaying else LOOK_VISIBILITY_SECONDS
        batch = 1 if replaying else SQS_BATCH  # one at a time: a message waits hidden only while it runs
        with tqdm(
            total=total, file=stderr, unit="msg", desc=command, disable=not options.progress, leave=True
        ) as bar:
            for message in scan(queue, options.limit, visibility, options.wait_seconds, batch):
                held.append(message)
                entry, record = _entry(message, clock())
                if record is not None:
                    if not replaying:
                        entry["outcome"] = "would-replay" if command == "replay" else "parked"
                    else:
                        _replay_one(queue, invoker, message, record, entry, held)
                summary.messages.append(entry)
                if report is None:
                    bar.write(_describe(entry), file=stderr)
                else:
                    report(_describe(entry))
                bar.update(1)
    except ReplayError as error:
        summary.error = str(error)
    finally:
        summary.unreleased = queue.release(held) if held else []
    return summary


COUNT_FIELDS = ("delivered", "skipped", "ignored", "failed")


def handled_nothing(result: Any, record: ParkedRecord) -> bool:
    """The function answered success with zero of everything for a record that names objects: it did
    not find the event inside (a version that predates OnFailure records answers so). Not a replay."""
    if not record.keys or not isinstance(result, dict):
        return False
    counts = [result.get(name) for name in COUNT_FIELDS]
    return all(isinstance(count, int) for count in counts) and not any(counts)


def _replay_one(
    queue: FailureQueue,
    invoker: Invoker | None,
    message: Parked,
    record: ParkedRecord,
    entry: dict[str, Any],
    held: list[Parked],
) -> None:
    assert invoker is not None, "replay needs an invoker"  # noqa: S101 - a programming error
    outcome = invoker(message.body)
    if outcome.ok and handled_nothing(outcome.result, record):
        outcome = Invocation(
            ok=False,
            reason="the function answered success but handled no object: does it take OnFailure records?",
            result=outcome.result,
        )
    if not outcome.ok:
        entry["previous_reason"] = entry.get("reason")
        entry.update(outcome="failed", reason=outcome.reason)
        return
    problem = queue.delete(message)
    if problem is not None:
        entry.update(outcome="replayed-not-deleted", reason=f"replayed, but the delete failed: {problem}")
        return
    held.remove(message)
    entry["outcome"] = "replayed"


# ------------------------------------------------------------------ wiring and command line


def stack_outputs(client: CloudFormationClient, stack_name: str) -> dict[str, str]:
    try:
        stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    except (ClientError, BotoCoreError) as error:
        raise ReplayError(f"stack {stack_name} cannot be read: {_sqs_problem(error)}") from None
    if not stacks:
        raise ReplayError(f"stack {stack_name} not found")
    return {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs", [])}


def resolve_deployed(
    cloudformation: CloudFormationClient, stack_name: str, queue: str | None, function: str | None
) -> tuple[str, str]:
    """Queue URL and function from the stack's outputs, unless both were given."""
    if queue and function:
        return queue, function
    outputs = stack_outputs(cloudformation, stack_name)
    missing = [name for name in (QUEUE_OUTPUT, FUNCTION_OUTPUT) if not outputs.get(name)]
    if missing:
        raise ReplayError(f"stack {stack_name} has no output {' or '.join(missing)}: is it form-archive?")
    return queue or outputs[QUEUE_OUTPUT], function or outputs[FUNCTION_OUTPUT]


def queue_url(client: SQSClient, name_or_url: str) -> str:
    if "://" in name_or_url:
        return name_or_url
    try:
        return client.get_queue_url(QueueName=name_or_url)["QueueUrl"]
    except (ClientError, BotoCoreError) as error:
        raise ReplayError(f"queue {name_or_url} cannot be found: {_sqs_problem(error)}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _wait(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 20:
        raise argparse.ArgumentTypeError("SQS waits 0 to 20 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("where the queue and the function are")
    where.add_argument("--stack-name", default=DEFAULT_STACK, help="deployed stack (default %(default)s)")
    where.add_argument("--queue", help="queue URL or name (default: the stack's NotifyFailureQueueUrl)")
    where.add_argument(
        "--function", help="function name or ARN (default: the stack's NotifyWebhookFunctionArn)"
    )
    where.add_argument(
        "--local",
        action="store_true",
        help="embedded SQS from AWS_ENDPOINT_URL(_SQS) and the local runner instead of a stack "
        f"(queue default {DEFAULT_LOCAL_QUEUE})",
    )
    where.add_argument(
        "--env-vars", default=str(DEFAULT_ENV_VARS), help="--local: env-vars file (default events/env.json)"
    )
    where.add_argument(
        "--function-log-level", default="WARNING", help="--local: the function's POWERTOOLS_LOG_LEVEL"
    )
    common.add_argument("--max", type=_positive, help="handle at most N messages")
    common.add_argument("--wait-seconds", type=_wait, default=1, help="SQS long-poll wait per receive")
    common.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser = argparse.ArgumentParser(
        prog="python -m tools.replay",
        description="List and replay the notifications parked on the failure queue.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", parents=[common], help="show the parked messages: key, reason, attempts, age")
    replay = commands.add_parser(
        "replay", parents=[common], help="invoke the notify function with each; delete what succeeded"
    )
    replay.add_argument("--dry-run", action="store_true", help="show what would be replayed; invoke nothing")
    return parser


def _setup(args: argparse.Namespace) -> tuple[FailureQueue, Invoker | None, str]:
    sqs: SQSClient = boto3.client("sqs")
    needs_invoker = args.command == "replay" and not args.dry_run
    if args.local:
        if not (os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL")):
            raise ValueError(
                "--local needs the embedded SQS endpoint in AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_SQS"
            )
        try:
            env_overrides = load_env_file(Path(args.env_vars))
        except LocalInvokeError as error:
            raise ValueError(str(error)) from None
        url = queue_url(sqs, args.queue or DEFAULT_LOCAL_QUEUE)
        invoker = local_invoker(env_overrides, log_level=args.function_log_level) if needs_invoker else None
        return FailureQueue(sqs, url), invoker, f"{NOTIFY_FUNCTION} (local runner)"
    url, function = resolve_deployed(
        boto3.client("cloudformation"), args.stack_name, args.queue, args.function
    )
    url = queue_url(sqs, url)
    invoker = None
    if needs_invoker:
        # The notify function may run for minutes; a retried Invoke is harmless (receivers drop a repeated
        # webhook-id), a read timeout shorter than the function's run would not be.
        lambda_client: LambdaClient = boto3.client(
            "lambda", config=Config(read_timeout=910, connect_timeout=10)
        )
        invoker = lambda_invoker(lambda_client, function)
    return FailureQueue(sqs, url), invoker, function


def main(argv: list[str] | None = None, *, stdout: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    args = build_parser().parse_args(argv)
    options = RunOptions(
        limit=args.max,
        dry_run=bool(getattr(args, "dry_run", False)),
        wait_seconds=args.wait_seconds,
        progress=not args.no_progress,
    )
    try:
        queue, invoker, function = _setup(args)
    except ValueError as error:
        print(f"replay: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ReplayError as error:
        print(f"replay: {error}", file=sys.stderr)
        document = {"command": args.command, "dry_run": options.dry_run, "error": str(error)}
        print(json.dumps(document), file=stdout)
        return EXIT_UNREACHABLE
    try:
        summary = run(args.command, queue, invoker, options, function=function)
    except KeyboardInterrupt:
        print("replay: interrupted; messages not deleted stay on the queue", file=sys.stderr)
        return EXIT_INTERRUPTED
    if summary.error:
        print(f"replay: {summary.error} (nothing more was invoked or deleted)", file=sys.stderr)
    print(json.dumps(summary.document(), default=str), file=stdout)
    return summary.exit_code()


if __name__ == "__main__":
    sys.exit(main())
