"""The command line of `make api` (`python -m tools.local_api`).

With `--embedded-s3` and no `--webhook-url`, a webhook receiver (`tools.receiver`) starts on a free
loopback port, so the upload page shows a delivery without any other step; it verifies signatures with
the notify function's secret from the env-vars file. Progress goes to stderr; stdout gets one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from tools.local_api.announcer import NOTIFY_FUNCTION
from tools.local_api.server import LocalApi, LocalApiConfig
from tools.local_api.stack import function_variable, local_stack
from tools.local_invoke import LocalInvokeError, load_env_file
from tools.project import PROJECT_ROOT, TEMPLATE_PATH
from tools.receiver import Delivery, WebhookReceiver
from tools.sam_template import TemplateError

DEFAULT_ENV_FILE = PROJECT_ROOT / "events" / "env.json"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def page_url(api: LocalApi) -> str:
    return f"{api.url}/upload.html?api={quote(api.url, safe='')}&key={quote(api.api_key, safe='')}"


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _print_delivery(delivery: Delivery) -> None:
    _stderr(f"  receiver: {delivery.line()}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.local_api",
        description="Serve template.yaml's API routes and web/ on 127.0.0.1 without Docker. With "
        "--embedded-s3, new objects (submissions and uploads) are announced to a local webhook receiver "
        "started alongside (or to --webhook-url), and the upload page shows each delivery.",
    )
    parser.add_argument("--port", type=int, default=3000, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--api-key", help="the x-api-key value to accept (default: a random one, printed)")
    parser.add_argument("-n", "--env-vars", default=str(DEFAULT_ENV_FILE), help="env-vars JSON (SAM format)")
    parser.add_argument("-t", "--template", default=str(TEMPLATE_PATH), help="SAM template")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--embedded-s3", action="store_true", help="start moto's S3 on 127.0.0.1 (no AWS)")
    where.add_argument("--endpoint", help="S3 endpoint URL for the functions (else boto3's own resolution)")
    webhook = parser.add_mutually_exclusive_group()
    webhook.add_argument(
        "--webhook-url", help="announce new objects to this URL instead of the local receiver (--embedded-s3)"
    )
    webhook.add_argument("--no-receiver", action="store_true", help="no local receiver, no announcements")
    parser.add_argument(
        "--allowed-origin", action="append", help="CORS origin of the embedded bucket (repeatable)"
    )
    parser.add_argument(
        "--function-log",
        help="file for the functions' own output (Powertools JSON logs, warnings); default: a new file in "
        "the temporary folder, named at start; '-' = this terminal's stderr",
    )
    return parser


def function_log_path(argument: str | None) -> Path | None:
    """Where the functions' output goes: the named file, a new temporary file, or None (stderr, '-')."""
    if argument == "-":
        return None
    if argument:
        return Path(argument).resolve()
    handle, name = tempfile.mkstemp(prefix="form-archive-functions-", suffix=".log")
    os.close(handle)
    return Path(name)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.webhook_url and not args.embedded_s3:
        parser.error("--webhook-url needs --embedded-s3")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        env = load_env_file(Path(args.env_vars)) if args.env_vars else None
        config = LocalApiConfig(
            template_path=Path(args.template).resolve(),
            env_overrides=env,
            api_key=args.api_key,
            port=args.port,
            function_log=function_log_path(args.function_log),
        )
        signal.signal(signal.SIGTERM, _stop_on_signal)
        with contextlib.ExitStack() as stack:
            webhook_url = args.webhook_url
            if args.embedded_s3 and not webhook_url and not args.no_receiver:
                secret = function_variable(env, NOTIFY_FUNCTION, "WEBHOOK_SECRET_TOKEN")
                receiver = WebhookReceiver(secret, on_delivery=_print_delivery)
                receiver.start()
                stack.callback(receiver.stop)
                webhook_url = receiver.url
            api = stack.enter_context(
                local_stack(
                    config,
                    embedded_s3=args.embedded_s3,
                    endpoint=args.endpoint,
                    webhook_url=webhook_url,
                    allowed_origins=args.allowed_origin,
                )
            )
            if webhook_url and not args.webhook_url:
                _stderr(f"webhook receiver on {webhook_url} (checks signatures with --env-vars' secret)")
            if config.function_log is not None:
                _stderr(f"function logs (Powertools JSON): {config.function_log}")
            _stderr(f"API key (x-api-key): {api.api_key}")
            _stderr(f"upload page: {page_url(api)}")
            # The one line on stdout, for scripts: where everything is.
            where = {
                "url": api.url,
                "api_key": api.api_key,
                "page": page_url(api),
                "s3_endpoint": os.environ.get("AWS_ENDPOINT_URL_S3"),
                "webhook_url": webhook_url,
            }
            print(json.dumps(where), flush=True)
            _stderr("serving; Ctrl-C stops")
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    except (LocalInvokeError, TemplateError, OSError, BotoCoreError, ClientError) as error:
        _stderr(f"local_api: {error}")
        return 2
    _stderr("stopped")
    return 0
