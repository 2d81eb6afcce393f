"""The API handler end to end, against in-process moto and against moto's HTTP server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config

from archive_submission.app import lambda_handler
from tests.api_events import api_event, assert_server_fault
from tests.s3_stores import ARCHIVE_BUCKET, stored_submissions
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "sample_submission.json"
SAMPLE_TEXT = '{\n  "first_name": "John",\n  "email_address": "john.doe@example.com",\n  "age": 28\n}'


@pytest.fixture(params=["in-process", "http"])
def archive_s3(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Client]:
    """The same cases run against both moto backends."""
    monkeypatch.setenv("ARCHIVE_BUCKET", ARCHIVE_BUCKET)
    monkeypatch.setenv("ARCHIVE_PREFIX", "submissions")
    monkeypatch.delenv("MAX_SUBMISSION_BYTES", raising=False)
    if request.param == "http":
        yield request.getfixturevalue("server_s3")
    else:
        yield request.getfixturevalue("mocked_s3")


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = lambda_handler(event, LocalLambdaContext(function_name="archive-test"))
    headers = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return response["statusCode"], json.loads(response["body"]), headers


def stored_keys(client: S3Client) -> list[str]:
    return list(stored_submissions(client))


def test_created_stores_the_exact_bytes(archive_s3: S3Client) -> None:
    status, body, headers = invoke(api_event(SAMPLE_TEXT))
    assert status == 201
    assert headers["Content-Type"] == "application/json"
    assert set(body) == {"submission_id", "bucket", "key"}
    assert body["bucket"] == ARCHIVE_BUCKET
    assert body["key"].startswith("submissions/") and body["key"].endswith(f"/{body['submission_id']}.json")
    assert stored_keys(archive_s3) == [body["key"]]
    stored = archive_s3.get_object(Bucket=ARCHIVE_BUCKET, Key=body["key"])
    assert stored["Body"].read() == SAMPLE_TEXT.encode()
    assert stored["Metadata"]["uploaded-by"] == "archive-submission"


def test_shared_fixture_is_archived(archive_s3: S3Client) -> None:
    raw = FIXTURE.read_bytes()
    status, body, _ = invoke(api_event(raw.decode("utf-8")))
    assert status == 201
    assert archive_s3.get_object(Bucket=ARCHIVE_BUCKET, Key=body["key"])["Body"].read() == raw


def test_base64_body_is_stored_decoded(archive_s3: S3Client) -> None:
    raw = '{"name": "Zoë"}'.encode()
    status, body, _ = invoke(api_event(raw))
    assert status == 201
    assert archive_s3.get_object(Bucket=ARCHIVE_BUCKET, Key=body["key"])["Body"].read() == raw


def test_prefix_comes_from_the_environment(archive_s3: S3Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVE_PREFIX", "/forms//contact/")
    status, body, _ = invoke(api_event(SAMPLE_TEXT))
    assert status == 201
    assert body["key"].startswith("forms/contact/")


@pytest.mark.parametrize(
    ("event", "status", "message"),
    [
        (api_event("not json"), 400, "not valid JSON"),
        (api_event("[1, 2]"), 400, "JSON object"),
        (api_event(""), 400, "empty"),
        (api_event(None), 400, "empty"),
        (api_event("{}"), 400, "empty JSON object"),
        (api_event(b'{"a": "\xff\xfe"}'), 400, "UTF-8"),
        (api_event("@@@", base64_encode=False, headers={}) | {"isBase64Encoded": True}, 400, "base64"),
        (api_event('{"a": 1}', headers={"Content-Type": "text/plain"}), 415, "application/json"),
        (
            api_event('{"a": 1}', headers={"content-type": "application/x-www-form-urlencoded"}),
            415,
            "Content-Type",
        ),
        (api_event('{"a": "' + "x" * 262_144 + '"}'), 413, "262144"),
        (api_event('{"a": 1}', headers={"Idempotency-Key": "has space"}), 400, "Idempotency-Key"),
        (api_event('{"a": 1}', method="GET"), 405, "POST"),
        (api_event('{"a": 1}', path="/other"), 404, "not found"),
    ],
)
def test_client_errors_write_nothing(
    archive_s3: S3Client, event: dict[str, Any], status: int, message: str
) -> None:
    got_status, body, _ = invoke(event)
    assert (got_status, set(body)) == (status, {"error"})
    assert message in body["error"]
    assert stored_keys(archive_s3) == []


def test_size_limit_is_configurable(archive_s3: S3Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_SUBMISSION_BYTES", "10")
    assert invoke(api_event('{"a": 12345}'))[0] == 413
    assert invoke(api_event('{"a": 1}'))[0] == 201


@pytest.mark.parametrize("event", [{}, {"httpMethod": "POST"}, {"path": "/submissions", "httpMethod": 3}, []])
def test_non_proxy_events_get_400(archive_s3: S3Client, event: Any) -> None:
    status, body, _ = invoke(event)
    assert status == 400
    assert "proxy" in body["error"]


def test_idempotency_key_replays_the_same_answer(archive_s3: S3Client) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "order-42"}
    first = invoke(api_event(SAMPLE_TEXT, headers=headers))
    second = invoke(api_event(SAMPLE_TEXT, headers=headers))
    assert first[0] == second[0] == 201
    assert first[1] == second[1]
    assert second[2].get("Idempotent-Replayed") == "true"
    assert stored_keys(archive_s3) == [first[1]["key"]]


def test_idempotency_key_with_another_body_conflicts(archive_s3: S3Client) -> None:
    headers = {"Content-Type": "application/json", "idempotency-key": "order-43"}
    first = invoke(api_event('{"a": 1}', headers=headers))
    conflict = invoke(api_event('{"a": 2}', headers=headers))
    assert first[0] == 201
    assert conflict[0] == 409
    assert "different body" in conflict[1]["error"]
    assert archive_s3.get_object(Bucket=ARCHIVE_BUCKET, Key=first[1]["key"])["Body"].read() == b'{"a": 1}'


def test_missing_bucket_is_a_502_with_request_id(
    archive_s3: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_BUCKET", "bucket-that-does-not-exist")
    context = LocalLambdaContext(function_name="archive-test")
    response = lambda_handler(api_event(SAMPLE_TEXT), context)
    assert_server_fault(response, 502, context.aws_request_id)


def test_missing_configuration_is_a_500(
    archive_s3: S3Client, monkeypatch: pytest.MonkeyPatch, log_output: Callable[[], str]
) -> None:
    monkeypatch.delenv("ARCHIVE_BUCKET")
    status, body, _ = invoke(api_event(SAMPLE_TEXT))
    assert status == 500
    assert set(body) == {"error", "request_id"}
    assert "ARCHIVE_BUCKET is not set" in log_output()
    assert stored_keys(archive_s3) == []


def test_unreachable_s3_is_a_502(monkeypatch: pytest.MonkeyPatch, log_output: Callable[[], str]) -> None:
    monkeypatch.setenv("ARCHIVE_BUCKET", ARCHIVE_BUCKET)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    monkeypatch.setattr(
        "form_archive_contract.s3.CLIENT_CONFIG", Config(retries={"max_attempts": 1}, connect_timeout=1)
    )
    status, body, _ = invoke(api_event(SAMPLE_TEXT))
    assert status == 502
    assert set(body) == {"error", "request_id"}
    assert "EndpointConnectionError" in log_output()


def test_logs_hold_neither_payload_nor_secrets(archive_s3: S3Client, log_output: Callable[[], str]) -> None:
    marker = "payload-marker-that-must-not-be-logged"
    status, body, _ = invoke(api_event(json.dumps({"secret_answer": marker})))
    assert status == 201
    out = log_output()
    assert marker not in out
    assert body["key"] in out
    assert '"SubmissionsArchived":[1.0]' in out


class _Clock:
    """Stands in for `datetime` in the handler so a retry can arrive on another UTC day."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self, tz: Any = None) -> datetime:
        return self.current


