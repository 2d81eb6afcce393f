"""What the project relies on from the S3 store, checked on the store under test (moto's server, or Ceph
RGW with FORM_ARCHIVE_TEST_S3=rgw): presigned PUT and POST uploads that carry the uploader metadata the
notify function filters on, the template's CORS rule answering a browser's preflight, SSE-S3 puts, and
versions. README's S3 compatibility table is drawn from these tests and
tests/integration/archive_submission/test_store_compat.py."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from typing import TYPE_CHECKING

import pytest
from botocore.config import Config

from tests.s3_capabilities import S3Capabilities
from tests.s3_stores import ARCHIVE_BUCKET, S3Server, server_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ORIGIN = "https://forms.example.test"
UPLOADER = {
    "uploaded-by": "presigned-url",
    "uploader-name": "Jane Doe",
    "uploader-email": "jane@example.test",
}


def presigner(server: S3Server) -> S3Client:
    """Signature version 4, as AWS requires of presigned requests in every region opened since 2014."""
    return server_client(server, Config(signature_version="s3v4"))


def send(request: urllib.request.Request) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {name.lower(): value for name, value in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, {name.lower(): value for name, value in error.headers.items()}


def multipart_form(fields: dict[str, str], body: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload.json"\r\n'
        "Content-Type: application/json\r\n\r\n".encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_presigned_put_stores_the_body_and_the_signed_uploader_metadata(
    server_s3: S3Client, s3_server: S3Server
) -> None:
    metadata_headers = {f"x-amz-meta-{name}": value for name, value in UPLOADER.items()}
    url = presigner(s3_server).generate_presigned_url(
        "put_object",
        Params={"Bucket": ARCHIVE_BUCKET, "Key": "uploads/put.json", "Metadata": UPLOADER},
        ExpiresIn=300,
    )
    body = b'{"via": "presigned PUT"}'
    # A Content-Type of its own: urllib's default (a form) would be parsed away by moto's server.
    headers = {**metadata_headers, "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, method="PUT", headers=headers)
    assert send(request)[0] == 200
    stored = server_s3.get_object(Bucket=ARCHIVE_BUCKET, Key="uploads/put.json")
    assert stored["Body"].read() == body
    assert stored["Metadata"] == UPLOADER


@pytest.mark.needs_s3("signature_checks")
def test_presigned_put_without_the_signed_metadata_is_refused(
    server_s3: S3Client, s3_server: S3Server
) -> None:
    url = presigner(s3_server).generate_presigned_url(
        "put_object",
        Params={"Bucket": ARCHIVE_BUCKET, "Key": "uploads/unsigned.json", "Metadata": UPLOADER},
        ExpiresIn=300,
    )
    other = {"x-amz-meta-uploaded-by": "someone-else"}
    status, _ = send(urllib.request.Request(url, data=b"{}", method="PUT", headers=other))
    assert status == 403


def test_presigned_post_stores_the_body_and_the_uploader_metadata(
    server_s3: S3Client, s3_server: S3Server
) -> None:
    fields = {f"x-amz-meta-{name}": value for name, value in UPLOADER.items()}
    post = presigner(s3_server).generate_presigned_post(
        ARCHIVE_BUCKET,
        "uploads/post.json",
        Fields=fields,
        Conditions=[{name: value} for name, value in fields.items()],
        ExpiresIn=300,
    )
    body = b'{"via": "presigned POST"}'
    form, content_type = multipart_form({**post["fields"]}, body)
    request = urllib.request.Request(
        post["url"], data=form, method="POST", headers={"Content-Type": content_type}
    )
    assert send(request)[0] in (200, 201, 204)
    stored = server_s3.get_object(Bucket=ARCHIVE_BUCKET, Key="uploads/post.json")
    assert stored["Body"].read() == body
    assert stored["Metadata"] == UPLOADER


def test_cors_rule_of_the_template_answers_a_browser_preflight(server_s3: S3Client, moto_server: str) -> None:
    server_s3.put_bucket_cors(
        Bucket=ARCHIVE_BUCKET,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [ORIGIN],
                    "AllowedMethods": ["PUT", "POST", "DELETE"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag", "x-amz-version-id"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type,x-amz-meta-uploaded-by",
    }
    url = f"{moto_server}/{ARCHIVE_BUCKET}/uploads/cors.json"
    status, headers = send(urllib.request.Request(url, method="OPTIONS", headers=preflight))
    assert status == 200
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "PUT" in headers["access-control-allow-methods"]
    other_origin = {**preflight, "Origin": "https://elsewhere.example.test"}
    status, headers = send(urllib.request.Request(url, method="OPTIONS", headers=other_origin))
    assert status == 403 or "access-control-allow-origin" not in headers


def test_sse_s3_put_is_accepted_over_plain_http(server_s3: S3Client) -> None:
    server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="sse.json", Body=b"{}", ServerSideEncryption="AES256")
    assert server_s3.get_object(Bucket=ARCHIVE_BUCKET, Key="sse.json")["Body"].read() == b"{}"


def test_versions_keep_every_write(server_s3: S3Client) -> None:
    server_s3.put_bucket_versioning(Bucket=ARCHIVE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    first = server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="v.json", Body=b"1")["VersionId"]
    server_s3.put_object(Bucket=ARCHIVE_BUCKET, Key="v.json", Body=b"2")
    old = server_s3.get_object(Bucket=ARCHIVE_BUCKET, Key="v.json", VersionId=first)
    assert old["Body"].read() == b"1"


def test_the_probed_capabilities_are_reported(
    s3_capabilities: S3Capabilities, capsys: pytest.CaptureFixture[str]
) -> None:
    """The session's probe, printed for the run's log (`-rA` or `-s` shows it)."""
    with capsys.disabled():
        print(f"\nS3 capabilities of the store under test: {s3_capabilities}")
    assert isinstance(s3_capabilities.additional_checksums, bool)
