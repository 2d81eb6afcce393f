"""tools.replay against moto's SQS (and CloudFormation) over HTTP: list, replay, dry run, --max, faults.

The function is injected here (a recording invoker, or a fake Lambda client for the deployed path);
tests/integration/tools/test_replay_local.py replays through the real notify function and the local runner.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from tests.s3_stores import REGION, reset_moto_server
from tests.webhook_receiver import object_created_record, s3_event
from tools.replay import (
    EXIT_LEFT,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    FUNCTION_OUTPUT,
    QUEUE_OUTPUT,
    FailureQueue,
    Invocation,
    Parked,
    ReplayError,
    RunOptions,
    failure_record,
    lambda_invoker,
    main,
    resolve_deployed,
    run,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

pytestmark = pytest.mark.moto_only("the failure queue is SQS on moto's server")

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:form-archive-NotifyWebhookFunction-X"
QUICK = RunOptions(wait_seconds=0, progress=False)


@pytest.fixture
def sqs(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> SQSClient:
    reset_moto_server(moto_server)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def queue(sqs: SQSClient) -> FailureQueue:
    return FailureQueue(sqs, sqs.create_queue(QueueName="notify-failures")["QueueUrl"])


def park(queue: FailureQueue, key: str, error: str = "webhook delivery failed: HTTP 503") -> str:
    """Put the record Lambda would write for a failed S3 event on the queue; returns the message id."""
    event = s3_event(object_created_record("archive", key, etag="abc"))
    body = json.dumps(failure_record(event, RuntimeError(error), function_arn=FUNCTION_ARN))
    return queue.client.send_message(QueueUrl=queue.url, MessageBody=body)["MessageId"]


def park_raw(queue: FailureQueue, body: str) -> str:
    return queue.client.send_message(QueueUrl=queue.url, MessageBody=body)["MessageId"]


def visible_ids(queue: FailureQueue) -> set[str]:
    """Every message receivable right now (proves nothing is left hidden); leaves them visible again."""
    seen: dict[str, str] = {}
    while True:
        answer = queue.client.receive_message(
            QueueUrl=queue.url, MaxNumberOfMessages=10, VisibilityTimeout=30
        )
        fresh = [item for item in answer.get("Messages", []) if item["MessageId"] not in seen]
        if not fresh:
            break
        seen.update({item["MessageId"]: item["ReceiptHandle"] for item in fresh})
    for handle in seen.values():
        queue.client.change_message_visibility(QueueUrl=queue.url, ReceiptHandle=handle, VisibilityTimeout=0)
    return set(seen)


class RecordingInvoker:
    """Answers from a script keyed by object key; records each body it was given."""

    def __init__(self, failing: dict[str, str] | None = None) -> None:
        self.failing = failing or {}
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, body: str) -> Invocation:
        document = json.loads(body)
        self.bodies.append(document)
        key = document["requestPayload"]["Records"][0]["s3"]["object"]["key"]
        if key in self.failing:
            return Invocation(ok=False, reason=self.failing[key])
        return Invocation(ok=True, result={"delivered": 1})

    @property
    def keys(self) -> list[str]:
        return [body["requestPayload"]["Records"][0]["s3"]["object"]["key"] for body in self.bodies]


def by_key(messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["keys"][0]: item for item in messages if item.get("keys")}


# ------------------------------------------------------------------ list


def test_list_shows_key_reason_attempts_and_age_and_leaves_everything_visible(queue: FailureQueue) -> None:
    ids = {park(queue, "forms/a.json"), park(queue, "forms/b c.json", "S3 error AccessDenied")}
    summary = run("list", queue, None, QUICK)
    listed = by_key(summary.messages)
    assert set(listed) == {"forms/a.json", "forms/b c.json"}
    assert listed["forms/b c.json"]["reason"] == "RuntimeError: S3 error AccessDenied"
    assert listed["forms/a.json"]["attempts"] == 3
    assert all(0 <= item["age_seconds"] < 120 for item in summary.messages)
    assert {item["outcome"] for item in summary.messages} == {"parked"}
    assert summary.exit_code() == EXIT_OK
    assert visible_ids(queue) == ids


def test_list_of_many_messages_sees_each_once(queue: FailureQueue) -> None:
    ids = {park(queue, f"forms/{index:02d}.json") for index in range(23)}
    summary = run("list", queue, None, QUICK)
    assert sorted(item["message_id"] for item in summary.messages) == sorted(ids)
    assert visible_ids(queue) == ids


# ------------------------------------------------------------------ replay


def test_replay_deletes_what_succeeded_and_leaves_the_failure_with_its_new_reason(
    queue: FailureQueue,
) -> None:
    good = park(queue, "forms/good.json")
    bad = park(queue, "forms/bad.json", "receiver down")
    invoker = RecordingInvoker(failing={"forms/bad.json": "NotificationFailed: HTTP 410"})
    summary = run("replay", queue, invoker, QUICK)
    assert sorted(invoker.keys) == ["forms/bad.json", "forms/good.json"]
    messages = by_key(summary.messages)
    assert messages["forms/good.json"]["outcome"] == "replayed"
    failed = messages["forms/bad.json"]
    assert failed["outcome"] == "failed"
    assert failed["reason"] == "NotificationFailed: HTTP 410"
    assert failed["previous_reason"] == "RuntimeError: receiver down"
    document = summary.document()
    assert document["counts"] == {
        "seen": 2,
        "replayed": 1,
        "failed": 1,
        "not_records": 0,
        "left_on_queue": 1,
    }
    assert summary.exit_code() == EXIT_LEFT
    # The failure is visible again at once; the success is gone.
    assert visible_ids(queue) == {bad}
    assert good not in visible_ids(queue)


def test_the_invoker_gets_the_message_body_unchanged(queue: FailureQueue) -> None:
    park(queue, "forms/a.json")
    (message,) = queue.client.receive_message(QueueUrl=queue.url)["Messages"]
    queue.client.change_message_visibility(
        QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    invoker = RecordingInvoker()
    assert run("replay", queue, invoker, QUICK).exit_code() == EXIT_OK
    assert invoker.bodies == [json.loads(message["Body"])]


def test_a_message_that_is_not_a_record_is_reported_and_never_deleted(queue: FailureQueue) -> None:
    odd = park_raw(queue, json.dumps(s3_event(object_created_record("archive", "raw.json", etag="e"))))
    text = park_raw(queue, "hello")
    good = park(queue, "forms/a.json")
    invoker = RecordingInvoker()
    summary = run("replay", queue, invoker, QUICK)
    assert invoker.keys == ["forms/a.json"]  # nothing else was invoked
    outcomes = {item["message_id"]: item for item in summary.messages}
    assert outcomes[good]["outcome"] == "replayed"
    assert outcomes[odd]["outcome"] == "not-a-record"
    assert "not a Lambda OnFailure record" in outcomes[odd]["reason"]
    assert outcomes[text]["reason"] == "body is not JSON"
    assert summary.document()["counts"]["not_records"] == 2
    assert summary.exit_code() == EXIT_LEFT
    assert visible_ids(queue) == {odd, text}


def test_dry_run_invokes_nothing_and_deletes_nothing(queue: FailureQueue) -> None:
    ids = {park(queue, "forms/a.json"), park(queue, "forms/b.json")}

    def refuse(body: str) -> Invocation:
        raise AssertionError("a dry run invoked the function")

    summary = run("replay", queue, refuse, RunOptions(dry_run=True, wait_seconds=0, progress=False))
    assert {item["outcome"] for item in summary.messages} == {"would-replay"}
    assert summary.document()["counts"]["would_replay"] == 2
    assert summary.exit_code() == EXIT_OK
    assert visible_ids(queue) == ids


def test_max_limits_how_many_messages_are_handled(queue: FailureQueue) -> None:
    ids = {park(queue, f"forms/{index}.json") for index in range(5)}
    invoker = RecordingInvoker()
    summary = run("replay", queue, invoker, RunOptions(limit=2, wait_seconds=0, progress=False))
    assert len(invoker.bodies) == 2
    assert summary.document()["counts"]["replayed"] == 2
    assert len(visible_ids(queue)) == 3
    assert visible_ids(queue) < ids
    listed = run("list", queue, None, RunOptions(limit=1, wait_seconds=0, progress=False))
    assert len(listed.messages) == 1


def test_an_unreachable_function_stops_the_run_and_deletes_nothing(queue: FailureQueue) -> None:
    ids = {park(queue, "forms/a.json"), park(queue, "forms/b.json")}
    calls: list[str] = []

    def unreachable(body: str) -> Invocation:
        calls.append(body)
        raise ReplayError("function f cannot be invoked: ResourceNotFoundException")

    summary = run("replay", queue, unreachable, QUICK)
    assert len(calls) == 1  # the run stopped at the first
    assert summary.error == "function f cannot be invoked: ResourceNotFoundException"
    assert summary.exit_code() == EXIT_UNREACHABLE
    assert visible_ids(queue) == ids


def test_an_unreachable_queue_is_a_clear_error(sqs: SQSClient) -> None:
    missing = FailureQueue(sqs, sqs.create_queue(QueueName="gone")["QueueUrl"])
    sqs.delete_queue(QueueUrl=missing.url)
    summary = run("replay", missing, RecordingInvoker(), QUICK)
    assert summary.error is not None
    assert summary.error.startswith(f"queue {missing.url} cannot be reached: ")
    assert "NonExistentQueue" in summary.error
    assert summary.exit_code() == EXIT_UNREACHABLE


def test_a_message_seen_again_in_the_same_run_is_not_replayed_twice(queue: FailureQueue) -> None:
    """When a message's visibility runs out mid-run it comes back; it is not invoked a second time."""
    park(queue, "forms/a.json")
    invoker = RecordingInvoker(failing={"forms/a.json": "still down"})
    original = queue.receive

    def receive_with_short_visibility(count: int, visibility_seconds: int, wait_seconds: int) -> list[Parked]:
        return original(count, 0, wait_seconds)  # visible again at once, as if its timeout had run out

    queue.receive = receive_with_short_visibility  # type: ignore[method-assign]
    summary = run("replay", queue, invoker, QUICK)
    assert len(invoker.bodies) == 1
    assert len(summary.messages) == 1


