"""form_archive_contract.secret_store: one reader for secrets given by reference (SSM or Secrets Manager)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from form_archive_contract.secret_store import SecretUnavailable, clear_secret_cache, read_secret, store_of


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    clear_secret_cache()
    yield
    clear_secret_cache()


@pytest.mark.parametrize(
    ("reference", "store"),
    [
        ("/form-archive/webhook-secret", "ssm"),
        ("form-archive/webhook", "secretsmanager"),
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf", "secretsmanager"),
    ],
)
def test_store_of(reference: str, store: str) -> None:
    assert store_of(reference) == store


def test_reads_ssm_securestring_and_secrets_manager_by_name_and_arn() -> None:
    with mock_aws():
        boto3.client("ssm").put_parameter(Name="/app/secret", Value=" testing-ssm\n", Type="SecureString")
        secrets = boto3.client("secretsmanager")
        arn = secrets.create_secret(Name="app/secret", SecretString="testing-sm")["ARN"]
        secrets.create_secret(Name="app/binary", SecretBinary=b"testing-binary")
        assert read_secret("/app/secret") == "testing-ssm"
        assert read_secret("app/secret") == "testing-sm"
        assert read_secret(arn) == "testing-sm"
        assert read_secret("app/binary") == "testing-binary"


def test_values_are_cached_until_the_cache_is_cleared() -> None:
    with mock_aws():
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(Name="app/rotated", SecretString="testing-old")
        assert read_secret("app/rotated") == "testing-old"
        secrets.put_secret_value(SecretId="app/rotated", SecretString="testing-new")
        assert read_secret("app/rotated") == "testing-old", "a warm container reuses the value"
        clear_secret_cache()
        assert read_secret("app/rotated") == "testing-new"


@pytest.mark.parametrize("reference", ["/app/missing", "app/missing", "  "])
def test_missing_secret_is_an_error_that_names_the_store(reference: str) -> None:
    with mock_aws(), pytest.raises(SecretUnavailable) as raised:
        read_secret(reference)
    assert "secret" in str(raised.value)
