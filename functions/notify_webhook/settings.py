"""The function's environment, parsed per invocation; errors name the variable, never its value."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from form_archive_contract.metadata import DEFAULT_ACCEPTED_UPLOADERS
from form_archive_contract.s3 import MAX_POOL_CONNECTIONS
from form_archive_contract.secret_store import (
    SecretUnavailable,
    SecretVersions,
    read_secret,
    read_secret_versions,
    store_of,
)
from form_archive_contract.secret_store import clear_secret_cache as _clear_store_cache
from form_archive_contract.settings import ServerMisconfigured, bounded_int

from .object_hash import DEFAULT_HASH_MIN_MIB_S, MAX_PART_BYTES, MIN_PART_BYTES, RANGE_MODES, RangedReads
from .rotation import OverlapSettingError, SigningSecrets, overlap_hours, signing_secrets, with_prefix
from .signing import InvalidSecret, signing_key

if TYPE_CHECKING:
    from .continuation.work_settings import WorkSettings

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_ATTEMPTS = 3
MAX_MAX_ATTEMPTS = 10
DEFAULT_BACKOFF_BASE_SECONDS = 0.5
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class NotifySettings:
    """`repr` hides the secret so it cannot leak through a log line or a traceback."""

    webhook_url: str
    secret: str = field(repr=False)
    accepted_uploaders: frozenset[str]
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    body_token: str | None = field(default=None, repr=False)
    backoff_base_seconds: float = DEFAULT_BACKOFF_BASE_SECONDS
    hashing: RangedReads = RangedReads()  # noqa: RUF009 - frozen, so one shared default is safe
    hash_min_mib_s: float = DEFAULT_HASH_MIN_MIB_S
    # None: no work queue, so a failed delivery raises and Lambda's retries keep the event.
    work: WorkSettings | None = None
    # The secrets a delivery is signed with: `secret`, and the previous one during a rotation's overlap.
    signing: SigningSecrets | None = field(default=None, repr=False)

    def signing_secrets(self) -> SigningSecrets:
        return self.signing if self.signing is not None else SigningSecrets(self.secret)


def _value(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _webhook_url(environ: Mapping[str, str], *, allow_http: bool) -> str:
    """Guards against sending signed notifications (and the secret) somewhere unintended: `https://` only
    unless `WEBHOOK_ALLOW_HTTP` is true (local receivers), a host, and no `user:password@` in the URL."""
    url = _value(environ, "WEBHOOK_URL")
    if url is None:
        raise ServerMisconfigured("WEBHOOK_URL is not set")
    try:
        parts = urlsplit(url)
        hostname, _port = parts.hostname, parts.port  # `.port` raises on a malformed or out-of-range port
    except ValueError:
        raise ServerMisconfigured("WEBHOOK_URL is not a valid URL") from None
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme.lower() not in schemes:
        raise ServerMisconfigured(
            "WEBHOOK_URL must be an absolute http:// or https:// URL"
            if allow_http
            else "WEBHOOK_URL must be an https:// URL (set WEBHOOK_ALLOW_HTTP=true only for a local receiver)"
        )
    if "@" in parts.netloc:
        raise ServerMisconfigured(
            "WEBHOOK_URL must not carry credentials (user:password@); the signature authenticates the sender"
        )
    if not hostname:
        raise ServerMisconfigured("WEBHOOK_URL must name a host")
    return url


def _number(environ: Mapping[str, str], name: str, default: float, *, allow_zero: bool = False) -> float:
    raw = _value(environ, name)
    if raw is None:
        return default
    try:
        number = float(raw)
    except ValueError:
        raise ServerMisconfigured(f"{name} must be a number of seconds") from None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise ServerMisconfigured(f"{name} must be a {'non-negative' if allow_zero else 'positive'} number")
    return number


def _rate(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = _value(environ, name)
    if raw is None:
        return default
    try:
        rate = float(raw)
    except ValueError:
        raise ServerMisconfigured(f"{name} must be a number (MiB/s)") from None
    if not math.isfinite(rate) or rate <= 0:
        raise ServerMisconfigured(f"{name} must be a positive number (MiB/s)")
    return rate


def _attempts(environ: Mapping[str, str]) -> int:
    raw = _value(environ, "WEBHOOK_MAX_ATTEMPTS")
    if raw is None:
        return DEFAULT_MAX_ATTEMPTS
    try:
        attempts = int(raw)
    except ValueError:
        raise ServerMisconfigured("WEBHOOK_MAX_ATTEMPTS must be an integer") from None
    if not 1 <= attempts <= MAX_MAX_ATTEMPTS:
        raise ServerMisconfigured(f"WEBHOOK_MAX_ATTEMPTS must be between 1 and {MAX_MAX_ATTEMPTS}")
    return attempts


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _value(environ, name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ServerMisconfigured(f"{name} must be true or false")


def _uploaders(environ: Mapping[str, str]) -> frozenset[str]:
    raw = _value(environ, "ACCEPTED_UPLOADERS")
    if raw is None:
        return frozenset(DEFAULT_ACCEPTED_UPLOADERS)
    names = frozenset(name.strip() for name in raw.split(",") if name.strip())
    if not names:
        raise ServerMisconfigured("ACCEPTED_UPLOADERS must list at least one uploader")
    return names


def _read_parameter(variable: str, reference: str, *, with_previous: bool) -> SecretVersions:
    """An SSM SecureString (`/name`) or a Secrets Manager secret (name or ARN; `with_previous`: its
    previous value too), decrypted and cached."""
    try:
        return read_secret_versions(reference) if with_previous else SecretVersions(read_secret(reference))
    except SecretUnavailable as error:
        raise ServerMisconfigured(f"{variable}: {error}") from None


def _value_or_parameter(
    environ: Mapping[str, str], variable: str, parameter_variable: str, *, with_previous: bool = False
) -> tuple[str, SecretVersions] | None:
    """(the variable the value came from, the value), read directly or from the secret named."""
    value = _value(environ, variable)
    parameter = _value(environ, parameter_variable)
    if value is not None and parameter is not None:
        raise ServerMisconfigured(f"set {variable} or {parameter_variable}, not both")
    if value is not None:
        return variable, SecretVersions(value)
    if parameter is not None:
        return parameter_variable, _read_parameter(parameter_variable, parameter, with_previous=with_previous)
    return None


def _secret(environ: Mapping[str, str]) -> SigningSecrets:
    found = _value_or_parameter(
        environ, "WEBHOOK_SECRET_TOKEN", "WEBHOOK_SECRET_PARAMETER", with_previous=True
    )
    if found is None:
        raise ServerMisconfigured("WEBHOOK_SECRET_TOKEN or WEBHOOK_SECRET_PARAMETER must be set")
    source, versions = found
    if not versions.current:
        raise ServerMisconfigured(f"{source}: the webhook secret is empty")
    # The stack's generated secret is a bare Standard Webhooks key; WEBHOOK_SECRET_PREFIX=whsec_ says so.
    prefix = (_value(environ, "WEBHOOK_SECRET_PREFIX") or "") if source == "WEBHOOK_SECRET_PARAMETER" else ""
    secret = with_prefix(versions.current, prefix)
    try:
        signing_key(secret)
    except InvalidSecret as error:
        raise ServerMisconfigured(f"{source}: {error}") from None
    try:
        hours = overlap_hours(environ)
    except OverlapSettingError as error:
        raise ServerMisconfigured(str(error)) from None
    if source != "WEBHOOK_SECRET_PARAMETER" or store_of(environ["WEBHOOK_SECRET_PARAMETER"].strip()) == "ssm":
        return SigningSecrets(secret)  # a plain value or an SSM parameter: one signature
    return signing_secrets(secret, versions, prefix, hours)


def _body_token(environ: Mapping[str, str], secret: str) -> str | None:
    """The separate value sent as `secret_token` for receivers that compare one; never the signing secret."""
    if "WEBHOOK_SECRET_IN_BODY" in environ:
        raise ServerMisconfigured(
            "WEBHOOK_SECRET_IN_BODY is retired: the signing secret never travels in the body; receivers "
            "verify the signature, or set WEBHOOK_BODY_TOKEN (or WEBHOOK_BODY_TOKEN_PARAMETER) to a separate "
            "value sent as secret_token"
        )
    found = _value_or_parameter(environ, "WEBHOOK_BODY_TOKEN", "WEBHOOK_BODY_TOKEN_PARAMETER")
    if found is None or not found[1].current:
        return None
    source, token = found[0], found[1].current
    if token == secret:
        raise ServerMisconfigured(
            f"{source} must differ from the webhook signing secret (a body would let anyone forge deliveries)"
        )
    return token


def _range_mode(environ: Mapping[str, str], default: str) -> str:
    raw = _value(environ, "HASH_RANGES")
    if raw is None:
        return default
    if raw.lower() not in RANGE_MODES:
        raise ServerMisconfigured(f"HASH_RANGES must be one of {', '.join(RANGE_MODES)}")
    return raw.lower()


def hash_settings(environ: Mapping[str, str]) -> RangedReads:
    """`HASH_CONNECTIONS` (at most this many ranged GETs; 1 reads every body as one stream),
    `HASH_PART_BYTES` (bytes per ranged GET) and `HASH_RANGES` (auto, always or never)."""
    defaults = RangedReads()
    return RangedReads(
        connections=bounded_int(environ, "HASH_CONNECTIONS", defaults.connections, 1, MAX_POOL_CONNECTIONS),
        part_bytes=bounded_int(
            environ, "HASH_PART_BYTES", defaults.part_bytes, MIN_PART_BYTES, MAX_PART_BYTES
        ),
        mode=_range_mode(environ, defaults.mode),
    )


def load_settings(environ: Mapping[str, str]) -> NotifySettings:
    """Cheap enough to run per invocation; the reads behind the secret and the body token are cached."""
    signing = _secret(environ)
    secret = signing.current
    return NotifySettings(
        webhook_url=_webhook_url(environ, allow_http=_flag(environ, "WEBHOOK_ALLOW_HTTP", default=False)),
        secret=secret,
        signing=signing,
        accepted_uploaders=_uploaders(environ),
        timeout_seconds=_number(environ, "WEBHOOK_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS),
        max_attempts=_attempts(environ),
        body_token=_body_token(environ, secret),
        backoff_base_seconds=_number(
            environ, "WEBHOOK_BACKOFF_BASE_SECONDS", DEFAULT_BACKOFF_BASE_SECONDS, allow_zero=True
        ),
        hashing=hash_settings(environ),
        hash_min_mib_s=_rate(environ, "HASH_MIN_MIB_S", DEFAULT_HASH_MIN_MIB_S),
        work=_work(environ),
    )


# Every variable `load_work_settings` reads before it finds no WORK_QUEUE_URL (a test holds this true).
WORK_VARIABLES = (
    "WORK_QUEUE_URL",
    "WEBHOOK_RETRY_SCHEDULE",
    "WEBHOOK_INLINE_WAIT_SECONDS",
    "HASH_LINK_MAX_BYTES",
)


def _work(environ: Mapping[str, str]) -> WorkSettings | None:
    """None when no variable of the group is set: the work-queue modules then stay unimported (cold start)."""
    if not any(name in environ for name in WORK_VARIABLES):
        return None
    from .continuation.key import CheckpointKeyMissing  # noqa: PLC0415 - see the docstring
    from .continuation.work_settings import WorkSettingsError, load_work_settings  # noqa: PLC0415

    try:
        return load_work_settings(environ)
    except (WorkSettingsError, CheckpointKeyMissing) as error:
        raise ServerMisconfigured(str(error)) from None


def clear_secret_cache() -> None:
    """Forget the secret stores' clients and cached values; tests switch endpoints between cases."""
    _clear_store_cache()
