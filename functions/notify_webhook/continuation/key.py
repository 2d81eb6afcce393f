"""The checkpoint key: `CHECKPOINT_KEY` (the value; tests and local runs) or
`CHECKPOINT_KEY_PARAMETER` (the Secrets Manager secret, or SSM SecureString, the stack generates), read
and cached like the other secrets. Never a key made up per container: a message sealed by one container
must open in another."""

from __future__ import annotations

from collections.abc import Mapping

from form_archive_contract.secret_store import key_from_environ
from form_archive_contract.settings import ServerMisconfigured

from .sealing import MIN_KEY_BYTES

VALUE_VARIABLE = "CHECKPOINT_KEY"
PARAMETER_VARIABLE = "CHECKPOINT_KEY_PARAMETER"


class CheckpointKeyMissing(Exception):
    """No usable key; the message names the variable, never a value."""


def checkpoint_key(environ: Mapping[str, str]) -> bytes:
    """The HMAC key (at least 16 bytes) from the value or the secret it names."""
    if environ.get(VALUE_VARIABLE, "").strip() and environ.get(PARAMETER_VARIABLE, "").strip():
        raise CheckpointKeyMissing(f"set {VALUE_VARIABLE} or {PARAMETER_VARIABLE}, not both")
    missing = f"work beyond one invocation needs {VALUE_VARIABLE} or {PARAMETER_VARIABLE}"
    try:
        return key_from_environ(environ, VALUE_VARIABLE, PARAMETER_VARIABLE, MIN_KEY_BYTES, missing)
    except ServerMisconfigured as error:
        raise CheckpointKeyMissing(str(error)) from None
