"""Environment parsing: defaults, clear errors that name the variable, and the secret's two sources."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from form_archive_contract.settings import ServerMisconfigured
from notify_webhook.settings import load_settings

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BASE = {"WEBHOOK_URL": "https://hooks.example.test/archive", "WEBHOOK_SECRET_TOKEN": SECRET}


def test_defaults() -> None:
    settings = load_settings(BASE)
    assert settings.webhook_url == BASE["WEBHOOK_URL"]
    assert settings.secret == SECRET
    assert settings.accepted_uploaders == frozenset({"presigned-url"})
    assert settings.timeout_seconds == 10
    assert settings.max_attempts == 3
    assert settings.body_token is None
    assert settings.backoff_base_seconds == 0.5
    assert SECRET not in repr(settings)


def test_every_variable_is_read() -> None:
    settings = load_settings(
        {
            **BASE,
            "ACCEPTED_UPLOADERS": " presigned-url , archive-submission,,",
            "WEBHOOK_TIMEOUT_SECONDS": "2.5",
            "WEBHOOK_MAX_ATTEMPTS": "5",
            "WEBHOOK_BODY_TOKEN": "testing-body-token",
            "WEBHOOK_BACKOFF_BASE_SECONDS": "0",
        }
    )
    assert settings.accepted_uploaders == frozenset({"presigned-url", "archive-submission"})
    assert settings.timeout_seconds == 2.5
    assert settings.max_attempts == 5
    assert settings.body_token == "testing-body-token"
    assert "testing-body-token" not in repr(settings)
    assert settings.backoff_base_seconds == 0


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"WEBHOOK_URL": ""}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "ftp://example.test/x"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "hooks.example.test/archive"}, "WEBHOOK_URL"),
        ({"WEBHOOK_SECRET_TOKEN": "  "}, "WEBHOOK_SECRET_TOKEN"),
        ({"WEBHOOK_SECRET_PARAMETER": "/webhook/secret"}, "WEBHOOK_SECRET_PARAMETER"),
        ({"WEBHOOK_SECRET_TOKEN": "whsec_%%%not-base64%%%"}, "WEBHOOK_SECRET_TOKEN"),
        ({"WEBHOOK_TIMEOUT_SECONDS": "ten"}, "WEBHOOK_TIMEOUT_SECONDS"),
        ({"WEBHOOK_TIMEOUT_SECONDS": "0"}, "WEBHOOK_TIMEOUT_SECONDS"),
        ({"WEBHOOK_TIMEOUT_SECONDS": "nan"}, "WEBHOOK_TIMEOUT_SECONDS"),
        ({"WEBHOOK_MAX_ATTEMPTS": "0"}, "WEBHOOK_MAX_ATTEMPTS"),
        ({"WEBHOOK_MAX_ATTEMPTS": "2.5"}, "WEBHOOK_MAX_ATTEMPTS"),
        ({"WEBHOOK_MAX_ATTEMPTS": "11"}, "WEBHOOK_MAX_ATTEMPTS"),
        ({"WEBHOOK_SECRET_IN_BODY": "maybe"}, "WEBHOOK_SECRET_IN_BODY is retired.*WEBHOOK_BODY_TOKEN"),
        ({"WEBHOOK_SECRET_IN_BODY": "false"}, "WEBHOOK_SECRET_IN_BODY is retired.*WEBHOOK_BODY_TOKEN"),
        ({"WEBHOOK_SECRET_IN_BODY": ""}, "WEBHOOK_SECRET_IN_BODY is retired.*WEBHOOK_BODY_TOKEN"),
        ({"WEBHOOK_BODY_TOKEN": SECRET}, "WEBHOOK_BODY_TOKEN must differ from the webhook signing secret"),
        (
            {"WEBHOOK_BODY_TOKEN": "a", "WEBHOOK_BODY_TOKEN_PARAMETER": "/p"},
            "WEBHOOK_BODY_TOKEN or WEBHOOK_BODY_TOKEN_PARAMETER",
        ),
        ({"ACCEPTED_UPLOADERS": " , "}, "ACCEPTED_UPLOADERS"),
        ({"WEBHOOK_BACKOFF_BASE_SECONDS": "-1"}, "WEBHOOK_BACKOFF_BASE_SECONDS"),
        ({"WEBHOOK_ALLOW_HTTP": "sometimes"}, "WEBHOOK_ALLOW_HTTP"),
    ],
)
def test_configuration_errors_name_the_variable_and_never_the_secret(
    changes: dict[str, str], named: str
) -> None:
    environ = {**BASE, **changes}
    with pytest.raises(ServerMisconfigured, match=named) as raised:
        load_settings(environ)
    assert SECRET.removeprefix("whsec_") not in str(raised.value)
    assert "not-base64" not in str(raised.value)


def test_missing_url_and_missing_secret() -> None:
    with pytest.raises(ServerMisconfigured, match="WEBHOOK_URL is not set"):
        load_settings({"WEBHOOK_SECRET_TOKEN": SECRET})
    with pytest.raises(
        ServerMisconfigured, match="WEBHOOK_SECRET_TOKEN or WEBHOOK_SECRET_PARAMETER must be set"
    ):
        load_settings({"WEBHOOK_URL": BASE["WEBHOOK_URL"]})


def test_secret_from_an_ssm_securestring_parameter() -> None:
    with mock_aws():
        boto3.client("ssm").put_parameter(Name="/notify/secret", Value=SECRET, Type="SecureString")
        settings = load_settings(
            {"WEBHOOK_URL": BASE["WEBHOOK_URL"], "WEBHOOK_SECRET_PARAMETER": "/notify/secret"}
        )
    assert settings.secret == SECRET


def test_body_token_from_an_ssm_securestring_parameter() -> None:
    with mock_aws():
        boto3.client("ssm").put_parameter(
            Name="/notify/body-token", Value="testing-token", Type="SecureString"
        )
        boto3.client("ssm").put_parameter(Name="/notify/same", Value=SECRET, Type="SecureString")
        settings = load_settings({**BASE, "WEBHOOK_BODY_TOKEN_PARAMETER": "/notify/body-token"})
        with pytest.raises(ServerMisconfigured, match="WEBHOOK_BODY_TOKEN_PARAMETER must differ") as raised:
            load_settings({**BASE, "WEBHOOK_BODY_TOKEN_PARAMETER": "/notify/same"})
        with pytest.raises(
            ServerMisconfigured, match="WEBHOOK_BODY_TOKEN_PARAMETER: the ssm secret could not be read"
        ):
            load_settings({**BASE, "WEBHOOK_BODY_TOKEN_PARAMETER": "/notify/missing"})
    assert settings.body_token == "testing-token"
    assert SECRET.removeprefix("whsec_") not in str(raised.value)


def test_generated_secret_from_secrets_manager_gets_the_whsec_prefix() -> None:
    """The stack's generated secret is a bare base64 key; WEBHOOK_SECRET_PREFIX=whsec_ makes it the
    Standard Webhooks secret the receiver is given (make webhook-secret prints the same)."""
    bare = SECRET.removeprefix("whsec_")
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(Name="stack-webhook", SecretString=bare)["ARN"]
        generated = load_settings(
            {
                "WEBHOOK_URL": BASE["WEBHOOK_URL"],
                "WEBHOOK_SECRET_PARAMETER": arn,
                "WEBHOOK_SECRET_PREFIX": "whsec_",
            }
        )
        by_name = load_settings(
            {"WEBHOOK_URL": BASE["WEBHOOK_URL"], "WEBHOOK_SECRET_PARAMETER": "stack-webhook"}
        )
    assert generated.secret == SECRET
    assert by_name.secret == bare, "an existing secret is used as it is"


def test_an_empty_body_token_means_none() -> None:
    assert (
        load_settings({**BASE, "WEBHOOK_BODY_TOKEN": "  ", "WEBHOOK_BODY_TOKEN_PARAMETER": ""}).body_token
        is None
    )


def test_missing_parameter_is_a_configuration_error() -> None:
    with mock_aws(), pytest.raises(ServerMisconfigured, match="WEBHOOK_SECRET_PARAMETER"):
        load_settings({"WEBHOOK_URL": BASE["WEBHOOK_URL"], "WEBHOOK_SECRET_PARAMETER": "/notify/missing"})


@pytest.mark.parametrize(
    ("url", "allow_http", "message"),
    [
        ("http://127.0.0.1:8000/webhook", None, "must be an https:// URL"),
        ("http://hooks.example.test/archive", "false", "must be an https:// URL"),
        ("HTTP://hooks.example.test/archive", None, "must be an https:// URL"),
        ("ftp://hooks.example.test/archive", "true", "http:// or https://"),
        ("file:///etc/passwd", "true", "http:// or https://"),
        ("https://user:testing-password@hooks.example.test/archive", None, "must not carry credentials"),
        ("https://user@hooks.example.test/archive", None, "must not carry credentials"),
        ("https://:testing-password@hooks.example.test/archive", None, "must not carry credentials"),
        ("http://user:testing-password@127.0.0.1/x", "true", "must not carry credentials"),
        ("https:///archive", None, "must name a host"),
        ("https://:443/archive", None, "must name a host"),
        ("https://hooks.example.test:99999/archive", None, "not a valid URL"),
        ("https://[::1/archive", None, "not a valid URL"),
    ],
)
def test_ssrf_guard_https_only_a_host_and_no_credentials(
    url: str, allow_http: str | None, message: str
) -> None:
    environ = {**BASE, "WEBHOOK_URL": url}
    if allow_http is not None:
        environ["WEBHOOK_ALLOW_HTTP"] = allow_http
    with pytest.raises(ServerMisconfigured, match=message) as raised:
        load_settings(environ)
    assert str(raised.value).startswith("WEBHOOK_URL")
    assert "testing-password" not in str(raised.value)
    assert url not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "allow_http"),
    [
        ("https://hooks.example.test/archive?x=1", None),
        ("HTTPS://hooks.example.test:8443/archive", "false"),
        ("https://[::1]:8443/archive", None),
        ("http://127.0.0.1:8000/webhook", "true"),
        ("http://localhost/webhook", "yes"),
        ("https://hooks.example.test/archive", "true"),
    ],
)
def test_ssrf_guard_accepts_https_and_http_only_when_allowed(url: str, allow_http: str | None) -> None:
    environ = {**BASE, "WEBHOOK_URL": url}
    if allow_http is not None:
        environ["WEBHOOK_ALLOW_HTTP"] = allow_http
    assert load_settings(environ).webhook_url == url
