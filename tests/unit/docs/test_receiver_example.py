"""The receiver example of docs/notify.md is real code: it accepts our signatures and refuses forgeries."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from notify_webhook.signing import signature_headers

README = Path(__file__).resolve().parents[3] / "docs" / "notify.md"  # the page with the example
BODY = b'{"datapack_identifier":"submissions","sha256":"abc"}'
Verifier = Callable[[str | list[str], dict[str, str], bytes], bool]


@pytest.fixture(scope="module")
def is_authentic() -> Verifier:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- receiver-example[^>]*-->\n```python\n(.*?)```", text, re.DOTALL)
    assert match, "docs/notify.md lost its receiver example"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), "docs/notify.md receiver example", "exec"), namespace)  # noqa: S102
    verifier: Verifier = namespace["is_authentic"]
    return verifier


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_a2V5LW9mLTMxLWJ5dGVzLWZvci11bnBhZGRlZC1vaw",
        "testing-plain-secret",
    ],
    ids=["whsec", "whsec-unpadded", "plain"],
)
def test_accepts_what_the_function_signs(is_authentic: Verifier, secret: str) -> None:
    headers = signature_headers(secret, "msg_1", BODY)
    assert is_authentic(secret, headers, BODY)
    assert is_authentic(secret, {name.title(): value for name, value in headers.items()}, BODY)


def test_refuses_tampering_staleness_and_missing_headers(is_authentic: Verifier) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    headers = signature_headers(secret, "msg_1", BODY)
    assert not is_authentic(secret, headers, BODY + b" ")
    assert not is_authentic("whsec_" + "A" * 32, headers, BODY)
    assert not is_authentic(secret, {**headers, "webhook-id": "msg_2"}, BODY)
    stale = signature_headers(secret, "msg_1", BODY, timestamp=int(time.time()) - 301)
    assert not is_authentic(secret, stale, BODY)
    future = signature_headers(secret, "msg_1", BODY, timestamp=int(time.time()) + 301)
    assert not is_authentic(secret, future, BODY)
    for name in headers:
        assert not is_authentic(secret, {k: v for k, v in headers.items() if k != name}, BODY)


def test_a_list_of_secrets_accepts_either_signature_of_a_rotation(is_authentic: Verifier) -> None:
    """During a rotation's overlap the function signs with the new and the old secret; a receiver that
    lists both, or knows only one of them, verifies; one that knows neither does not."""
    old, new = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_a2V5LW9mLTMxLWJ5dGVzLWZvci11bnBhZGRlZC1vaw"
    both = signature_headers((new, old), "msg_rotation", BODY)
    only_new = signature_headers(new, "msg_rotation", BODY)
    assert is_authentic([old, new], both, BODY)
    assert is_authentic([old], both, BODY) and is_authentic(new, both, BODY)
    assert is_authentic([old, new], only_new, BODY), "after the window"
    assert not is_authentic([old], only_new, BODY), "after the window, the old secret alone fails"
    assert not is_authentic(["whsec_" + "A" * 32], both, BODY)
    assert not is_authentic([], both, BODY)
