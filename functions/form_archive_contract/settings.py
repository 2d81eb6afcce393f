"""The settings vocabulary all functions share: one error for a wrong environment, one bounded-number reader.

Each function reads its environment per invocation into its own settings (`archive_submission.settings`,
`upload_url.settings`, `notify_webhook.settings`); what a wrong value raises, and how a number is read
and bounded, is the same everywhere and written here once. A message names the variable, never its value
(the value may be a secret).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypeVar

_Number = TypeVar("_Number", int, float)


class ServerMisconfigured(Exception):
    """A function's environment is wrong; the message names the variable, never its value."""


def bounded_int(
    environ: Mapping[str, str], name: str, default: int, low: int, high: int | None = None
) -> int:
    """`name` as an integer in [low, high] (no upper bound when `high` is None); `default` when unset or
    blank; `ServerMisconfigured` naming the variable and its bounds otherwise."""
    return bounded_number(environ, name, default, low, high, parse=int, kind="an integer")


def bounded_number(
    environ: Mapping[str, str],
    name: str,
    default: _Number,
    low: _Number,
    high: _Number | None = None,
    *,
    parse: Callable[[str], _Number],
    kind: str,
    unit: str = "",
) -> _Number:
    """`name` read with `parse` (`int`, `float`) and bounded like `bounded_int`; `kind` says what a value
    must be ("an integer", "a number of hours") and `unit` follows the bounds in the message."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        number = parse(raw)
    except ValueError:
        raise ServerMisconfigured(f"{name} must be {kind}") from None
    not_finite = isinstance(number, float) and not math.isfinite(number)
    if not_finite or number < low or (high is not None and number > high):
        bounds = f"at least {_shown(low)}" if high is None else f"between {_shown(low)} and {_shown(high)}"
        raise ServerMisconfigured(f"{name} must be {bounds}{unit}")
    return number


def _shown(number: float) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)
