"""The contract the functions share: metadata names, uploader values, RFC 2047 text, S3 error codes."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from form_archive_contract.metadata import (
    ARCHIVE_SUBMISSION,
    DEFAULT_ACCEPTED_UPLOADERS,
    KNOWN_UPLOADERS,
    PRESIGNED_URL,
    decode_metadata_value,
    encode_metadata_value,
)
from form_archive_contract.s3 import error_code


def test_uploader_names_are_the_ones_receivers_know() -> None:
    assert ARCHIVE_SUBMISSION == "archive-submission"
    assert PRESIGNED_URL == "presigned-url"
    assert set(DEFAULT_ACCEPTED_UPLOADERS) <= KNOWN_UPLOADERS


@pytest.mark.parametrize("text", ["Jane Doe", "Zoë Ångström", "李小龙", "a=?b?=c", "emoji 🎉 in a name"])
def test_metadata_values_round_trip_through_rfc2047(text: str) -> None:
    encoded = encode_metadata_value(text)
    assert encoded.isascii()
    assert decode_metadata_value(encoded) == text


def test_ascii_values_are_stored_as_they_are() -> None:
    assert encode_metadata_value("jane@example.test") == "jane@example.test"


def test_decoding_what_s3_returns_for_non_ascii_metadata() -> None:
    """S3 answers a non-ASCII metadata value as an RFC 2047 encoded-word (UTF-8, Q or B)."""
    assert decode_metadata_value("=?UTF-8?Q?Zo=C3=AB?=") == "Zoë"
    assert decode_metadata_value("=?UTF-8?B?Wm/Dqw==?=") == "Zoë"


def test_encoded_words_next_to_plain_text_keep_their_spacing() -> None:
    assert decode_metadata_value("=?UTF-8?Q?Jos=C3=A9?=@example.test") == "José@example.test"
    assert decode_metadata_value("Dr =?UTF-8?B?Wm/Dqw==?= Doe") == "Dr Zoë Doe"
    assert decode_metadata_value("=?UTF-8?Q?a?= =?UTF-8?Q?b?=") == "ab"  # RFC 2047: the space between goes


@pytest.mark.parametrize("value", [None, "", "plain", "=?broken", "=?UTF-8?B?***?="])
def test_values_that_are_not_encoded_words_stay_as_they_are(value: str | None) -> None:
    assert decode_metadata_value(value) == value


def test_error_code_reads_the_s3_code_and_tolerates_a_missing_one() -> None:
    error = ClientError({"Error": {"Code": "AccessDenied", "Message": "x"}}, "PutObject")
    assert error_code(error) == "AccessDenied"
    assert error_code(ClientError({}, "PutObject")) == "Unknown"
