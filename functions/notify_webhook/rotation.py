"""Which secrets sign a delivery: after a rotation, the previous one too for an overlap window, so each
receiver can move to the new secret on its own schedule without a single delivery failing verification.

Secrets Manager keeps the value a rotation replaced under the `AWSPREVIOUS` stage; the current version's
creation time is the rotation time. For `WEBHOOK_ROTATION_OVERLAP_HOURS` after it, every delivery carries
two signatures (`v1,<new> v1,<old>`, Standard Webhooks' space-separated list); after it, one again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from form_archive_contract.secret_store import SecretVersions
from form_archive_contract.settings import ServerMisconfigured, bounded_number

from .signing import InvalidSecret, signature_headers, signing_key

DEFAULT_OVERLAP_HOURS = 24.0
MAX_OVERLAP_HOURS = 24.0 * 30
OVERLAP_VARIABLE = "WEBHOOK_ROTATION_OVERLAP_HOURS"


class OverlapSettingError(ValueError):
    """`WEBHOOK_ROTATION_OVERLAP_HOURS` is not a number of hours in range; the message says which."""


@dataclass(frozen=True)
class SigningSecrets:
    """The current secret and, until `previous_until`, the previous one; `note` says (without a value)
    why a previous secret exists but is not used."""

    current: str = field(repr=False)
    previous: str | None = field(default=None, repr=False)
    previous_until: datetime | None = None
    note: str | None = None

    def at(self, now: float) -> tuple[str, ...]:
        """The secrets to sign with at `now` (unix seconds): the current one first."""
        until = self.previous_until
        if self.previous is not None and until is not None and now < until.timestamp():
            return (self.current, self.previous)
        return (self.current,)

    def headers(self, msg_id: str, body: bytes, now: float) -> dict[str, str]:
        """One attempt's headers: the timestamp and the choice of secrets come from the same `now`."""
        stamp = int(now)
        return signature_headers(self.at(stamp), msg_id, body, timestamp=stamp)


def overlap_hours(environ: Mapping[str, str]) -> float:
    """`WEBHOOK_ROTATION_OVERLAP_HOURS`: 0 (never send the previous secret) to 720, default 24."""
    try:
        return bounded_number(
            environ,
            OVERLAP_VARIABLE,
            DEFAULT_OVERLAP_HOURS,
            0.0,
            MAX_OVERLAP_HOURS,
            parse=float,
            kind="a number of hours",
            unit=" hours",
        )
    except ServerMisconfigured as error:
        raise OverlapSettingError(str(error)) from None


def with_prefix(value: str, prefix: str) -> str:
    """The stack's generated secret is a bare key; the configured prefix (`whsec_`) makes it the secret."""
    return value if value.startswith(prefix) else prefix + value


def signing_secrets(current: str, versions: SecretVersions, prefix: str, hours: float) -> SigningSecrets:
    """`current` (already checked) and the usable previous value of `versions`, with the window's end."""
    if versions.previous is None:
        return SigningSecrets(current, note="no previous webhook secret (AWSPREVIOUS): one signature")
    if versions.current_since is None:
        return SigningSecrets(current, note="the rotation time is unknown: one signature")
    until = versions.current_since + timedelta(hours=hours)
    previous = with_prefix(versions.previous, prefix) if versions.previous else ""
    if previous == current:
        return SigningSecrets(current)
    try:
        signing_key(previous)
    except InvalidSecret:
        return SigningSecrets(
            current, note="the previous webhook secret (AWSPREVIOUS) is not a usable key: one signature"
        )
    return SigningSecrets(current, previous, until)
