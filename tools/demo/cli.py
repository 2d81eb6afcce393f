"""`python -m tools.demo`: options, signals and exit status."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from tools.demo.existing_bucket import STEPS as EXISTING_BUCKET_STEPS
from tools.demo.existing_bucket import existing_bucket
from tools.demo.model import (
    DEFAULT_ENV_VARS,
    DEFAULT_EVENT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    DemoOptions,
    Say,
)
from tools.demo.outage import STEPS as OUTAGE_STEPS
from tools.demo.outage import outage
from tools.demo.output import curl_commands, emit, stderr_say
from tools.demo.park_and_replay import STEPS as PARK_AND_REPLAY_STEPS
from tools.demo.park_and_replay import park_and_replay
from tools.demo.session import demo_session
from tools.project import TEMPLATE_PATH


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None) -> DemoOptions:
    parser = argparse.ArgumentParser(
        prog="python -m tools.demo",
        description="Archive one submission and deliver its signed webhook, then upload one file the way a "
        "browser does (POST /uploads, the presigned PUT) and deliver its webhook too; on moto's server and a "
        "local receiver (127.0.0.1 only, fake credentials). Progress on stderr, one JSON line on stdout.",
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
    parser.add_argument("--template", type=Path, default=TEMPLATE_PATH, help="SAM template")
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
        "--park-and-replay",
        action="store_true",
        help="the receiver is down: the event is parked on the failure queue as Lambda parks it, then "
        "replayed with tools.replay once the receiver is back",
    )
    parser.add_argument(
        "--outage",
        action="store_true",
        help="the receiver is down for the first attempts: each later attempt waits on the work queue "
        "(a compressed schedule of seconds) and the webhook arrives later with the same webhook-id",
    )
    parser.add_argument(
        "--existing-bucket",
        action="store_true",
        help="a bucket with someone else's S3 -> SQS trigger: attach (EventBridge), submit and upload, "
        "each object announced through the EventBridge route; their queue still gets its events",
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
    # functions/ is on sys.path once tools.receiver is imported (through tools.demo.model)
    from notify_webhook.settings import MAX_MAX_ATTEMPTS  # noqa: PLC0415

    if args.max_attempts is not None and not 1 <= args.max_attempts <= MAX_MAX_ATTEMPTS:
        parser.error(f"--max-attempts must be between 1 and {MAX_MAX_ATTEMPTS}")
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
        park_and_replay=args.park_and_replay,
        existing_bucket=args.existing_bucket,
        outage=args.outage,
    )


def _session(options: DemoOptions, say: Say) -> tuple[Any, str | None]:
    """The session for the chosen flow, and the line it ends with when all went well (None: the default's)."""
    if options.park_and_replay:
        flow = demo_session(options, say, flow=park_and_replay, steps=PARK_AND_REPLAY_STEPS)
        return flow, "OK: archived, parked while the receiver was down, replayed"
    if options.outage:
        flow = demo_session(options, say, flow=outage, steps=OUTAGE_STEPS)
        return (
            flow,
            "OK: the receiver was down; delivered later from the work queue, one webhook-id; hashed in links",
        )
    if options.existing_bucket:
        flow = demo_session(options, say, flow=existing_bucket, steps=EXISTING_BUCKET_STEPS)
        return flow, "OK: attached to their bucket; both objects announced through EventBridge; theirs kept"
    return demo_session(options, say), None


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    stdout = sys.stdout
    say = stderr_say
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous_sigterm = signal.getsignal(signal.SIGTERM)
    result, servers, waiting = None, None, False
    if on_main_thread:  # `kill` stops the servers the same way Ctrl-C does
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        # Anything the handlers print (Powertools logs bind to stdout at import) goes to stderr, so
        # stdout carries the one JSON line only.
        session, ok_line = _session(options, say)
        with contextlib.redirect_stdout(sys.stderr), session as (result, servers):
            if result.ok and ok_line:
                say(ok_line)
            elif result.ok:
                uploaded = "; file uploaded (S3 checksum verified) and announced" if result.uploaded else ""
                say(f"OK: archived, delivered, signature verified{uploaded}")
            else:
                say(f"FAILED: {result.error}")
            emit(result.document(), stdout)
            if options.keep_running and servers is not None:
                say("")
                say("Servers are up (Ctrl-C stops them). Try:")
                for line in curl_commands(result, servers):
                    say(f"  {line}")
                waiting = True
                while True:
                    time.sleep(3600)
    except KeyboardInterrupt:
        say(f"{'stopped' if waiting else 'interrupted'}; every server the demo started is stopped")
        if not waiting:  # stopping --keep-running is how it ends: the run's own status stands
            return EXIT_INTERRUPTED
    finally:
        if on_main_thread and previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
    if result is not None and result.ok:
        return EXIT_OK
    return EXIT_USAGE if servers is None else EXIT_FAILED
