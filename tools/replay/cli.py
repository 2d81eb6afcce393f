"""The command line of `make replay` (`python -m tools.replay`): options, wiring, one JSON line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from tools.aws_region import NoRegion, aws_region
from tools.local_invoke import LocalInvokeError, load_env_file
from tools.project import PROJECT_ROOT
from tools.replay.errors import EXIT_INTERRUPTED, EXIT_UNREACHABLE, EXIT_USAGE, ReplayError
from tools.replay.invokers import NOTIFY_FUNCTION, Invoker, lambda_invoker, local_invoker
from tools.replay.queue import FailureQueue
from tools.replay.run import RunOptions, run
from tools.replay.stack import queue_url, resolve_deployed

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient

DEFAULT_STACK = "form-archive"
DEFAULT_LOCAL_QUEUE = "form-archive-local-notify-failures"
DEFAULT_ENV_VARS = PROJECT_ROOT / "events" / "env.json"


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
    # The endpoint first: without one, `--local` is a usage error whatever the region.
    if args.local and not (os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL")):
        raise ValueError(
            "--local needs the embedded SQS endpoint in AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_SQS "
            "(docs/operations.md, 'Locally', shows how to start one)"
        )
    region = aws_region()
    sqs: SQSClient = boto3.client("sqs", region_name=region)
    needs_invoker = args.command == "replay" and not args.dry_run
    if args.local:
        try:
            env_overrides = load_env_file(Path(args.env_vars))
        except LocalInvokeError as error:
            raise ValueError(str(error)) from None
        url = queue_url(sqs, args.queue or DEFAULT_LOCAL_QUEUE)
        invoker = local_invoker(env_overrides, log_level=args.function_log_level) if needs_invoker else None
        return FailureQueue(sqs, url), invoker, f"{NOTIFY_FUNCTION} (local runner)"
    url, function = resolve_deployed(
        boto3.client("cloudformation", region_name=region), args.stack_name, args.queue, args.function
    )
    url = queue_url(sqs, url)
    invoker = None
    if needs_invoker:
        # The notify function may run for minutes; a retried Invoke is harmless (receivers drop a repeated
        # webhook-id), a read timeout shorter than the function's run would not be.
        lambda_client: LambdaClient = boto3.client(
            "lambda", region_name=region, config=Config(read_timeout=910, connect_timeout=10)
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
    except (ReplayError, NoRegion, BotoCoreError) as error:
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
