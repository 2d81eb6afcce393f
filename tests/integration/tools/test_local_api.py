"""tools.local_api in this process: real HTTP to the local API, functions run through the local runner."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.s3_stores import ARCHIVE_BUCKET
from tools.local_api import EmbeddedS3, LocalApi, LocalApiConfig, prepare_bucket
from tools.project import function_ids

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

KEY = "local-test-key"
ENV = {
    function_ids().archive: {"ARCHIVE_BUCKET": ARCHIVE_BUCKET},
    function_ids().upload: {"ARCHIVE_BUCKET": ARCHIVE_BUCKET},
}


@pytest.fixture
def api(server_s3: S3Client) -> Iterator[LocalApi]:
    lines: list[str] = []
    local = LocalApi(LocalApiConfig(env_overrides=ENV, api_key=KEY, say=lines.append))
    local.start()
    try:
        yield local
    finally:
        local.stop()
    requests_seen = [line for line in lines if re.fullmatch(r"[A-Z]+ /\S* -> \d{3} \(\d+ ms\)", line)]
    assert requests_seen, lines  # one line per request


def call(
    api: LocalApi, path: str, body: Any = None, *, key: str | None = KEY, method: str = "POST"
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(api.url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_submission_through_the_local_api(api: LocalApi, server_s3: S3Client) -> None:
    status, answer = call(api, "/submissions", {"name": "Ana"})
    assert status == 201, answer
    stored = server_s3.get_object(Bucket=ARCHIVE_BUCKET, Key=answer["key"])["Body"].read()
    assert json.loads(stored) == {"name": "Ana"}


def test_upload_through_the_local_api(api: LocalApi, server_s3: S3Client) -> None:
    request = {
        "datapack_identifier": "DP",
        "filename": "a.txt",
        "content_type": "text/plain",
        "size": 5,
        "uploader_name": "Ana",
        "uploader_email": "ana@example.org",
    }
    status, answer = call(api, "/uploads", request)
    assert status == 201, answer
    headers = {name: value for name, value in answer["upload"]["headers"].items() if name != "Content-Length"}
    assert (
        requests.put(answer["upload"]["url"], data=b"hello", headers=headers, timeout=30).status_code == 200
    )
    assert server_s3.get_object(Bucket=ARCHIVE_BUCKET, Key="DP/a.txt")["Body"].read() == b"hello"
    status, answer = call(api, "/uploads", {**request, "size": 0})
    assert (status, answer) == (400, {"error": "size: must be at least 1 byte"})


@pytest.mark.parametrize("key", [None, "", "wrong"])
def test_api_key_is_checked_like_api_gateway(api: LocalApi, key: str | None) -> None:
    assert call(api, "/submissions", {"a": 1}, key=key) == (403, {"message": "Forbidden"})


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/submissions"), ("POST", "/nowhere"), ("DELETE", "/uploads")]
)
def test_no_route_is_missing_authentication_token(api: LocalApi, method: str, path: str) -> None:
    assert call(api, path, None, method=method) == (403, {"message": "Missing Authentication Token"})


def test_web_pages_are_served(api: LocalApi) -> None:
    with urllib.request.urlopen(api.url + "/upload.html", timeout=10) as response:
        assert response.headers["Content-Type"] == "text/html"
        assert b"<title>form-archive: upload a file</title>" in response.read()
    status, deliveries = call(api, "/_local/deliveries", method="GET")
    assert (status, deliveries) == (200, [])


@pytest.mark.moto_only("the local API's embedded S3 is moto")
def test_embedded_s3_answers_cors_as_the_bucket_rule_says() -> None:
    s3 = EmbeddedS3()
    endpoint = s3.start()
    try:
        prepare_bucket(endpoint, "cors-bucket", ["http://127.0.0.1:3000"])
        url = f"{endpoint}/cors-bucket/some/key.txt"
        preflight = {"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type"}
        allowed = requests.options(url, headers={"Origin": "http://127.0.0.1:3000", **preflight}, timeout=10)
        assert allowed.status_code == 200
        assert allowed.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:3000"
        assert "PUT" in allowed.headers["Access-Control-Allow-Methods"]
        other = requests.options(
            url, headers={"Origin": "https://elsewhere.example", **preflight}, timeout=10
        )
        assert other.status_code == 403
        assert "Access-Control-Allow-Origin" not in other.headers
    finally:
        s3.stop()
