"""`complete` and `abort` answer for this upload, not for another one of the same key and size."""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import ARCHIVE_BUCKET
from tests.integration.upload_url.test_multipart_upload import (
    CONTENT,
    call,
    digest,
    multipart_environment,
    part_bytes,
    presign,
    put_part,
    start,
    versions,
)
from upload_url.multipart import routes, store
from upload_url.multipart.store import multipart_etag

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["multipart_environment"]  # the autouse fixture of the multipart tests, used here too
OTHER_CONTENT = os.urandom(len(CONTENT))  # the same size, other bytes: another upload of the same file name


def upload_all(token: str, content: bytes) -> list[dict[str, Any]]:
    done = []
    for part in presign(token, [1, 2, 3], content):
        data = part_bytes(part["part_number"], content)
        response = put_part(part, data)
        assert response.status_code == 200, response.text
        done.append(
            {"part_number": part["part_number"], "etag": response.headers["ETag"], "sha256": digest(data)}
        )
    return done


def test_r4_item3_complete_of_an_aborted_upload_is_409_though_another_completed_the_key(
    server_s3: S3Client,
) -> None:
    first = start()
    first_token = first["upload"]["upload_token"]
    first_parts = upload_all(first_token, CONTENT)
    assert call("/uploads/abort", {"upload_token": first_token}) == (200, {"aborted": True})
    second = start()
    assert second["key"] == first["key"]
    second_token = second["upload"]["upload_token"]
    second_parts = upload_all(second_token, OTHER_CONTENT)
    done = {"bucket": ARCHIVE_BUCKET, "key": second["key"], "size": len(CONTENT)}
    assert call("/uploads/complete", {"upload_token": second_token, "parts": second_parts}) == (200, done)
    # The aborted upload is not reported as stored: the stored version is made of the other parts.
    status, refused = call("/uploads/complete", {"upload_token": first_token, "parts": first_parts})
    assert (status, refused["error"]) == (409, "upload_token: the upload was aborted or has expired")
    status, refused = call("/uploads/abort", {"upload_token": first_token})
    assert status == 409 and "already completed" not in refused["error"]
    # The upload that did complete is still recognised when it asks again.
    assert call("/uploads/complete", {"upload_token": second_token, "parts": second_parts}) == (200, done)
    [stored] = versions(server_s3, second["key"])
    assert stored["ETag"].strip('"') == multipart_etag([part["etag"].strip('"') for part in second_parts])


def test_r4_item4_abort_that_loses_the_race_to_complete_answers_409_already_completed(
    server_s3: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = start()
    token = answer["upload"]["upload_token"]
    parts = upload_all(token, CONTENT)
    original = store.abort_upload

    def complete_first(client: Any, claims: Any) -> None:
        """`complete` gets in between the abort's listing of the parts and its AbortMultipartUpload."""
        server_s3.complete_multipart_upload(
            Bucket=claims.bucket,
            Key=claims.key,
            UploadId=claims.upload_id,
            MultipartUpload={
                "Parts": [
                    {
                        "PartNumber": part["part_number"],
                        "ETag": part["etag"],
                        "ChecksumSHA256": base64.b64encode(bytes.fromhex(part["sha256"])).decode(),
                    }
                    for part in parts
                ]
            },
        )
        original(client, claims)

    monkeypatch.setattr(routes, "abort_upload", complete_first)
    assert call("/uploads/abort", {"upload_token": token}) == (
        409,
        {"error": "upload_token: the upload is already completed"},
    )
    assert len(versions(server_s3, answer["key"])) == 1
