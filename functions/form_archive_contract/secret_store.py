"""Secrets the functions are given by reference and read at run time, cached per container.

A reference is what a template parameter names: an SSM parameter name (it starts with `/`, and must be a
SecureString or String) or a Secrets Manager secret name or ARN. The value never travels in the function's
configuration, and a rotated value is picked up within `CACHE_SECONDS`. A Secrets Manager secret can
also be read with its previous value (`read_secret_versions`), for signing through a rotation, and an
HMAC key given as a value or a reference is read the same way for every function (`key_from_environ`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .settings import ServerMisconfigured

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

# How long a value read from SSM or Secrets Manager stays cached in the container (Powertools cache).
CACHE_SECONDS = 300
# Secrets Manager's version stages: the value in use, and the one it replaced at the last rotation.
CURRENT_STAGE = "AWSCURRENT"
PREVIOUS_STAGE = "AWSPREVIOUS"
_VERSIONS_PROVIDER = "secret_versions"
_PROVIDERS = ("ssm", "secrets", _VERSIONS_PROVIDER)


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


def key_from_environ(
    environ: Mapping[str, str], value_variable: str, parameter_variable: str, min_bytes: int, missing: str
) -> bytes:
    """An HMAC key from `value_variable` (the value; tests and local runs) or else `parameter_variable`
    (the secret it names), at least `min_bytes` long; `ServerMisconfigured` (`missing` when neither is
    set) naming the variable, never a value."""
    value = environ.get(value_variable, "").strip()
    source = value_variable
    if not value:
        reference = environ.get(parameter_variable, "").strip()
        if not reference:
            raise ServerMisconfigured(missing)
        source = parameter_variable
        try:
            value = read_secret(reference)
        except SecretUnavailable as error:
            raise ServerMisconfigured(f"{source}: {error}") from None
    key = value.encode("utf-8")
    if len(key) < min_bytes:
        raise ServerMisconfigured(f"{source} must hold at least {min_bytes} bytes")
    return key


@dataclass(frozen=True)
class SecretVersions:
    """A secret's current value and, for a Secrets Manager secret that was rotated, the previous one and
    when the current version was created (the rotation time). `repr` hides both values."""

    current: str = field(repr=False)
    previous: str | None = field(default=None, repr=False)
    current_since: datetime | None = None


def _versions_provider() -> SecretsProvider:
    """One provider per container, kept where Powertools keeps its own (so `clear_secret_cache` drops it)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider  # noqa: PLC0415
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS  # noqa: PLC0415

    class SecretStagesProvider(SecretsProvider):
        """Reads `AWSCURRENT` and `AWSPREVIOUS` (each named, never the default) as one cached JSON value."""

        def _get(self, name: str, **sdk_options: Any) -> str:
            current = self.client.get_secret_value(SecretId=name, VersionStage=CURRENT_STAGE)
            try:
                previous: Any = self.client.get_secret_value(SecretId=name, VersionStage=PREVIOUS_STAGE)
            except self.client.exceptions.ResourceNotFoundException:  # never rotated
                previous = None
            return json.dumps(
                {
                    "current": _text(current),
                    "previous": None if previous is None else _text(previous),
                    "current_since": current["CreatedDate"].isoformat(),
                }
            )

    provider = DEFAULT_PROVIDERS.get(_VERSIONS_PROVIDER)
    if provider is None:
        provider = DEFAULT_PROVIDERS[_VERSIONS_PROVIDER] = SecretStagesProvider()
    return provider


def _text(response: Any) -> str:
    """A version's value as text: `SecretString`, or `SecretBinary` decoded as UTF-8, stripped."""
    value = response["SecretString"] if "SecretString" in response else response["SecretBinary"]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip()


def read_secret_versions(reference: str) -> SecretVersions:
    """`read_secret`, plus the previous value and the rotation time for a Secrets Manager secret (both
    stages in one cached read); an SSM parameter has no previous value."""
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - only when configured

    reference = reference.strip()
    if not reference or store_of(reference) == "ssm":
        return SecretVersions(read_secret(reference))
    try:
        read = _versions_provider().get(reference, max_age=CACHE_SECONDS, transform="json")
    except parameters.exceptions.GetParameterError:
        raise SecretUnavailable(
            "the secretsmanager secret could not be read (check its name and the function's permissions)"
        ) from None
    values: dict[str, Any] = dict(read)  # type: ignore[arg-type]
    return SecretVersions(
        current=values["current"],
        previous=values["previous"],
        current_since=datetime.fromisoformat(values["current_since"]),
    )


def clear_secret_cache() -> None:
    """Forget the providers (their clients and cached values); tests switch endpoints between cases."""
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS  # noqa: PLC0415

    for name in _PROVIDERS:
        DEFAULT_PROVIDERS.pop(name, None)
