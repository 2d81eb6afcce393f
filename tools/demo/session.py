"""A demo session: check the inputs, start the servers, run a flow in the demo's environment, stop all."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from tools.demo.model import ARCHIVE_FUNCTION, DEFAULT_BUCKET, DemoFailed, DemoOptions, DemoResult, Say
from tools.demo.multipart import run_multipart
from tools.demo.output import describe_delivery, stderr_say
from tools.demo.servers import (
    RUN_ENVIRONMENT_REMOVED,
    DemoServers,
    clear_handler_caches,
    run_environment,
    start_moto,
)
from tools.demo.steps import read_env_vars, run_pipeline, signing_secret, submission_event
from tools.demo.upload import run_upload
from tools.environment import patched_environ
from tools.local_invoke import LocalInvokeError
from tools.receiver import WebhookReceiver

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

# A flow fills the result and raises DemoFailed with the reason when a step fails.
Flow = Callable[[DemoOptions, DemoServers, Say, DemoResult], None]


def _run_flow(flow: Flow, options: DemoOptions, servers: DemoServers, say: Say, result: DemoResult) -> None:
    """Run `flow` with moto's endpoint and fake credentials in the environment; any failure becomes
    `result.error`, so the session still ends with one JSON line."""
    with patched_environ(set=run_environment(servers.endpoint), unset=RUN_ENVIRONMENT_REMOVED):
        clear_handler_caches()
        try:
            flow(options, servers, say, result)
        except DemoFailed as error:
            result.error = str(error)
        except (LocalInvokeError, ClientError, BotoCoreError) as error:
            result.error = f"{type(error).__name__}: {error}"
        except Exception as error:  # an odd answer or queue message: still one JSON line, exit 1
            result.error = f"unexpected {type(error).__name__}: {error}"
        finally:
            clear_handler_caches()


def run_both(options: DemoOptions, servers: DemoServers, say: Say, result: DemoResult) -> None:
    """The demo's default: the form submission, then the file upload, then a multipart upload."""
    run_pipeline(options, servers, say, result)
    run_upload(options, servers, say, result)
    run_multipart(options, servers, say, result)


@contextlib.contextmanager
def demo_session(
    options: DemoOptions, say: Say = stderr_say, *, flow: Flow = run_both, steps: int = 4
) -> Iterator[tuple[DemoResult, DemoServers | None]]:
    """Run the demo; while the `with` block lasts the servers stay up (tests read the bucket through
    `servers.endpoint`, `--keep-running` waits there). Everything started is stopped on the way out.
    `servers` is None when the inputs were unusable and nothing was started."""
    result = DemoResult()
    moto_server: ThreadedMotoServer | None = None
    receiver: WebhookReceiver | None = None
    try:
        env_vars: dict[str, Any] = read_env_vars(options)
        submission_event(options)  # a missing or unreadable payload stops the demo before any server
    except DemoFailed as error:
        result.error = str(error)
        yield result, None
        return
    secret = signing_secret(env_vars)
    bucket = str((env_vars.get(ARCHIVE_FUNCTION) or {}).get("ARCHIVE_BUCKET") or DEFAULT_BUCKET)
    try:
        moto_server, endpoint = start_moto()
        receiver = WebhookReceiver(
            options.receiver_secret if options.receiver_secret is not None else secret,
            fail_first=options.receiver_fail_first,
            fail_always=options.receiver_fail_always,
            on_delivery=describe_delivery(say),
        )
        receiver.start()
        servers = DemoServers(endpoint=endpoint, receiver=receiver, bucket=bucket)
        say(f"[1/{steps}] moto server (S3 + SQS) on {endpoint}; webhook receiver on {receiver.url}")
        _run_flow(flow, options, servers, say, result)
        yield result, servers
    finally:
        if receiver is not None:
            receiver.stop()
        if moto_server is not None:
            moto_server.stop()
