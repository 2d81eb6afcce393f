"""The suite's probe of the S3 store (tests/s3_capabilities.py) asks about expiry with a URL signed in the
past instead of waiting for a fresh one to run out: that URL is well formed, so a refusal means expiry."""

from __future__ import annotations

import urllib.parse
import urllib.request
from typing import TYPE_CHECKING

from tests.s3_capabilities import SIGNED_AGO, S3Capabilities, presigned_put_refused, put_url_signed_ago
from tests.s3_stores import ARCHIVE_BUCKET, S3Server

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def test_a_url_signed_a_minute_ago_says_so_and_how_long_it_lives(s3_server: S3Server) -> None:
    url = put_url_signed_ago(s3_server, ARCHIVE_BUCKET, "a key", 1)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["1"]
    assert SIGNED_AGO.total_seconds() == 60
    assert urllib.parse.urlsplit(url).path == f"/{ARCHIVE_BUCKET}/a%20key"


def test_a_url_signed_a_minute_ago_that_still_lives_is_accepted(
    server_s3: S3Client, s3_server: S3Server
) -> None:
    """The same signing with an hour to live stores the object: the one-second URL's refusal, where the
    store refuses it, is its age, not its signature."""
    url = put_url_signed_ago(s3_server, ARCHIVE_BUCKET, "alive", 3600)
    request = urllib.request.Request(
        url, data=b"probe", method="PUT", headers={"Content-Type": "application/octet-stream"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert server_s3.get_object(Bucket=ARCHIVE_BUCKET, Key="alive")["Body"].read() == b"probe"


def test_the_expired_url_is_refused_where_the_probe_says_so(
    server_s3: S3Client, s3_server: S3Server, s3_capabilities: S3Capabilities
) -> None:
    refused = presigned_put_refused(put_url_signed_ago(s3_server, ARCHIVE_BUCKET, "late", 1), {})
    assert refused is s3_capabilities.refuses_expired_urls
    stored = server_s3.list_objects_v2(Bucket=ARCHIVE_BUCKET, Prefix="late").get("KeyCount", 0)
    assert stored == (0 if refused else 1)
