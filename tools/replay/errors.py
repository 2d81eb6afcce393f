"""What every part of the replay tool shares: its error for an unusable stack, queue or function, and
the exit statuses."""

from __future__ import annotations

EXIT_OK, EXIT_LEFT, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class ReplayError(Exception):
    """The stack, queue or function cannot be used; the message says which and why. Nothing more is
    invoked or deleted once it is raised."""
