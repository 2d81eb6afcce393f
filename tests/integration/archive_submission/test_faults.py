"""S3 faults injected over real HTTP: the API answers 5xx, writes nothing, and leaks nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from archive_submission import write_s3_bucket
from archive_submission.app import lambda_handler
from tests.api_events import api_event, assert_server_fault
from tests.faulty_s3_proxy import Fault, FaultyS3Proxy
from tests.s3_stores import ARCHIVE_BUCKET, stored_submissions
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BODY = '{"first_name": "John", "email_address": "john.doe@example.com"}'


def stored_keys(client: S3Client) -> list[str]:
    return list(stored_submissions(client))


@pytest.fixture(autouse=True)
def archive_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVE_BUCKET", ARCHIVE_BUCKET)


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, "SlowDown"), (500, "InternalError"), (403, "AccessDenied"), (400, "InvalidRequest")],
)
def test_put_object_failure_is_a_502_and_nothing_is_written(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client, log_output: Callable[[], str], status: int, code: str
) -> None:
    faulty_s3.inject(Fault("PUT", f"/{ARCHIVE_BUCKET}/", status=status, code=code))
    context = LocalLambdaContext()
    response = lambda_handler(api_event(BODY), context)
    assert_server_fault(response, 502, context.aws_request_id)
    assert stored_keys(server_s3) == []
    attempts = [seen for seen in faulty_s3.seen if seen[0] == "PUT"]
    assert len(attempts) == (3 if status >= 500 else 1)  # boto3 standard mode retries 5xx/throttling only
    logs = log_output()
    assert code in logs
    assert "john.doe@example.com" not in logs


def test_a_transient_throttle_is_retried_by_boto3(faulty_s3: FaultyS3Proxy, server_s3: S3Client) -> None:
    faulty_s3.inject(Fault("PUT", f"/{ARCHIVE_BUCKET}/", status=503, code="SlowDown", times=1))
    response = lambda_handler(api_event(BODY), LocalLambdaContext())
    assert response["statusCode"] == 201
    key = json.loads(response["body"])["key"]
    assert stored_keys(server_s3) == [key]
    assert server_s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key)["Body"].read() == BODY.encode()


def test_idempotency_check_failing_is_a_502_not_a_false_conflict(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client
) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "retry-during-outage"}
    assert lambda_handler(api_event(BODY, headers=headers), LocalLambdaContext())["statusCode"] == 201
    faulty_s3.inject(Fault("HEAD", f"/{ARCHIVE_BUCKET}/", status=500, code="InternalError"))
    response = lambda_handler(api_event(BODY, headers=headers), LocalLambdaContext())
    assert response["statusCode"] == 502
    assert len(stored_keys(server_s3)) == 1


def test_library_call_reports_the_injected_code_and_writes_nothing(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client, capsys: pytest.CaptureFixture[str]
) -> None:
    faulty_s3.inject(Fault("PUT", f"/{ARCHIVE_BUCKET}/", status=403, code="AccessDenied"))
    secret = "testing-secret-for-fault-test"
    config = {
        "aws_s3_bucket": {
            "bucket_name": ARCHIVE_BUCKET,
            "endpoint_url": faulty_s3.url,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": secret,
        }
    }
    assert write_s3_bucket(config, {"a": 1}) is False
    out = capsys.readouterr().out
    assert out == f"Error: S3 rejected the write to bucket '{ARCHIVE_BUCKET}': AccessDenied\n"
    assert stored_keys(server_s3) == []


def test_a_racing_retry_of_the_same_key_gets_409_retry(faulty_s3: FaultyS3Proxy, server_s3: S3Client) -> None:
    """S3 answers 409 ConditionalRequestConflict while another conditional write of the key is in flight."""
    faulty_s3.inject(Fault("PUT", f"/{ARCHIVE_BUCKET}/", status=409, code="ConditionalRequestConflict"))
    headers = {"Content-Type": "application/json", "Idempotency-Key": "racing-retry"}
    response = lambda_handler(api_event(BODY, headers=headers), LocalLambdaContext())
    assert response["statusCode"] == 409
    assert "in progress" in json.loads(response["body"])["error"]
    assert stored_keys(server_s3) == []


def test_library_endpoint_url_wins_over_the_environment(
    faulty_s3: FaultyS3Proxy, server_s3: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    config = {"aws_s3_bucket": {"bucket_name": ARCHIVE_BUCKET, "endpoint_url": faulty_s3.url}}
    assert write_s3_bucket(config, {"a": 1}) is True
    assert len(stored_keys(server_s3)) == 1
    assert any(method == "PUT" for method, _path, _status in faulty_s3.seen)
