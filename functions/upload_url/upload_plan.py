"""The presigned PUT's contents, as a pure function: what is signed is exactly what the client must send.

A SigV4-presigned URL carries the names of the signed headers (`X-Amz-SignedHeaders`) and a signature
over their values. S3 refuses the PUT when a signed header is missing or has another value, so signing
`Content-Length`, `Content-Type`, the metadata and `x-amz-checksum-sha256` makes S3 itself enforce the
size, the type, the metadata and the bytes' SHA-256 (which S3 verifies and keeps as the object's
full-object checksum).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from form_archive_contract.metadata import (
    PRESIGNED_URL,
    UPLOADED_BY,
    UPLOADER_EMAIL,
    UPLOADER_NAME,
    encode_metadata_value,
)

from .upload_request import UploadRequest, object_key


@dataclass(frozen=True)
class UploadPlan:
    key: str
    # Parameters of `put_object` for botocore's presigner.
    params: dict[str, Any]
    # The headers a client sends with the bytes; each one is signed.
    headers: dict[str, str]


def build_upload_plan(bucket: str, request: UploadRequest) -> UploadPlan:
    key = object_key(request)
    metadata = {
        UPLOADED_BY: PRESIGNED_URL,
        UPLOADER_NAME: encode_metadata_value(request.uploader_name),
        UPLOADER_EMAIL: encode_metadata_value(request.uploader_email),
    }
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "ContentType": request.content_type,
        "ContentLength": request.size,
        "Metadata": metadata,
    }
    headers = {
        "Content-Type": request.content_type,
        "Content-Length": str(request.size),
        **{f"x-amz-meta-{name}": value for name, value in metadata.items()},
    }
    checksum = request.sha256_b64
    if checksum is not None:
        params["ChecksumAlgorithm"] = "SHA256"
        params["ChecksumSHA256"] = checksum
        # The algorithm header is what AWS SDKs send along; S3 accepts it, and moto keeps the checksum
        # only when it is present.
        headers["x-amz-sdk-checksum-algorithm"] = "SHA256"
        headers["x-amz-checksum-sha256"] = checksum
    return UploadPlan(key=key, params=params, headers=headers)
