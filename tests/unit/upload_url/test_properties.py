"""Properties of `POST /uploads` validation (review round 3): any file name is refused with a 400 naming
the field, or accepted as a name that is NFC, plain and one path segment; and any uploader text the
upload function signs is what the notify function announces, unchanged."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from form_archive_contract.archive_keys import in_archive_key_space
from form_archive_contract.metadata import announced_uploader, is_plain_text
from upload_url.upload_plan import build_upload_plan
from upload_url.upload_request import (
    MAX_FILENAME_BYTES,
    RequestRejected,
    UploadRequest,
    object_key,
    parse_upload_request,
)

VALID: dict[str, Any] = {
    "datapack_identifier": "DP-001",
    "path": "/raw",
    "filename": "scan.tif",
    "content_type": "image/tiff",
    "size": 1234,
    "uploader_name": "Ana Núñez",
    "uploader_email": "ana@example.org",
}
LOOK_ALIKES = ["\u2044", "\u2215", "\uff0f", "\\", "\u202e", "\u200b", "\ufeff", "\u2028", "\u2029"]
# Every code point, lone surrogates included, with the characters the rules are about drawn often.
any_character = st.characters(codec=None, exclude_categories=()) | st.sampled_from(
    [*LOOK_ALIKES, "/", ".", " ", "a", "\u0308", "=", "?", "\r", "\n", "\x00", "é"]
)


def parse(document: dict[str, Any], reserved: str | None = "submissions") -> UploadRequest:
    raw = json.dumps(document).encode("utf-8", "surrogatepass")
    return parse_upload_request(raw, max_upload_bytes=5 * 1024**3, reserved_identifier=reserved)


def outcome(
    document: dict[str, Any], reserved: str | None = "submissions"
) -> UploadRequest | RequestRejected:
    try:
        return parse(document, reserved)
    except RequestRejected as error:
        return error


@given(filename=st.text(any_character, max_size=80), reserved=st.sampled_from(["submissions", None]))
@example(filename="Ma\u0308rz.csv", reserved=None)
@example(filename="invoice\u202efdp.exe", reserved=None)
def test_any_file_name_is_a_plain_nfc_segment_or_a_400_naming_it(filename: str, reserved: str | None) -> None:
    result = outcome({**VALID, "filename": filename}, reserved)
    if isinstance(result, RequestRejected):
        assert result.status_code == 400
        assert result.message.startswith("filename: ")
        return
    name = result.filename
    assert name == unicodedata.normalize("NFC", filename)
    assert is_plain_text(name)
    assert not any(char in name for char in ["/", *LOOK_ALIKES])
    assert name not in {".", ".."}
    assert name[-1] not in ". "
    assert 1 <= len(name.encode("utf-8")) <= MAX_FILENAME_BYTES
    key = object_key(result)
    assert key == f"DP-001/raw/{name}"
    assert not in_archive_key_space(key, "")
    # NFC is a fixed point, and any other normal form of the same name is the same key.
    for form in ("NFD", "NFKC" if unicodedata.normalize("NFKC", name) == name else "NFC"):
        assert object_key(parse({**VALID, "filename": unicodedata.normalize(form, name)}, reserved)) == key


def _accepted_uploader(document: dict[str, Any]) -> UploadRequest | None:
    result = outcome(document)
    return result if isinstance(result, UploadRequest) else None


@given(name=st.text(any_character, min_size=1, max_size=60))
@example(name="=?UTF-8?B?SmFuZQ0KQmNjOiBldmlsQGV4YW1wbGUudGVzdA==?=")
@example(name="=?utf-8?q?Jos=C3=A9?=")
@example(name=" Ana ")
def test_any_uploader_name_signed_is_announced_unchanged(name: str) -> None:
    """Upload validation, then what is signed into the metadata (ASCII, as an HTTP header must be), then
    what the notify function announces from it: the text the client sent, or a 400 before anything is
    signed. Never decoded into something else."""
    request = _accepted_uploader({**VALID, "uploader_name": name})
    if request is None:
        return
    header = build_upload_plan("bucket", request).headers["x-amz-meta-uploader-name"]
    assert header.isascii()
    assert header == header.strip()  # what an HTTP header can carry
    assert announced_uploader(header) == request.uploader_name == name


@given(
    email=st.emails()
    | st.builds(
        "{}@{}.test".format, st.text(any_character, min_size=1, max_size=20), st.sampled_from(["a", "é"])
    )
)
@example(email="=?UTF-8?Q?evil=40attacker.test?=@example.org")
def test_any_uploader_email_signed_is_announced_unchanged(email: str) -> None:
    request = _accepted_uploader({**VALID, "uploader_email": email})
    if request is None:
        return
    header = build_upload_plan("bucket", request).headers["x-amz-meta-uploader-email"]
    assert header.isascii()
    assert announced_uploader(header, email=True) == request.uploader_email == email
