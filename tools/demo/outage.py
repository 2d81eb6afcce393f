"""`make demo DEMO_ARGS=--outage`: a receiver that is down for the first attempts still gets the webhook,
later, with no one at the keyboard and the same `webhook-id`.

1. moto's server (S3 + SQS) and the webhook receiver, as every flow starts;
2. archive a submission and take the S3 event the emulator wrote (as the default flow does);
3. a work queue and a failure queue on the embedded SQS, and a compressed delivery schedule
   (`WEBHOOK_RETRY_SCHEDULE=1,1,1,1,1`: seconds instead of hours; every retry through the work queue);
4. the receiver is down for the first `OUTAGE_ATTEMPTS` attempts (it answers 503): the notify function
   tries once, then hands the next attempt to the work queue, due a second later (SQS `DelaySeconds`);
5. the work queue is drained in-process, as Lambda's event source mapping drains it, each continuation
   an invocation; the receiver comes back and the webhook arrives on attempt `OUTAGE_ATTEMPTS + 1`;
6. every attempt carried one `webhook-id`; nothing is parked and both queues are empty;
7. a larger object (`LARGE_OBJECT_BYTES`, no S3 checksum to reuse) is hashed in several links: each
   invocation hashes at most `HASH_LINK_MAX_BYTES` and hands a checkpoint to the next through the work
   queue; the last one delivers the SHA-256, which is exactly `hashlib.sha256` of the object.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
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
from tools.environment import patched_environ
from tools.lambda_context import LocalLambdaContext
from tools.local_invoke import invoke, read_function
from tools.work_queue import drain

STEPS = 7
OUTAGE_ATTEMPTS = 3
SCHEDULE = "1,1,1,1,1"
# A fake key for the local run only (the stack generates its own in Secrets Manager).
LOCAL_CHECKPOINT_KEY = "testing-local-checkpoint-key"
# How long the demo waits at most for the work queue to bring the delivery (SQS's delays are 1 s each).
DEADLINE_SECONDS = 30.0
POLL_SECONDS = 0.25
MIB = 1024 * 1024
LARGE_OBJECT_BYTES = 32 * MIB
LINK_BYTES = 8 * MIB  # HASH_LINK_MAX_BYTES: the large object takes 4 links
LARGE_KEY = "DP-outage/recordings/session.bin"


def _archive_and_event(options: DemoOptions, servers: DemoServers, say: Say, result: DemoResult) -> Any:
    body = archive_submission(options, servers, say, result, f"2/{STEPS}")
    return s3_event_for(servers, body["key"], say)


def _work_variables(servers: DemoServers) -> dict[str, str]:
    sqs = servers.sqs()
    return {
        "WORK_QUEUE_URL": sqs.create_queue(QueueName="notify-work")["QueueUrl"],
        "FAILURE_QUEUE_URL": sqs.create_queue(QueueName="notify-failures")["QueueUrl"],
        "CHECKPOINT_KEY": LOCAL_CHECKPOINT_KEY,
        "CHECKPOINT_KEY_PARAMETER": "",
        "WEBHOOK_RETRY_SCHEDULE": SCHEDULE,
        "WEBHOOK_INLINE_WAIT_SECONDS": "0",
        "HASH_LINK_MAX_BYTES": str(LINK_BYTES),
    }


def _pending(servers: DemoServers, queue_url: str) -> int:
    attributes = servers.sqs().get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def outage(options: DemoOptions, servers: DemoServers, say: Say, result: DemoResult) -> None:
    """The flow; fills `result` (`result.outage`) and raises `DemoFailed` when a step fails."""
    s3_event = _archive_and_event(options, servers, say, result)
    env_vars = read_env_vars(options)
    overrides = notify_overrides(env_vars, options, servers.receiver.url, signing_secret(env_vars))
    variables = _work_variables(servers)
    # Declared in the template: the env-vars file sets them (undeclared ones the shell sets, below).
    declared = read_function(NOTIFY_FUNCTION, template_path=options.template).environment
    overrides[NOTIFY_FUNCTION].update({name: value for name, value in variables.items() if name in declared})
    say(f"[3/{STEPS}] work queue and failure queue on the embedded SQS; schedule {SCHEDULE} (seconds)")

    def run_notify(event: dict[str, Any]) -> Any:
        context = LocalLambdaContext(function_name=NOTIFY_FUNCTION, timeout_seconds=60)
        # Not declared in the template (yet): the handler, in this process, reads them from the shell.
        with patched_environ(set=variables):
            return invoke(NOTIFY_FUNCTION, event, overrides, template_path=options.template, context=context)

    servers.receiver.script(*([503] * OUTAGE_ATTEMPTS))
    say(f"[4/{STEPS}] receiver down for {OUTAGE_ATTEMPTS} attempts; {NOTIFY_FUNCTION} <- the S3 event")
    answer = run_notify(s3_event)
    say(f"  answered  {json.dumps(answer)}: attempt 1 failed, attempt 2 is on the work queue")

    say(f"[5/{STEPS}] work queue drained as Lambda's event source mapping drains it")
    sqs, work_queue = servers.sqs(), variables["WORK_QUEUE_URL"]
    started = time.monotonic()
    invocations = 0
    while _pending(servers, work_queue) and time.monotonic() - started < DEADLINE_SECONDS:
        invocations += drain(sqs, work_queue, run_notify)
        time.sleep(POLL_SECONDS)  # the demo, not the function, waits for SQS's DelaySeconds
    deliveries = servers.receiver.deliveries
    for number, attempt in enumerate(deliveries, start=1):
        say(f"  attempt {number}: HTTP {attempt.status}  webhook-id {attempt.headers.get('webhook-id')}")
    result.deliveries = deliveries
    delivery = record_webhook(result)
    ids = {item.headers.get("webhook-id") for item in deliveries}
    parked = _pending(servers, variables["FAILURE_QUEUE_URL"])
    result.outage = {
        "failed_attempts": sum(1 for item in deliveries if item.status >= 300),
        "delivered_on_attempt": len(deliveries),
        "continuation_invocations": invocations,
        "webhook_ids": len(ids),
        "parked": parked,
        "seconds": round(time.monotonic() - started, 1),
    }
    say(f"[6/{STEPS}] outcome")
    if delivery is None or not 200 <= delivery.status < 300 or not delivery.signature_valid:
        raise DemoFailed("the webhook did not arrive after the outage")
    if len(deliveries) != OUTAGE_ATTEMPTS + 1 or len(ids) != 1:
        raise DemoFailed(f"expected {OUTAGE_ATTEMPTS + 1} attempts with one webhook-id, got {result.outage}")
    if parked or _pending(servers, work_queue):
        raise DemoFailed("work was left on a queue after the delivery")
    say(f"  delivered on attempt {len(deliveries)}, one webhook-id throughout; nothing parked, queues empty")
    _hash_in_links(servers, say, result, run_notify, work_queue)


def _hash_in_links(
    servers: DemoServers, say: Say, result: DemoResult, run_notify: Any, work_queue: str
) -> None:
    """Step 6: the large object, hashed `LINK_BYTES` per invocation, delivered by the last link."""
    data = os.urandom(LARGE_OBJECT_BYTES)
    say(
        f"[7/{STEPS}] a {LARGE_OBJECT_BYTES // MIB} MiB object, at most {LINK_BYTES // MIB} MiB"
        " hashed per invocation (HASH_LINK_MAX_BYTES)"
    )
    servers.s3().put_object(
        Bucket=servers.bucket, Key=LARGE_KEY, Body=data, Metadata={"uploaded-by": "presigned-url"}
    )
    before = len(servers.receiver.deliveries)
    answer = run_notify(s3_event_for(servers, LARGE_KEY, say))
    say(f"  link 1    {json.dumps(answer)}")
    sqs, links = servers.sqs(), 1
    started = time.monotonic()
    while _pending(servers, work_queue) and time.monotonic() - started < DEADLINE_SECONDS:
        links += drain(sqs, work_queue, run_notify)
    delivered = servers.receiver.deliveries[before:]
    payload = delivered[-1].payload() if delivered else None
    sha256 = payload.get("sha256") if isinstance(payload, dict) else None
    expected = hashlib.sha256(data).hexdigest()
    result.outage = {
        **(result.outage or {}),
        "large_object_bytes": LARGE_OBJECT_BYTES,
        "hash_links": links,
        "large_object_sha256_matches": sha256 == expected,
    }
    if sha256 != expected or len(delivered) != 1:
        raise DemoFailed(f"the large object was not announced with its SHA-256 ({len(delivered)} deliveries)")
    if links < 2:
        raise DemoFailed("the large object was hashed in one invocation, not in links")
    say(f"  delivered after {links} links: sha256 {sha256[:16]}... = hashlib.sha256 of the object")
