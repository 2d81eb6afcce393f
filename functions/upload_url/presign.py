"""Presigning: an S3 client that signs with SigV4, built once per container, and the presigned PUT."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import boto3

from form_archive_contract.s3 import CLIENT_CONFIG

from .upload_plan import UploadPlan

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The contract's settings, SigV4 included. Presigning is local: no request is made.
PRESIGN_CONFIG = CLIENT_CONFIG


@functools.cache
def get_presigning_client() -> S3Client:
    """boto3's own resolution (AWS_ENDPOINT_URL_S3, the region variables, the Lambda role)."""
    return boto3.session.Session().client("s3", config=PRESIGN_CONFIG)


def presign_put(client: S3Client, plan: UploadPlan, expires_seconds: int) -> str:
    return client.generate_presigned_url(
        "put_object", Params=plan.params, ExpiresIn=expires_seconds, HttpMethod="PUT"
    )
