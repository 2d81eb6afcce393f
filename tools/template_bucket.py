"""The archive bucket as template.yaml makes it, on a local S3 (moto's server) for the demo and local API."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def create_template_bucket(s3: S3Client, bucket: str) -> None:
    """Create `bucket` (or keep it) versioned, with SSE-S3 by default and every public access blocked."""
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def template_cors_rule(origins: list[str]) -> dict[str, Any]:
    """The template's CORS rule (ArchiveBucket.CorsConfiguration) for `origins`, as boto3 writes it."""
    return {
        "AllowedOrigins": origins,
        "AllowedMethods": ["PUT", "POST", "DELETE"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag", "x-amz-version-id"],
        "MaxAgeSeconds": 3000,
    }
