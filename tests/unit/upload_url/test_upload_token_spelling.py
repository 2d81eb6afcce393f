"""An upload token has exactly one accepted spelling: the one issued (issue 30, item 9)."""

from __future__ import annotations

import string
import time

import pytest

from form_archive_contract.api_events import RequestRejected
from upload_url.multipart.token import UploadClaims, issue_token, verify_token

SECRET = b"testing-upload-token-key"
ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
NOW = time.time()
CLAIMS = UploadClaims(
    bucket="b",
    key="DP-9/raw/a.bin",
    upload_id="u-1",
    size=10,
    part_size=5,
    issued_at=int(NOW),
    expires_at=int(NOW) + 60,
)


def respellings(token: str) -> list[str]:
    """Other spellings of the same MAC that a lenient base64 decoder reads as the same bytes."""
    head, mac = token.rsplit(".", 1)
    last = mac[-1]
    flipped = ALPHABET[ALPHABET.index(last) ^ 1]  # one of the two unused low bits of the last character
    standard = mac.replace("-", "+").replace("_", "/")
    return [
        f"{head}.{mac}=",
        f"{head}.{mac}==",
        f"{head}.{mac}!",
        f"{head}.{mac[:10]}*{mac[10:]}",
        f"{head}.{mac[:-1]}{flipped}",
        *([f"{head}.{standard}"] if standard != mac else []),
    ]


def test_r4_item9_only_the_issued_spelling_of_a_token_verifies() -> None:
    token = issue_token(SECRET, CLAIMS)
    assert verify_token(SECRET, token, bucket="b", now=NOW) == CLAIMS
    for other in respellings(token):
        with pytest.raises(RequestRejected) as refused:
            verify_token(SECRET, other, bucket="b", now=NOW)
        assert refused.value.status_code == 403, other


@pytest.mark.parametrize("seed", range(20))
def test_r4_item9_no_respelling_of_any_token_verifies(seed: int) -> None:
    claims = UploadClaims(**{**CLAIMS.__dict__, "upload_id": f"u-{seed}"})
    token = issue_token(SECRET, claims)
    for other in respellings(token):
        with pytest.raises(RequestRejected):
            verify_token(SECRET, other, bucket="b", now=NOW)