def test_idempotency_key_holds_across_midnight(archive_s3: S3Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """A keyed submission's object key has no date folder: a retry on the next UTC day names it too."""
    clock = _Clock(datetime(2026, 11, 23, 23, 59, 58, tzinfo=UTC))
    monkeypatch.setattr("archive_submission.app.datetime", clock)
    headers = {"Content-Type": "application/json", "Idempotency-Key": "order-midnight"}
    first = invoke(api_event(SAMPLE_TEXT, headers=headers))
    clock.current = datetime(2026, 11, 24, 0, 0, 3, tzinfo=UTC)
    replay = invoke(api_event(SAMPLE_TEXT, headers=headers))
    conflict = invoke(api_event('{"other": true}', headers=headers))
    assert first[0] == replay[0] == 201
    assert first[1]["key"] == f"submissions/{first[1]['submission_id']}.json"
    assert replay[1] == first[1]
    assert replay[2].get("Idempotent-Replayed") == "true"
    assert conflict[0] == 409
    assert stored_keys(archive_s3) == [first[1]["key"]]


def test_idempotency_key_is_honoured_days_later(
    archive_s3: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guarantee is at least 24 hours; with one object key per Idempotency-Key it lasts as long as
    the first request's object (and its versions) do."""
    clock = _Clock(datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    monkeypatch.setattr("archive_submission.app.datetime", clock)
    headers = {"Content-Type": "application/json", "Idempotency-Key": "order-reused-later"}
    first = invoke(api_event(SAMPLE_TEXT, headers=headers))
    clock.current = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    later = invoke(api_event(SAMPLE_TEXT, headers=headers))
    conflict = invoke(api_event('{"other": true}', headers=headers))
    assert first[0] == later[0] == 201
    assert later[1] == first[1]
    assert later[2].get("Idempotent-Replayed") == "true"
    assert conflict[0] == 409
    assert stored_keys(archive_s3) == [first[1]["key"]]


@pytest.mark.parametrize(
    "event",
    [
        api_event(SAMPLE_TEXT, headers={"Content-Type": "application/json", "Idempotency-Key": 5}),  # type: ignore[dict-item]
        api_event(SAMPLE_TEXT, headers={"Content-Type": ["application/json"]}),  # type: ignore[dict-item]
        {**api_event(SAMPLE_TEXT), "multiValueHeaders": "x"},
        {**api_event(SAMPLE_TEXT), "multiValueHeaders": {"Content-Type": "application/json"}},
        {**api_event(SAMPLE_TEXT), "isBase64Encoded": "yes"},
    ],
    ids=["int-header", "list-header", "multi-headers-string", "multi-headers-not-lists", "base64-flag"],
)
def test_wrongly_typed_event_fields_get_400(archive_s3: S3Client, event: dict[str, Any]) -> None:
    status, body, _ = invoke(event)
    assert status == 400
    assert "proxy" in body["error"]
    assert stored_keys(archive_s3) == []


def test_idempotency_key_with_a_trailing_newline_is_refused(archive_s3: S3Client) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "order-44\n"}
    status, body, _ = invoke(api_event(SAMPLE_TEXT, headers=headers))
    assert status == 400
    assert "Idempotency-Key" in body["error"]
    assert stored_keys(archive_s3) == []


def test_an_unexpected_fault_is_a_500_with_the_request_id(
    archive_s3: S3Client, monkeypatch: pytest.MonkeyPatch, log_output: Callable[[], str]
) -> None:
    def explode(_raw: bytes) -> None:
        raise RuntimeError("boom-detail-not-for-clients")

    monkeypatch.setattr("archive_submission.app.parse_submission", explode)
    context = LocalLambdaContext(function_name="archive-test")
    response = lambda_handler(api_event(SAMPLE_TEXT), context)
    assert_server_fault(response, 500, context.aws_request_id)
    assert "boom-detail-not-for-clients" not in response["body"]
    assert "RuntimeError" in log_output()
    assert stored_keys(archive_s3) == []


def test_a_fault_outside_any_route_is_a_500_too(
    archive_s3: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def resolver_fails(*_args: Any) -> None:
        raise ValueError("resolver-detail")

    monkeypatch.setattr("archive_submission.app.rest_resolver.resolve", resolver_fails)
    context = LocalLambdaContext(function_name="archive-test")
    response = lambda_handler(api_event(SAMPLE_TEXT), context)
    assert_server_fault(response, 500, context.aws_request_id)
    assert stored_keys(archive_s3) == []
