"""The settings vocabulary all functions share: one error for a wrong environment, one bounded-integer reader.

Each function reads its environment per invocation into its own settings (`archive_submission.settings`,
`upload_url.settings`, `notify_webhook.settings`); what a wrong value raises, and how a number is read
and bounded, is the same everywhere and written here once. A message names the variable, never its value
(the value may be a secret).
"""

from __future__ import annotations

from collections.abc import Mapping


class ServerMisconfigured(Exception):
    """A function's environment is wrong; the message names the variable, never its value."""


def bounded_int(
    environ: Mapping[str, str], name: str, default: int, low: int, high: int | None = None
) -> int:
    """`name` as an integer in [low, high] (no upper bound when `high` is None); `default` when unset or
    blank; `ServerMisconfigured` naming the variable and its bounds otherwise."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        number = int(raw)
    except ValueError:
        raise ServerMisconfigured(f"{name} must be an integer") from None
    if high is None and number < low:
        raise ServerMisconfigured(f"{name} must be at least {low}")
    if high is not None and not low <= number <= high:
        raise ServerMisconfigured(f"{name} must be between {low} and {high}")
    return number
