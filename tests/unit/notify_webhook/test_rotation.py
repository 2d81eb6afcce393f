"""notify_webhook.rotation and the settings around it: which secrets sign a delivery through a rotation."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from form_archive_contract.secret_store import SecretVersions, clear_secret_cache, read_secret_versions
from form_archive_contract.settings import ServerMisconfigured
from notify_webhook.rotation import (
    DEFAULT_OVERLAP_HOURS,
    OverlapSettingError,
    SigningSecrets,
    overlap_hours,
    signing_secrets,
)
from notify_webhook.settings import load_settings
from notify_webhook.signing import InvalidSecret, sign, signature_headers, verify_headers, verify_signature

NEW = "whsec_" + base64.b64encode(b"testing-new-key-24-bytes").decode()
OLD = "whsec_" + base64.b64encode(b"testing-old-key-24-bytes").decode()
ROTATED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = 3600


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    clear_secret_cache()
    yield
    clear_secret_cache()


def test_both_secrets_sign_until_the_overlap_ends_then_only_the_new_one() -> None:
    secrets = signing_secrets(NEW, SecretVersions(NEW, OLD, ROTATED), "whsec_", 24)
    start = ROTATED.timestamp()
    assert secrets.at(start) == (NEW, OLD)
    assert secrets.at(start + 24 * HOUR - 1) == (NEW, OLD)
    assert secrets.at(start + 24 * HOUR) == (NEW,), "the window is half-open: it ends at rotation + 24 h"
    assert secrets.note is None


def test_the_previous_bare_key_gets_the_prefix_like_the_current_one() -> None:
    bare = OLD.removeprefix("whsec_")
    secrets = signing_secrets(NEW, SecretVersions(NEW.removeprefix("whsec_"), bare, ROTATED), "whsec_", 24)
    assert secrets.at(ROTATED.timestamp()) == (NEW, OLD)


@pytest.mark.parametrize(
    ("versions", "note"),
    [
        (SecretVersions(NEW, None, ROTATED), "no previous webhook secret (AWSPREVIOUS)"),
        (SecretVersions(NEW, "whsec_not*base64", ROTATED), "not a usable key"),
        (SecretVersions(NEW, "", ROTATED), "not a usable key"),
        (SecretVersions(NEW, OLD, None), "rotation time is unknown"),
    ],
    ids=["never-rotated", "malformed", "empty", "no-time"],
)
def test_no_usable_previous_secret_means_one_signature_and_a_note(
    versions: SecretVersions, note: str
) -> None:
    secrets = signing_secrets(NEW, versions, "whsec_", 24)
    assert secrets.at(ROTATED.timestamp()) == (NEW,)
    assert secrets.note is not None and note in secrets.note
    assert "whsec_" not in secrets.note and "not*base64" not in secrets.note, "never a value"


def test_a_previous_value_equal_to_the_current_one_signs_once() -> None:
    assert signing_secrets(NEW, SecretVersions(NEW, NEW, ROTATED), "", 24).at(ROTATED.timestamp()) == (NEW,)


def test_zero_hours_never_sends_the_previous_secret() -> None:
    assert signing_secrets(NEW, SecretVersions(NEW, OLD, ROTATED), "", 0).at(ROTATED.timestamp()) == (NEW,)


@pytest.mark.parametrize(
    ("raw", "hours"), [("", DEFAULT_OVERLAP_HOURS), ("0", 0.0), ("1.5", 1.5), ("720", 720)]
)
def test_overlap_hours(raw: str, hours: float) -> None:
    assert overlap_hours({"WEBHOOK_ROTATION_OVERLAP_HOURS": raw}) == hours


@pytest.mark.parametrize("raw", ["-1", "721", "nan", "inf", "a day"])
def test_overlap_hours_out_of_range_is_refused_by_name(raw: str) -> None:
    with pytest.raises(OverlapSettingError, match="WEBHOOK_ROTATION_OVERLAP_HOURS"):
        overlap_hours({"WEBHOOK_ROTATION_OVERLAP_HOURS": raw})


def test_secrets_are_hidden_from_repr() -> None:
    text = repr(SigningSecrets(NEW, OLD, ROTATED))
    assert NEW not in text and OLD not in text


def test_two_signatures_any_of_which_verifies() -> None:
    body = b'{"display": "x.json"}'
    headers = signature_headers((NEW, OLD), "msg_1", body, timestamp=1_800_000_000)
    first, second = headers["webhook-signature"].split(" ")
    assert first.startswith("v1,") and second.startswith("v1,") and first != second
    now = 1_800_000_000
    with mock.patch("notify_webhook.signing.time.time", return_value=now):
        assert verify_headers(NEW, headers, body)
        assert verify_headers(OLD, headers, body)
        assert verify_headers([OLD, NEW], headers, body), "a receiver listing both"
        assert not verify_headers("whsec_" + base64.b64encode(b"testing-other").decode(), headers, body)
        assert not verify_headers(NEW, {**headers, "webhook-signature": second}, body), "only the old one"


def _stack_env(secret_id: str, **extra: str) -> dict[str, str]:
    return {
        "WEBHOOK_URL": "https://receiver.example/webhook",
        "WEBHOOK_SECRET_PARAMETER": secret_id,
        "WEBHOOK_SECRET_PREFIX": "whsec_",
        **extra,
    }


def test_settings_read_both_stages_of_a_rotated_secrets_manager_secret() -> None:
    with mock_aws():
        client = boto3.client("secretsmanager")
        arn = client.create_secret(Name="app/webhook", SecretString=OLD.removeprefix("whsec_"))["ARN"]
        client.put_secret_value(SecretId=arn, SecretString=NEW.removeprefix("whsec_"))
        settings = load_settings(_stack_env(arn))
        versions = read_secret_versions(arn)
    assert settings.secret == NEW
    signing = settings.signing_secrets()
    assert signing.previous == OLD and signing.note is None
    assert versions.current_since is not None
    assert signing.at(versions.current_since.timestamp()) == (NEW, OLD)
    assert signing.at((versions.current_since + timedelta(hours=24)).timestamp()) == (NEW,)


def test_settings_name_the_stage_on_every_read() -> None:
    """The role may read only AWSCURRENT and AWSPREVIOUS (template condition on secretsmanager:VersionStage):
    a read without a stage would be refused in AWS."""
    calls: list[dict[str, object]] = []
    with mock_aws():
        client = boto3.client("secretsmanager")
        arn = client.create_secret(Name="app/webhook", SecretString="testing-key")["ARN"]
        from botocore.client import BaseClient  # noqa: PLC0415

        original = BaseClient._make_api_call  # type: ignore[attr-defined]

        def record(self: BaseClient, operation: str, params: dict[str, object]) -> object:
            if operation == "GetSecretValue":
                calls.append(params)
            return original(self, operation, params)

        with mock.patch.object(BaseClient, "_make_api_call", record):
            load_settings(_stack_env(arn, WEBHOOK_SECRET_PREFIX=""))
    assert sorted(str(call["VersionStage"]) for call in calls) == ["AWSCURRENT", "AWSPREVIOUS"]


def test_a_never_rotated_secret_signs_once_with_a_note() -> None:
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(Name="app/webhook", SecretString="testing-key")[
            "ARN"
        ]
        signing = load_settings(_stack_env(arn, WEBHOOK_SECRET_PREFIX="")).signing_secrets()
    assert signing.previous is None and signing.note is not None


def test_ssm_and_plain_values_keep_one_signature() -> None:
    with mock_aws():
        ssm = boto3.client("ssm")
        ssm.put_parameter(Name="/app/webhook", Value=OLD, Type="SecureString")
        ssm.put_parameter(Name="/app/webhook", Value=NEW, Type="SecureString", Overwrite=True)
        from_ssm = load_settings(_stack_env("/app/webhook", WEBHOOK_SECRET_PREFIX="")).signing_secrets()
    plain = load_settings({"WEBHOOK_URL": "https://receiver.example/webhook", "WEBHOOK_SECRET_TOKEN": NEW})
    for signing in (from_ssm, plain.signing_secrets()):
        assert signing.current == NEW and signing.previous is None and signing.note is None
        assert signing.at(ROTATED.timestamp()) == (NEW,)


def test_a_bad_overlap_setting_is_a_configuration_error() -> None:
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(Name="app/webhook", SecretString="testing-key")[
            "ARN"
        ]
        with pytest.raises(ServerMisconfigured, match="WEBHOOK_ROTATION_OVERLAP_HOURS"):
            load_settings(_stack_env(arn, WEBHOOK_SECRET_PREFIX="", WEBHOOK_ROTATION_OVERLAP_HOURS="-3"))


@given(
    timestamp=st.one_of(st.text(max_size=40), st.integers()),
    msg_id=st.text(max_size=40),
    signature=st.lists(st.text(max_size=60), max_size=4).map(" ".join),
)
def test_verify_with_a_list_of_secrets_never_raises_on_any_header(
    timestamp: Any, msg_id: str, signature: str
) -> None:
    """Several secrets and several signatures: still False (never an exception) for any malformed header."""
    assert verify_signature([OLD, NEW], msg_id, timestamp, b"{}", signature, now=1_800_000_000.0) in (
        True,
        False,
    )


def test_verify_with_a_list_accepts_any_signature_of_any_secret_and_refuses_an_empty_list() -> None:
    body = b'{"a": 1}'
    stamp = 1_800_000_000
    header = " ".join(["v1,garbage", "v0,x", sign(OLD, "msg_1", stamp, body)])
    assert verify_signature([NEW, OLD], "msg_1", stamp, body, header, now=float(stamp))
    assert not verify_signature([NEW], "msg_1", stamp, body, header, now=float(stamp))
    with pytest.raises(InvalidSecret):
        verify_signature([], "msg_1", stamp, body, header, now=float(stamp))
