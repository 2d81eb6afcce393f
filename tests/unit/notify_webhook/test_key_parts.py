"""The handbook's key split and the decoding of S3 event keys."""

from __future__ import annotations

import pytest

from notify_webhook.object_key_parts import KeyParts, decode_event_key, split_key


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("A/B/C/file.ext", KeyParts("A", "/B/C", "file.ext")),
        ("A/B/file.ext", KeyParts("A", "/B", "file.ext")),
        ("A/file.ext", KeyParts("A", "/", "file.ext")),
        ("file.ext", KeyParts("file.ext", "/", "file.ext")),
        (
            "submissions/2026/11/22/01M82T4N42D76QEVG1Z6MBV7WJ.json",
            KeyParts("submissions", "/2026/11/22", "01M82T4N42D76QEVG1Z6MBV7WJ.json"),
        ),
        ("a/b c.txt", KeyParts("a", "/", "b c.txt")),
        ("ünï/cödé/fïlé.txt", KeyParts("ünï", "/cödé", "fïlé.txt")),
    ],
)
def test_split_key(key: str, expected: KeyParts) -> None:
    assert split_key(key) == expected


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("a/b+c.txt", "a/b c.txt"),
        ("a%2Fb+c.txt", "a/b c.txt"),
        ("a/b%2Bc.txt", "a/b+c.txt"),
        ("%C3%BCn%C3%AF/f.txt", "ünï/f.txt"),
        ("file.ext", "file.ext"),
    ],
)
def test_decode_event_key(raw: str, key: str) -> None:
    assert decode_event_key(raw) == key
