"""Secrets the functions read at run time: an SSM SecureString or a Secrets Manager secret, cached.

A reference that starts with `/` names an SSM parameter; anything else is a Secrets Manager name or ARN.
Values are cached per container by Powertools parameters, so a warm function reads each secret once
every few minutes and a rotated value arrives without a redeploy.
"""

from __future__ import annotations

SECRET_CACHE_SECONDS = 300


class SecretUnavailable(Exception):
    """The secret could not be read; the message names the reference's kind, never a value."""


def read_secret(reference: str) -> str:
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - only when configured

    try:
        if reference.startswith("/"):
            value = parameters.get_parameter(reference, decrypt=True, max_age=SECRET_CACHE_SECONDS)
        else:
            value = parameters.get_secret(reference, max_age=SECRET_CACHE_SECONDS)
    except parameters.exceptions.GetParameterError:
        kind = "SSM parameter" if reference.startswith("/") else "Secrets Manager secret"
        raise SecretUnavailable(f"the {kind} could not be read (check its name and permissions)") from None
    if not isinstance(value, str):
        raise SecretUnavailable("the secret is not text")
    return value.strip()


def clear_secret_cache() -> None:
    """Forget the providers (their clients and cached values); tests switch endpoints between cases."""
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS  # noqa: PLC0415

    DEFAULT_PROVIDERS.pop("ssm", None)
    DEFAULT_PROVIDERS.pop("secrets", None)