# ------------------------------------------------------------------ the command line


def summary_line(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[0])  # type: ignore[no-any-return]


def test_cli_list_local_prints_one_json_line_and_a_progress_bar(
    queue: FailureQueue, capsys: pytest.CaptureFixture[str]
) -> None:
    park(queue, "forms/a.json")
    assert main(["list", "--local", "--queue", "notify-failures", "--wait-seconds", "0"]) == EXIT_OK
    captured = capsys.readouterr()
    (line,) = captured.out.splitlines()
    document = json.loads(line)
    assert document["command"] == "list"
    assert document["queue_url"] == queue.url
    assert document["messages"][0]["keys"] == ["forms/a.json"]
    assert "parked" in captured.err
    assert "forms/a.json" in captured.err
    assert "1/1" in captured.err  # tqdm's counter


def test_cli_unknown_queue_exits_3_with_the_reason(
    queue: FailureQueue, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "--local", "--queue", "no-such-queue", "--no-progress"]) == EXIT_UNREACHABLE
    document = summary_line(capsys)
    assert document["error"].startswith("queue no-such-queue cannot be found: ")


def test_cli_local_without_an_endpoint_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS", raising=False)
    assert main(["list", "--local"]) == EXIT_USAGE
    assert "AWS_ENDPOINT_URL" in capsys.readouterr().err


