"""The presigned PUT's contents: every promised header is signed, and the signature covers its value."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest

from form_archive_contract.metadata import decode_metadata_value
from upload_url.presign import PRESIGN_CONFIG, presign_put
from upload_url.upload_plan import build_upload_plan
from upload_url.upload_request import UploadRequest

DIGEST = hashlib.sha256(b"hello").hexdigest()


def request(**changes: object) -> UploadRequest:
    values: dict[str, object] = {
        "datapack_identifier": "DP-1",
        "path": "/a/b",
        "filename": "report.pdf",
        "content_type": "application/pdf",
        "size": 5,
        "sha256": DIGEST,
        "uploader_name": "Ana",
        "uploader_email": "ana@example.org",
    }
    values.update(changes)
    return UploadRequest(**values)  # type: ignore[arg-type]


def test_headers_and_params_with_sha256() -> None:
    plan = build_upload_plan("bucket-1", request())
    checksum = base64.b64encode(hashlib.sha256(b"hello").digest()).decode()
    assert plan.key == "DP-1/a/b/report.pdf"
    assert plan.headers == {
        "Content-Type": "application/pdf",
        "Content-Length": "5",
        "x-amz-meta-uploaded-by": "presigned-url",
        "x-amz-meta-uploader-name": "Ana",
        "x-amz-meta-uploader-email": "ana@example.org",
        "x-amz-sdk-checksum-algorithm": "SHA256",
        "x-amz-checksum-sha256": checksum,
    }
    assert plan.params == {
        "Bucket": "bucket-1",
        "Key": "DP-1/a/b/report.pdf",
        "ContentType": "application/pdf",
        "ContentLength": 5,
        "Metadata": {
            "uploaded-by": "presigned-url",
            "uploader-name": "Ana",
            "uploader-email": "ana@example.org",
        },
        "ChecksumAlgorithm": "SHA256",
        "ChecksumSHA256": checksum,
    }


def test_without_sha256_no_checksum_is_promised() -> None:
    plan = build_upload_plan("bucket-1", request(sha256=None))
    assert not any("checksum" in name for name in plan.headers)
    assert "ChecksumSHA256" not in plan.params
    assert "ChecksumAlgorithm" not in plan.params


def test_non_ascii_metadata_travels_as_rfc2047() -> None:
    plan = build_upload_plan("b", request(uploader_name="Zoë Ærø 東京", uploader_email="zoë@bücher.example"))
    name = plan.headers["x-amz-meta-uploader-name"]
    email = plan.headers["x-amz-meta-uploader-email"]
    assert name.isascii() and name.startswith("=?UTF-8?B?")
    assert decode_metadata_value(name) == "Zoë Ærø 東京"
    assert decode_metadata_value(email) == "zoë@bücher.example"
    assert plan.params["Metadata"]["uploader-name"] == name


@pytest.fixture
def presigner() -> object:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.client("s3", config=PRESIGN_CONFIG)


@pytest.mark.parametrize("sha256", [DIGEST, None])
def test_every_answered_header_is_signed(presigner: object, sha256: str | None) -> None:
    plan = build_upload_plan("form-archive-bucket", request(sha256=sha256, filename="a b é.pdf"))
    url = presign_put(presigner, plan, 900)  # type: ignore[arg-type]
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"  # SigV4, never SigV2
    assert query["X-Amz-Expires"] == "900"
    signed = set(query["X-Amz-SignedHeaders"].split(";"))
    assert signed == {name.lower() for name in plan.headers} | {"host"}
    assert unquote(parts.path).endswith("/DP-1/a/b/a b é.pdf")
