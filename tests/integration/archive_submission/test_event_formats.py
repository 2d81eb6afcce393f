"""The archive function answers HTTP API and Function URL (payload 2.0) events as it answers REST events."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import pytest

from archive_submission.app import lambda_handler
from tests.api_events import http_api_event
from tests.s3_stores import ARCHIVE_BUCKET
from tools.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BODY = '{"name": "Zoë", "answer": 42}'


@pytest.fixture(autouse=True)
def archive_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVE_BUCKET", ARCHIVE_BUCKET)
    monkeypatch.setenv("ARCHIVE_PREFIX", "submissions")
    monkeypatch.delenv("MAX_SUBMISSION_BYTES", raising=False)


def call(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = lambda_handler(event, LocalLambdaContext(function_name="archive-test"))
    assert "multiValueHeaders" not in response  # payload 2.0 answers use plain headers (and cookies)
    return response["statusCode"], json.loads(response["body"]), response.get("headers") or {}


@pytest.mark.parametrize("function_url", [False, True])
@pytest.mark.parametrize("binary", [False, True])
def test_payload_2_submission_is_archived(server_s3: S3Client, function_url: bool, binary: bool) -> None:
    body: str | bytes = BODY.encode() if binary else BODY
    status, answer, headers = call(http_api_event(body, function_url=function_url))
    assert status == 201, answer
    assert headers["Content-Type"] == "application/json"
    stored = server_s3.get_object(Bucket=ARCHIVE_BUCKET, Key=answer["key"])["Body"].read()
    assert stored == BODY.encode()


def test_payload_2_idempotency_key_header_is_read(server_s3: S3Client) -> None:
    headers = {"content-type": "application/json", "idempotency-key": "order-77"}
    first = call(http_api_event(BODY, headers=headers))
    again = call(http_api_event(BODY, headers=headers))
    assert first[0] == again[0] == 201
    assert first[1] == again[1]
    assert again[2].get("Idempotent-Replayed") == "true"
    conflict = call(http_api_event('{"other": 1}', headers=headers))
    assert conflict[0] == 409


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (http_api_event("[1, 2]"), 400),
        (http_api_event(BODY, headers={"content-type": "text/plain"}), 415),
        (http_api_event("{}", method="GET"), 405),
        (http_api_event("{}", path="/nowhere"), 404),
        (http_api_event(base64.b64encode(b"x" * 300_000).decode()), 413),
    ],
)
def test_payload_2_bad_requests(server_s3: S3Client, event: dict[str, Any], status: int) -> None:
    got, answer, _ = call(event)
    assert got == status
    assert set(answer) == {"error"}
    assert not server_s3.list_objects_v2(Bucket=ARCHIVE_BUCKET).get("Contents")
