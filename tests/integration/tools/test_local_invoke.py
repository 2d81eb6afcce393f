"""events/*.json + events/env.json drive the Docker-free runner against moto's server and a local receiver."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import pytest
from standardwebhooks import Webhook

from notify_webhook.signing import verify_signature
from tests.webhook_receiver import WebhookReceiver
from tools.local_invoke import invoke, load_env_file
from tools.project import PROJECT_ROOT, function_ids

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

EVENTS = PROJECT_ROOT / "events"
SAMPLE = (PROJECT_ROOT / "tests" / "fixtures" / "sample_submission.json").read_bytes()


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture
def env_file() -> dict[str, dict[str, Any]]:
    return load_env_file(EVENTS / "env.json")


@pytest.fixture
def local_bucket(server_s3: S3Client, env_file: dict[str, dict[str, Any]]) -> str:
    """The bucket events/env.json and events/s3_put.json name, on moto's server."""
    bucket = env_file[function_ids().archive]["ARCHIVE_BUCKET"]
    assert bucket == event("s3_put.json")["Records"][0]["s3"]["bucket"]["name"]
    server_s3.create_bucket(Bucket=bucket)
    return str(bucket)


def objects(client: S3Client, bucket: str) -> dict[str, bytes]:
    listing = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read() for item in listing}


def test_submission_event_archives_the_sample(
    server_s3: S3Client, local_bucket: str, env_file: dict[str, dict[str, Any]]
) -> None:
    result = invoke(function_ids().archive, event("submission.json"), env_file)
    assert result["statusCode"] == 201, result
    answer = json.loads(result["body"])
    assert answer["bucket"] == local_bucket
    assert answer["key"].startswith("submissions/")
    assert objects(server_s3, local_bucket) == {answer["key"]: SAMPLE}
    head = server_s3.head_object(Bucket=local_bucket, Key=answer["key"])
    assert head["Metadata"]["uploaded-by"] == "archive-submission"


def test_bad_submission_event_gets_400_and_writes_nothing(
    server_s3: S3Client, local_bucket: str, env_file: dict[str, dict[str, Any]]
) -> None:
    result = invoke(function_ids().archive, event("submission_bad.json"), env_file)
    assert result["statusCode"] == 400
    assert "error" in json.loads(result["body"])
    assert objects(server_s3, local_bucket) == {}


def test_s3_event_delivers_a_signed_webhook(
    server_s3: S3Client,
    local_bucket: str,
    env_file: dict[str, dict[str, Any]],
    webhook_receiver: WebhookReceiver,
) -> None:
    s3_event = event("s3_put.json")
    record = s3_event["Records"][0]["s3"]["object"]
    key = unquote_plus(record["key"])
    assert key == "uploads/contact forms/2026/jane doe+co.json"
    put = server_s3.put_object(
        Bucket=local_bucket,
        Key=key,
        Body=SAMPLE,
        ContentType="application/json",
        Metadata={
            "uploaded-by": "presigned-url",
            "uploader-name": "Jane Doe",
            "uploader-email": "jane@example.com",
        },
    )
    assert put["ETag"].strip('"') == record["eTag"], "the event describes exactly this object"
    overrides = copy.deepcopy(env_file)
    overrides[function_ids().notify]["WEBHOOK_URL"] = webhook_receiver.url

    result = invoke(function_ids().notify, s3_event, overrides)

    assert result["delivered"] == 1, result
    (request,) = webhook_receiver.requests
    payload = request.json()
    assert payload["datapack_identifier"] == "uploads"
    assert payload["path"] == "/contact forms/2026"
    assert payload["display"] == "jane doe+co.json"
    assert payload["sha256"] == hashlib.sha256(SAMPLE).hexdigest()
    assert payload["length"] == len(SAMPLE)
    assert payload["submitter_name"] == "Jane Doe"
    secret = env_file[function_ids().notify]["WEBHOOK_SECRET_TOKEN"]
    assert secret == "testing"
    assert verify_signature(
        secret,
        request.headers["webhook-id"],
        request.headers["webhook-timestamp"],
        request.body,
        request.headers["webhook-signature"],
    )


