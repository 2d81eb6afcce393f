"""`make api` announces a multipart upload once: moto sends `ObjectCreated:Put` and
`ObjectCreated:CompleteMultipartUpload` for it (S3 sends only the latter), and the announcer drops the
first, so the notify function runs once and `announced … delivered` is said once."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from tools.local_api.announcer import Announcer, moto_duplicate

MULTIPART_ETAG = "9dc2b5968307ce171ec8a2a9251a60d9-3"
SINGLE_ETAG = "fbade9e36a3f36d3d676c1b808451dd7"


def record(event_name: str, etag: str, key: str = "uploads/a.bin") -> dict[str, Any]:
    return {
        "eventSource": "aws:s3",
        "eventName": event_name,
        "s3": {"bucket": {"name": "form-archive-local"}, "object": {"key": key, "size": 1, "eTag": etag}},
    }


@pytest.mark.parametrize(
    ("event_name", "etag", "duplicate"),
    [
        ("ObjectCreated:Put", MULTIPART_ETAG, True),
        ("ObjectCreated:Put", f'"{MULTIPART_ETAG}"', True),
        ("ObjectCreated:CompleteMultipartUpload", MULTIPART_ETAG, False),
        ("ObjectCreated:Put", SINGLE_ETAG, False),
        ("ObjectCreated:Copy", MULTIPART_ETAG, False),
    ],
)
def test_only_moto_s_extra_put_of_a_multipart_object_is_a_duplicate(
    event_name: str, etag: str, duplicate: bool
) -> None:
    assert moto_duplicate(record(event_name, etag)) is duplicate


def test_malformed_records_are_not_duplicates() -> None:
    assert not moto_duplicate("not a record")
    assert not moto_duplicate({"eventName": "ObjectCreated:Put"})
    assert not moto_duplicate({"eventName": "ObjectCreated:Put", "s3": {"object": {"eTag": 7}}})


class FakeApi:
    """What the announcer uses of the local API: run the notify function, keep deliveries, say lines."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.lines: list[str] = []
        self.deliveries: list[Any] = []
        self.config = SimpleNamespace(say=self.lines.append)

    def run_function(self, logical_id: str, event: Any) -> Any:
        self.calls.append((logical_id, event))
        return {"batchItemFailures": []}


def test_a_multipart_upload_is_announced_once() -> None:
    api = FakeApi()
    announcer = Announcer(api, "http://127.0.0.1:1", "form-archive-local")
    # moto's two messages for one CompleteMultipartUpload, in the order it sends them.
    announcer.announce(json.dumps({"Records": [record("ObjectCreated:Put", MULTIPART_ETAG)]}))
    announcer.announce(
        json.dumps({"Records": [record("ObjectCreated:CompleteMultipartUpload", MULTIPART_ETAG)]})
    )
    assert len(api.calls) == 1
    (_, event) = api.calls[0]
    assert [item["eventName"] for item in event["Records"]] == ["ObjectCreated:CompleteMultipartUpload"]
    assert [line for line in api.lines if "announced" in line] == [
        '  announced uploads/a.bin: delivered ({"batchItemFailures": []})'
    ]


def test_a_single_put_is_still_announced() -> None:
    api = FakeApi()
    announcer = Announcer(api, "http://127.0.0.1:1", "form-archive-local")
    announcer.announce(json.dumps({"Records": [record("ObjectCreated:Put", SINGLE_ETAG, key="s.json")]}))
    assert len(api.calls) == 1 and len(api.deliveries) == 1
