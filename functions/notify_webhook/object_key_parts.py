"""How an object key maps onto the receiver's fields (the handbook's split, kept for its receivers)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class KeyParts:
    datapack_identifier: str
    path: str
    display: str


def decode_event_key(raw_key: str) -> str:
    """S3 events URL-encode keys (`+` for a space, `%2F` possible); this gives the real key back."""
    return unquote_plus(raw_key)


def split_key(key: str) -> KeyParts:
    """`A/B/C/file.ext` → (`A`, `/B/C`, `file.ext`); `A/file.ext` → path `/`; `file.ext` → itself twice.

    Segments are kept as they are (no normalisation): the receiver sees the key S3 holds.
    """
    segments = key.split("/")
    if len(segments) == 1:
        return KeyParts(datapack_identifier=key, path="/", display=key)
    middle = segments[1:-1]
    return KeyParts(datapack_identifier=segments[0], path="/" + "/".join(middle), display=segments[-1])