def test_s3_event_with_a_whsec_secret_verifies_with_standardwebhooks(
    server_s3: S3Client,
    local_bucket: str,
    env_file: dict[str, dict[str, Any]],
    webhook_receiver: WebhookReceiver,
) -> None:
    """The Parameters object of an env file applies to every function that declares the variable."""
    s3_event = event("s3_put.json")
    key = unquote_plus(s3_event["Records"][0]["s3"]["object"]["key"])
    server_s3.put_object(Bucket=local_bucket, Key=key, Body=SAMPLE, Metadata={"uploaded-by": "presigned-url"})
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    overrides = copy.deepcopy(env_file)
    del overrides[function_ids().notify]["WEBHOOK_SECRET_TOKEN"]
    overrides["Parameters"] = {"WEBHOOK_SECRET_TOKEN": secret, "WEBHOOK_URL": webhook_receiver.url}
    del overrides[function_ids().notify]["WEBHOOK_URL"]

    result = invoke(function_ids().notify, s3_event, overrides)

    assert result["delivered"] == 1
    (request,) = webhook_receiver.requests
    Webhook(secret).verify(request.body, request.headers)


def test_object_not_uploaded_by_an_accepted_uploader_is_skipped(
    server_s3: S3Client,
    local_bucket: str,
    env_file: dict[str, dict[str, Any]],
    webhook_receiver: WebhookReceiver,
) -> None:
    s3_event = event("s3_put.json")
    key = unquote_plus(s3_event["Records"][0]["s3"]["object"]["key"])
    server_s3.put_object(Bucket=local_bucket, Key=key, Body=SAMPLE, Metadata={"uploaded-by": "someone-else"})
    overrides = copy.deepcopy(env_file)
    overrides[function_ids().notify]["WEBHOOK_URL"] = webhook_receiver.url
    result = invoke(function_ids().notify, s3_event, overrides)
    assert result["delivered"] == 0
    assert result["skipped"] == 1
    assert webhook_receiver.requests == []


def test_archived_submission_is_announced_with_the_template_uploaders(
    server_s3: S3Client,
    local_bucket: str,
    env_file: dict[str, dict[str, Any]],
    webhook_receiver: WebhookReceiver,
) -> None:
    """Both functions chained: the template's ACCEPTED_UPLOADERS includes archive-submission."""
    archived = invoke(function_ids().archive, event("submission.json"), env_file)
    key = json.loads(archived["body"])["key"]
    head = server_s3.head_object(Bucket=local_bucket, Key=key)
    s3_event = event("s3_put.json")
    obj = s3_event["Records"][0]["s3"]["object"]
    obj.update(key=key, eTag=head["ETag"].strip('"'), size=head["ContentLength"])
    overrides = copy.deepcopy(env_file)
    overrides[function_ids().notify]["WEBHOOK_URL"] = webhook_receiver.url

    result = invoke(function_ids().notify, s3_event, overrides)

    assert result["delivered"] == 1
    payload = webhook_receiver.requests[0].json()
    assert payload["datapack_identifier"] == "submissions"
    assert payload["display"] == key.rsplit("/", 1)[1]


def test_command_line_runner_against_moto(moto_server: str, local_bucket: str) -> None:
    """`python -m tools.local_invoke` as a user runs it: result JSON on stdout, function logs on stderr."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("PYTEST_", "COV_"))
    }
    environment.update(AWS_ENDPOINT_URL_S3=moto_server, PYTHONPATH=str(PROJECT_ROOT))
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.local_invoke",
            function_ids().archive,
            "--event",
            "events/submission.json",
            "--env-vars",
            "events/env.json",
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["statusCode"] == 201
    assert "submission archived" in completed.stderr
