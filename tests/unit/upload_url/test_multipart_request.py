"""The multipart routes' request parser, part plan and upload token: rules, and properties over any input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from form_archive_contract.api_events import RequestRejected
from upload_url.multipart.plan import MIB, S3_MAX_PARTS, S3_MIN_PART_BYTES, plan_parts
from upload_url.multipart.request import (
    MAX_MULTIPART_REQUEST_BYTES,
    check_part_numbers,
    parse_complete_request,
    parse_parts_request,
    parse_token_request,
    read_json_object,
)
from upload_url.multipart.token import UploadClaims, issue_token, verify_token
from upload_url.settings import S3_MAX_OBJECT_BYTES

KEY = b"testing-upload-token-key"
CLAIMS = UploadClaims(
    bucket="b",
    key="DP/a.bin",
    upload_id="u-1",
    size=12 * MIB,
    part_size=5 * MIB,
    issued_at=100,
    expires_at=200,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
part_like = st.fixed_dictionaries(
    {},
    optional={
        "part_number": st.integers(-5, 10_005) | json_values,
        "sha256": st.text("0123456789abcdefABCDEFxyz", min_size=60, max_size=66) | json_values,
        "etag": st.text(max_size=40) | json_values,
    },
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "upload_token": json_values,
        "parts": st.lists(part_like, max_size=6) | json_values,
        "x": json_values,
    },
)


@given(documents)
def test_the_parsers_answer_a_request_or_a_4xx_never_anything_else(document: dict[str, Any]) -> None:
    for parse in (parse_parts_request, parse_complete_request, parse_token_request):
        try:
            request = parse(document)
        except RequestRejected as error:
            assert 400 <= error.status_code < 500
            assert ":" in error.message
        else:
            numbers = [part.part_number for part in request.parts]
            assert len(numbers) == len(set(numbers))
            assert all(1 <= number <= S3_MAX_PARTS for number in numbers)
            assert all(
                len(part.sha256) == 64 and part.sha256 == part.sha256.lower() for part in request.parts
            )


@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda raw: raw.decode("latin-1")), st.booleans())
def test_any_body_is_an_object_or_a_4xx(body: str, is_base64: bool) -> None:
    try:
        assert isinstance(read_json_object(body, is_base64), dict)
    except RequestRejected as error:
        assert 400 <= error.status_code < 500


@given(st.text(max_size=600) | json_values, st.binary(min_size=1, max_size=40))
def test_a_token_is_genuine_or_a_403(token: Any, key: bytes) -> None:
    try:
        claims = verify_token(key, token, bucket="b", now=150)
    except RequestRejected as error:
        assert error.status_code == 403
        assert error.message.startswith("upload_token: ")
    else:  # only a token made with the key gets through (and there is none among random text)
        assert issue_token(key, claims) == token


@given(st.integers(1, S3_MAX_OBJECT_BYTES), st.integers(S3_MIN_PART_BYTES, 5 * 1024**3))
def test_the_part_plan_keeps_s3s_limits(size: int, preferred: int) -> None:
    plan = plan_parts(size, preferred)
    assert plan.part_count <= S3_MAX_PARTS
    assert S3_MIN_PART_BYTES <= plan.part_size <= 5 * 1024**3
    assert sum(plan.part_bytes(n) for n in range(1, plan.part_count + 1)) == size
    assert 1 <= plan.part_bytes(plan.part_count) <= plan.part_size


def test_five_tib_needs_larger_parts() -> None:
    plan = plan_parts(S3_MAX_OBJECT_BYTES, 16 * MIB)
    assert (plan.part_size, plan.part_count) == (525 * MIB, 9987)


def test_a_token_round_trips_and_binds_every_claim() -> None:
    token = issue_token(KEY, CLAIMS)
    assert verify_token(KEY, token, bucket="b", now=150) == CLAIMS
    with pytest.raises(RequestRejected, match="has expired"):
        verify_token(KEY, token, bucket="b", now=200)
    with pytest.raises(RequestRejected, match="another bucket"):
        verify_token(KEY, token, bucket="other", now=150)
    with pytest.raises(RequestRejected, match="signature does not match"):
        verify_token(b"another-key-of-16-bytes", token, bucket="b", now=150)
    for field, value in (("key", "DP/b.bin"), ("upload_id", "u-2"), ("size", 1), ("part_size", 6 * MIB)):
        forged = issue_token(b"x" * 16, UploadClaims(**{**CLAIMS.__dict__, field: value}))
        spliced = ".".join([*forged.split(".")[:2], token.split(".")[2]])
        with pytest.raises(RequestRejected, match="signature does not match"):
            verify_token(KEY, spliced, bucket="b", now=150)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"parts": []}, "upload_token: is required"),
        ({"upload_token": "t"}, "parts: is required"),
        ({"upload_token": "t", "parts": "1"}, "parts: must be a non-empty list"),
        ({"upload_token": "t", "parts": [1]}, "parts[0]: must be an object"),
        (
            {"upload_token": "t", "parts": [{"part_number": 1, "sha256": "0" * 64, "x": 1}]},
            "parts[0].x: unknown field",
        ),
        (
            {"upload_token": "t", "parts": [{"part_number": 1.0, "sha256": "0" * 64}]},
            "parts[0].part_number: must be a whole number",
        ),
        (
            {"upload_token": "t", "parts": [{"part_number": 10_001, "sha256": "0" * 64}]},
            "parts[0].part_number: must be 1-10000",
        ),
        (
            {"upload_token": "t", "parts": [{"part_number": 1, "sha256": "0" * 63}]},
            "parts[0].sha256: must be 64 hexadecimal digits",
        ),
        ({"upload_token": "t", "parts": [], "more": 1}, "more: unknown field"),
    ],
)
def test_parts_request_rules(document: dict[str, Any], message: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        parse_parts_request(document)
    assert (caught.value.status_code, caught.value.message) == (400, message)


def test_complete_request_rules() -> None:
    part = {"part_number": 2, "etag": '"abc"', "sha256": "A" * 64}
    request = parse_complete_request({"upload_token": "t", "parts": [part, {**part, "part_number": 1}]})
    assert [(p.part_number, p.etag, p.sha256) for p in request.parts] == [
        (1, "abc", "a" * 64),
        (2, "abc", "a" * 64),
    ]
    with pytest.raises(RequestRejected, match=r"parts\[0\].etag: must be the ETag"):
        parse_complete_request({"upload_token": "t", "parts": [{**part, "etag": "a b"}]})
    with pytest.raises(RequestRejected, match="parts: 2 of 3 parts listed; missing part 3"):
        check_part_numbers(request.parts, 3, every=True)
    with pytest.raises(RequestRejected, match=r"parts\[1\].part_number: must be 1-1 for this upload"):
        check_part_numbers(request.parts, 1, every=False)


def test_request_size_is_checked_before_decoding() -> None:
    with pytest.raises(RequestRejected) as caught:
        read_json_object(json.dumps({"upload_token": "x" * MAX_MULTIPART_REQUEST_BYTES}), False)
    assert caught.value.status_code == 413
