"""One way to change the process environment for a while and put it back afterwards."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping


@contextlib.contextmanager
def patched_environ(set: Mapping[str, str] | None = None, unset: Iterable[str] = ()) -> Iterator[None]:
    """Set the variables of `set` and remove those of `unset` for the duration of the block; on the way
    out every touched variable gets its old value back, or is removed again when it had none."""
    values = dict(set or {})
    removed = tuple(unset)
    saved = {name: os.environ.get(name) for name in (*values, *removed)}
    for name in removed:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
