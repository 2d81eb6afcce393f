"""The S3 client every function uses, built once per container, and the error codes they act on."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_s3 import S3Client

# The object (or the asked-for version) is not there. Without s3:ListBucket S3 says 403 instead.
MISSING_CODES = frozenset({"404", "NoSuchKey", "NoSuchVersion", "NotFound"})
# An `If-Match` / `If-None-Match` precondition failed: the key holds other bytes than expected.
PRECONDITION_FAILED_CODES = frozenset({"412", "PreconditionFailed"})
# Another conditional write of the same key is still in flight (two retries racing).
CONDITIONAL_CONFLICT_CODES = frozenset({"ConditionalRequestConflict"})


def error_code(error: ClientError) -> str:
    """The S3 error code (e.g. `AccessDenied`), safe to show and log: it never carries request data."""
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


# Connections the client may keep open at once: the notify function reads a large object as up to this
# many parallel ranged GETs (HASH_CONNECTIONS); botocore's default pool of 10 would queue the rest.
MAX_POOL_CONNECTIONS = 16

# Standard retries (3 attempts in all), a short connect timeout and a read timeout that tolerates a slow
# first byte. Response checksums are not validated by botocore: the notify function hashes bodies itself,
# and a second hash in the reading thread would double the CPU. Explicit SigV4, for the URLs both
# functions presign: botocore may still presign with SigV2 in us-east-1, which buckets created since
# mid-2020 refuse (calls are signed with SigV4 either way).
CLIENT_CONFIG = Config(
    signature_version="s3v4",
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=5,
    read_timeout=30,
    response_checksum_validation="when_required",
    max_pool_connections=MAX_POOL_CONNECTIONS,
)


# Bounded: a long-running caller of the library cycling through key pairs must not keep every client.
@functools.lru_cache(maxsize=8)
def get_s3_client(
    region_name: str | None = None,
    endpoint_url: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> S3Client:
    """None everywhere means boto3's own resolution: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, the region
    variables, the Lambda role."""
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region_name,
    )
    return session.client("s3", endpoint_url=endpoint_url, config=CLIENT_CONFIG)
