"""How many examples the property tests try: few in `make test`, so it answers in minutes; many in CI's deep
step, where the time is spent once.

`HYPOTHESIS_PROFILE` chooses (pytest's `--hypothesis-profile` overrides it):

- `suite` (the default): 200 examples per property, what `make test` runs;
- `deep`: 2,000 examples per property, CI's deep step (`make test-deep`);
- `long`: 20,000, by hand, when a property changed.

A test that sets its own `max_examples` (the end-to-end ones, through a server and a receiver) gets a fifth
of it in `suite` (`scaled`), and its own count in `deep` and `long`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"
EXAMPLES = {"suite": 200, "deep": 2000, "long": 20000}
DEFAULT_PROFILE = "suite"


def register() -> None:
    """Every profile, each without a deadline: a busy machine must not fail a property on time."""
    for name, examples in EXAMPLES.items():
        settings.register_profile(
            name,
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            print_blob=True,
        )


def chosen_profile() -> str:
    """The profile `HYPOTHESIS_PROFILE` names, `suite` when unset; a clear error for an unknown name."""
    name = os.environ.get(PROFILE_VARIABLE, "").strip() or DEFAULT_PROFILE
    if name not in EXAMPLES:
        raise ValueError(f"{PROFILE_VARIABLE} must be one of {', '.join(EXAMPLES)}, not {name!r}")
    return name


def load() -> None:
    register()
    settings.load_profile(chosen_profile())


def scaled(examples: int) -> int:
    """A test's own example count under the loaded profile: a fifth (at least 10) in `suite`."""
    if settings().max_examples >= EXAMPLES["deep"]:
        return examples
    return max(10, examples // 5)