def test_cli_local_without_an_endpoint_or_a_region_names_the_endpoint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A newcomer's first `make replay ARGS="list --local"` has neither: the missing endpoint is the news."""
    unset = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE")
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    assert main(["list", "--local"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "--local needs the embedded SQS endpoint" in err and "docs/operations.md" in err, err


@pytest.mark.parametrize(
    "args", [["replay", "--max", "0"], ["list", "--wait-seconds", "21"], ["list", "--dry-run"]]
)
def test_cli_bad_options_exit_2(args: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == EXIT_USAGE


# ------------------------------------------------------------------ deployed: stack outputs, Lambda Invoke


@pytest.fixture
def stack(sqs: SQSClient) -> Iterator[tuple[str, str]]:
    """A stack on moto's CloudFormation with the two outputs replay reads; yields (name, queue URL)."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    template = {
        "Resources": {"NotifyFailureQueue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            QUEUE_OUTPUT: {"Value": {"Ref": "NotifyFailureQueue"}},
            FUNCTION_OUTPUT: {"Value": FUNCTION_ARN},
        },
    }
    cloudformation.create_stack(StackName="form-archive-test", TemplateBody=json.dumps(template))
    outputs = cloudformation.describe_stacks(StackName="form-archive-test")["Stacks"][0]["Outputs"]
    yield (
        "form-archive-test",
        next(item["OutputValue"] for item in outputs if item["OutputKey"] == QUEUE_OUTPUT),
    )


class FakeLambda:
    """Lambda's Invoke answer: 200 with the result, or 200 with FunctionError and the error object."""

    def __init__(self, answer: Callable[[dict[str, Any]], tuple[str | None, Any]]) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        function_error, payload = self.answer(json.loads(request["Payload"]))
        response: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(payload).encode())}
        if function_error:
            response["FunctionError"] = function_error
        return response


def test_deployed_replay_finds_queue_and_function_in_the_stack_outputs(stack: tuple[str, str]) -> None:
    stack_name, url = stack
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url, function = resolve_deployed(
        boto3.client("cloudformation", region_name=REGION), stack_name, None, None
    )
    assert (queue_url, function) == (url, FUNCTION_ARN)
    queue = FailureQueue(sqs, queue_url)
    park(queue, "forms/ok.json")
    park(queue, "forms/still-failing.json")

    def answer(record: dict[str, Any]) -> tuple[str | None, Any]:
        key = record["requestPayload"]["Records"][0]["s3"]["object"]["key"]
        if key == "forms/ok.json":
            return None, {"delivered": 1, "skipped": 0, "ignored": 0, "failed": 0}
        return "Unhandled", {
            "errorType": "NotificationFailed",
            "errorMessage": "1 of 1 record(s) not delivered",
        }

    fake = FakeLambda(answer)
    summary = run("replay", queue, lambda_invoker(fake, function), QUICK, function=function)  # type: ignore[arg-type]
    assert [call["FunctionName"] for call in fake.calls] == [FUNCTION_ARN, FUNCTION_ARN]
    assert {call["InvocationType"] for call in fake.calls} == {"RequestResponse"}
    messages = by_key(summary.messages)
    assert messages["forms/ok.json"]["outcome"] == "replayed"
    assert (
        messages["forms/still-failing.json"]["reason"] == "NotificationFailed: 1 of 1 record(s) not delivered"
    )
    assert len(visible_ids(queue)) == 1


def test_deployed_overrides_skip_the_stack(sqs: SQSClient) -> None:
    class NoStacks:
        def describe_stacks(self, **_: Any) -> dict[str, Any]:
            raise AssertionError("the stack was read although --queue and --function were given")

    assert resolve_deployed(NoStacks(), "s", "q", "f") == ("q", "f")  # type: ignore[arg-type]


def test_cli_missing_stack_exits_3(sqs: SQSClient, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--stack-name", "no-such-stack", "--no-progress"]) == EXIT_UNREACHABLE
    document = summary_line(capsys)
    assert document["error"].startswith("stack no-such-stack cannot be read: ValidationError")


def test_cli_stack_without_the_outputs_exits_3(sqs: SQSClient, capsys: pytest.CaptureFixture[str]) -> None:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}
    cloudformation.create_stack(StackName="other", TemplateBody=json.dumps(template))
    assert main(["list", "--stack-name", "other", "--no-progress"]) == EXIT_UNREACHABLE
    assert summary_line(capsys)["error"] == (
        f"stack other has no output {QUEUE_OUTPUT} or {FUNCTION_OUTPUT}: is it form-archive?"
    )


def test_cli_deployed_list_reads_the_stack(
    stack: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    stack_name, url = stack
    park(FailureQueue(boto3.client("sqs", region_name=REGION), url), "forms/a.json")
    assert main(["list", "--stack-name", stack_name, "--wait-seconds", "0", "--no-progress"]) == EXIT_OK
    document = summary_line(capsys)
    assert document["function"] == FUNCTION_ARN
    assert document["queue_url"] == url
    assert [item["keys"] for item in document["messages"]] == [["forms/a.json"]]


def test_a_success_that_handled_no_object_is_not_a_replay(queue: FailureQueue) -> None:
    """A function version that does not look inside OnFailure records answers success with zero counts."""
    kept = park(queue, "forms/a.json")

    def old_function(body: str) -> Invocation:
        return Invocation(ok=True, result={"delivered": 0, "skipped": 0, "ignored": 0, "failed": 0})

    summary = run("replay", queue, old_function, QUICK)
    (message,) = summary.messages
    assert message["outcome"] == "failed"
    assert "handled no object" in message["reason"]
    assert summary.exit_code() == EXIT_LEFT
    assert visible_ids(queue) == {kept}
