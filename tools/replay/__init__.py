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

Modules: `record` (the parked message, pure), `invokers` (Lambda `Invoke` or the local runner), `queue`
(SQS), `run` (list and replay), `stack` (the deployed stack's outputs), `cli` (the command line).
"""

from tools.replay.cli import DEFAULT_ENV_VARS, DEFAULT_LOCAL_QUEUE, DEFAULT_STACK, build_parser, main
from tools.replay.errors import (
    EXIT_INTERRUPTED,
    EXIT_LEFT,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ReplayError,
)
from tools.replay.invokers import NOTIFY_FUNCTION, Invocation, Invoker, lambda_invoker, local_invoker
from tools.replay.queue import FailureQueue, Parked, scan
from tools.replay.record import NotARecord, ParkedRecord, failure_record, object_keys, parse_record
from tools.replay.run import RunOptions, Summary, handled_nothing, run
from tools.replay.stack import FUNCTION_OUTPUT, QUEUE_OUTPUT, queue_url, resolve_deployed, stack_outputs

__all__ = [
    "DEFAULT_ENV_VARS",
    "DEFAULT_LOCAL_QUEUE",
    "DEFAULT_STACK",
    "EXIT_INTERRUPTED",
    "EXIT_LEFT",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "FUNCTION_OUTPUT",
    "NOTIFY_FUNCTION",
    "QUEUE_OUTPUT",
    "FailureQueue",
    "Invocation",
    "Invoker",
    "NotARecord",
    "Parked",
    "ParkedRecord",
    "ReplayError",
    "RunOptions",
    "Summary",
    "build_parser",
    "failure_record",
    "handled_nothing",
    "lambda_invoker",
    "local_invoker",
    "main",
    "object_keys",
    "parse_record",
    "queue_url",
    "resolve_deployed",
    "run",
    "scan",
    "stack_outputs",
]
