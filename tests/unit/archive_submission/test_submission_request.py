from __future__ import annotations

import base64

import pytest

from archive_submission.submission_request import (
    RequestRejected,
    is_json_content_type,
    parse_submission,
)
from form_archive_contract.request_body import read_body


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        (None, True),
        ("", True),
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/vnd.api+json", True),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("text/json+xml", False),
    ],
)
def test_content_types(content_type: str | None, accepted: bool) -> None:
    assert is_json_content_type(content_type) is accepted


def test_plain_body_bytes_are_kept_exactly() -> None:
    text = '{ "b": 1,\n  "a": "é" }'
    assert read_body(text, False, 1000) == text.encode("utf-8")


def test_base64_body_is_decoded() -> None:
    raw = b'{"a":\xc3\xa9}'
    assert read_body(base64.b64encode(raw).decode(), True, 1000) == raw


@pytest.mark.parametrize(
    ("body", "is_b64", "status"),
    [
        ("x" * 101, False, 413),
        (base64.b64encode(b"x" * 101).decode(), True, 413),
        ("é" * 51, False, 413),
        ("not base64!", True, 400),
        ("\ud800", False, 400),
    ],
)
def test_raw_body_rejections(body: str, is_b64: bool, status: int) -> None:
    with pytest.raises(RequestRejected) as caught:
        read_body(body, is_b64, 100)
    assert caught.value.status_code == status


def test_none_body_is_empty() -> None:
    assert read_body(None, False, 10) == b""


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"{}", "empty JSON object"),
        (b"[1, 2]", "not a JSON array"),
        (b'"text"', "not a JSON string"),
        (b"3", "not a JSON number"),
        (b"null", "not a JSON null"),
        (b"{'a': 1}", "not valid JSON"),
        (b'{"a": NaN}', "not valid JSON"),
        (b'{"a": 1', "not valid JSON"),
        (b'{"a": "\xff"}', "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
def test_parse_rejections_are_400(raw: bytes, message: str) -> None:
    with pytest.raises(RequestRejected, match=message) as caught:
        parse_submission(raw)
    assert caught.value.status_code == 400


def test_parse_accepts_an_object_and_counts_fields() -> None:
    submission = parse_submission(b'{"a": 1, "b": [1, 2]}')
    assert submission.field_count == 2
    assert submission.body == b'{"a": 1, "b": [1, 2]}'
