"""S3 clients, built once per container and reused across invocations."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=5,
    read_timeout=30,
)


# Bounded: a long-running caller cycling through many key pairs must not keep every client (and key).
@functools.lru_cache(maxsize=8)
def get_s3_client(
    region_name: str | None = None,
    endpoint_url: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> S3Client:
    """None for every argument means boto3's own resolution (env vars such as AWS_ENDPOINT_URL_S3, role)."""
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region_name,
    )
    return session.client("s3", endpoint_url=endpoint_url, config=_CLIENT_CONFIG)
