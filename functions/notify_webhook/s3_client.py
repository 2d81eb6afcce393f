"""The S3 client, built once per container and reused across invocations."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Short connect timeout, a read timeout that tolerates a slow first byte of a large body, boto3's
# standard retries. Response checksum validation is left to us: we hash the body ourselves, and
# botocore would otherwise hash it a second time in the reading thread.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=5,
    read_timeout=30,
    response_checksum_validation="when_required",
)


@functools.cache
def get_s3_client() -> S3Client:
    """boto3's own resolution: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, region variables, the role."""
    return boto3.session.Session().client("s3", config=CLIENT_CONFIG)
