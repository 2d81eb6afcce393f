from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from archive_submission.object_key import (
    BucketPathError,
    build_idempotent_object_key,
    build_object_key,
    idempotent_submission_id,
    new_submission_id,
    normalise_bucket_path,
)

RECEIVED = datetime(2026, 3, 9, 23, 59, 58, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("/", ""),
        ("forms", "forms"),
        ("/forms/", "forms"),
        ("forms//contact///2026", "forms/contact/2026"),
        ("  spaced name/x", "  spaced name/x"),
        ("a.b/..c/d..", "a.b/..c/d.."),
    ],
)
def test_normalise_bucket_path(raw: str, expected: str) -> None:
    assert normalise_bucket_path(raw) == expected


@pytest.mark.parametrize("raw", [".", "..", "a/../b", "/./a", "a/.", "../etc"])
def test_dot_segments_are_refused(raw: str) -> None:
    with pytest.raises(BucketPathError, match="segment"):
        normalise_bucket_path(raw)


def test_key_layout_uses_utc_date_folders() -> None:
    eastern = RECEIVED.astimezone(timezone(timedelta(hours=-5)))
    assert build_object_key("/forms//contact/", eastern, "ID1") == "forms/contact/2026/03/09/ID1.json"


def test_key_at_bucket_root_has_no_leading_slash() -> None:
    assert build_object_key("", RECEIVED, "ID1") == "2026/03/09/ID1.json"


def test_submission_ids_are_unique_and_sort_by_time() -> None:
    ids = [new_submission_id(now_ms=1_700_000_000_000 + step) for step in range(0, 5000, 7)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(len(value) == 26 for value in ids)
    same_ms = {new_submission_id(now_ms=1) for _ in range(1000)}
    assert len(same_ms) == 1000


def test_idempotent_id_is_deterministic_per_key() -> None:
    first = idempotent_submission_id("order-42")
    assert first == idempotent_submission_id("order-42")
    assert first != idempotent_submission_id("order-43")
    assert first.startswith("idem-")


def test_idempotent_object_key_has_no_date_folder() -> None:
    submission_id = idempotent_submission_id("order-42")
    assert (
        build_idempotent_object_key("/forms//contact/", submission_id)
        == f"forms/contact/{submission_id}.json"
    )
    assert build_idempotent_object_key("", submission_id) == f"{submission_id}.json"
