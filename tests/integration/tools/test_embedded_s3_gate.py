"""Round-4 hardening of `make api`'s embedded S3 (tools/local_api/store_gate.py), over real HTTP.

moto's server itself answers any Host, any credentials and its admin API; the gate in front of it must not.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests

from tools.local_api import EmbeddedS3

pytestmark = pytest.mark.moto_only("the local API's embedded S3 is moto")
KEY_ID = "LOCALTESTKEY0001"
BUCKET = "gate-bucket"


def s3_client(endpoint: str, key_id: str = KEY_ID) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key="testing",
    )


@pytest.fixture
def store() -> Iterator[str]:
    embedded = EmbeddedS3(access_key_id=KEY_ID)
    endpoint = embedded.start()
    try:
        s3 = s3_client(endpoint)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="uploads/ada@example.com.txt", Body=b"hello")
        yield endpoint
    finally:
        embedded.stop()


def raw(endpoint: str, method: str, path: str, host: str, **headers: str) -> tuple[int, bytes]:
    parts = urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True)
        connection.putheader("Host", host)
        for name, value in {**headers, "Content-Length": "0"}.items():
            connection.putheader(name, value)
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def signed_header(key_id: str) -> str:
    scope = "20260101/us-east-1/s3/aws4_request"
    return f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders=host, Signature=00"


@pytest.mark.parametrize("host", ["rebound.example", "rebound.example:9000", ""])
def test_r4_item7_the_embedded_s3_refuses_a_rebinding_host(store: str, host: str) -> None:
    status, body = raw(store, "GET", f"/{BUCKET}?list-type=2", host, Authorization=signed_header(KEY_ID))
    assert status == 403
    assert b"ada@example.com" not in body
    loopback = urlsplit(store).netloc
    status, body = raw(store, "GET", f"/{BUCKET}?list-type=2", loopback, Authorization=signed_header(KEY_ID))
    assert status == 200 and b"ada@example.com" in body


def test_r4_item7_the_reset_route_and_the_admin_api_are_refused(store: str) -> None:
    loopback = urlsplit(store).netloc
    assert raw(store, "POST", "/moto-api/reset", loopback)[0] == 403
    assert raw(store, "GET", "/moto-api/data.json", loopback, Authorization=signed_header(KEY_ID))[0] == 403
    assert (
        s3_client(store).get_object(Bucket=BUCKET, Key="uploads/ada@example.com.txt")["Body"].read()
        == b"hello"
    )


def test_r4_item7_only_requests_signed_with_this_runs_key_get_through(store: str) -> None:
    loopback = urlsplit(store).netloc
    assert raw(store, "GET", f"/{BUCKET}?list-type=2", loopback)[0] == 403
    assert (
        raw(store, "GET", f"/{BUCKET}?list-type=2", loopback, Authorization=signed_header("testing"))[0]
        == 403
    )
    mine = s3_client(store).generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "uploads/ada@example.com.txt"}
    )
    assert requests.get(mine, timeout=10).content == b"hello"
    other = s3_client(store, "testing").generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "uploads/ada@example.com.txt"}
    )
    assert requests.get(other, timeout=10).status_code == 403
