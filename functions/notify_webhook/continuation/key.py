"""The checkpoint key: `CHECKPOINT_KEY` (the value; tests and local runs) or
`CHECKPOINT_KEY_PARAMETER` (the Secrets Manager secret, or SSM SecureString, the stack generates), read
and cached like the other secrets. Never a key made up per container: a message sealed by one container
must open in another."""

from __future__ import annotations

from collections.abc import Mapping

from form_archive_contract.secret_store import SecretUnavailable, read_secret

from .sealing import MIN_KEY_BYTES

VALUE_VARIABLE = "CHECKPOINT_KEY"
PARAMETER_VARIABLE = "CHECKPOINT_KEY_PARAMETER"


class CheckpointKeyMissing(Exception):
    """No usable key; the message names the variable, never a value."""


def checkpoint_key(environ: Mapping[str, str]) -> bytes:
    """The HMAC key (at least 16 bytes) from the value or the secret it names."""
    value = environ.get(VALUE_VARIABLE, "").strip()
    reference = environ.get(PARAMETER_VARIABLE, "").strip()
    if value and reference:
        raise CheckpointKeyMissing(f"set {VALUE_VARIABLE} or {PARAMETER_VARIABLE}, not both")
    source = VALUE_VARIABLE
    if not value:
        if not reference:
            raise CheckpointKeyMissing(
                f"work beyond one invocation needs {VALUE_VARIABLE} or {PARAMETER_VARIABLE}"
            )
        source = PARAMETER_VARIABLE
        try:
            value = read_secret(reference)
        except SecretUnavailable as error:
            raise CheckpointKeyMissing(f"{source}: {error}") from None
    key = value.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise CheckpointKeyMissing(f"{source} must hold at least {MIN_KEY_BYTES} bytes")
    return key
