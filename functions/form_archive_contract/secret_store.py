"""Secrets the functions are given by reference and read at run time, cached per container.

A reference is what a template parameter names: an SSM parameter name (it starts with `/`, and must be a
SecureString or String) or a Secrets Manager secret name or ARN. The value never travels in the function's
configuration, and a rotated value is picked up within `CACHE_SECONDS`.
"""

from __future__ import annotations

from typing import Any

# How long a value read from SSM or Secrets Manager stays cached in the container (Powertools cache).
CACHE_SECONDS = 300
_PROVIDERS = ("ssm", "secrets")


class SecretUnavailable(Exception):
    """The reference could not be read; the message names the store, never a value."""


def store_of(reference: str) -> str:
    """`ssm` for a name starting with `/`, otherwise `secretsmanager` (a secret's name or ARN)."""
    return "ssm" if reference.startswith("/") else "secretsmanager"


def read_secret(reference: str) -> str:
    """The value behind `reference`, stripped of surrounding whitespace, through Powertools parameters
    (decrypted, cached for `CACHE_SECONDS`)."""
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - only when configured

    reference = reference.strip()
    if not reference:
        raise SecretUnavailable("no secret reference given")
    store = store_of(reference)
    value: Any  # str; bytes for a Secrets Manager secret stored as binary
    try:
        if store == "ssm":
            value = parameters.get_parameter(reference, decrypt=True, max_age=CACHE_SECONDS)
        else:
            value = parameters.get_secret(reference, max_age=CACHE_SECONDS)
    except parameters.exceptions.GetParameterError:
        raise SecretUnavailable(
            f"the {store} secret could not be read (check its name and the function's permissions)"
        ) from None
    if isinstance(value, bytes):  # a Secrets Manager secret stored as binary
        value = value.decode("utf-8")
    return str(value).strip()


def clear_secret_cache() -> None:
    """Forget the providers (their clients and cached values); tests switch endpoints between cases."""
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS  # noqa: PLC0415

    for name in _PROVIDERS:
        DEFAULT_PROVIDERS.pop(name, None)
