from __future__ import annotations

from typing import Any

import pytest

from archive_submission.config import ConfigError, parse_archive_config


def test_minimal_config_uses_default_credential_chain() -> None:
    target = parse_archive_config({"aws_s3_bucket": {"bucket_name": "forms"}})
    assert target.bucket_name == "forms"
    assert target.bucket_path == ""
    assert (target.access_key_id, target.secret_access_key) == (None, None)
    assert target.warnings == ()


def test_alternative_spelling_and_all_fields() -> None:
    target = parse_archive_config(
        {
            "awss3bucket": {
                "name": "contact form",
                "bucket_name": "forms",
                "bucket_path": "/contact//2026/",
                "aws_region_name": "eu-west-1",
                "aws_access_key_id": "testing",
                "aws_secret_access_key": "testing-secret-value",
                "endpoint_url": "http://127.0.0.1:5000",
            }
        }
    )
    assert target.bucket_path == "contact/2026"
    assert target.region_name == "eu-west-1"
    assert target.endpoint_url == "http://127.0.0.1:5000"
    assert target.name == "contact form"
    assert "testing-secret-value" not in repr(target)


def test_unknown_keys_become_warnings() -> None:
    target = parse_archive_config({"aws_s3_bucket": {"bucket_name": "forms", "colour": "blue"}})
    assert target.warnings == ("ignoring unknown config key 'aws_s3_bucket.colour'",)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (None, "config is missing"),
        ([], "config must be a dict"),
        ({}, "no 'aws_s3_bucket' section"),
        ({"aws_s3_bucket": "forms"}, "must be a dict"),
        ({"aws_s3_bucket": {}}, "bucket_name' is required"),
        ({"aws_s3_bucket": {"bucket_name": ""}}, "bucket_name' is required"),
        ({"aws_s3_bucket": {"bucket_name": "   "}}, "bucket_name' is required"),
        ({"aws_s3_bucket": {"bucket_name": 7}}, "bucket_name' is required"),
        ({"aws_s3_bucket": {"bucket_name": "f", "bucket_path": 3}}, "bucket_path' must be a string"),
        ({"aws_s3_bucket": {"bucket_name": "f", "bucket_path": "a/../b"}}, "'..' segment"),
        ({"aws_s3_bucket": {"bucket_name": "f", "bucket_path": "./a"}}, "'.' segment"),
        ({"aws_s3_bucket": {"bucket_name": "f", "aws_access_key_id": "testing"}}, "both"),
        ({"aws_s3_bucket": {"bucket_name": "f", "aws_secret_access_key": "testing"}}, "both"),
        ({"aws_s3_bucket": {"bucket_name": "f", "aws_access_key_id": ""}}, "non-empty string"),
        ({"aws_s3_bucket": {"bucket_name": "f"}, "awss3bucket": {"bucket_name": "g"}}, "keep one"),
    ],
)
def test_faulty_config_names_the_problem(config: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_archive_config(config)


def test_error_never_contains_the_secret() -> None:
    secret = "testing-very-secret-do-not-print"
    with pytest.raises(ConfigError) as caught:
        parse_archive_config({"aws_s3_bucket": {"bucket_name": "f", "aws_secret_access_key": secret}})
    assert secret not in str(caught.value)
