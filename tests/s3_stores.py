"""Which S3 store the HTTP tests talk to, so one suite runs on moto's server, Ceph RGW or LocalStack's S3.

`FORM_ARCHIVE_TEST_S3` chooses: `moto` (the default: moto's server, started by the tests), `rgw` with
`FORM_ARCHIVE_RGW_ENV=<env file written by tools/rgw.sh start>` (`make test-rgw`), or `localstack` with
`FORM_ARCHIVE_LOCALSTACK_ENV=<env file written by tools/localstack.sh start>` (`make test-localstack`).
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config

from archive_submission.store_knowledge import PROBE_LEAF

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

ARCHIVE_BUCKET = "form-archive-test"
REGION = "us-east-1"
S3_BACKENDS = ("moto", "rgw", "localstack")
S3_BACKEND = os.environ.get("FORM_ARCHIVE_TEST_S3", "moto").strip().lower() or "moto"
if S3_BACKEND not in S3_BACKENDS:
    raise pytest.UsageError(f"FORM_ARCHIVE_TEST_S3 must be moto, rgw or localstack, not {S3_BACKEND!r}")
ON_RGW = S3_BACKEND == "rgw"
ON_LOCALSTACK = S3_BACKEND == "localstack"
ON_REAL_STORE = ON_RGW or ON_LOCALSTACK  # a store of its own over HTTP, not moto


def stored_submissions(client: S3Client, bucket: str = ARCHIVE_BUCKET) -> dict[str, str]:
    """The archived submissions, key to ETag in key order: every object but the container's
    conditional-write probe (written once, before its first keyed write; an empty object, no submission)."""
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: item["ETag"] for item in listed if not item["Key"].endswith(PROBE_LEAF)}


@dataclass(frozen=True)
class S3Server:
    """The S3 server the HTTP tests talk to, with the keys it accepts."""

    endpoint: str
    access_key: str
    secret_key: str


def load_rgw_env(path: str | None) -> S3Server:
    """The endpoint and keys `tools/rgw.sh start` wrote to its env file (`NAME=value` lines)."""
    if not path:
        raise pytest.UsageError(
            "FORM_ARCHIVE_TEST_S3=rgw needs FORM_ARCHIVE_RGW_ENV=<the file `tools/rgw.sh start` prints>"
        )
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise pytest.UsageError(f"FORM_ARCHIVE_RGW_ENV: cannot read {path}: {error.strerror}") from None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    missing = [name for name in ("RGW_ENDPOINT", "RGW_ACCESS_KEY", "RGW_SECRET_KEY") if not values.get(name)]
    if missing:
        raise pytest.UsageError(f"FORM_ARCHIVE_RGW_ENV: {path} lacks {', '.join(missing)}")
    return S3Server(values["RGW_ENDPOINT"], values["RGW_ACCESS_KEY"], values["RGW_SECRET_KEY"])


def load_localstack_env(path: str | None) -> S3Server:
    """The endpoint and keys `tools/localstack.sh start` wrote to its env file (`NAME=value` lines)."""
    if not path:
        raise pytest.UsageError(
            "FORM_ARCHIVE_TEST_S3=localstack needs FORM_ARCHIVE_LOCALSTACK_ENV=<the file"
            " `tools/localstack.sh start` prints>"
        )
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        message = f"FORM_ARCHIVE_LOCALSTACK_ENV: cannot read {path}: {error.strerror}"
        raise pytest.UsageError(message) from None
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    if not values.get("AWS_ENDPOINT_URL"):
        raise pytest.UsageError(f"FORM_ARCHIVE_LOCALSTACK_ENV: {path} lacks AWS_ENDPOINT_URL")
    # LocalStack checks a presigned URL against the secret of a key registered with it, else against its
    # documented default secret `test`: the tests sign with that pair (the env file's keys serve the deploys).
    return S3Server(values["AWS_ENDPOINT_URL"], "test", "test")


def real_store_server() -> S3Server:
    """The store FORM_ARCHIVE_TEST_S3 names (rgw or localstack), from its script's env file."""
    if ON_LOCALSTACK:
        return load_localstack_env(os.environ.get("FORM_ARCHIVE_LOCALSTACK_ENV"))
    return load_rgw_env(os.environ.get("FORM_ARCHIVE_RGW_ENV"))


def server_client(server: S3Server, config: Config | None = None) -> S3Client:
    """A client of the S3 server under test, with its keys (moto's fake ones, or the RGW test user's)."""
    return boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=config,
    )


def empty_store(client: S3Client) -> None:
    """What moto's reset does, on a real store: every bucket of the test user goes, with all versions."""
    for bucket in client.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
            doomed: list[ObjectIdentifierTypeDef] = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            if doomed:
                client.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
        client.delete_bucket(Bucket=name)


def reset_moto_server(endpoint: str) -> None:
    """Moto's server forgets every bucket, queue and parameter (its reset API)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        json.loads(response.read() or b"{}")
