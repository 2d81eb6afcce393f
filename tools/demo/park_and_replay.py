"""`make demo DEMO_ARGS=--park-and-replay`: nothing is lost while the receiver is down.

1. archive a submission and take the S3 event the emulator wrote (as the default flow does);
2. the receiver is down (it answers 503): the notify function fails on every delivery attempt, and is
   invoked three times, as Lambda invokes an asynchronous event (once, then two retries);
3. the event is parked on the embedded failure queue as Lambda parks it: its OnFailure record
   (`tools.replay.failure_record`, the documented shape);
4. `replay list` shows it: key, the error, attempts, age;
5. the receiver is back: `replay` invokes the notify function with the parked message through the local
   runner; the webhook arrives with the same `webhook-id` as the failed attempts (receivers drop
   repeats), and the message is deleted: the queue is empty.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from tools.demo.model import NOTIFY_FUNCTION, DemoFailed, DemoOptions, DemoResult, Say
from tools.demo.servers import DemoServers, s3_event_for
from tools.demo.steps import (
    archive_submission,
    notify_overrides,
    read_env_vars,
    record_webhook,
    signing_secret,
)
from tools.local_invoke import function_environment, invoke, read_function
from tools.replay import DEFAULT_LOCAL_QUEUE, FailureQueue, RunOptions, failure_record, local_invoker, run

STEPS = 6
QUIET = RunOptions(wait_seconds=0, progress=False)
LAMBDA_ASYNC_INVOCATIONS = 3  # one invocation and MaximumRetryAttempts: 2, as in the template
# Lambda's ARN for the function as a deployed stack would show it (the record carries one).
LOCAL_FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{NOTIFY_FUNCTION}"


def _max_attempts(overrides: dict[str, dict[str, Any]], options: DemoOptions) -> int:
    """WEBHOOK_MAX_ATTEMPTS as the function will see it (template, shell, env-vars file)."""
    spec = read_function(NOTIFY_FUNCTION, template_path=options.template)
    value = function_environment(spec, overrides, os.environ).get("WEBHOOK_MAX_ATTEMPTS") or "3"
    return int(value)


def _archive_and_event(options: DemoOptions, servers: DemoServers, say: Say, result: DemoResult) -> Any:
    body = archive_submission(options, servers, say, result, f"2/{STEPS}")
    say(f"[3/{STEPS}] S3 event from the queue (written by the emulator)")
    s3_event = s3_event_for(servers, body["key"], say)
    record = s3_event["Records"][0]
    say(f"  event     {record.get('eventName')} key={record['s3']['object']['key']}")
    return s3_event


def _fail_and_park(
    s3_event: Any, overrides: dict[str, dict[str, Any]], options: DemoOptions, servers: DemoServers, say: Say
) -> tuple[FailureQueue, set[str | None]]:
    """Every invocation fails while the receiver answers 503; then the OnFailure record is parked."""
    attempts = _max_attempts(overrides, options)
    say(
        f"[4/{STEPS}] receiver down (answers 503): {NOTIFY_FUNCTION} <- that event,"
        f" {LAMBDA_ASYNC_INVOCATIONS} times as Lambda runs an asynchronous event (1 + 2 retries),"
        f" {attempts} delivery attempts each"
    )
    servers.receiver.script(*([503] * (LAMBDA_ASYNC_INVOCATIONS * attempts)))
    failing = overrides
    if options.log_level == "ERROR":  # the default: these failures are expected, the lines below say them
        failing = {
            **overrides,
            "Parameters": {**overrides.get("Parameters", {}), "POWERTOOLS_LOG_LEVEL": "CRITICAL"},
        }
        say(
            "            (the function's ERROR lines for these expected failures are hidden;"
            " --log-level INFO shows them)"
        )
    error: Exception | None = None
    for invocation in range(1, LAMBDA_ASYNC_INVOCATIONS + 1):
        try:
            invoke(NOTIFY_FUNCTION, s3_event, failing, template_path=options.template)
        except Exception as failure:  # what the function raises is what Lambda records
            error = failure
            say(f"  invocation {invocation} failed: {type(failure).__name__}")
        else:
            raise DemoFailed(f"invocation {invocation} succeeded while the receiver was down")
    failed = servers.receiver.deliveries
    if error is None or len(failed) != LAMBDA_ASYNC_INVOCATIONS * attempts:
        raise DemoFailed(
            f"expected {LAMBDA_ASYNC_INVOCATIONS * attempts} failed deliveries, got {len(failed)}"
        )
    sqs = servers.sqs()
    queue = FailureQueue(sqs, sqs.create_queue(QueueName=DEFAULT_LOCAL_QUEUE)["QueueUrl"])
    record = failure_record(
        s3_event, error, function_arn=LOCAL_FUNCTION_ARN, attempts=LAMBDA_ASYNC_INVOCATIONS
    )
    queue.client.send_message(QueueUrl=queue.url, MessageBody=json.dumps(record))
    condition = record["requestContext"]["condition"]
    say(f"  parked    OnFailure record ({condition}, approximateInvokeCount {LAMBDA_ASYNC_INVOCATIONS})")
    say(f"            on SQS queue {DEFAULT_LOCAL_QUEUE}")
    return queue, {delivery.headers.get("webhook-id") for delivery in failed}


def _list(queue: FailureQueue, say: Say) -> int:
    say(f"[5/{STEPS}] python -m tools.replay list --local")
    listed = run("list", queue, None, QUIET, report=_indented(say))
    if listed.error or len(listed.messages) != 1:
        raise DemoFailed(f"the parked message is not listed: {listed.error or listed.messages}")
    return len(listed.messages)


def _indented(say: Say) -> Callable[[str], None]:
    return lambda line: say(f"  {line}")


def park_and_replay(options: DemoOptions, servers: DemoServers, say: Say, result: DemoResult) -> None:
    """The flow; fills `result` (with `result.replay`) and raises `DemoFailed` when a step fails."""
    s3_event = _archive_and_event(options, servers, say, result)
    env_vars = read_env_vars(options)
    overrides = notify_overrides(env_vars, options, servers.receiver.url, signing_secret(env_vars))
    queue, failed_ids = _fail_and_park(s3_event, overrides, options, servers, say)
    parked = _list(queue, say)

    say(f"[6/{STEPS}] receiver back; python -m tools.replay replay --local")
    failed_count = len(servers.receiver.deliveries)
    invoker = local_invoker(overrides, log_level=options.log_level, template_path=options.template)
    replayed = run("replay", queue, invoker, QUIET, function=NOTIFY_FUNCTION, report=_indented(say))
    result.deliveries = servers.receiver.deliveries
    delivery = record_webhook(result)
    remaining = queue.approximate_count()
    webhook_id = delivery.headers.get("webhook-id") if delivery is not None else None
    same_id = failed_ids == {webhook_id}
    counts = replayed.document()["counts"]
    result.replay = {
        "failed_deliveries": failed_count,
        "parked": parked,
        "replayed": counts["replayed"],
        "queue_messages_left": remaining,
        "webhook_id": webhook_id,
        "webhook_id_unchanged": same_id,
    }
    if replayed.error or counts["replayed"] != 1:
        reasons = [item.get("reason") for item in replayed.messages]
        raise DemoFailed(f"the replay did not deliver: {replayed.error or '; '.join(map(str, reasons))}")
    if delivery is None or not delivery.signature_valid or not 200 <= delivery.status < 300:
        raise DemoFailed("the replayed webhook was not accepted by the receiver")
    if not same_id:
        raise DemoFailed(
            "the replayed webhook-id differs from the failed attempts': receivers cannot drop repeats"
        )
    say(f"  replayed  webhook-id {webhook_id}, the same as the failed attempts' (receivers drop repeats)")
    if remaining:
        raise DemoFailed(f"{remaining} message(s) still on the failure queue after the replay")
    say(f"  queue     {DEFAULT_LOCAL_QUEUE} is empty: the message was deleted after its delivery")
